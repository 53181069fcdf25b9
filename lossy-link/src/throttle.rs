//! Warnings that cannot flood the log.
//!
//! When a queue is full, it is full for thousands of datagrams in a row. A warning per
//! datagram would make the log the bottleneck (and hide everything else), so each kind of
//! warning prints at most a few lines per second and then says how many it held back:
//! `warning: rate queue full (server -> client: --rate 64000 bytes/s, --rate-queue 64),
//! datagram dropped (312 more like it since the last one printed)`. The summary counts
//! every one of them anyway.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use shared::log::Log;

/// How many lines of one kind may print in one [`WINDOW`].
pub const BURST: u64 = 3;
/// The window [`BURST`] counts in.
pub const WINDOW: Duration = Duration::from_secs(1);

/// One kind of warning, rate-limited by `shared`'s [`Throttle`](shared::throttle::Throttle):
/// [`BURST`] lines a [`WINDOW`]. Shared by threads (a mutex, taken only on the path that
/// warns, never per forwarded datagram).
#[derive(Debug)]
pub struct Throttle {
    admission: Mutex<shared::throttle::Throttle>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new()
    }
}

impl Throttle {
    /// A throttle that has printed nothing yet.
    pub fn new() -> Self {
        Throttle { admission: Mutex::new(shared::throttle::Throttle::new(BURST, WINDOW)) }
    }

    /// Prints `line()` as a warning unless [`BURST`] lines of this kind were printed in the
    /// last [`WINDOW`]; then it only counts it, and the next line that prints says how many.
    pub fn warn(&self, log: &Log, line: impl FnOnce() -> String) {
        if let Some(held_back) = self.admit() {
            log.warn(format_args!("{}{}", line(), held_back_note(held_back)));
        }
    }

    /// Like [`warn`](Self::warn), as an info line silenced by `--quiet` (new clients).
    pub fn message(&self, log: &Log, line: impl FnOnce() -> String) {
        if log.is_quiet() {
            return;
        }
        if let Some(held_back) = self.admit() {
            log.message(format_args!("{}{}", line(), held_back_note(held_back)));
        }
    }

    /// `Some(lines held back since the last printed one)` if a line may print now.
    fn admit(&self) -> Option<u64> {
        self.admission.lock().unwrap_or_else(PoisonError::into_inner).admit(Instant::now())
    }
}

fn held_back_note(held_back: u64) -> String {
    match held_back {
        0 => String::new(),
        1 => " (1 more like it since the last one printed)".to_string(),
        n => format!(" ({n} more like it since the last one printed)"),
    }
}
