//! Log lines, `--quiet`, and capturing a log in a test.
//!
//! Servers print three kinds of lines:
//! - **info**: the ready line, the summary. Always printed.
//! - **message**: one line per datagram or line served. Silenced by `--quiet`, because at
//!   tens of thousands of messages a second, printing them *is* the work.
//! - **warn**: something went wrong with one client (a reply that could not be sent); the
//!   server goes on. Printed on stderr.
//!
//! Writing never panics: `println!` panics when stdout is a closed pipe (`server | head`),
//! and a server must not die because its log reader went away, so write errors are ignored.
//!
//! A [`Log`] is cheap to clone and can be shared by many threads; each line is written whole.
//! Tests use [`Log::capture`] to read what the server printed.

use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

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
}

#[derive(Clone)]
enum Sink {
    /// info and message lines on stdout, warnings on stderr.
    Terminal,
    /// Everything into one buffer that a test can read.
    Memory(CapturedLog),
}

impl Log {
    /// A log on the terminal; `quiet` silences per-message lines.
    pub fn stdout(quiet: bool) -> Self {
        Log { quiet, sink: Sink::Terminal }
    }

    /// A log kept in memory, for tests: the [`CapturedLog`] reads it.
    pub fn capture(quiet: bool) -> (Self, CapturedLog) {
        let captured = CapturedLog::default();
        (Log { quiet, sink: Sink::Memory(captured.clone()) }, captured)
    }

    /// Whether per-message lines are silenced. Check it before building an expensive line.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// A line that always prints: ready, summary, notable events.
    pub fn info(&self, line: fmt::Arguments<'_>) {
        match &self.sink {
            Sink::Terminal => write_line(&mut io::stdout().lock(), line),
            Sink::Memory(captured) => captured.push(line),
        }
    }

    /// A line about one message; skipped under `--quiet`.
    pub fn message(&self, line: fmt::Arguments<'_>) {
        if !self.quiet {
            self.info(line);
        }
    }

    /// A problem with one message or client, which the server survives.
    pub fn warn(&self, line: fmt::Arguments<'_>) {
        match &self.sink {
            Sink::Terminal => {
                write_line(&mut io::stderr().lock(), format_args!("warning: {line}"));
            }
            Sink::Memory(captured) => captured.push(format_args!("warning: {line}")),
        }
    }
}

/// Writes one line; a closed or full output is not the server's problem, so errors are
/// dropped on purpose.
fn write_line(out: &mut impl Write, line: fmt::Arguments<'_>) {
    let _ = writeln!(out, "{line}");
}

/// Prints `error: ...` on stderr: how every binary reports the error that ends it.
pub fn print_error(error: &dyn fmt::Display) {
    write_line(&mut io::stderr().lock(), format_args!("error: {error}"));
}

/// Writes a line on stdout, ignoring a closed stdout (for notices nobody must miss-handle).
pub fn print_line(line: fmt::Arguments<'_>) {
    write_line(&mut io::stdout().lock(), line);
}

/// Writes a client's line (a reply, a summary) to `out`, usually stdout. Unlike a server's
/// log, a client's output is its result, so failing to write it is an error.
pub fn output_line(out: &mut impl Write, line: fmt::Arguments<'_>) -> crate::Result<()> {
    writeln!(out, "{line}").map_err(|e| crate::Error::io("cannot write the output", e))
}

/// `count` and `noun`, in the plural unless the count is one: `1 datagram`, `2 datagrams`,
/// `2 replies`, `2 echoes`.
pub fn plural(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    if count == 1 {
        return format!("1 {noun}");
    }
    match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{count} {stem}ies"),
        _ if noun.ends_with("o") || noun.ends_with("s") || noun.ends_with("sh") => {
            format!("{count} {noun}es")
        }
        _ => format!("{count} {noun}s"),
    }
}

/// The lines a [`Log::capture`] log has received. Clones share the same lines.
#[derive(Clone, Default)]
pub struct CapturedLog {
    lines: Arc<Mutex<Vec<String>>>,
}

impl CapturedLog {
    fn push(&self, line: fmt::Arguments<'_>) {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).push(line.to_string());
    }

    /// Every line so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Every line so far, joined with newlines (for assertion messages).
    pub fn text(&self) -> String {
        self.lines().join("\n")
    }

    /// Waits until some line contains `needle`, for at most `timeout`; returns that line.
    /// (Servers log from their own threads, so a test may have to wait for the line.)
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.lines().into_iter().find(|line| line.contains(needle)) {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_adds_an_s_except_for_one() {
        assert_eq!(plural(0u64, "client"), "0 clients");
        assert_eq!(plural(1u32, "client"), "1 client");
        assert_eq!(plural(2u64, "datagram"), "2 datagrams");
        assert_eq!(plural(3u64, "reply"), "3 replies");
        assert_eq!(plural(1u64, "echo"), "1 echo");
        assert_eq!(plural(2u64, "echo"), "2 echoes");
        assert_eq!(plural(2u64, "day"), "2 days");
    }

    #[test]
    fn quiet_silences_messages_but_not_info_or_warnings() {
        let (log, captured) = Log::capture(true);
        log.message(format_args!("per message"));
        log.info(format_args!("summary"));
        log.warn(format_args!("could not reply"));
        assert_eq!(captured.lines(), ["summary", "warning: could not reply"]);
    }

    #[test]
    fn a_loud_log_keeps_messages_in_order() {
        let (log, captured) = Log::capture(false);
        log.message(format_args!("one {}", 1));
        log.info(format_args!("two"));
        assert_eq!(captured.lines(), ["one 1", "two"]);
        assert!(!log.is_quiet());
    }

    #[test]
    fn wait_for_finds_a_line_written_by_another_thread() {
        let (log, captured) = Log::capture(false);
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            log.info(format_args!("ready on 127.0.0.1:9"));
        });
        let line = captured.wait_for("ready", Duration::from_secs(10));
        assert_eq!(line.as_deref(), Some("ready on 127.0.0.1:9"));
        assert_eq!(captured.wait_for("never", Duration::from_millis(10)), None);
        writer.join().unwrap();
    }
}
