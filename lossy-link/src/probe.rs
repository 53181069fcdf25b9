//! Live counts of a running relay, for tests and anyone watching: the same counts the
//! summary prints at the stop, read while the relay runs.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::link::Pipe;
use crate::summary::{DirectionSummary, Tally};

/// Live counts of a running relay, for tests and anyone watching.
#[derive(Clone)]
pub struct Probe {
    up: Arc<Pipe>,
    down: Arc<Pipe>,
    tally: Arc<Tally>,
}

impl Probe {
    /// The counts of these two directions and this tally.
    pub(crate) fn new(up: Arc<Pipe>, down: Arc<Pipe>, tally: Arc<Tally>) -> Self {
        Probe { up, down, tally }
    }

    /// Client → server so far.
    pub fn up(&self) -> DirectionSummary {
        self.up.summary()
    }

    /// Server → client so far.
    pub fn down(&self) -> DirectionSummary {
        self.down.summary()
    }

    /// Clients seen so far.
    pub fn clients(&self) -> u64 {
        self.tally.clients.load(Ordering::Relaxed)
    }

    /// Clients that exist now (each with a socket and a thread): in the table, or kept by
    /// their thread or queued datagrams.
    pub fn live_clients(&self) -> usize {
        self.tally.live.load(Ordering::Relaxed)
    }
}
