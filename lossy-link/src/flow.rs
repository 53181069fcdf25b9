//! One client's traffic in one direction: its dice, and what keeps it in order.
//!
//! Each flow draws from its own random stream (derived from `--seed`, the client's number
//! and the direction), so one client's traffic never changes another's fate, and the same
//! seed gives the same fate to the same datagram.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::args::Impairment;
use crate::direction::Direction;
use crate::queue::Packet;
use crate::rng::{SplitMix64, stream_seed};

/// What the dice said about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    /// Dropped by `--loss`.
    pub lost: bool,
    /// Sent twice.
    pub duplicate: bool,
    /// Held back until overtaken.
    pub reorder: bool,
    /// `--delay` plus or minus this datagram's share of `--jitter`.
    pub delay: Duration,
    /// Its payload changed by `--tamper`.
    pub tamper: bool,
}

/// One client's traffic in one direction: its own dice, and what keeps it in order. Owned
/// by the thread that receives that traffic, so it needs no lock.
#[derive(Debug)]
pub struct Flow {
    rng: SplitMix64,
    /// The sequence number its next datagram gets (1, 2, 3...).
    pub(crate) next_seq: u64,
    /// When its latest datagram (not held back) leaves: the next may not leave before.
    pub(crate) last_release: Option<Instant>,
    /// A datagram picked by `--reorder`, waiting for the next one to overtake it.
    pub(crate) held: Option<Arc<Packet>>,
}

impl Flow {
    /// The flow of client number `client` (in order of arrival) going `direction`, with dice
    /// derived from `seed`: each flow has its own stream, so one client's traffic never
    /// changes another's fate.
    pub fn new(seed: u64, client: u64, direction: Direction) -> Self {
        let stream = client.wrapping_mul(2).wrapping_add(direction.index() as u64);
        Flow {
            rng: SplitMix64::new(stream_seed(seed, stream)),
            next_seq: 1,
            last_release: None,
            held: None,
        }
    }

    /// Rolls the dice for the next datagram: always four draws, whatever they say (and a
    /// fifth with `--tamper`).
    pub fn roll(&mut self, impairment: &Impairment) -> Fate {
        let lost = self.rng.chance(impairment.loss.fraction());
        let duplicate = self.rng.chance(impairment.duplicate.fraction());
        let reorder = self.rng.chance(impairment.reorder.fraction());
        let jitter = nanos(impairment.jitter);
        let offset = self.rng.below(jitter.saturating_mul(2).saturating_add(1));
        let delay = nanos(impairment.delay).saturating_add(offset).saturating_sub(jitter);
        let tamper = !impairment.tamper.is_zero() && self.rng.chance(impairment.tamper.fraction());
        Fate { lost, duplicate, reorder, delay: Duration::from_nanos(delay), tamper }
    }
}

/// A duration in nanoseconds, saturated.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
