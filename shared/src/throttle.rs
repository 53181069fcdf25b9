//! "Say it at most N times in a window": the one rule behind every warning that could flood.
//!
//! A full queue is full for thousands of datagrams in a row, and a flood of bad datagrams
//! is thousands of bad datagrams. A warning for each would make the log the bottleneck and
//! bury everything else in it, so every repeated warning goes through a [`Throttle`]: at
//! most `burst` lines in each `window`, the rest only counted, and the next line that is
//! said tells how many were held back. The servers' summaries count every event anyway.

use std::time::{Duration, Instant};

/// At most `burst` admissions in each `window`; the ones refused in between are counted.
#[derive(Debug, Clone)]
pub struct Throttle {
    burst: u64,
    window: Duration,
    window_start: Option<Instant>,
    admitted: u64,
    held_back: u64,
}

impl Throttle {
    /// A throttle that admits `burst` (at least 1) in each `window`.
    pub const fn new(burst: u64, window: Duration) -> Self {
        let burst = if burst == 0 { 1 } else { burst };
        Throttle { burst, window, window_start: None, admitted: 0, held_back: 0 }
    }

    /// Whether one more may be said at `now`: `Some(how many were held back since the last
    /// one admitted)` (and this one is counted), or `None` (and it is counted as held back).
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        let window_over = self
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= self.window);
        if window_over {
            self.window_start = Some(now);
            self.admitted = 0;
        }
        if self.admitted < self.burst {
            self.admitted += 1;
            Some(std::mem::take(&mut self.held_back))
        } else {
            self.held_back += 1;
            None
        }
    }

    /// Ends the current window now, as if it had run its time (for tests of what uses it).
    #[cfg(test)]
    pub(crate) fn end_window(&mut self) {
        self.window_start = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_a_burst_per_window_and_counts_what_it_holds_back() {
        let mut throttle = Throttle::new(3, Duration::from_secs(1));
        let start = Instant::now();
        let admitted: Vec<_> = (0..10).map(|_| throttle.admit(start)).collect();
        assert_eq!(admitted[..3], [Some(0), Some(0), Some(0)], "the first three are said");
        assert!(admitted[3..].iter().all(Option::is_none), "the rest are held back: {admitted:?}");
        let next_window = start + Duration::from_secs(1);
        assert_eq!(throttle.admit(next_window), Some(7), "the next one said tells of the 7");
        assert_eq!(throttle.admit(next_window), Some(0), "and they are told only once");
    }

    #[test]
    fn a_burst_of_zero_still_admits_one_per_window() {
        let mut throttle = Throttle::new(0, Duration::from_secs(10));
        let start = Instant::now();
        assert_eq!(throttle.admit(start), Some(0));
        assert_eq!(throttle.admit(start + Duration::from_secs(9)), None);
        assert_eq!(throttle.admit(start + Duration::from_secs(10)), Some(1));
    }
}
