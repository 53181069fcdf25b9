//! Whom a UDP server may answer: the rule against loops and floods of replies.
//!
//! A UDP server believes the source address of every datagram, and anyone can write any
//! source address into a datagram. Forge one with the server's *own* address, and the server
//! answers itself, forever; forge one between two servers (an uppercase server and an echo
//! server, say), and they answer each other, forever. That is the "Loop DoS" attack
//! (CVE-2024-2169): one datagram, an endless loop, two servers at full speed. So before a
//! server replies, [`ReplyGuard::check`] refuses:
//!
//! - its own address (a reply would come straight back to it);
//! - source port 0 (no real socket sends from it: the datagram was forged);
//! - the well-known service ports below 1024 (DNS, NTP, ...: a forged datagram "from" one
//!   of them would make the server talk to a service that may answer back), unless
//!   `--allow-low-ports`;
//! - more than `--reply-rate` replies a second to any one source address (IP and port). This
//!   is the net for the loops no rule above catches (two servers on ordinary ports): the
//!   loop is held to that rate, and the server says so. (DNS servers do the same: "response
//!   rate limiting".)
//!
//! The rate is a token bucket per source: it holds up to `--reply-rate` tokens, a reply
//! takes one, and tokens come back at `--reply-rate` a second. The buckets are kept in a
//! table of at most `--max-sources` entries; when it is full, the sources seen least
//! recently are forgotten (a forgotten source starts again with a full bucket, so a flood
//! of new source addresses costs memory for the table only).

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The reply rule's flags, for every UDP server.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplyArgs {
    /// Also answer source ports below 1024 (the well-known services: DNS, NTP, ...). Off by
    /// default: a forged datagram from such a port could start an endless exchange.
    #[arg(long)]
    pub allow_low_ports: bool,

    /// Most replies a second to any one source address (IP and port); more are not sent,
    /// and counted. Bounds what a loop between two servers, or a reflection at a victim,
    /// can cost.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub reply_rate: u32,

    /// Most source addresses whose reply rate is tracked at once; when full, the ones seen
    /// least recently are forgotten.
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_sources: u32,
}

impl Default for ReplyArgs {
    fn default() -> Self {
        ReplyArgs { allow_low_ports: false, reply_rate: 10_000, max_sources: 4096 }
    }
}

/// Why a server did not answer a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source is the server's own address: a reply would come straight back.
    OwnAddress,
    /// The source port is 0, which no socket sends from: a forged datagram.
    PortZero,
    /// The source port is a well-known service's (below 1024).
    LowPort,
    /// The source has had its `--reply-rate` of replies this second.
    RateLimited,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::OwnAddress => "it is this server's own address (a forged source)",
            Refusal::PortZero => "its source port is 0 (a forged source)",
            Refusal::LowPort => "its source port is below 1024 (see --allow-low-ports)",
            Refusal::RateLimited => "it has had its --reply-rate of replies this second",
        })
    }
}

/// How many datagrams went unanswered, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refused {
    /// From the server's own address.
    pub own_address: u64,
    /// From port 0.
    pub port_zero: u64,
    /// From a port below 1024.
    pub low_port: u64,
    /// Over the source's reply rate.
    pub rate_limited: u64,
}

impl Refused {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.own_address + self.port_zero + self.low_port + self.rate_limited
    }
}

impl fmt::Display for Refused {
    /// `3 forged, 120 over the reply rate` (forged: own address, port 0, low port).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let forged = self.own_address + self.port_zero + self.low_port;
        write!(f, "{forged} from refused sources, {} over the reply rate", self.rate_limited)
    }
}

/// A source's token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

/// Decides, datagram by datagram, whether the server may answer (see the module's doc).
#[derive(Debug)]
pub struct ReplyGuard {
    own: SocketAddr,
    allow_low_ports: bool,
    rate: f64,
    max_sources: usize,
    buckets: HashMap<SocketAddr, Bucket>,
    refused: Refused,
}

impl ReplyGuard {
    /// The rule for a server bound to `own`.
    pub fn new(own: SocketAddr, args: &ReplyArgs) -> Self {
        ReplyGuard {
            own,
            allow_low_ports: args.allow_low_ports,
            rate: f64::from(args.reply_rate),
            max_sources: args.max_sources as usize,
            buckets: HashMap::new(),
            refused: Refused::default(),
        }
    }

    /// Whether the server may reply to `to` now: `Ok`, or why not (and it is counted).
    pub fn check(&mut self, to: SocketAddr) -> Result<(), Refusal> {
        self.check_at(to, Instant::now())
    }

    /// [`check`](Self::check), at a given time (for tests).
    pub fn check_at(&mut self, to: SocketAddr, now: Instant) -> Result<(), Refusal> {
        let verdict = self.judge(to, now);
        match verdict {
            Ok(()) => {}
            Err(Refusal::OwnAddress) => self.refused.own_address += 1,
            Err(Refusal::PortZero) => self.refused.port_zero += 1,
            Err(Refusal::LowPort) => self.refused.low_port += 1,
            Err(Refusal::RateLimited) => self.refused.rate_limited += 1,
        }
        verdict
    }

    fn judge(&mut self, to: SocketAddr, now: Instant) -> Result<(), Refusal> {
        if to.port() == 0 {
            return Err(Refusal::PortZero);
        }
        if self.is_own(to) {
            return Err(Refusal::OwnAddress);
        }
        if to.port() < 1024 && !self.allow_low_ports {
            return Err(Refusal::LowPort);
        }
        if !self.buckets.contains_key(&to) && self.buckets.len() >= self.max_sources {
            self.forget_idle_sources(now);
        }
        let rate = self.rate;
        let bucket = self.buckets.entry(to).or_insert(Bucket { tokens: rate, refilled: now });
        let elapsed = now.saturating_duration_since(bucket.refilled).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.refilled = now;
        if bucket.tokens < 1.0 {
            return Err(Refusal::RateLimited);
        }
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// Whether `to` is the server's own address. A server bound to 0.0.0.0 (every address)
    /// is also itself on loopback with its port.
    fn is_own(&self, to: SocketAddr) -> bool {
        to == self.own
            || (to.port() == self.own.port()
                && self.own.ip().is_unspecified()
                && to.ip().is_loopback())
    }

    /// Makes room in a full table: forgets every source whose bucket has refilled (nothing
    /// is lost by forgetting it: it would start full again); if none has, the half seen
    /// least recently.
    fn forget_idle_sources(&mut self, now: Instant) {
        let full_after = Duration::from_secs(1);
        self.buckets
            .retain(|_, bucket| now.saturating_duration_since(bucket.refilled) < full_after);
        if self.buckets.len() >= self.max_sources {
            let mut ages: Vec<Instant> = self.buckets.values().map(|b| b.refilled).collect();
            ages.sort_unstable();
            let cutoff = ages[ages.len() / 2];
            self.buckets.retain(|_, bucket| bucket.refilled > cutoff);
        }
    }

    /// What has been refused so far.
    pub fn refused(&self) -> Refused {
        self.refused
    }

    /// How many sources the rate table tracks now.
    pub fn tracked_sources(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(own: &str, rate: u32, max_sources: u32) -> ReplyGuard {
        let args = ReplyArgs { reply_rate: rate, max_sources, ..ReplyArgs::default() };
        ReplyGuard::new(own.parse().unwrap(), &args)
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn never_answers_its_own_address_port_zero_or_low_ports() {
        let mut guard = guard("127.0.0.1:12000", 100, 10);
        assert_eq!(guard.check(addr("127.0.0.1:12000")), Err(Refusal::OwnAddress));
        assert_eq!(guard.check(addr("127.0.0.1:0")), Err(Refusal::PortZero));
        assert_eq!(guard.check(addr("127.0.0.1:53")), Err(Refusal::LowPort));
        assert_eq!(guard.check(addr("127.0.0.1:40000")), Ok(()));
        assert_eq!(guard.refused().total(), 3);
    }

    #[test]
    fn a_server_on_every_address_knows_itself_on_loopback() {
        let mut guard = guard("0.0.0.0:12000", 100, 10);
        assert_eq!(guard.check(addr("127.0.0.1:12000")), Err(Refusal::OwnAddress));
        assert_eq!(guard.check(addr("127.0.0.1:12001")), Ok(()));
    }

    #[test]
    fn low_ports_are_answered_when_allowed() {
        let args = ReplyArgs { allow_low_ports: true, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        assert_eq!(guard.check(addr("127.0.0.1:53")), Ok(()));
        assert_eq!(guard.check(addr("127.0.0.1:0")), Err(Refusal::PortZero), "never port 0");
    }

    #[test]
    fn replies_to_one_source_are_held_to_the_rate() {
        let mut guard = guard("127.0.0.1:12000", 100, 10);
        let start = Instant::now();
        let source = addr("127.0.0.1:40000");
        let sent = (0..1000).filter(|_| guard.check_at(source, start).is_ok()).count();
        assert_eq!(sent, 100, "a full bucket allows one second's worth of replies");
        let other = addr("127.0.0.1:40001");
        assert_eq!(guard.check_at(other, start), Ok(()), "other sources are not affected");
        let later = start + Duration::from_millis(500);
        let sent = (0..1000).filter(|_| guard.check_at(source, later).is_ok()).count();
        assert_eq!(sent, 50, "half a second later, half the rate again");
        assert_eq!(guard.refused().rate_limited, 900 + 950);
    }

    #[test]
    fn the_rate_table_stays_bounded_under_a_flood_of_sources() {
        let mut guard = guard("127.0.0.1:12000", 100, 64);
        let now = Instant::now();
        for port in 2000..12_000u16 {
            assert_eq!(guard.check_at(SocketAddr::from(([127, 0, 0, 1], port)), now), Ok(()));
            assert!(guard.tracked_sources() <= 64, "the table grew past --max-sources");
        }
    }
}
