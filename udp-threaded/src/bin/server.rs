//! `cargo run -p udp-threaded --bin server`: the UDP server in three modes.
//! Everything it does is in the library (`udp_threaded::server`).

use std::process::ExitCode;

use clap::Parser;
use shared::binary::serve_until_ctrl_c;
use udp_threaded::server::{Server, ServerArgs};

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    // Ctrl-C stops the server; an error is one line on stderr and exit status 1.
    serve_until_ctrl_c(args.output.quiet, |log| Server::bind(&args, log), Server::run)
}
