//! A direction's queues: the delay queue (datagrams waiting for their release time, earliest
//! first), the rate-limited link's queue, and the bounds of both.

use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::verdict::Copy;

/// A datagram waiting in the delay queue.
#[derive(Debug)]
pub struct Packet {
    /// Its payload (as it will leave: `--tamper` has already had its way).
    pub(crate) data: Box<[u8]>,
    /// From or to whom.
    pub(crate) client: Arc<Client>,
    /// Its place in its flow (1, 2, 3...): a packet sent after a higher one was reordered.
    pub(crate) seq: u64,
    /// Its number and arrival time, when `--capture` or `--diagram` records the run.
    pub(crate) seen: Option<(u64, Instant)>,
    /// The original, or the second copy `--duplicate` made.
    pub(crate) copy: Copy,
    /// Set by whoever sends it or discards it: a held-back packet is in the queue twice
    /// (at its deadline, and right behind the packet that overtakes it), and goes once.
    pub(crate) claimed: AtomicBool,
}

/// A packet in the delay queue, at its release time.
pub(crate) struct Scheduled {
    /// When it may leave.
    pub(crate) release: Instant,
    /// Ties (the same release time) go in the order they were scheduled.
    order: u64,
    /// What leaves.
    pub(crate) packet: Arc<Packet>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.release, self.order).cmp(&(other.release, other.order))
    }
}

/// What waits in one direction (behind one lock: the receiving threads push, the sending
/// thread pops).
#[derive(Default)]
pub(crate) struct Queue {
    /// The delay queue, earliest first.
    pub(crate) heap: BinaryHeap<Reverse<Scheduled>>,
    /// Bytes in `heap`.
    pub(crate) bytes: u64,
    next_order: u64,
    /// When the rate-limited link has finished sending what it has been given.
    pub(crate) link_free_at: Option<Instant>,
    /// When each datagram still on the rate-limited link will have left it.
    pub(crate) on_link: VecDeque<Instant>,
}

impl Queue {
    /// Puts `packet` in the delay queue, to leave at `release`.
    pub(crate) fn push(&mut self, release: Instant, packet: Arc<Packet>) {
        self.bytes += packet.data.len() as u64;
        let order = self.next_order;
        self.next_order += 1;
        self.heap.push(Reverse(Scheduled { release, order, packet }));
    }
}

/// How big the queues of one direction may grow, and how long a held-back datagram waits.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// `--rate-queue`.
    pub rate_queue: usize,
    /// `--max-delayed`.
    pub max_delayed: usize,
    /// `--max-delayed-bytes`.
    pub max_delayed_bytes: u64,
    /// `--reorder-hold`.
    pub reorder_hold: Duration,
}
