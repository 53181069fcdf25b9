//! Running a server on a thread inside a test, and stopping it with a deadline.
//!
//! Grading tests start the real server in-process on port 0, talk to it over loopback,
//! then stop it. A server that never stops must fail the test, not hang the test run, so
//! [`ServerThread::stop_within`] waits only so long. And a test that fails half-way must
//! not leave its server running: dropping a [`ServerThread`] requests shutdown.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::shutdown::Shutdown;

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

    /// The server's stop signal (to request shutdown without waiting).
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Requests shutdown and waits up to `limit` for the server to return. `Err` says
    /// whether it was too slow or died, and how long the stop took.
    pub fn stop_within(self, limit: Duration) -> Result<(T, Duration), String> {
        let asked = Instant::now();
        self.shutdown.request();
        match self.finished.recv_timeout(limit) {
            Ok(value) => Ok((value, asked.elapsed())),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("the server did not stop within {limit:?}"))
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
        assert!(error.contains("did not stop"), "{error}");
    }
}
