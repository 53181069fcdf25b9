//! `cargo run -p module3g-tcp-multiclient --bin client`: the notebook's `TCPSimpleClient.py`
//! (`module3g_tcp_multiclient::client`), or, with `--clients` or `--duration`, the load mode
//! (`module3g_tcp_multiclient::load`).

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use module3g_tcp_multiclient::args::ClientArgs;
use module3g_tcp_multiclient::{client, load};
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    let shutdown = Shutdown::new();
    // In --interactive mode the client waits for you to type, and Ctrl-C simply ends it.
    // Otherwise Ctrl-C ends the pauses (or the load run), the tally still prints, and the
    // exit status is 130.
    if !args.interactive {
        install_ctrl_c_for_client(&shutdown)?;
    }
    if args.load.is_requested() {
        return load::run(args, &shutdown, &mut io::stdout());
    }
    let stdin = io::stdin();
    let hint = stdin.is_terminal();
    client::run(args, &shutdown, stdin.lock(), hint, &mut io::stdout())
}
