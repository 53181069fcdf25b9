//! A log kept in memory, for tests: what a server logged, and waiting for a line.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// The lines a [`Log::capture`] log has received. Clones share the same lines.
#[derive(Clone, Default)]
pub struct CapturedLog {
    lines: Arc<Mutex<Vec<String>>>,
}

impl CapturedLog {
    /// Adds one line (what the log's `emit` does for a captured log).
    pub(super) fn push(&self, line: fmt::Arguments<'_>) {
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
    use super::super::Log;
    use super::*;

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
