//! A minimum pace for a connection: a line must arrive, and an echo must be read, at a
//! minimum data rate, or the connection is closed.
//!
//! The idle timeout alone does not stop a *slow drip*: a client that sends one byte every
//! 20 seconds is never silent for 60, and so holds its place (and its thread) for ever.
//! Issue 18 measured 10 addresses × 1,000 such connections holding every place past the
//! idle timeout. Apache's `mod_reqtimeout` answers with a deadline that grows with what
//! arrives (`body=20,MinRate=500`: 20 seconds, plus one more for every 500 bytes); so does
//! this server, per line:
//!
//! - once a line has begun, it must end (its `\n`) within `--line-timeout`, plus one second
//!   for every `--min-rate` bytes of it that have arrived. A person typing, or a client
//!   sending steadily, never comes near it; one byte every few seconds does;
//! - an echo must be read by the client within the same allowance for its size, so a
//!   client that reads one byte a minute cannot keep its thread blocked in `write`.
//!
//! What it cannot tell apart: a client that sends a short whole line every 20 s is, by every
//! measure a server can take, a person chatting slowly. Against many of those only the
//! per-host limit (`--max-per-ip`) and `--max-clients` help.

use std::time::{Duration, Instant};

/// The minimum pace: a base allowance, and bytes per second that extend it.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// How long any line (or echo) may take, whatever its size.
    pub allowance: Duration,
    /// Bytes a second that earn one more second each (0: no extension).
    pub min_rate: u32,
}

impl Pace {
    /// When a transfer of `bytes` that began at `start` must have finished.
    pub fn deadline(&self, start: Instant, bytes: u64) -> Instant {
        let extra = if self.min_rate == 0 { 0.0 } else { bytes as f64 / f64::from(self.min_rate) };
        // Capped at a day: `Instant + Duration` must not overflow, whatever the flags say.
        start + self.allowance + Duration::from_secs_f64(extra.min(86_400.0))
    }
}

/// The line being received: when it began and how much of it has come.
#[derive(Debug, Default)]
pub struct OpenLine {
    /// When its first byte came; `None` between lines.
    started: Option<Instant>,
    bytes: u64,
}

impl OpenLine {
    /// Notes `data`, the next bytes of the stream, received at `now`.
    pub fn add(&mut self, data: &[u8], now: Instant) {
        match data.iter().rposition(|&b| b == b'\n') {
            // A line ended: what follows its `\n` begins the next one.
            Some(end) => {
                let rest = data.len() - end - 1;
                self.started = (rest > 0).then_some(now);
                self.bytes = rest as u64;
            }
            None if !data.is_empty() => {
                self.started.get_or_insert(now);
                self.bytes += data.len() as u64;
            }
            None => {}
        }
    }

    /// Whether the line, if one is open, is past its deadline at `now`.
    pub fn is_too_slow(&self, pace: Pace, now: Instant) -> bool {
        self.started.is_some_and(|start| now > pace.deadline(start, self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACE: Pace = Pace { allowance: Duration::from_secs(30), min_rate: 16 };

    #[test]
    fn a_slow_drip_is_too_slow_after_the_allowance() {
        let start = Instant::now();
        let mut line = OpenLine::default();
        for second in (0..40).step_by(20) {
            line.add(b"x", start + Duration::from_secs(second));
        }
        assert!(!line.is_too_slow(PACE, start + Duration::from_secs(29)), "within 30 s: fine");
        assert!(
            line.is_too_slow(PACE, start + Duration::from_secs(31)),
            "two bytes in 31 s: too slow"
        );
    }

    #[test]
    fn a_line_that_keeps_coming_earns_more_time_and_a_newline_ends_it() {
        let start = Instant::now();
        let mut line = OpenLine::default();
        line.add(&[b'x'; 1600], start); // 1,600 bytes earn 100 s more
        assert!(!line.is_too_slow(PACE, start + Duration::from_secs(120)), "130 s allowed");
        line.add(b"end\nnext", start + Duration::from_secs(120));
        assert!(
            !line.is_too_slow(PACE, start + Duration::from_secs(140)),
            "the next line began at 120 s: its own 30 s"
        );
        line.add(b"\n", start + Duration::from_secs(140));
        assert!(!line.is_too_slow(PACE, start + Duration::from_secs(1000)), "no line open");
    }
}
