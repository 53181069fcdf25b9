//! The terminal writer of a [`Log`](super::Log): a thread that prints queued lines, so that
//! the server never waits for its output.

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use crate::console::write_line;
use crate::text::plural;

/// Lines the terminal writer may have queued; more are dropped and counted.
pub const QUEUED_LINES: usize = 4096;

/// How long a server's last log lines may take to be printed once it has stopped.
pub const FLUSH_LIMIT: Duration = Duration::from_secs(1);

/// Which of the terminal's streams a line goes to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stream {
    /// stdout: info and message lines.
    Out,
    /// stderr: warnings.
    Err,
}

/// Where a writer thread prints: its stdout and its stderr.
pub(super) type Streams = (Box<dyn Write>, Box<dyn Write>);

/// The terminal writer: a thread that prints queued lines, so that the server never waits
/// for its output.
pub(super) struct Writer {
    /// `None` if the thread could not start: then lines are written directly.
    queue: Option<SyncSender<(Stream, String)>>,
    /// Lines dropped because the queue was full.
    dropped: Arc<AtomicU64>,
    /// Told when the writer thread has printed everything and ended. (In a `Mutex` only so
    /// that the log can be shared between threads; only `Drop` uses it.)
    done: Mutex<Option<Receiver<()>>>,
}

impl Writer {
    /// A writer to the terminal's stdout and stderr, queueing at most `capacity` lines.
    pub(super) fn start(capacity: usize) -> Writer {
        Writer::start_to(capacity, || (Box::new(io::stdout()), Box::new(io::stderr())))
    }

    /// A writer whose thread prints to the streams `open` gives it (the terminal's, or in
    /// tests a sink: a test that stalls a log on purpose must not print into the harness's
    /// output).
    pub(super) fn start_to(capacity: usize, open: fn() -> Streams) -> Writer {
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

    /// Queues `line` for `stream`; drops and counts it if the queue is full.
    pub(super) fn send(&self, stream: Stream, line: fmt::Arguments<'_>) {
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

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::super::{Log, Sink};
    use super::*;

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
}
