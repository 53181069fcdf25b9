//! `cargo run -p module3h-udp-multiclient --bin server`: the UDP multi-client echo server.
//! Everything it does is in the library (`module3h_udp_multiclient::server`).

use std::process::ExitCode;

use clap::Parser;
use module3h_udp_multiclient::server::{Server, ServerArgs};
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
