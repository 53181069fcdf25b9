//! What the server counts while it runs ([`Tally`], shared by every thread) and the summary
//! it prints when it stops ([`Summary`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use shared::text::plural;

use crate::connection::Ending;

/// Counters shared by all threads.
#[derive(Default)]
pub struct Tally {
    accepted: AtomicU64,
    refused: AtomicU64,
    served: AtomicU64,
    lines: AtomicU64,
    idle: AtomicU64,
    too_slow: AtomicU64,
}

impl Tally {
    /// Counts a connection accepted; returns its number (1 for the first), which names its
    /// thread.
    pub fn accepted(&self) -> u64 {
        self.accepted.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a connection refused over `--max-clients` or `--max-per-ip`.
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection served, its lines and how it ended.
    pub fn record(&self, lines: u64, ending: &Ending) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.lines.fetch_add(lines, Ordering::Relaxed);
        if matches!(ending, Ending::Idle) {
            self.idle.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(ending, Ending::TooSlow) {
            self.too_slow.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts so far.
    pub fn summary(&self) -> Summary {
        Summary {
            connections: self.served.load(Ordering::Relaxed),
            lines: self.lines.load(Ordering::Relaxed),
            refused_busy: self.refused.load(Ordering::Relaxed),
            idle: self.idle.load(Ordering::Relaxed),
            too_slow: self.too_slow.load(Ordering::Relaxed),
        }
    }
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Connections served (each by its own thread).
    pub connections: u64,
    /// Lines echoed, over all connections.
    pub lines: u64,
    /// Connections refused because the server was full: `--max-clients` open, or
    /// `--max-per-ip` open from the client's host.
    pub refused_busy: u64,
    /// Connections closed for being idle past `--idle-timeout`.
    pub idle: u64,
    /// Connections closed for sending a line, or reading an echo, too slowly
    /// (`--line-timeout`, `--min-rate`).
    pub too_slow: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Served {}, echoed {}",
            plural(self.connections, "connection"),
            plural(self.lines, "line")
        )?;
        if self.refused_busy > 0 {
            write!(
                f,
                "; refused {} (busy, or too many from one host)",
                plural(self.refused_busy, "connection")
            )?;
        }
        if self.idle > 0 {
            write!(f, "; closed {} for being idle", plural(self.idle, "connection"))?;
        }
        if self.too_slow > 0 {
            write!(f, "; closed {} for being too slow", plural(self.too_slow, "connection"))?;
        }
        f.write_str(".")
    }
}
