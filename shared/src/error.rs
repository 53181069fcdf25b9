//! Errors a user can read, and the exit codes they lead to.
//!
//! A program that talks to the network fails in ordinary ways: the port is taken, the host
//! name is unknown, the server never answers. None of these is a bug, so none of them may
//! panic. Each becomes an [`Error`] that says what the program was doing and what the
//! operating system answered, in one line:
//!
//! ```text
//! error: cannot bind 127.0.0.1:12000: address already in use
//! ```
//!
//! Every binary ends with [`exit_code`], which prints that line to stderr and turns the
//! outcome into the process's exit status (0 for success, 1 for an error; clap already exits
//! with 2 for a bad command line).

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// The workspace's result type: an [`Error`] that is ready to show to the user.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit status of a program stopped by Ctrl-C: 128 + SIGINT, what a shell reports for a
/// process ended by Ctrl-C.
pub const INTERRUPTED_EXIT_CODE: u8 = 130;

/// What went wrong, in words for the user, with the system's reason when there is one.
#[derive(Debug)]
pub struct Error {
    /// What the program was trying to do, e.g. `cannot bind 127.0.0.1:12000`.
    context: String,
    /// Why it failed, as the operating system said it, if this came from an I/O call.
    source: Option<io::Error>,
    /// The user stopped the program (Ctrl-C): not a failure to report, only an exit status.
    stopped: bool,
}

impl Error {
    /// An error with a message only (no system error behind it).
    pub fn msg(message: impl Into<String>) -> Self {
        Error { context: message.into(), source: None, stopped: false }
    }

    /// The user asked the program to stop (Ctrl-C) before it was done. [`exit_code`] prints
    /// nothing for it (the program has already said how far it got) and exits with
    /// [`INTERRUPTED_EXIT_CODE`]. A system call that Ctrl-C interrupted becomes this, never
    /// an "interrupted system call" error.
    pub fn stopped() -> Self {
        Error { context: String::from("stopped by Ctrl-C"), source: None, stopped: true }
    }

    /// Whether this is [`Error::stopped`].
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// An error from a system call, with what the program was doing when it failed.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::Interrupted {
            return Error::stopped();
        }
        Error { context: context.into(), source: Some(source), stopped: false }
    }

    /// The I/O error behind this one, if any (tests look at its kind).
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        self.source.as_ref().map(io::Error::kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {}", self.context, describe_io_error(source)),
            None => f.write_str(&self.context),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// Adds "what we were doing" to an `io::Result`, as in
/// `UdpSocket::bind(addr).context(|| format!("cannot bind {addr}"))?`.
pub trait Context<T> {
    /// Turns an I/O error into an [`Error`] whose message starts with `context()`.
    /// The closure runs only on failure, so the happy path formats nothing.
    fn context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
}

impl<T> Context<T> for io::Result<T> {
    fn context<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}

/// The system's reason, as a reader wants it: `address already in use`, not
/// `Address already in use (os error 98)`.
pub fn describe_io_error(error: &io::Error) -> String {
    let text = error.to_string();
    // The "(os error N)" suffix helps a systems programmer, not a student; the kind of
    // error is already in the words.
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => &text[..at],
        _ => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::from("unknown error"),
    }
}

/// The end of every binary's `main`: success exits 0; an error is printed as one line,
/// `error: ...`, on stderr and exits 1; a stop by Ctrl-C ([`Error::stopped`]) exits 130
/// without a word. No panic, no backtrace.
pub fn exit_code(outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is_stopped() => ExitCode::from(INTERRUPTED_EXIT_CODE),
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}

/// Prints `error: ...` on stderr: how every binary reports the error that ends it. A closed
/// stderr is not worth a panic, so a failed write is dropped on purpose.
pub fn print_error(error: &dyn fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "error: {error}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_lowercase_words_without_the_os_error_number() {
        let error = io::Error::from_raw_os_error(98); // EADDRINUSE on Linux
        let described = describe_io_error(&error);
        assert!(!described.contains("os error"), "got {described:?}");
        assert!(described.starts_with(|c: char| c.is_lowercase()), "got {described:?}");
    }

    #[test]
    fn an_error_with_context_shows_context_then_reason() {
        let error = Error::io("cannot bind 127.0.0.1:12000", io::Error::other("Address in use"));
        assert_eq!(error.to_string(), "cannot bind 127.0.0.1:12000: address in use");
        assert_eq!(error.io_kind(), Some(io::ErrorKind::Other));
    }

    #[test]
    fn context_runs_only_on_failure() {
        let ok: io::Result<u8> = Ok(7);
        let value = ok.context(|| -> String { unreachable!("no context needed on success") });
        assert_eq!(value.unwrap(), 7);
        let failed: io::Result<u8> = Err(io::Error::other("Boom"));
        assert_eq!(
            failed.context(|| "doing a thing").unwrap_err().to_string(),
            "doing a thing: boom"
        );
    }

    #[test]
    fn message_only_errors_show_the_message() {
        assert_eq!(Error::msg("no reply").to_string(), "no reply");
        assert_eq!(Error::msg("no reply").io_kind(), None);
    }
}
