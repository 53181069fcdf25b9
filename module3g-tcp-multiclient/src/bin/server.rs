//! `cargo run -p module3g-tcp-multiclient --bin server`: the TCP multi-client echo server.
//! Everything it does is in the library (`module3g_tcp_multiclient::server`).

use std::process::ExitCode;

use clap::Parser;
use module3g_tcp_multiclient::server::{Server, ServerArgs};
use shared::error::{Result, exit_code};
use shared::report::Log;
use shared::shutdown::{Shutdown, install_ctrl_c};

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
