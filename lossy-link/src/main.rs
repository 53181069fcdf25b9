//! `cargo run -p lossy-link -- --loss 20% ...`: the bad-network relay.
//! Everything it does is in the library (`lossy_link::relay`), where the tests reach it:
//! bind, relay until Ctrl-C, print the summary.

use std::process::ExitCode;

use clap::Parser;
use lossy_link::Relay;
use shared::ctrl_c::install_ctrl_c;
use shared::error::exit_code;
use shared::log::Log;
use shared::shutdown::Shutdown;

fn main() -> ExitCode {
    // A bad flag is a usage error: clap prints it and exits with status 2.
    let args = lossy_link::Args::parse();
    let shutdown = Shutdown::new();
    // Ctrl-C stops the relay (it prints its summary); an error is one line on stderr and
    // exit status 1.
    exit_code(install_ctrl_c(&shutdown).and_then(|()| {
        let relay = Relay::bind(&args, Log::stdout(args.quiet))?;
        relay.run(&shutdown).map(|_| ())
    }))
}
