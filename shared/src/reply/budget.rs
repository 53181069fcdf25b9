//! What one host (or network) may be sent: a byte budget and a reply rate, per prefix.
//!
//! A forged source address makes the server send its replies to a victim. Two limits keep
//! that from being worth anything to an attacker, both counted per *network* (the address's
//! first `--source-prefix-v4` or `--source-prefix-v6` bits: /24 and /56 by default, as
//! BIND's response-rate limiting does), never per port, since one host has 65,535 ports:
//!
//! - **bytes**: every datagram received from a network adds [`AMPLIFICATION`] times its
//!   size to that network's credit; every reply spends its size. So a network never gets
//!   more than three times what was sent "from" it (QUIC's rule for an address it has not
//!   validated, RFC 9000 §8.1), plus `--reply-allowance` bytes, which come back at that many
//!   a second (so that a 1-byte request may still get a 16-byte answer now and then). The
//!   credit a network saves up is capped at [`MAX_SAVED`] bytes.
//! - **replies**: a token bucket of `--reply-rate` replies a second per network, the net
//!   for whatever the other rules miss.
//!
//! The table holds at most `--max-sources` networks. A network may be forgotten only when it
//! owes nothing (its bucket and its allowance full again): forgetting an indebted one would
//! hand it a fresh budget, so a flood of decoy sources could wipe a victim's debt. When the
//! table is full of indebted networks, a new one is not answered until room comes back.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::table::Table;
use crate::prefix::{PrefixLengths, network_of};

/// Most bytes sent to a network per byte received from it (RFC 9000 §8.1).
pub const AMPLIFICATION: f64 = 3.0;

/// Most credit a network can save up: three of the largest datagrams.
pub const MAX_SAVED: f64 = AMPLIFICATION * 65_536.0;

/// Credit that taking bytes ahead (see `ReplyGuard::spend_ahead`) never takes: what the
/// other clients of a network may still need for their next replies, one at a time.
const RESERVE: f64 = 16.0 * 4096.0;

/// How often, at most, a full table is swept for networks that owe nothing.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

/// One network's standing.
#[derive(Debug, Clone, Copy)]
struct Standing {
    /// Replies it may still be sent this second (a token bucket).
    tokens: f64,
    /// Bytes it may still be sent.
    credit: f64,
    updated: Instant,
}

/// Why [`Budgets`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Over {
    /// Over the reply rate.
    Rate,
    /// Over the byte budget.
    Bytes,
    /// The table is full of networks that still owe.
    TableFull,
}

/// Every network's standing, at most `max_sources` of them.
#[derive(Debug)]
pub(super) struct Budgets {
    lengths: PrefixLengths,
    rate: f64,
    allowance: f64,
    max_sources: usize,
    /// Each network's slot in `standing`.
    slots: Table<IpAddr, usize>,
    /// The networks and their standing, in slots that move only when the table is swept.
    standing: Vec<(IpAddr, Standing)>,
    /// The slot looked up last: the reply to the datagram just checked, and the next
    /// datagram of a busy network, need no second lookup.
    last: usize,
    last_sweep: Option<Instant>,
}

impl Budgets {
    pub(super) fn new(lengths: PrefixLengths, rate: u32, allowance: u32, max: usize) -> Self {
        Budgets {
            lengths,
            rate: f64::from(rate),
            allowance: f64::from(allowance),
            max_sources: max.max(1),
            slots: Table::default(),
            standing: Vec::new(),
            last: 0,
            last_sweep: None,
        }
    }

    /// A datagram of `len` bytes arrived from `ip`: credit it, and take one reply token.
    pub(super) fn received(&mut self, ip: IpAddr, len: usize, now: Instant) -> Result<(), Over> {
        let standing = self.standing_of(ip, now)?;
        standing.credit = (standing.credit + AMPLIFICATION * len as f64).min(MAX_SAVED);
        if standing.tokens < 1.0 {
            return Err(Over::Rate);
        }
        standing.tokens -= 1.0;
        Ok(())
    }

    /// Replies are about to go to `ip`: spends `want` bytes if the credit has them, else
    /// `least` if it has those, else nothing (an error). Returns what was spent.
    pub(super) fn spend(
        &mut self,
        ip: IpAddr,
        want: usize,
        least: usize,
        now: Instant,
    ) -> Result<usize, Over> {
        let standing = self.standing_of(ip, now)?;
        if standing.credit < least as f64 {
            return Err(Over::Bytes);
        }
        // All of `want` if the credit has it and keeps RESERVE after, else only what is
        // needed now: bytes taken ahead sit with one client, and must not leave too little
        // for the other clients of the same network.
        let want = want.max(least);
        let granted = if standing.credit >= (want as f64) + RESERVE { want } else { least };
        standing.credit -= granted as f64;
        Ok(granted)
    }

    /// `ip`'s network's standing, brought up to `now` (made if new and there is room).
    fn standing_of(&mut self, ip: IpAddr, now: Instant) -> Result<&mut Standing, Over> {
        let network = network_of(ip, self.lengths);
        let slot = match self.standing.get(self.last) {
            Some((last, _)) if *last == network => self.last,
            _ => self.slot_of(network, now)?,
        };
        self.last = slot;
        let standing = &mut self.standing[slot].1;
        refill(standing, self.rate, self.allowance, now);
        Ok(standing)
    }

    /// `network`'s slot, made if new and there is room.
    fn slot_of(&mut self, network: IpAddr, now: Instant) -> Result<usize, Over> {
        if let Some(&slot) = self.slots.get(&network) {
            return Ok(slot);
        }
        if !self.make_room(now) {
            return Err(Over::TableFull);
        }
        let fresh = Standing { tokens: self.rate, credit: self.allowance, updated: now };
        self.standing.push((network, fresh));
        self.slots.insert(network, self.standing.len() - 1);
        Ok(self.standing.len() - 1)
    }

    /// Makes room by forgetting networks that owe nothing (at most one sweep every
    /// [`SWEEP_EVERY`]). False if the table stays full.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.standing.len() < self.max_sources {
            return true;
        }
        let swept_lately =
            self.last_sweep.is_some_and(|at| now.saturating_duration_since(at) < SWEEP_EVERY);
        if !swept_lately {
            self.last_sweep = Some(now);
            let (rate, allowance) = (self.rate, self.allowance);
            self.standing.retain_mut(|(_, standing)| {
                refill(standing, rate, allowance, now);
                standing.tokens < rate || standing.credit < allowance
            });
            // The kept networks moved to new slots.
            self.slots.clear();
            self.slots
                .extend(self.standing.iter().enumerate().map(|(slot, (net, _))| (*net, slot)));
        }
        self.standing.len() < self.max_sources
    }

    /// How many networks are tracked now.
    pub(super) fn len(&self) -> usize {
        self.standing.len()
    }
}

/// Tokens come back at `rate` a second; credit below the allowance comes back at
/// `allowance` bytes a second (credit earned by received bytes is never topped up).
fn refill(standing: &mut Standing, rate: f64, allowance: f64, now: Instant) {
    let elapsed = now.saturating_duration_since(standing.updated);
    if elapsed.is_zero() {
        return; // a reply counted at the time of the datagram it answers
    }
    let elapsed = elapsed.as_secs_f64();
    standing.tokens = (standing.tokens + elapsed * rate).min(rate);
    if standing.credit < allowance {
        standing.credit = (standing.credit + elapsed * allowance).min(allowance);
    }
    standing.updated = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_network_keeps_its_standing_when_a_sweep_moves_it_to_another_slot() {
        let lengths = PrefixLengths { v4: 32, v6: 64 };
        let mut budgets = Budgets::new(lengths, 1000, 100, 2);
        let start = Instant::now();
        let (quiet, indebted, new) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("10.0.0.3"));
        budgets.received(quiet, 10, start).unwrap();
        budgets.received(indebted, 10, start).unwrap();
        assert_eq!(budgets.spend(indebted, 130, 130, start), Ok(130), "3x 10 bytes + 100");
        // Long enough for `quiet` to owe nothing again, not for `indebted` (100 bytes/s).
        let later = start + Duration::from_millis(200);
        // The table is full: the sweep forgets `quiet`, and `indebted` moves to its slot.
        assert_eq!(budgets.received(new, 1, later), Ok(()));
        assert_eq!(budgets.len(), 2);
        // `indebted` found again by its own name, with the credit it had (20 bytes back).
        assert_eq!(budgets.spend(indebted, 21, 21, later), Err(Over::Bytes));
        assert_eq!(budgets.spend(indebted, 20, 20, later), Ok(20));
        // And `new`, looked up last before, has its own fresh standing still.
        assert_eq!(budgets.spend(new, 103, 103, later), Ok(103));
    }
}
