//! Warnings that cannot flood the log.
//!
//! When a queue is full, it is full for thousands of datagrams in a row. A warning per
//! datagram would make the log the bottleneck (and hide everything else), so each kind of
//! warning prints at most a few lines per second and then says how many it held back:
//! `warning: rate queue full (server -> client), datagram dropped (312 more since the last
//! warning)`. The summary counts every one of them anyway.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use shared::report::Log;

/// How many lines of one kind may print in one [`WINDOW`].
pub const BURST: u32 = 3;
/// The window [`BURST`] counts in.
pub const WINDOW: Duration = Duration::from_secs(1);

/// One kind of warning, rate-limited. Shared by threads (a mutex, taken only on the
/// path that warns, never per forwarded datagram).
#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    window_start: Option<Instant>,
    printed_in_window: u32,
    held_back: u64,
}

impl Throttle {
    /// A throttle that has printed nothing yet.
    pub fn new() -> Self {
        Self::default()
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
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if state.window_start.is_none_or(|start| now.duration_since(start) >= WINDOW) {
            state.window_start = Some(now);
            state.printed_in_window = 0;
        }
        if state.printed_in_window < BURST {
            state.printed_in_window += 1;
            Some(std::mem::take(&mut state.held_back))
        } else {
            state.held_back += 1;
            None
        }
    }
}

fn held_back_note(held_back: u64) -> String {
    match held_back {
        0 => String::new(),
        1 => " (1 more like it since the last one printed)".to_string(),
        n => format!(" ({n} more like it since the last one printed)"),
    }
}
