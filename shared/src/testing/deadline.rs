//! Deadlines for a client run inside a test: a client that waits for ever fails the test,
//! with a hint, instead of hanging the test run.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::patience;

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
