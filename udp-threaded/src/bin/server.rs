//! `cargo run -p udp-threaded --bin server`: the UDP server in three modes.
//! Everything it does is in the library (`udp_threaded::server`).

use std::process::ExitCode;

use clap::Parser;
use shared::error::{Result, exit_code};
use shared::report::Log;
use shared::shutdown::{Shutdown, install_ctrl_c};
use udp_threaded::server::{Server, ServerArgs};

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
