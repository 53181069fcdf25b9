//! Running a server on a thread inside a test, and stopping it with a deadline.
//!
//! Grading tests start the real server in-process on port 0, talk to it over loopback,
//! then stop it. A server that never stops must fail the test, not hang the test run, so
//! [`ServerThread::stop_within`] waits only so long. And a test that fails half-way must
//! not leave its server running: dropping a [`ServerThread`] requests shutdown.
//!
//! [`TestServer`] is what the grading suites use: a server on its thread, its address and
//! its captured log, with assertions that fail the test (by panicking, as tests do) when the
//! server does not stop in time or does not log what it should.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::log::CapturedLog;
use crate::shutdown::Shutdown;
use crate::text::as_text;
use crate::udp::{RECV_BUFFER_SIZE, connect_udp};

/// How long a server under test may take to stop: the workspace's promise to students.
pub const STOP_LIMIT: Duration = Duration::from_secs(1);

/// How long a test waits for a reply or a log line: generous, for a loaded 2-core machine
/// (a correct server answers in microseconds): 10 seconds, or `GRADING_PATIENCE_SECS`
/// seconds if that is set (`cargo xtask check-exercises` shortens it to see unfinished
/// exercises fail quickly).
pub fn patience() -> Duration {
    std::env::var("GRADING_PATIENCE_SECS")
        .ok()
        .and_then(|secs| secs.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs > 0.0 && *secs <= 3600.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

/// A server under test: running on its own thread, with its address and its log.
pub struct TestServer<S> {
    /// The address the server is bound to.
    pub addr: SocketAddr,
    /// What the server has logged so far.
    pub log: CapturedLog,
    thread: ServerThread<Result<S>>,
}

#[allow(clippy::panic, reason = "test helpers fail the test by panicking, with a message")]
impl<S: Send + 'static> TestServer<S> {
    /// Runs `run` (the server's loop, returning its summary) on its own thread.
    pub fn start(
        addr: SocketAddr,
        log: CapturedLog,
        run: impl FnOnce(&Shutdown) -> Result<S> + Send + 'static,
    ) -> Self {
        TestServer { addr, log, thread: ServerThread::spawn(move |shutdown| run(&shutdown)) }
    }

    /// Stops the server and returns its summary; fails the test if the server takes more
    /// than [`STOP_LIMIT`] or returns an error.
    #[track_caller]
    pub fn stop(self) -> S {
        self.stop_timed().0
    }

    /// Like [`stop`](Self::stop), and also says how long the stop took.
    #[track_caller]
    pub fn stop_timed(self) -> (S, Duration) {
        let log = self.log.clone();
        match self.thread.stop_within(STOP_LIMIT) {
            Ok((Ok(summary), took)) => (summary, took),
            Ok((Err(error), _)) => panic!("the server failed: {error}; log:\n{}", log.text()),
            Err(why) => panic!(
                "expected the server to stop within {STOP_LIMIT:?}: {why}; log:\n{}",
                log.text()
            ),
        }
    }

    /// Waits (up to [`patience`]) for a log line containing `needle` and returns it;
    /// fails the test, showing the whole log, if none comes.
    #[track_caller]
    pub fn expect_log(&self, needle: &str) -> String {
        match self.log.wait_for(needle, patience()) {
            Some(line) => line,
            None => panic!("expected a log line with {needle:?}; the log:\n{}", self.log.text()),
        }
    }
}

/// A server running on its own thread, with the [`Shutdown`] that stops it.
pub struct ServerThread<T> {
    shutdown: Shutdown,
    finished: mpsc::Receiver<T>,
}

impl<T: Send + 'static> ServerThread<T> {
    /// Runs `serve(shutdown)` on a new thread; `serve` should return when the shutdown is
    /// requested.
    pub fn spawn(serve: impl FnOnce(Shutdown) -> T + Send + 'static) -> Self {
        let shutdown = Shutdown::new();
        let (done, finished) = mpsc::channel();
        let signal = shutdown.clone();
        thread::spawn(move || {
            // The receiver may be gone if the test already gave up; nothing to do then.
            let _ = done.send(serve(signal));
        });
        ServerThread { shutdown, finished }
    }

    /// Requests shutdown and waits up to `limit` for the server to return. `Err` says
    /// whether it was too slow or died, and how long the stop took.
    pub fn stop_within(self, limit: Duration) -> Result<(T, Duration), String> {
        let asked = Instant::now();
        self.shutdown.request();
        match self.finished.recv_timeout(limit) {
            Ok(value) => Ok((value, asked.elapsed())),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("it was still running {limit:?} after the stop was asked for"))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err("the server thread panicked".to_string())
            }
        }
    }
}

impl<T> Drop for ServerThread<T> {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}

/// A UDP client socket for a test: connected to `server`, waiting at most [`patience`] for
/// each reply.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn udp_client(server: SocketAddr) -> UdpSocket {
    let socket = connect_udp(server).unwrap();
    socket.set_read_timeout(Some(patience())).unwrap();
    socket
}

/// Sends one datagram on a [`udp_client`] socket and returns the reply; fails the test if
/// none comes within [`patience`].
#[allow(clippy::unwrap_used, clippy::panic, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn udp_exchange(socket: &UdpSocket, datagram: &[u8]) -> Vec<u8> {
    socket.send(datagram).unwrap();
    let mut reply = vec![0; RECV_BUFFER_SIZE];
    let len = match socket.recv(&mut reply) {
        Ok(len) => len,
        Err(e) => panic!(
            "expected a reply to a datagram of {} bytes ({:?}...) within {:?}; got none: {e}",
            datagram.len(),
            as_text(&datagram[..datagram.len().min(40)]),
            patience()
        ),
    };
    reply.truncate(len);
    reply
}

/// Plays the other half of a loop between two servers (what one forged datagram starts,
/// see [`crate::reply`]): sends `first` to `server` from a fresh socket, then sends back
/// every datagram that arrives, for `duration` (or until the server has been silent for a
/// second). Returns how many arrived: a server that
/// answers everything without limit sends tens of thousands a second.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
pub fn bounce_for(server: SocketAddr, first: &[u8], duration: Duration) -> u64 {
    let socket = connect_udp(server).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    socket.send(first).unwrap();
    let mut buffer = vec![0; RECV_BUFFER_SIZE];
    let (mut arrived, deadline) = (0, Instant::now() + duration);
    let mut last_heard = Instant::now();
    // Ends at `duration`, or once the server has been silent for a second: the loop is over.
    while Instant::now() < deadline && last_heard.elapsed() < Duration::from_secs(1) {
        if let Ok(len) = socket.recv(&mut buffer) {
            arrived += 1;
            last_heard = Instant::now();
            let _ = socket.send(&buffer[..len]);
        }
    }
    arrived
}

/// Points two servers at each other, as one forged datagram would (Loop DoS), and counts
/// what they send. A test cannot forge a source address (that needs a raw socket, so root),
/// so the test is the wire between them: one socket faces `a`, another faces `b`, and each
/// datagram that arrives on one is sent on by the other, unchanged. Each server sees what
/// the other sent, from one peer socket, as in a direct loop. Starts with `first` to `a`;
/// ends at `duration`, or once both have been silent for a second (the loop is over).
/// Returns how many datagrams crossed the wire.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
pub fn wire_between(a: SocketAddr, b: SocketAddr, first: &[u8], duration: Duration) -> u64 {
    let to_a = connect_udp(a).unwrap();
    let to_b = connect_udp(b).unwrap();
    for socket in [&to_a, &to_b] {
        socket.set_nonblocking(true).unwrap();
    }
    to_a.send(first).unwrap();
    let mut buffer = vec![0; RECV_BUFFER_SIZE];
    let (mut crossed, deadline) = (0, Instant::now() + duration);
    let mut last_heard = Instant::now();
    while Instant::now() < deadline && last_heard.elapsed() < Duration::from_secs(1) {
        let mut idle = true;
        for (from, onward) in [(&to_a, &to_b), (&to_b, &to_a)] {
            if let Ok(len) = from.recv(&mut buffer) {
                crossed += 1;
                idle = false;
                last_heard = Instant::now();
                let _ = onward.send(&buffer[..len]);
            }
        }
        if idle {
            thread::sleep(Duration::from_micros(200));
        }
    }
    crossed
}

/// A UDP socket on a port below 1024 (a well-known service's, as a forged datagram would
/// claim), to check that a server does not answer it; `None`, with a note on stderr, where
/// the system does not allow it (such ports need root on Linux and macOS; Windows allows
/// them), so the test can skip.
#[allow(clippy::print_stderr, reason = "tells the person running the tests why one skipped")]
pub fn service_port_socket() -> Option<UdpSocket> {
    let socket = (1000..1024).find_map(|port| UdpSocket::bind(("127.0.0.1", port)).ok());
    if socket.is_none() {
        eprintln!("note: cannot bind a port below 1024 here (not root): test skipped");
    }
    socket
}

/// Fails the test unless `--version` of the server (`S`) and the client (`C`) names
/// `module`: every module's programs are called `server` and `client`.
#[allow(clippy::panic, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn assert_version_names_the_module<S: clap::CommandFactory, C: clap::CommandFactory>(
    module: &str,
) {
    for (program, version) in
        [("server", S::command().render_version()), ("client", C::command().render_version())]
    {
        let expected = format!("{module} {program} ");
        if !version.starts_with(&expected) {
            panic!("the {program}'s --version should start with {expected:?}: {version:?}");
        }
    }
}

/// How long a client run inside a test may take before the test gives up on it: its own
/// bounds (`count` exchanges of at most `timeout` each, `pause` between them, a load run's
/// `duration`) with room to spare, plus [`patience`]. A client that honours its `--timeout`
/// always returns well within this; one that forgot it (a blocking `recv` with no read
/// timeout) would wait for ever.
pub fn client_deadline(
    timeout: Duration,
    count: Option<u64>,
    pause: Duration,
    duration: Option<Duration>,
) -> Duration {
    let exchanges = u32::try_from(count.unwrap_or(1).min(100_000)).unwrap_or(100_000) + 4;
    patience()
        .saturating_add(timeout.saturating_add(pause).saturating_mul(exchanges))
        .saturating_add(duration.unwrap_or_default())
}

/// Runs `work` (a client, say) on its own thread and returns what it returns; fails the test
/// if it has not returned within `limit`, saying that `what` was still waiting and `hint`
/// (what an unfinished exercise most likely lacks). A panic in `work` fails the test with
/// that panic. The thread left waiting ends with the test process.
#[allow(clippy::panic, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn returns_within<T: Send + 'static>(
    limit: Duration,
    what: &str,
    hint: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, result) = mpsc::channel();
    let worker = thread::spawn(move || {
        let _ = done.send(work());
    });
    match result.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panicked) => std::panic::resume_unwind(panicked),
            Ok(()) => panic!("{what} ended without a result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("expected {what} to return within {limit:?}; it was still waiting: {hint}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_honours_shutdown_stops_in_time() {
        let server = ServerThread::spawn(|shutdown| {
            while !shutdown.is_requested() {
                thread::sleep(Duration::from_millis(1));
            }
            "stopped"
        });
        let (value, took) = server.stop_within(Duration::from_secs(10)).unwrap();
        assert_eq!(value, "stopped");
        assert!(took < Duration::from_secs(10));
    }

    #[test]
    fn a_server_that_ignores_shutdown_is_reported_not_waited_for() {
        let server = ServerThread::spawn(|_| thread::sleep(Duration::from_secs(5)));
        let error = server.stop_within(Duration::from_millis(50)).unwrap_err();
        assert!(error.contains("still running"), "{error}");
    }

    #[test]
    fn a_client_that_never_returns_fails_the_test_naming_the_hint() {
        let waited = std::panic::catch_unwind(|| {
            returns_within(Duration::from_millis(100), "the client", "set a read timeout", || {
                thread::sleep(Duration::from_secs(30));
            });
        });
        let message = waited.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.contains("the client") && message.contains("set a read timeout"),
            "expected the message to name the client and the hint: {message}"
        );
        assert_eq!(returns_within(Duration::from_secs(30), "a quick one", "", || 7), 7);
    }
}
