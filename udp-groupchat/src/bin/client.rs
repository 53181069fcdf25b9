//! `cargo run -p udp-groupchat --bin client`: the chat client, or load mode with
//! `--clients N`. The chat is `udp_groupchat::client` (`src/client.rs`), load mode
//! `udp_groupchat::load` (`src/load.rs`).

use std::io::{self, BufReader, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;
use udp_groupchat::args::ClientArgs;
use udp_groupchat::{client, load};

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    // Ctrl-C leaves the chat politely (a LEAVE to the server, so the others see it) instead
    // of just vanishing, and exits 130; a second Ctrl-C forces exit 130 at once.
    let shutdown = Shutdown::new();
    install_ctrl_c_for_client(&shutdown)?;
    if args.load.is_requested() {
        return load::run(args, &shutdown, &mut io::stdout());
    }
    let terminal = io::stdin().is_terminal();
    // The keyboard thread owns its reader, so it gets its own handle to stdin.
    let input = BufReader::new(io::stdin());
    // Unlocked stdout: each line takes the lock only while it is written, so nothing holds it
    // for the whole run (the Ctrl-C handler may want to print).
    client::run(args, &shutdown, input, terminal, &mut io::stdout())
}
