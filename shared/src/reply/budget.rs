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

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

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
    standing: HashMap<IpAddr, Standing>,
    last_sweep: Option<Instant>,
}

impl Budgets {
    pub(super) fn new(lengths: PrefixLengths, rate: u32, allowance: u32, max: usize) -> Self {
        Budgets {
            lengths,
            rate: f64::from(rate),
            allowance: f64::from(allowance),
            max_sources: max.max(1),
            standing: HashMap::new(),
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
        // Asking whether `network` is known costs a second lookup: only worth it when full.
        if self.standing.len() >= self.max_sources
            && !self.standing.contains_key(&network)
            && !self.make_room(now)
        {
            return Err(Over::TableFull);
        }
        let (rate, allowance) = (self.rate, self.allowance);
        let standing = self.standing.entry(network).or_insert(Standing {
            tokens: rate,
            credit: allowance,
            updated: now,
        });
        refill(standing, rate, allowance, now);
        Ok(standing)
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
            self.standing.retain(|_, standing| {
                refill(standing, rate, allowance, now);
                standing.tokens < rate || standing.credit < allowance
            });
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
    let elapsed = now.saturating_duration_since(standing.updated).as_secs_f64();
    standing.tokens = (standing.tokens + elapsed * rate).min(rate);
    if standing.credit < allowance {
        standing.credit = (standing.credit + elapsed * allowance).min(allowance);
    }
    standing.updated = now;
}
