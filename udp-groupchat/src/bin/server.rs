//! `cargo run -p udp-groupchat --bin server`: the chat hub (or, with `--broadcast`, the
//! seed's broadcaster). Everything it does is in the library (`udp_groupchat::server`).

use std::process::ExitCode;

use clap::Parser;
use shared::error::{Result, exit_code};
use shared::report::Log;
use shared::shutdown::{Shutdown, install_ctrl_c};
use udp_groupchat::server::{Server, ServerArgs};

fn main() -> ExitCode {
    exit_code(serve(&ServerArgs::parse()))
}

fn serve(args: &ServerArgs) -> Result<()> {
    let shutdown = Shutdown::new();
    install_ctrl_c(&shutdown)?;
    let server = Server::bind(args, Log::stdout(args.output.quiet))?;
    server.run(&shutdown)?;
    Ok(())
}
