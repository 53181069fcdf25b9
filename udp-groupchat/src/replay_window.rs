//! The replay window: a captured sealed line, sent again, still opens (it *is* authentic),
//! so a member must remember which counters of each sender it has already shown.
//!
//! Remembering every counter forever would grow without bound; remembering only the highest
//! would refuse every line that the network reordered. The answer of IPsec and WireGuard
//! (RFC 6479): a bitmap of the last [`WINDOW`] counters below the highest seen. A counter
//! above the highest moves the window up; one inside it is accepted once (its bit is then
//! set); one below it is too old to tell, and refused.
//!
//! RFC 6479's trick: the bitmap is a ring of 64-bit blocks, and moving the window up only
//! clears the blocks it moves into, instead of shifting every bit. One block more than the
//! window needs is kept, so that the block being reused is never one still in the window.
//!
//! The table of windows, one per sender, is bounded too ([`ReplayTable`]).

use std::collections::HashMap;

use crate::seal::SenderId;

/// Blocks of 64 bits in a window's ring.
const BLOCKS: usize = 8;

/// [`BLOCKS`], for counter arithmetic.
const RING: u64 = BLOCKS as u64;

/// How far below the highest counter a line may arrive (reordered) and still be accepted
/// once: 448 counters, the ring less one block.
pub const WINDOW: u64 = (RING - 1) * 64;

/// What the window says about a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not seen before: show it.
    Fresh,
    /// Seen already: a replay (or a duplicate the network made).
    Duplicate,
    /// More than [`WINDOW`] below the highest counter: cannot be told from a replay.
    TooOld,
}

/// One sender's window: the highest counter seen, and a bit per counter just below it.
#[derive(Debug, Clone, Default)]
pub struct ReplayWindow {
    /// The highest counter accepted so far (0 before any).
    highest: u64,
    /// The ring: counter `c`'s bit is bit `c % 64` of block `(c / 64) % BLOCKS`.
    blocks: [u64; BLOCKS],
}

/// The ring's block that holds `counter`'s bit.
fn block_of(counter: u64) -> usize {
    // Always below BLOCKS, so the conversion cannot fail.
    usize::try_from((counter / 64) % RING).unwrap_or(0)
}

impl ReplayWindow {
    /// An empty window: every counter is fresh once.
    pub fn new() -> ReplayWindow {
        ReplayWindow::default()
    }

    /// Decides about `counter` and remembers it if fresh. Call it only for a line that
    /// opened (is authentic): otherwise a forger could move the window. The steps:
    ///
    /// 1. Above `self.highest`: the window moves up. Clear the blocks between the old
    ///    highest's block and the new one's (at most all `BLOCKS` of them: a big jump
    ///    clears the whole ring), then set `self.highest` to it.
    /// 2. Otherwise, `self.highest - counter` of [`WINDOW`] or more: [`Verdict::TooOld`].
    /// 3. Its bit (`1 << (counter % 64)` in `self.blocks[block_of(counter)]`) already
    ///    set: [`Verdict::Duplicate`]. Else set it: [`Verdict::Fresh`].
    pub fn accept(&mut self, counter: u64) -> Verdict {
        // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
        if counter > self.highest {
            let (from_block, to_block) = (self.highest / 64, counter / 64);
            let clear = (to_block - from_block).min(RING);
            for step in 1..=clear {
                self.blocks[block_of((from_block + step) * 64)] = 0;
            }
            self.highest = counter;
        } else if self.highest - counter >= WINDOW {
            return Verdict::TooOld;
        }
        let (block, bit) = (block_of(counter), 1u64 << (counter % 64));
        if self.blocks[block] & bit != 0 {
            return Verdict::Duplicate;
        }
        self.blocks[block] |= bit;
        Verdict::Fresh
        // END SOLUTION
    }
}

/// The windows of every sender heard from, at most `max_senders` of them: memory is
/// bounded by senders × window (about 100 bytes each, with the table's own).
///
/// When it is full, a new sender takes the place of the one heard from least recently.
/// That sender's old lines could then be replayed to this member once more: the price of
/// a bound. Only someone with the group key can add senders (lines are opened before they
/// reach the table), and such a member can do worse (see the README).
#[derive(Debug)]
pub struct ReplayTable {
    windows: HashMap<SenderId, (ReplayWindow, u64)>,
    max_senders: usize,
    /// Counts accepted lines, so "heard from least recently" needs no clock.
    clock: u64,
    /// Senders forgotten to make room.
    pub evicted: u64,
}

impl ReplayTable {
    /// An empty table for at most `max_senders` (at least 1) senders.
    pub fn new(max_senders: usize) -> ReplayTable {
        ReplayTable {
            windows: HashMap::new(),
            max_senders: max_senders.max(1),
            clock: 0,
            evicted: 0,
        }
    }

    /// Senders remembered now.
    pub fn len(&self) -> usize {
        self.windows.len()
    }

    /// Whether no sender is remembered.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// [`ReplayWindow::accept`] for `sender`'s window (a new one for a new sender, making
    /// room if the table is full).
    pub fn accept(&mut self, sender: SenderId, counter: u64) -> Verdict {
        self.clock += 1;
        if !self.windows.contains_key(&sender) && self.windows.len() >= self.max_senders {
            // The scan is as long as the table, and happens only for a new sender when full.
            let oldest =
                self.windows.iter().min_by_key(|(_, (_, heard))| *heard).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.windows.remove(&oldest);
                self.evicted += 1;
            }
        }
        let (window, heard) = self.windows.entry(sender).or_default();
        *heard = self.clock;
        window.accept(counter)
    }
}
