//! A server on its own thread in a test, stopped with a deadline.
//!
//! Grading tests start the real server in-process on port 0, talk to it over loopback,
//! then stop it. A server that never stops must fail the test, not hang the test run, so
//! [`ServerThread::stop_within`] waits only so long. And a test that fails half-way must
//! not leave its server running: dropping a [`ServerThread`] requests shutdown.
//!
//! [`TestServer`] is what the grading suites use: a server on its thread, its address and
//! its captured log, with assertions that fail the test (by panicking, as tests do) when the
//! server does not stop in time or does not log what it should.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{STOP_LIMIT, patience};
use crate::error::Result;
use crate::log::CapturedLog;
use crate::shutdown::Shutdown;

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
}
