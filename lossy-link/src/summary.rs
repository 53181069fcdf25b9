//! What the relay did, counted: per direction ([`DirectionSummary`], tallied by
//! `Counters` as datagrams pass), and for the whole run ([`Summary`], printed when the
//! relay stops, its client counts tallied by `Tally`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use shared::text::plural;

use crate::direction::Direction;

/// What the link did to the datagrams going one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionSummary {
    /// Datagrams that arrived at the relay.
    pub received: u64,
    /// Datagrams sent on (a duplicate counts twice).
    pub forwarded: u64,
    /// Dropped by `--loss`.
    pub lost: u64,
    /// Dropped because the `--rate` queue was full.
    pub rate_dropped: u64,
    /// Dropped because the delay queue was full (`--max-delayed`, `--max-delayed-bytes`).
    pub queue_dropped: u64,
    /// Extra copies sent by `--duplicate`.
    pub duplicated: u64,
    /// Datagrams sent after one that arrived later.
    pub reordered: u64,
    /// Datagrams given a delay above zero by `--delay`/`--jitter`.
    pub delayed: u64,
    /// Still waiting in the delay queue when the relay stopped: never sent.
    pub discarded_at_stop: u64,
    /// Sends that failed (e.g. the client's port has gone).
    pub send_failed: u64,
    /// Payloads changed by `--tamper`.
    pub tampered: u64,
}

impl DirectionSummary {
    /// Every datagram dropped on purpose: lost, or over a full queue.
    pub fn dropped(&self) -> u64 {
        self.lost + self.rate_dropped + self.queue_dropped
    }
}

impl fmt::Display for DirectionSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {}, forwarded {}, dropped {} (lost {}, rate queue full {}, delay queue \
             full {}), duplicated {}, reordered {}, delayed {}",
            self.received,
            self.forwarded,
            self.dropped(),
            self.lost,
            self.rate_dropped,
            self.queue_dropped,
            self.duplicated,
            self.reordered,
            self.delayed
        )?;
        if self.discarded_at_stop > 0 {
            write!(f, "; {} still queued at the stop", plural(self.discarded_at_stop, "datagram"))?;
        }
        if self.send_failed > 0 {
            write!(f, "; {} could not be sent", plural(self.send_failed, "datagram"))?;
        }
        if self.tampered > 0 {
            write!(f, "; {} tampered with", plural(self.tampered, "datagram"))?;
        }
        Ok(())
    }
}

/// The counters behind a [`DirectionSummary`]: relaxed atomics, since each is only a tally
/// read at the end (or by a test) and no other memory depends on it.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) received: AtomicU64,
    pub(crate) forwarded: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) rate_dropped: AtomicU64,
    pub(crate) queue_dropped: AtomicU64,
    pub(crate) duplicated: AtomicU64,
    pub(crate) reordered: AtomicU64,
    pub(crate) delayed: AtomicU64,
    pub(crate) discarded_at_stop: AtomicU64,
    pub(crate) send_failed: AtomicU64,
    pub(crate) tampered: AtomicU64,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// The counts as they are now.
    pub(crate) fn snapshot(&self) -> DirectionSummary {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DirectionSummary {
            received: read(&self.received),
            forwarded: read(&self.forwarded),
            lost: read(&self.lost),
            rate_dropped: read(&self.rate_dropped),
            queue_dropped: read(&self.queue_dropped),
            duplicated: read(&self.duplicated),
            reordered: read(&self.reordered),
            delayed: read(&self.delayed),
            discarded_at_stop: read(&self.discarded_at_stop),
            send_failed: read(&self.send_failed),
            tampered: read(&self.tampered),
        }
    }
}

/// What the relay did, printed when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Client → server.
    pub up: DirectionSummary,
    /// Server → client.
    pub down: DirectionSummary,
    /// Clients seen (each got an upstream socket; a client that came back after being
    /// dropped counts again).
    pub clients: u64,
    /// Clients dropped from a full table to make room.
    pub evicted: u64,
    /// Clients dropped after `--idle-timeout` of silence.
    pub idle_dropped: u64,
    /// Datagrams not relayed at all: those the reply rule refused (a forged or low source
    /// port, a loop, over a network's byte budget or rate: replies to clients included), those
    /// from the server or the relay itself, a new client's past twice `--max-clients`, and
    /// those for which no upstream socket could be made.
    pub refused: u64,
    /// The seed the dice used.
    pub seed: u64,
    /// How long the relay ran.
    pub elapsed: Duration,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Relay stopped after {:.1} s (seed {}): {} ({} evicted from a full table, {} idle), \
             {} refused.",
            self.elapsed.as_secs_f64(),
            self.seed,
            plural(self.clients, "client"),
            self.evicted,
            self.idle_dropped,
            plural(self.refused, "datagram"),
        )?;
        writeln!(f, "{}: {}", Direction::Up.label(), self.up)?;
        write!(f, "{}: {}", Direction::Down.label(), self.down)
    }
}

/// The counts behind a [`Summary`]'s clients and refusals, as the relay's threads keep them
/// (relaxed atomics, like [`Counters`]).
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Clients seen.
    pub(crate) clients: AtomicU64,
    /// Clients dropped from a full table.
    pub(crate) evicted: AtomicU64,
    /// Clients dropped after `--idle-timeout`.
    pub(crate) idle_dropped: AtomicU64,
    /// Datagrams refused by the relay itself (the reply rule counts its own).
    pub(crate) refused: AtomicU64,
    /// Clients (sockets, threads) that exist now: each [`Client`](crate::client::Client)
    /// counts itself here while it exists.
    pub(crate) live: Arc<AtomicUsize>,
}
