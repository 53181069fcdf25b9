//! `cargo run -p udp-uppercase --bin client`: the UDP uppercase client, or its load mode.
//! Everything they do is in the library (`udp_uppercase::client`, `udp_uppercase::load`),
//! where the tests reach it; this file chooses between them.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;
use udp_uppercase::args::ClientArgs;
use udp_uppercase::{client, load};

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    if args.is_load_mode() {
        // In load mode, Ctrl-C stops the clients and still prints the summary.
        let shutdown = Shutdown::new();
        install_ctrl_c_for_client(&shutdown)?;
        return load::run(args, args.address.resolve()?, &shutdown, &mut io::stdout());
    }
    // The client is waiting for you to type, and Ctrl-C simply ends it, as for any program.
    let stdin = io::stdin();
    let prompt = stdin.is_terminal();
    client::run(args, stdin.lock(), prompt, &mut io::stdout())
}
