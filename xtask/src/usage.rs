//! Usage errors: a mistake in the command line, for the user to fix. `main` gives an error
//! whose text starts with `usage: ` exit status 2 (every other error is 1), so a usage error
//! is made here, in one place, whichever command finds it.

use shared::error::Error;

/// A usage error (exit status 2).
pub fn usage(message: impl Into<String>) -> Error {
    Error::msg(format!("usage: {}", message.into()))
}
