//! `cargo run -p module3h-udp-multiclient --bin client`: the notebook's `UDPMultiClient.py`,
//! or its load mode. Everything they do is in the library (`module3h_udp_multiclient::client`,
//! `module3h_udp_multiclient::load`); this file chooses between them.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use module3h_udp_multiclient::args::ClientArgs;
use module3h_udp_multiclient::{client, load};
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    // Ctrl-C ends the pause between messages (or the load run) and still prints the tally;
    // the exit status is then 130.
    let shutdown = Shutdown::new();
    install_ctrl_c_for_client(&shutdown)?;
    if args.is_load_mode() {
        return load::run(args, args.address.resolve()?, &shutdown, &mut io::stdout());
    }
    client::run(args, &shutdown, &mut io::stdout())
}
