//! `cargo run -p udp-threaded --bin client`: the seed's UDP client, or its load mode.
//! Everything they do is in the library (`udp_threaded::client`, `udp_threaded::load`); this
//! file chooses between them.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use shared::ctrl_c::install_ctrl_c_for_client;
use shared::error::{Result, exit_code};
use shared::shutdown::Shutdown;
use udp_threaded::args::ClientArgs;
use udp_threaded::{client, load};

fn main() -> ExitCode {
    exit_code(talk(&ClientArgs::parse()))
}

fn talk(args: &ClientArgs) -> Result<()> {
    // Ctrl-C stops a load run early (the summary still prints) or the wait for a response;
    // the exit status is then 130.
    let shutdown = Shutdown::new();
    install_ctrl_c_for_client(&shutdown)?;
    if args.is_load_mode() {
        return load::run(args, args.address.resolve()?, &shutdown, &mut io::stdout());
    }
    client::run(args, &mut io::stdout())
}
