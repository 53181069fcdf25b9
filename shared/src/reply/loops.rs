//! Telling a loop from a client: what a loop between two servers looks like from one end.
//!
//! In a loop, every datagram a source sends is what the server just sent it (or what the
//! other server made of it: the uppercase of an uppercase text is the same text), and it
//! arrives right after the reply, for ever. An attacker who forges two or three datagrams
//! starts two or three loops between the same two sockets, and their datagrams take turns.
//! So, per source (address *and* port: the other end of a loop is one socket), the server
//! remembers the fingerprints of the last [`TEXTS`] different datagrams it sent, and when
//! each last came. A datagram equal to one of them, arriving within [`LOOP_GAP`] of that
//! one's last sighting, is a *repeat*. A loop is found when one text has been repeated
//! `--loop-after` times, or when the source's last `--loop-after` datagrams were all
//! repeats: the texts it keeps sending back are not answered again until each has not been
//! seen for [`LOOP_GAP`]. One unanswered datagram is enough to end a loop: nobody resends
//! it. Anything new from the source is answered.
//!
//! When the texts remembered run out (more loops than [`TEXTS`] between the same two
//! sockets: an attacker forged that many datagrams), the texts that stay (a new text takes
//! the place of the newest one that has not been repeated) are found after `--loop-after`
//! rounds of all the loops, a few at a time: such loops die, but slowly (a second or more
//! per group with a hundred of them). And a loop that turns round slower than [`LOOP_GAP`]
//! (through a relay with a long delay) is never found; it costs at most ten datagrams a
//! second.
//!
//! Where it cannot tell: a client that sends the same bytes again as soon as each reply
//! arrives (`--count N --interval 0` with one text) looks exactly like a loop. It is
//! answered for `--loop-after` datagrams in a row; then one goes unanswered, the client
//! waits its `--timeout` (longer than [`LOOP_GAP`]), and is answered again. A client that
//! pauses, or numbers its messages (load mode does), never repeats.
//!
//! What it cannot see: a loop whose datagrams change every round (a peer that adds a
//! counter or a timestamp to what it echoes, or lossy-link's `--tamper` in front of an echo
//! server: each round flips another letter's case). Against such a loop the byte budget does
//! not help either (each side receives as much as it sends), and `--reply-rate` only caps
//! its speed: such a loop goes on until one side stops.

use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::table::Table;

/// How soon after its last sighting a text must come again to count as a repeat, and how
/// long a looping text must be absent before it is answered again. A loop on one machine
/// turns round in well under a millisecond; through a relay with a delay, in twice the
/// delay.
pub const LOOP_GAP: Duration = Duration::from_millis(100);

/// How many different recent datagrams are remembered per source: as many loops between the
/// same two sockets are found as fast as one.
pub const TEXTS: usize = 8;

/// What the server remembers about one source: its last [`TEXTS`] different datagrams.
#[derive(Debug, Clone)]
struct Recent {
    /// When the source last sent anything (a source quiet for [`LOOP_GAP`] may be forgotten).
    last: Instant,
    /// How many of its datagrams in a row were repeats.
    streak: u32,
    /// The texts' fingerprints, compared first (`used` of them are in use)...
    fingerprints: [u64; TEXTS],
    /// ...and what is known about each.
    texts: [Text; TEXTS],
    used: usize,
    /// The text that came last as a new one: the first to give its place to the next new
    /// one, unless it has been repeated since.
    newest: usize,
    /// The place [`place_for_new`](Recent::place_for_new) looks at next.
    next_look: usize,
}

/// One remembered datagram of a source.
#[derive(Debug, Clone, Copy)]
struct Text {
    last: Instant,
    repeats: u32,
    looping: bool,
}

impl Recent {
    fn new(fingerprint: u64, now: Instant) -> Self {
        let text = Text { last: now, repeats: 0, looping: false };
        let mut fingerprints = [0; TEXTS];
        fingerprints[0] = fingerprint;
        Recent {
            last: now,
            streak: 0,
            fingerprints,
            texts: [text; TEXTS],
            used: 1,
            newest: 0,
            next_look: 0,
        }
    }

    /// Where a new text goes at `now`: a free place; else the place the round of
    /// `next_look` comes to, if its text has not been seen within [`LOOP_GAP`] (a loop
    /// that died, say: every place is looked at once per [`TEXTS`] new texts, so such
    /// places come back soon, without a search per datagram); else the newest text's if it
    /// was never repeated (so that texts that keep coming back keep their places); else the
    /// place looked at.
    fn place_for_new(&mut self, now: Instant) -> usize {
        if self.used < TEXTS {
            return self.used;
        }
        let look = self.next_look;
        self.next_look = (look + 1) % TEXTS;
        if now.saturating_duration_since(self.texts[look].last) > LOOP_GAP {
            return look;
        }
        if self.texts[self.newest].repeats == 0 {
            return self.newest;
        }
        look
    }
}

/// What [`LoopWatch::see`] concluded about a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Seen {
    /// Not a loop (yet): answer it.
    Fine,
    /// A loop was found just now: the source is looping (log it once).
    LoopFound,
    /// A text the source keeps looping: do not answer.
    StillLooping,
    /// The table is full of sources heard from within [`LOOP_GAP`]: this new one is not
    /// tracked (and answered: refusing it would turn a busy moment into lost replies).
    /// Hiding a loop this way needs `--max-sources` new sockets every [`LOOP_GAP`] for as
    /// long as the loop runs: at the default 4,096, 40,960 forged datagrams a second.
    Untracked,
}

/// The recent texts of every recent source, at most `max_sources` of them.
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
        let recent = match self.recent.entry(from) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => {
                new.insert(Recent::new(fingerprint, now));
                return Seen::Fine;
            }
        };
        recent.last = now;
        let known = recent.fingerprints[..recent.used].iter().position(|&f| f == fingerprint);
        let Some(at) = known else {
            // Something new: answer it, and remember it.
            recent.streak = 0;
            let at = recent.place_for_new(now);
            recent.fingerprints[at] = fingerprint;
            recent.texts[at] = Text { last: now, repeats: 0, looping: false };
            if at == recent.used {
                recent.used += 1;
            }
            recent.newest = at;
            return Seen::Fine;
        };
        let text = &mut recent.texts[at];
        if now.saturating_duration_since(text.last) > LOOP_GAP {
            // Seen before, but not lately: as good as new.
            *text = Text { last: now, repeats: 0, looping: false };
            recent.streak = 0;
            return Seen::Fine;
        }
        text.last = now;
        text.repeats = text.repeats.saturating_add(1);
        recent.streak = recent.streak.saturating_add(1);
        if text.looping {
            return Seen::StillLooping;
        }
        if text.repeats < self.loop_after && recent.streak < self.loop_after {
            return Seen::Fine;
        }
        // Every text this source has been sending back lately is part of the loop(s).
        for other in &mut recent.texts[..recent.used] {
            if other.repeats > 0 && now.saturating_duration_since(other.last) <= LOOP_GAP {
                other.looping = true;
            }
        }
        Seen::LoopFound
    }

    /// Makes room for one more source: forgets those not heard from within [`LOOP_GAP`]
    /// (their texts are as good as new anyway). Sweeps at most once per [`LOOP_GAP`], so a
    /// flood of new sources costs one sweep, not one per datagram. False if the table stays
    /// full.
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
/// hash. (The tables' keys, which a forger does choose, are hashed with a random seed: see
/// `reply/table.rs`.)
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
