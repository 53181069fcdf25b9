//! A server's log: its lines, `--quiet`, and how often a warning may print.
//!
//! Servers print three kinds of lines:
//! - **info**: the ready line, the summary. Always printed.
//! - **message**: one line per datagram or line served. Silenced by `--quiet`, because at
//!   tens of thousands of messages a second, printing them *is* the work.
//! - **warn**: something went wrong with one client (a reply that could not be sent); the
//!   server goes on. Printed on stderr.
//!
//! **A log must never stall the server.** Anyone on the network can make a server warn
//! (send it a forged datagram), and whoever reads the terminal can stop reading it
//! (`server | less`, Ctrl-S). So:
//! - warnings are rate-limited (a [`Throttle`]): at most [`WARN_BURST`] in any
//!   [`WARN_WINDOW`]; after that the log counts them, and the next warning printed is
//!   preceded by `warning: ... and 99980 warnings more like these in the last 10 s`;
//! - on the terminal, lines go through a bounded queue ([`QUEUED_LINES`]) to a writer thread
//!   (`log/writer.rs`). The server only puts a line in the queue; when the queue is full
//!   (nobody is reading the output), the line is dropped and counted, and the count is
//!   reported once the output moves again;
//! - writing never panics: `println!` panics when stdout is a closed pipe (`server | head`),
//!   and a server must not die because its log reader went away.
//!
//! When the last clone of a terminal [`Log`] is dropped (the server's `run` has returned),
//! the writer is given up to [`FLUSH_LIMIT`] to print what is queued, the summary included.
//!
//! A [`Log`] is cheap to clone and can be shared by many threads; each line is written whole.
//! Tests read what a server logged through a captured log (`Log::capture` and
//! `CapturedLog`, in `log/capture.rs`: only with the `testing` feature, which only
//! dev-dependencies turn on).
//!
//! A UDP server's failed `recv_from` goes through [`report_receive_error`]: the one rule for
//! which receive errors are worth a warning.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::describe_io_error;
use crate::io_errors::is_harmless_receive_error;
use crate::text::plural;
use crate::throttle::Throttle;

#[cfg(any(test, feature = "testing"))]
mod capture;
mod writer;

#[cfg(any(test, feature = "testing"))]
pub use capture::CapturedLog;

pub use writer::{FLUSH_LIMIT, QUEUED_LINES};

use writer::{Stream, Writer};

/// At most this many warnings are printed in one [`WARN_WINDOW`]; the rest are counted.
pub const WARN_BURST: u64 = 20;

/// The window over which warnings are counted (see [`WARN_BURST`]).
pub const WARN_WINDOW: Duration = Duration::from_secs(10);

/// The `--quiet` flag, shared by every server.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct QuietArg {
    /// Do not print a line per message (the ready line and the summary still print).
    /// Use it when measuring speed.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Where a server's lines go.
#[derive(Clone)]
pub struct Log {
    quiet: bool,
    sink: Sink,
    warnings: Arc<Mutex<Throttle>>,
}

#[derive(Clone)]
enum Sink {
    /// info and message lines on stdout, warnings on stderr, through the writer thread.
    Terminal(Arc<Writer>),
    /// Everything into one buffer that a test can read (`testing` feature).
    #[cfg(any(test, feature = "testing"))]
    Memory(CapturedLog),
}

impl Log {
    /// A log on the terminal; `quiet` silences per-message lines. Starts the writer thread
    /// (if it cannot start, lines are written directly, which may block).
    pub fn stdout(quiet: bool) -> Self {
        Log::with_sink(quiet, Sink::Terminal(Arc::new(Writer::start(QUEUED_LINES))))
    }

    /// A log kept in memory, for tests: the [`CapturedLog`] reads it (`testing` feature).
    #[cfg(any(test, feature = "testing"))]
    pub fn capture(quiet: bool) -> (Self, CapturedLog) {
        let captured = CapturedLog::default();
        (Log::with_sink(quiet, Sink::Memory(captured.clone())), captured)
    }

    fn with_sink(quiet: bool, sink: Sink) -> Self {
        let warnings = Throttle::new(WARN_BURST, WARN_WINDOW);
        Log { quiet, sink, warnings: Arc::new(Mutex::new(warnings)) }
    }

    /// Whether per-message lines are silenced. Check it before building an expensive line.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A line that always prints: ready, summary, notable events.
    pub fn info(&self, line: fmt::Arguments<'_>) {
        self.emit(Stream::Out, line);
    }

    /// A line about one message; skipped under `--quiet`.
    pub fn message(&self, line: fmt::Arguments<'_>) {
        if !self.quiet {
            self.info(line);
        }
    }

    /// A problem with one message or client, which the server survives. Rate-limited: see
    /// [`WARN_BURST`].
    pub fn warn(&self, line: fmt::Arguments<'_>) {
        // One look at the throttle decides, and counts the line, so that threads warning at
        // once cannot print more than the burst between them.
        let admitted =
            self.warnings.lock().unwrap_or_else(PoisonError::into_inner).admit(Instant::now());
        let Some(held_back) = admitted else { return };
        if held_back > 0 {
            self.emit(
                Stream::Err,
                format_args!(
                    "warning: ... and {} more like these in the last {} s",
                    plural(held_back, "warning"),
                    WARN_WINDOW.as_secs()
                ),
            );
        }
        self.emit(Stream::Err, format_args!("warning: {line}"));
    }

    fn emit(&self, stream: Stream, line: fmt::Arguments<'_>) {
        match &self.sink {
            Sink::Terminal(writer) => writer.send(stream, line),
            #[cfg(any(test, feature = "testing"))]
            Sink::Memory(captured) => captured.push(line),
        }
    }
}

/// What a UDP server does with a failed `recv_from`: nothing, when the error is harmless
/// (its read timeout expired, Ctrl-C interrupted it, or on Windows a gone client's "port
/// unreachable" came back: see [`is_harmless_receive_error`]); otherwise a warning. Either
/// way the error concerns one datagram, not the server, so the server goes round its loop
/// again.
pub fn report_receive_error(log: &Log, error: &io::Error) {
    if !is_harmless_receive_error(error) {
        log.warn(format_args!("receive failed: {}", describe_io_error(error)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_silences_messages_but_not_info_or_warnings() {
        let (log, captured) = Log::capture(true);
        log.message(format_args!("per message"));
        log.info(format_args!("summary"));
        log.warn(format_args!("could not reply"));
        assert_eq!(captured.lines(), ["summary", "warning: could not reply"]);
    }

    #[test]
    fn a_flood_of_warnings_prints_a_few_and_counts_the_rest() {
        let (log, captured) = Log::capture(false);
        for n in 0..100_000 {
            log.warn(format_args!("bad datagram {n}"));
        }
        let lines = captured.lines();
        assert_eq!(
            lines.len() as u64,
            WARN_BURST,
            "only {WARN_BURST} warnings should print in a window; got {}",
            lines.len()
        );
        assert_eq!(lines[0], "warning: bad datagram 0");
        // The next window starts with the count of what was held back.
        log.warnings.lock().unwrap().end_window();
        log.warn(format_args!("later"));
        let lines = captured.lines();
        assert_eq!(
            lines[lines.len() - 2],
            format!(
                "warning: ... and {} more like these in the last 10 s",
                plural(100_000 - WARN_BURST, "warning")
            ),
        );
        assert_eq!(lines[lines.len() - 1], "warning: later");
    }

    #[test]
    fn a_loud_log_keeps_messages_in_order() {
        let (log, captured) = Log::capture(false);
        log.message(format_args!("one {}", 1));
        log.info(format_args!("two"));
        assert_eq!(captured.lines(), ["one 1", "two"]);
        assert!(!log.is_quiet());
    }
}
