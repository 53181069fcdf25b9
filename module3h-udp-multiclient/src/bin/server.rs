//! `cargo run -p module3h-udp-multiclient --bin server`: the UDP multi-client echo server.
//! Everything it does is in the library (`module3h_udp_multiclient::server`).

use std::process::ExitCode;

use clap::Parser;
use module3h_udp_multiclient::server::{Server, ServerArgs};
use shared::binary::serve_until_ctrl_c;

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    // Ctrl-C stops the server; an error is one line on stderr and exit status 1.
    serve_until_ctrl_c(args.output.quiet, |log| Server::bind(&args, log), Server::run)
}
