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
}

impl std::fmt::Display for Verdict {
    /// What the capture's comment says.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Verdict::Lost => f.write_str("lost (--loss)"),
            Verdict::RateQueueFull => f.write_str("dropped: the rate queue is full (--rate-queue)"),
            Verdict::DelayQueueFull => {
                f.write_str("dropped: the delay queue is full (--max-delayed)")
            }
            Verdict::Passed { delay, duplicate, held } => {
                if delay.is_zero() {
                    f.write_str("passed on at once")?;
                } else {
                    write!(f, "passed on with a delay of {:.1} ms", delay.as_secs_f64() * 1000.0)?;
                }
                if duplicate {
                    f.write_str(", duplicated (--duplicate)")?;
                }
                if held {
                    f.write_str(", held back until overtaken (--reorder)")?;
                }
                Ok(())
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
