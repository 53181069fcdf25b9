//! Log lines, `--quiet`, and capturing a log in a test.
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
//! - warnings are rate-limited: at most [`WARN_BURST`] in any [`WARN_WINDOW`]; after that
//!   the log counts them and says `... and 99,999 more warnings in the last 10 s`;
//! - on the terminal, lines go through a bounded queue to a writer thread. The server only
//!   puts a line in the queue; when the queue is full (nobody is reading the output), the
//!   line is dropped and counted, and the count is reported once the output moves again;
//! - writing never panics: `println!` panics when stdout is a closed pipe (`server | head`),
//!   and a server must not die because its log reader went away.
//!
//! When the last clone of a terminal [`Log`] is dropped (the server's `run` has returned),
//! the writer is given up to [`FLUSH_LIMIT`] to print what is queued, the summary included.
//!
//! A [`Log`] is cheap to clone and can be shared by many threads; each line is written whole.
//! Tests use [`Log::capture`] to read what the server printed.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::throttle::Throttle;

/// At most this many warnings are printed in one [`WARN_WINDOW`]; the rest are counted.
pub const WARN_BURST: u64 = 20;

/// The window over which warnings are counted (see [`WARN_BURST`]).
pub const WARN_WINDOW: Duration = Duration::from_secs(10);

/// Lines the terminal writer may have queued; more are dropped and counted.
pub const QUEUED_LINES: usize = 4096;

/// How long a server's last log lines may take to be printed once it has stopped.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(1);

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
    /// Everything into one buffer that a test can read.
    Memory(CapturedLog),
}

impl Log {
    /// A log on the terminal; `quiet` silences per-message lines. Starts the writer thread
    /// (if it cannot start, lines are written directly, which may block).
    pub fn stdout(quiet: bool) -> Self {
        Log::with_sink(quiet, Sink::Terminal(Arc::new(Writer::start(QUEUED_LINES))))
    }

    /// A log kept in memory, for tests: the [`CapturedLog`] reads it.
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
            Sink::Memory(captured) => captured.push(line),
        }
    }
}

/// Which of the terminal's streams a line goes to.
#[derive(Debug, Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Where a writer thread prints: its stdout and its stderr.
type Streams = (Box<dyn Write>, Box<dyn Write>);

/// The terminal writer: a thread that prints queued lines, so that the server never waits
/// for its output.
struct Writer {
    /// `None` if the thread could not start: then lines are written directly.
    queue: Option<SyncSender<(Stream, String)>>,
    /// Lines dropped because the queue was full.
    dropped: Arc<AtomicU64>,
    /// Told when the writer thread has printed everything and ended. (In a `Mutex` only so
    /// that the log can be shared between threads; only `Drop` uses it.)
    done: Mutex<Option<Receiver<()>>>,
}

impl Writer {
    fn start(capacity: usize) -> Writer {
        Writer::start_to(capacity, || (Box::new(io::stdout()), Box::new(io::stderr())))
    }

    /// A writer whose thread prints to the streams `open` gives it (the terminal's, or in
    /// tests a sink: a test that stalls a log on purpose must not print into the harness's
    /// output).
    fn start_to(capacity: usize, open: fn() -> Streams) -> Writer {
        let (queue, lines) = std::sync::mpsc::sync_channel(capacity);
        let (finished, done) = std::sync::mpsc::sync_channel(1);
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&dropped);
        let spawned = thread::Builder::new().name("log-writer".into()).spawn(move || {
            let (out, err) = open();
            write_lines(&lines, &counter, out, err);
            let _ = finished.send(());
        });
        match spawned {
            Ok(_) => Writer { queue: Some(queue), dropped, done: Mutex::new(Some(done)) },
            Err(_) => Writer { queue: None, dropped, done: Mutex::new(None) },
        }
    }

    fn send(&self, stream: Stream, line: fmt::Arguments<'_>) {
        let Some(queue) = &self.queue else {
            return write_now(stream, &line.to_string());
        };
        match queue.try_send((stream, line.to_string())) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Drop for Writer {
    /// The last clone of the log is gone: close the queue, and give the writer a moment to
    /// print what is left (the summary), but never wait for a terminal that does not read.
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(done) = self.done.get_mut().unwrap_or_else(PoisonError::into_inner) {
            let _ = done.recv_timeout(FLUSH_LIMIT);
        }
    }
}

/// The writer thread: prints lines as they come, flushing whenever the queue is empty, and
/// reports lines that were dropped while the output was stuck.
fn write_lines(
    lines: &Receiver<(Stream, String)>,
    dropped: &AtomicU64,
    out: Box<dyn Write>,
    mut err: Box<dyn Write>,
) {
    let mut out = BufWriter::new(out);
    loop {
        let (stream, line) = match lines.try_recv() {
            Ok(next) => next,
            Err(_) => {
                // Nothing waiting: push out what is buffered, then wait for more.
                let _ = out.flush();
                match lines.recv_timeout(Duration::from_secs(1)) {
                    Ok(next) => next,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            let _ = out.flush();
            write_line(
                &mut err,
                format_args!(
                    "warning: {} dropped: the output was not being read",
                    plural(lost, "log line")
                ),
            );
        }
        match stream {
            Stream::Out => {
                let _ = writeln!(out, "{line}");
            }
            Stream::Err => {
                let _ = out.flush(); // keep stdout and stderr in order
                write_line(&mut err, format_args!("{line}"));
            }
        }
    }
    let _ = out.flush();
}

/// Writes one line at once; a closed or full output is not the server's problem, so errors
/// are dropped on purpose.
fn write_now(stream: Stream, line: &str) {
    match stream {
        Stream::Out => write_line(&mut io::stdout().lock(), format_args!("{line}")),
        Stream::Err => write_line(&mut io::stderr().lock(), format_args!("{line}")),
    }
}

/// Writes one line; errors are dropped on purpose (see [`write_now`]).
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
            thread::sleep(Duration::from_millis(5));
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

    /// Set when [`Stuck`] may write again.
    static STUCK_RELEASED: std::sync::atomic::AtomicBool =
        std::sync::atomic::AtomicBool::new(false);

    /// An output that does not move, as a terminal nobody reads (Ctrl-S, a full pipe):
    /// every write waits until [`STUCK_RELEASED`] (30 s at most), then goes nowhere.
    struct Stuck;

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let started = Instant::now();
            while !STUCK_RELEASED.load(Ordering::SeqCst) && started.elapsed().as_secs() < 30 {
                thread::sleep(Duration::from_millis(1));
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_terminal_log_never_waits_for_its_output() {
        // The writer thread's output does not move, and prints nowhere once it does: the
        // lines and the warning it prints then must not land in the harness's output.
        let stuck = || -> Streams { (Box::new(Stuck), Box::new(Stuck)) };
        let log = Log::with_sink(false, Sink::Terminal(Arc::new(Writer::start_to(4, stuck))));
        let started = Instant::now();
        for n in 0..100_000 {
            log.message(format_args!("line {n} of a log nobody reads"));
        }
        let took = started.elapsed();
        let Sink::Terminal(writer) = &log.sink else { unreachable!() };
        let dropped = writer.dropped.load(Ordering::Relaxed);
        STUCK_RELEASED.store(true, Ordering::SeqCst);
        assert!(
            took < Duration::from_secs(5),
            "logging 100,000 lines to a stuck terminal took {took:?}: it must not wait"
        );
        assert!(dropped > 0, "lines beyond the queue should be dropped and counted");
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
        let writer = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            log.info(format_args!("ready on 127.0.0.1:9"));
        });
        let line = captured.wait_for("ready", Duration::from_secs(10));
        assert_eq!(line.as_deref(), Some("ready on 127.0.0.1:9"));
        assert_eq!(captured.wait_for("never", Duration::from_millis(10)), None);
        writer.join().unwrap();
    }
}
