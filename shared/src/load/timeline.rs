//! The run over time: every request counted in a tenth of a second's slot, for `--csv` and
//! `--chart`.
//!
//! Each slot counts requests, correct replies, lost, wrong, and the latency sum and
//! maximum. The slots are shared atomics, so the clients never wait for each other to count,
//! and there is a fixed number of them (at most [`MAX_SLOTS`]: an hour), whatever the run.
//! Only a run that asked for `--csv` or `--chart` keeps a [`Timeline`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Outcome;

/// The width of one slot of the timeline.
pub const SLOT: Duration = Duration::from_millis(100);

/// The most slots a timeline keeps (an hour, [`super::MAX_DURATION`]); later requests are
/// counted in the last one.
pub const MAX_SLOTS: usize = 36_000;

/// What happened in one slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotCounts {
    /// Requests whose outcome was known in this slot (by when they were sent).
    pub requests: u64,
    /// Correct replies.
    pub replies: u64,
    /// Lost requests.
    pub lost: u64,
    /// Wrong replies.
    pub wrong: u64,
    /// Sum of the correct replies' latencies, in microseconds.
    pub latency_sum_micros: u64,
    /// The largest latency, in microseconds.
    pub latency_max_micros: u64,
}

#[derive(Default)]
struct Slot {
    requests: AtomicU64,
    replies: AtomicU64,
    lost: AtomicU64,
    wrong: AtomicU64,
    latency_sum_micros: AtomicU64,
    latency_max_micros: AtomicU64,
}

/// The run's slots, shared by all clients.
pub struct Timeline {
    slots: Vec<Slot>,
}

impl Timeline {
    /// Slots enough for `duration` (at most an hour's worth).
    pub fn new(duration: Duration) -> Self {
        let wanted = duration.as_millis().div_ceil(SLOT.as_millis()) + 1;
        let len = usize::try_from(wanted).unwrap_or(MAX_SLOTS).min(MAX_SLOTS);
        Timeline { slots: (0..len).map(|_| Slot::default()).collect() }
    }

    /// Counts a request sent `since_start` after the run began.
    pub fn record(&self, since_start: Duration, outcome: Outcome, latency: Duration) {
        let index = usize::try_from(since_start.as_millis() / SLOT.as_millis()).unwrap_or(0);
        let Some(slot) = self.slots.get(index).or(self.slots.last()) else { return };
        slot.requests.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Correct => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                slot.replies.fetch_add(1, Ordering::Relaxed);
                slot.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
                slot.latency_max_micros.fetch_max(micros, Ordering::Relaxed);
            }
            Outcome::Lost => {
                slot.lost.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Wrong => {
                slot.wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The slots up to the last one used.
    pub fn counts(&self) -> Vec<SlotCounts> {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut counts: Vec<SlotCounts> = self
            .slots
            .iter()
            .map(|slot| SlotCounts {
                requests: read(&slot.requests),
                replies: read(&slot.replies),
                lost: read(&slot.lost),
                wrong: read(&slot.wrong),
                latency_sum_micros: read(&slot.latency_sum_micros),
                latency_max_micros: read(&slot.latency_max_micros),
            })
            .collect();
        while counts.last().is_some_and(|slot| slot.requests == 0) {
            counts.pop();
        }
        counts
    }
}
