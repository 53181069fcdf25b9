//! `cargo run -p module3h-udp-multiclient --bin server`: the UDP echo server's life, from
//! the command line to the exit status. The socket code is in `src/server.rs`.

use std::process::ExitCode;

use clap::Parser;
use module3h_udp_multiclient::args::ServerArgs;
use module3h_udp_multiclient::server::Server;
use shared::ctrl_c::install_ctrl_c;
use shared::error::{Result, exit_code};
use shared::log::Log;
use shared::shutdown::Shutdown;

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    // An error is one line on stderr and exit status 1.
    exit_code(serve(&args))
}

fn serve(args: &ServerArgs) -> Result<()> {
    let shutdown = Shutdown::new();
    install_ctrl_c(&shutdown)?;
    let config = args.config(Log::stdout(args.output.quiet));
    let server = Server::bind(args.address.resolve()?, config)?;
    server.run(&shutdown)?;
    Ok(())
}
