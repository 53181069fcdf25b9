//! Telling a loop from a client: what a loop between two servers looks like from one end.
//!
//! In a loop, every datagram a source sends is what the server just sent it (or what the
//! other server made of it: the uppercase of an uppercase text is the same text), and it
//! arrives right after the reply, for ever. So, per source (address *and* port: the other
//! end of a loop is one socket), the server remembers a fingerprint of the last datagram
//! and when it came. A datagram that is the same as the previous one, arriving within
//! [`LOOP_GAP`] of it, extends a *streak*; anything else ends the streak. A streak of
//! `--loop-after` datagrams is a loop: the server stops answering those datagrams until the
//! source has been quiet (or said something else) for [`LOOP_GAP`]. One unanswered datagram
//! is enough to end a loop: nobody resends it.
//!
//! Where it cannot tell: a client that sends the same bytes again as soon as each reply
//! arrives (`--count N --interval 0` with one text) looks exactly like a loop. It is
//! answered for `--loop-after` datagrams in a row; then one goes unanswered, the client
//! waits its `--timeout` (longer than [`LOOP_GAP`]), and is answered again. A client that
//! pauses, or numbers its messages (load mode does), never builds a streak.
//!
//! What it cannot see: a loop whose datagrams change every round (a peer that adds a
//! counter or a timestamp to what it echoes). No program of this workspace does that, nor
//! do the course's Python servers (lossy-link's `--tamper` flips a letter's case, which the
//! uppercase server undoes: measured, such a loop still dies after `--loop-after`). Against
//! such a peer the byte budget does not help either (each side receives as much as it
//! sends), and `--reply-rate` only caps its speed (a loop between two hosts runs far below
//! it): such a loop goes on until one side stops.

use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::table::Table;

/// How soon after the previous datagram a repeat must arrive to extend a streak, and how
/// long a looping source must be quiet before it is answered again. A loop on one machine
/// turns round in well under a millisecond; through a relay with a delay, in twice the
/// delay.
pub const LOOP_GAP: Duration = Duration::from_millis(100);

/// What the server remembers about one source.
#[derive(Debug, Clone, Copy)]
struct Recent {
    fingerprint: u64,
    last: Instant,
    streak: u32,
    looping: bool,
}

/// What [`LoopWatch::see`] concluded about a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not a loop (yet): answer it.
    Fine,
    /// A streak reached `--loop-after` just now: the source is looping (log it once).
    LoopFound,
    /// The source is still looping: do not answer.
    StillLooping,
    /// The table is full of sources heard from within [`LOOP_GAP`]: this new one is not
    /// tracked (and answered: refusing it would turn a busy moment into lost replies,
    /// while hiding a loop this way needs a flood of `--max-sources` new sockets every
    /// [`LOOP_GAP`], which costs far more than the loop).
    Untracked,
}

/// The streak of every recent source, at most `max_sources` of them.
#[derive(Debug)]
pub(super) struct LoopWatch {
    loop_after: u32,
    max_sources: usize,
    recent: Table<SocketAddr, Recent>,
    last_sweep: Option<Instant>,
}

impl LoopWatch {
    pub(super) fn new(loop_after: u32, max_sources: usize) -> Self {
        LoopWatch {
            loop_after: loop_after.max(1),
            max_sources: max_sources.max(1),
            recent: Table::default(),
            last_sweep: None,
        }
    }

    /// Notes `datagram` from `from` at `now`, and says whether it is part of a loop.
    pub(super) fn see(&mut self, from: SocketAddr, datagram: &[u8], now: Instant) -> Seen {
        let fingerprint = fingerprint(datagram);
        // Asking whether `from` is known costs a second lookup: only worth it when full.
        if self.recent.len() >= self.max_sources
            && !self.recent.contains_key(&from)
            && !self.make_room(now)
        {
            return Seen::Untracked;
        }
        let fresh = Recent { fingerprint, last: now, streak: 0, looping: false };
        let recent = match self.recent.entry(from) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                new.insert(fresh);
                return Seen::Fine;
            }
        };
        let repeat = recent.fingerprint == fingerprint
            && now.saturating_duration_since(recent.last) <= LOOP_GAP;
        if repeat {
            recent.streak = recent.streak.saturating_add(1);
        } else {
            *recent = fresh;
        }
        recent.last = now;
        if recent.looping {
            Seen::StillLooping
        } else if recent.streak >= self.loop_after {
            recent.looping = true;
            Seen::LoopFound
        } else {
            Seen::Fine
        }
    }

    /// Makes room for one more source: forgets those not heard from within [`LOOP_GAP`]
    /// (their streak is over anyway). Sweeps at most once per [`LOOP_GAP`], so a flood of
    /// new sources costs one sweep, not one per datagram. False if the table stays full.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.recent.len() < self.max_sources {
            return true;
        }
        let swept_lately =
            self.last_sweep.is_some_and(|at| now.saturating_duration_since(at) < LOOP_GAP);
        if !swept_lately {
            self.last_sweep = Some(now);
            self.recent.retain(|_, recent| now.saturating_duration_since(recent.last) <= LOOP_GAP);
        }
        self.recent.len() < self.max_sources
    }

    /// How many sources are tracked now.
    pub(super) fn len(&self) -> usize {
        self.recent.len()
    }
}

/// A cheap fingerprint of `datagram`: equal datagrams give equal fingerprints, and different
/// ones almost never do. Eight bytes at a time, a rotate, an xor and a multiply each (the
/// "FxHash" of the Rust compiler), since it runs on every datagram a server receives.
///
/// It needs no secret key: a source that made two of its own datagrams collide would only
/// get itself taken for a loop, and the datagrams of a real loop are equal, whatever the
/// hash. (The tables' keys, which a forger does choose, keep std's keyed hasher.)
fn fingerprint(datagram: &[u8]) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    let mut words = datagram.chunks_exact(8);
    let mut hash = mix(0, datagram.len() as u64);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        hash = mix(hash, u64::from_le_bytes(bytes));
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    mix(hash, u64::from_le_bytes(last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_datagrams_share_a_fingerprint_and_one_changed_byte_changes_it() {
        let text = b"request 1234 from load client 7, padded to more than one word";
        let copy = text.to_vec();
        assert_eq!(fingerprint(text), fingerprint(copy.as_slice()));
        for at in 0..text.len() {
            let mut changed = text.to_vec();
            changed[at] ^= 1;
            assert_ne!(fingerprint(text), fingerprint(&changed), "byte {at} changed");
        }
        // A trailing zero is not nothing: the length counts.
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abc\0"));
        assert_ne!(fingerprint(b""), fingerprint(b"\0"));
    }
}
