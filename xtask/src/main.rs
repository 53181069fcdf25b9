//! `cargo xtask ...`: see the library (`xtask`) for what each command does.
//!
//! Exit status: 0 done (for `grade`: graded, whatever the scores), 1 a tool error, 2 a
//! usage error.

use std::process::ExitCode;

use clap::Parser;
use xtask::Command;

fn main() -> ExitCode {
    match xtask::run(Command::parse()) {
        Err(error) if error.to_string().starts_with("usage: ") => {
            shared::error::print_error(&error);
            ExitCode::from(2)
        }
        outcome => shared::error::exit_code(outcome),
    }
}
