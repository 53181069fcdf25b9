//! `cargo run -p udp-groupchat --bin server`: the chat hub (or, with `--broadcast`, the
//! seed's broadcaster). Everything it does is in the library (`udp_groupchat::server`).

use std::process::ExitCode;

use clap::Parser;
use shared::binary::serve_until_ctrl_c;
use udp_groupchat::server::{Server, ServerArgs};

fn main() -> ExitCode {
    let args = ServerArgs::parse();
    // Ctrl-C stops the server; an error is one line on stderr and exit status 1.
    serve_until_ctrl_c(args.output.quiet, |log| Server::bind(&args, log), Server::run)
}
