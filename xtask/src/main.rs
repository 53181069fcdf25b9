//! `cargo xtask ...`: see the library (`xtask`) for what each command does.

use std::process::ExitCode;

use clap::Parser;
use xtask::Command;

fn main() -> ExitCode {
    shared::error::exit_code(xtask::run(Command::parse()))
}
