//! What happened to a datagram, as the relay reports it to `--capture` and `--diagram`.

use std::time::{Duration, Instant};

/// Which way a datagram goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Client → server.
    Up,
    /// Server → client.
    Down,
}

impl Way {
    /// How the comments name it.
    pub fn label(self) -> &'static str {
        match self {
            Way::Up => "client -> server",
            Way::Down => "server -> client",
        }
    }
}

/// What the link decided about a datagram when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Dropped by `--loss`.
    Lost,
    /// Dropped: the `--rate` queue was full.
    RateQueueFull,
    /// Dropped: the delay queue was full.
    DelayQueueFull,
    /// Passed on.
    Passed {
        /// Its delay (`--delay` ± `--jitter`).
        delay: Duration,
        /// A second copy follows it.
        duplicate: bool,
        /// Held back until the next datagram overtakes it.
        held: bool,
    },
}

impl Verdict {
    /// Whether the link dropped it.
    pub fn is_dropped(self) -> bool {
        !matches!(self, Verdict::Passed { .. })
    }

    /// What the capture's comment says.
    pub fn describe(self) -> String {
        match self {
            Verdict::Lost => "lost (--loss)".to_string(),
            Verdict::RateQueueFull => "dropped: the rate queue is full (--rate-queue)".to_string(),
            Verdict::DelayQueueFull => {
                "dropped: the delay queue is full (--max-delayed)".to_string()
            }
            Verdict::Passed { delay, duplicate, held } => {
                let mut text = if delay.is_zero() {
                    "passed on at once".to_string()
                } else {
                    format!("passed on with a delay of {}", show_ms(delay))
                };
                if duplicate {
                    text.push_str(", duplicated (--duplicate)");
                }
                if held {
                    text.push_str(", held back until overtaken (--reorder)");
                }
                text
            }
        }
    }
}

/// Which copy of a datagram left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copy {
    /// The datagram itself.
    Original,
    /// The second copy `--duplicate` made.
    Duplicate,
}

/// How one copy left the relay: its number, when it arrived, which copy, overtaken or not.
#[derive(Debug, Clone, Copy)]
pub struct Leaving {
    /// The datagram's number.
    pub id: u64,
    /// When it arrived at the relay.
    pub arrived: Instant,
    /// Which copy this is.
    pub copy: Copy,
    /// A later datagram of its flow left before it.
    pub reordered: bool,
}

/// `48.2 ms`.
pub fn show_ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
