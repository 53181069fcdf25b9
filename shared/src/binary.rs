//! The life of every server binary, written once.
//!
//! Every module's `src/bin/server.rs` does the same four things: make a shutdown signal and
//! connect it to Ctrl-C, bind the server (logging to the terminal, `--quiet` or not), run it
//! until it is stopped, and turn an error into one line on stderr and exit status 1.
//! [`serve_until_ctrl_c`] is those four steps; a binary only says how to bind and how to run
//! its server:
//!
//! ```text
//! fn main() -> ExitCode {
//!     let args = ServerArgs::parse();
//!     serve_until_ctrl_c(args.output.quiet, |log| Server::bind(&args, log), Server::run)
//! }
//! ```

use std::process::ExitCode;

use crate::error::{Result, exit_code};
use crate::report::Log;
use crate::shutdown::{Shutdown, install_ctrl_c};

/// Installs the Ctrl-C handler, binds with `bind` (given the terminal log), runs with `run`
/// until Ctrl-C, and returns the process's exit code (0, or 1 after printing the error).
pub fn serve_until_ctrl_c<S, T>(
    quiet: bool,
    bind: impl FnOnce(Log) -> Result<S>,
    run: impl FnOnce(S, &Shutdown) -> Result<T>,
) -> ExitCode {
    let serve = || -> Result<()> {
        let shutdown = Shutdown::new();
        install_ctrl_c(&shutdown)?;
        let server = bind(Log::stdout(quiet))?;
        run(server, &shutdown)?;
        Ok(())
    };
    exit_code(serve())
}
