//! `cargo run -p udp-uppercase --bin client`: the UDP uppercase client.
//! Everything it does is in the library (`udp_uppercase::client`), where the tests reach it.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;
use udp_uppercase::client::{self, ClientArgs};

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    let shutdown = Shutdown::new();
    // In load mode, Ctrl-C stops the clients and still prints the summary. Otherwise the
    // client is waiting for you to type, and Ctrl-C simply ends it, as for any program.
    if args.is_load_mode() {
        install_ctrl_c_for_client(&shutdown)?;
    }
    let stdin = io::stdin();
    let prompt = stdin.is_terminal();
    client::run(args, &shutdown, stdin.lock(), prompt, &mut io::stdout())
}
