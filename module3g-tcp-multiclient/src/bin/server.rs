//! `cargo run -p module3g-tcp-multiclient --bin server`: the TCP echo server's life, from
//! the command line to the exit status. The socket code is in `src/server.rs` (the bind, the
//! accept loop) and `src/connection.rs` (each connection's echo loop).

use std::process::ExitCode;

use clap::Parser;
use module3g_tcp_multiclient::args::ServerArgs;
use module3g_tcp_multiclient::server::Server;
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
    let log = Log::stdout(args.output.quiet);
    let server = Server::bind(args.address.resolve()?, args.config(), log)?;
    server.run(&shutdown)?;
    Ok(())
}
