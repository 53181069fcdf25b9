//! Whom a UDP server may answer: the rule against loops, reflection and amplification.
//!
//! A UDP server believes the source address of every datagram, and anyone can write any
//! source address into a datagram. Forge one with the server's *own* address, and the server
//! answers itself, forever; forge one between two servers (an uppercase server and an echo
//! server, say), and they answer each other, forever. That is the "Loop DoS" attack
//! (CVE-2024-2169): one datagram, an endless loop, two servers at full speed. Forge a
//! victim's address, and the server sends its replies to the victim: if a reply is bigger
//! than the request, the attacker's traffic is *amplified*. So before a server replies,
//! [`ReplyGuard::check`] refuses:
//!
//! - its own address: every address the socket can be reached at (see [`own`]);
//! - source port 0 (no real socket sends from it: the datagram was forged);
//! - the well-known service ports below 1024 (DNS, NTP, ...: a forged datagram "from" one
//!   of them would make the server talk to a service that may answer back), unless
//!   `--allow-low-ports`;
//! - a datagram that looks like the server's own reply coming back, again and again: a loop
//!   (see [`loops`]: how the rule tells a loop from a client, and where it cannot);
//! - more than `--reply-rate` replies a second to one network (see [`budget`]);
//!
//! and [`ReplyGuard::spend`] refuses a reply that would send a network more than three
//! times the bytes it sent (plus a small allowance): no amplification.
//!
//! Every limit is counted per network (`--source-prefix-v4`, `--source-prefix-v6`), not per
//! port, and every table is bounded by `--max-sources`; a full table does not answer new
//! sources rather than forget what an old one owes.
//!
//! | file | what it holds |
//! |---|---|
//! | `reply.rs` | [`ReplyGuard`]: the rule, datagram by datagram and reply by reply |
//! | `reply/args.rs` | [`ReplyArgs`]: the rule's flags and their defaults |
//! | `reply/refusal.rs` | [`Refusal`], [`Refused`] and [`warn_refusal`]: why not, how many, the warning |
//! | [`own`], [`loops`], [`budget`] | the server's own addresses, loops, the byte and rate budgets |
//! | `reply/table.rs` | the tables' hash: fast, and keyed against chosen collisions |

mod args;
pub mod budget;
pub mod loops;
pub mod own;
mod refusal;
mod table;

use std::net::SocketAddr;
use std::time::Instant;

use crate::prefix::PrefixLengths;

pub use args::{DEFAULT_ALLOWANCE, DEFAULT_LOOP_AFTER, DEFAULT_REPLY_RATE, ReplyArgs};
pub use budget::{AMPLIFICATION, MAX_SAVED};
pub use loops::LOOP_GAP;
pub use own::is_local_address;
pub use refusal::{Refusal, Refused, warn_refusal};

use budget::{Budgets, Over};
use loops::{LoopWatch, Seen};
use own::OwnAddresses;

/// Decides, datagram by datagram and reply by reply, whether the server may answer (see
/// the module's doc).
#[derive(Debug)]
pub struct ReplyGuard {
    own: OwnAddresses,
    allow_low_ports: bool,
    loops: LoopWatch,
    budgets: Budgets,
    refused: Refused,
    /// The source and time of the datagram [`check`](Self::check) just passed: its reply's
    /// [`spend`](Self::spend) counts at that time (one clock reading per datagram, not two).
    just_checked: Option<(SocketAddr, Instant)>,
}

impl ReplyGuard {
    /// The rule for a server bound to `own`.
    pub fn new(own: SocketAddr, args: &ReplyArgs) -> Self {
        let lengths = PrefixLengths { v4: args.source_prefix_v4, v6: args.source_prefix_v6 };
        let max_sources = args.max_sources as usize;
        ReplyGuard {
            own: OwnAddresses::new(own),
            allow_low_ports: args.allow_low_ports,
            loops: LoopWatch::new(args.loop_after, max_sources),
            budgets: Budgets::new(lengths, args.reply_rate, args.reply_allowance, max_sources),
            refused: Refused::default(),
            just_checked: None,
        }
    }

    /// `datagram` arrived from `from`: whether the server may answer it (`Ok`), or why not
    /// (and it is counted). Call it for every datagram: the byte budget counts what
    /// arrived.
    pub fn check(&mut self, from: SocketAddr, datagram: &[u8]) -> Result<(), Refusal> {
        self.check_at(from, datagram, Instant::now())
    }

    /// [`check`](Self::check) for a datagram that arrived at `now`: for a server that reads
    /// the clock for its own use too (one reading per datagram), and for tests.
    pub fn check_at(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        now: Instant,
    ) -> Result<(), Refusal> {
        let verdict = self.judge(from, datagram, now);
        if let Err(refusal) = verdict {
            self.refused.count(refusal);
        }
        self.just_checked = verdict.is_ok().then_some((from, now));
        verdict
    }

    /// A reply of `len` bytes is about to go to `to`: whether it may (`Ok`, and it is
    /// counted against `to`'s byte budget), or why not (and it is counted).
    pub fn spend(&mut self, to: SocketAddr, len: usize) -> Result<(), Refusal> {
        let now = match self.just_checked.take() {
            // The reply to the datagram just checked: as good as the same moment.
            Some((from, checked_at)) if from == to => checked_at,
            _ => Instant::now(),
        };
        self.spend_at(to, len, now)
    }

    /// [`spend`](Self::spend), at a given time (for tests).
    pub fn spend_at(&mut self, to: SocketAddr, len: usize, now: Instant) -> Result<(), Refusal> {
        self.spend_ahead_at(to, len, len, now).map(|_| ())
    }

    /// Like [`spend`](Self::spend) for a reply of `len` bytes, taking `ahead` bytes of
    /// `to`'s budget at once if it has them and a reserve besides (else only `len`): a relay
    /// keeps the rest for the next replies to the same client, so that its threads need not
    /// share this guard for every datagram, and the reserve stays for the network's other
    /// clients. Returns the bytes taken, or why not even `len`.
    pub fn spend_ahead(
        &mut self,
        to: SocketAddr,
        len: usize,
        ahead: usize,
    ) -> Result<usize, Refusal> {
        self.spend_ahead_at(to, len, ahead, Instant::now())
    }

    pub(crate) fn spend_ahead_at(
        &mut self,
        to: SocketAddr,
        len: usize,
        ahead: usize,
        now: Instant,
    ) -> Result<usize, Refusal> {
        let verdict = self.budgets.spend(to.ip(), ahead, len, now).map_err(|over| match over {
            Over::Rate | Over::Bytes => Refusal::OverBudget,
            Over::TableFull => Refusal::TableFull,
        });
        if let Err(refusal) = verdict {
            self.refused.count(refusal);
        }
        verdict
    }

    fn judge(&mut self, from: SocketAddr, datagram: &[u8], now: Instant) -> Result<(), Refusal> {
        if from.port() == 0 {
            return Err(Refusal::PortZero);
        }
        if self.own.is_own(from) {
            return Err(Refusal::OwnAddress);
        }
        if from.port() < 1024 && !self.allow_low_ports {
            return Err(Refusal::LowPort);
        }
        // Credited before the loop check: what a source sent counts, answered or not.
        let rate = self.budgets.received(from.ip(), datagram.len(), now);
        match self.loops.see(from, datagram, now) {
            Seen::Fine | Seen::Untracked => {}
            Seen::LoopFound | Seen::StillLooping => return Err(Refusal::Loop),
        }
        rate.map_err(|over| match over {
            Over::Rate | Over::Bytes => Refusal::RateLimited,
            Over::TableFull => Refusal::TableFull,
        })
    }

    /// What has been refused so far.
    pub fn refused(&self) -> Refused {
        self.refused
    }

    /// How many networks the budget table tracks now.
    pub fn tracked_sources(&self) -> usize {
        self.budgets.len()
    }

    /// How many source sockets the loop watch tracks now.
    pub fn tracked_sockets(&self) -> usize {
        self.loops.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;
    use std::time::Duration;

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
        assert_eq!(guard.check(addr("127.0.0.1:12000"), b"x"), Err(Refusal::OwnAddress));
        assert_eq!(guard.check(addr("127.0.0.1:0"), b"x"), Err(Refusal::PortZero));
        assert_eq!(guard.check(addr("127.0.0.1:53"), b"x"), Err(Refusal::LowPort));
        assert_eq!(guard.check(addr("127.0.0.1:40000"), b"x"), Ok(()));
        assert_eq!(guard.refused().total(), 3);
    }

    #[test]
    fn a_server_on_every_address_knows_itself_on_loopback() {
        let mut guard = guard("0.0.0.0:12000", 100, 10);
        assert_eq!(guard.check(addr("127.0.0.1:12000"), b"x"), Err(Refusal::OwnAddress));
        assert_eq!(guard.check(addr("127.0.0.1:12001"), b"x"), Ok(()));
    }

    #[test]
    fn low_ports_are_answered_when_allowed() {
        let args = ReplyArgs { allow_low_ports: true, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        assert_eq!(guard.check(addr("127.0.0.1:53"), b"x"), Ok(()));
        assert_eq!(guard.check(addr("127.0.0.1:0"), b"x"), Err(Refusal::PortZero), "never port 0");
    }

    #[test]
    fn replies_to_one_network_are_held_to_the_rate_whatever_the_port() {
        let mut guard = guard("127.0.0.1:12000", 100, 10_000);
        let start = Instant::now();
        // Every datagram from another port of the same host: the rate is per network.
        let sent = (0..1000u16)
            .filter(|i| {
                let from = SocketAddr::from(([127, 0, 0, 1], 20_000 + i));
                guard.check_at(from, &i.to_be_bytes(), start).is_ok()
            })
            .count();
        assert_eq!(sent, 100, "a full bucket allows one second's worth of replies to one host");
        let other = addr("127.0.1.1:40001");
        assert_eq!(guard.check_at(other, b"x", start), Ok(()), "another /24 is not affected");
        let later = start + Duration::from_millis(500);
        let sent = (0..1000u16)
            .filter(|i| {
                let from = SocketAddr::from(([127, 0, 0, 9], 30_000 + i));
                guard.check_at(from, &i.to_be_bytes(), later).is_ok()
            })
            .count();
        assert_eq!(
            sent, 50,
            "half a second later, half the rate again (127.0.0.9 is the same /24)"
        );
        assert_eq!(guard.refused().rate_limited, 900 + 950);
    }

    #[test]
    fn the_tables_stay_bounded_under_a_flood_of_sources() {
        let mut guard = guard("127.0.0.1:12000", 100, 64);
        let now = Instant::now();
        for n in 0..10_000u32 {
            // Each from another /24 (the budget table's key) and another socket.
            let [_, _, c, d] = n.to_be_bytes();
            let from = SocketAddr::from(([10, c, d, 1], 40_000));
            let _ = guard.check_at(from, b"x", now);
            assert!(guard.tracked_sources() <= 64, "the budget table grew past --max-sources");
            assert!(guard.tracked_sockets() <= 64, "the loop table grew past --max-sources");
        }
        assert!(guard.refused().table_full > 0, "new sources beyond a full table are refused");
    }

    #[test]
    fn a_datagram_that_keeps_coming_back_is_a_loop_after_loop_after_repeats() {
        let args = ReplyArgs { loop_after: 10, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let peer = addr("127.0.0.1:13000");
        let mut now = Instant::now();
        let mut answered = 0;
        for _ in 0..100 {
            now += Duration::from_micros(100);
            if guard.check_at(peer, b"PING", now).is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 10, "the first datagram and 9 repeats are answered, then no more");
        assert_eq!(guard.refused().looped, 90, "every later repeat is refused as a loop");
        // Something else from the same source is answered at once...
        assert_eq!(guard.check_at(peer, b"something new", now), Ok(()));
        // ...and the same text again after a pause longer than LOOP_GAP.
        now += LOOP_GAP * 2;
        assert_eq!(guard.check_at(peer, b"PING", now), Ok(()), "a pause ends the loop state");
    }

    #[test]
    fn several_loops_between_the_same_two_sockets_die_as_fast_as_one() {
        // An attacker forges three datagrams: three loops, their datagrams taking turns.
        let args = ReplyArgs { loop_after: 10, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let peer = addr("127.0.0.1:13000");
        let mut now = Instant::now();
        let mut alive: Vec<&[u8]> = vec![b"PING", b"PONG", b"PANG"];
        let mut answered = 0;
        while !alive.is_empty() && answered < 1000 {
            // A loop goes on only while its datagram is answered (nobody resends it).
            alive.retain(|text| {
                now += Duration::from_micros(100);
                let ok = guard.check_at(peer, text, now).is_ok();
                answered += u32::from(ok);
                ok
            });
        }
        assert!(alive.is_empty(), "loops still running after {answered} answers: {alive:?}");
        assert!(
            answered <= 3 + 10,
            "about --loop-after (10) answers in all, not per loop: {answered}"
        );
        assert_eq!(guard.check_at(peer, b"something new", now), Ok(()), "anything new is answered");
    }

    #[test]
    fn more_loops_than_texts_remembered_still_all_die() {
        // More loops between two sockets than the texts remembered per source: the texts
        // that keep their places are found first, then the others.
        let args = ReplyArgs { loop_after: 10, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let peer = addr("127.0.0.1:13000");
        let mut now = Instant::now();
        let texts: Vec<String> = (0..5 * loops::TEXTS).map(|n| format!("loop {n}")).collect();
        let mut alive: Vec<&str> = texts.iter().map(String::as_str).collect();
        let mut datagrams = 0u32;
        while !alive.is_empty() && datagrams < 2_000_000 {
            alive.retain(|text| {
                now += Duration::from_micros(10);
                datagrams += 1;
                guard.check_at(peer, text.as_bytes(), now).is_ok()
            });
        }
        assert!(
            alive.is_empty(),
            "{} loops still running after {datagrams} datagrams",
            alive.len()
        );
    }

    #[test]
    fn a_client_that_pauses_or_numbers_its_messages_is_never_a_loop() {
        let args = ReplyArgs { loop_after: 10, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let client = addr("127.0.0.1:13001");
        let mut now = Instant::now();
        for n in 0..1000u32 {
            now += Duration::from_micros(50);
            let numbered = format!("request {n}");
            assert_eq!(guard.check_at(client, numbered.as_bytes(), now), Ok(()), "request {n}");
        }
        for n in 0..100 {
            now += LOOP_GAP + Duration::from_millis(1);
            assert_eq!(guard.check_at(client, b"same line", now), Ok(()), "typed line {n}");
        }
    }

    #[test]
    fn replies_never_exceed_three_times_the_bytes_received_plus_the_allowance() {
        let args = ReplyArgs { reply_allowance: 100, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let now = Instant::now();
        let (mut received, mut sent) = (0usize, 0usize);
        for port in 2000..62_000u16 {
            // One byte in from another port of the victim each time, 16 bytes asked out.
            let victim = SocketAddr::from(([127, 0, 0, 1], port));
            if guard.check_at(victim, &port.to_be_bytes()[..1], now).is_ok() {
                received += 1;
                if guard.spend_at(victim, 16, now).is_ok() {
                    sent += 16;
                }
            }
        }
        assert!(
            sent <= 3 * received + 100,
            "sent {sent} bytes for {received} received: more than 3x plus the allowance"
        );
        assert!(sent >= 3 * received, "the budget should allow 3x: sent {sent} for {received}");
        assert!(guard.refused().over_budget > 0, "the replies beyond the budget are counted");
    }

    #[test]
    fn a_full_table_does_not_forget_a_source_that_owes() {
        let args = ReplyArgs { reply_allowance: 100, max_sources: 8, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("127.0.0.1:12000"), &args);
        let victim = addr("10.0.0.1:40000");
        let now = Instant::now();
        assert_eq!(guard.check_at(victim, b"x", now), Ok(()));
        assert_eq!(guard.spend_at(victim, 103, now), Ok(()), "3 bytes for 1, and the allowance");
        assert_eq!(guard.spend_at(victim, 3, now), Err(Refusal::OverBudget), "its budget is spent");
        // Thousands of decoy networks at once (each /24 a new one): the table fills, and
        // the victim, which still owes, must stay in it.
        let later = now + Duration::from_millis(10);
        for n in 1..5000u32 {
            let [_, b, c, d] = n.to_be_bytes();
            let _ = guard.check_at(SocketAddr::from(([b, c, d, 1], 40_000)), b"x", later);
        }
        assert_eq!(
            guard.spend_at(victim, 3, later),
            Err(Refusal::OverBudget),
            "the decoys must not wipe the victim's spent budget"
        );
    }

    #[test]
    fn ipv4_mapped_and_ipv6_sources_share_the_limits_of_their_network() {
        let args = ReplyArgs { reply_rate: 10, ..ReplyArgs::default() };
        let mut guard = ReplyGuard::new(addr("[::]:12000"), &args);
        let now = Instant::now();
        let mut answered = 0;
        for n in 0..20u16 {
            // Alternately plain IPv4 and IPv4-mapped: one host.
            let ip: IpAddr = if n % 2 == 0 {
                "127.0.0.1".parse().unwrap()
            } else {
                "::ffff:127.0.0.1".parse().unwrap()
            };
            if guard.check_at(SocketAddr::new(ip, 40_000 + n), &n.to_be_bytes(), now).is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 10, "the two spellings of one address share its rate");
        let mut answered = 0;
        for n in 0..20u16 {
            let ip: IpAddr = format!("2001:db8:0:{n:x}::1").parse().unwrap();
            if guard.check_at(SocketAddr::new(ip, 40_000), &n.to_be_bytes(), now).is_ok() {
                answered += 1;
            }
        }
        assert_eq!(answered, 10, "addresses of one /56 share its rate");
    }

    #[test]
    fn a_dual_stack_server_knows_itself_at_every_local_address_mapped_or_not() {
        let mut guard = guard("[::]:12000", 100, 10);
        for own in ["[::ffff:127.0.0.1]:12000", "127.0.0.5:12000", "[::1]:12000", "0.0.0.0:12000"] {
            assert_eq!(guard.check(addr(own), b"x"), Err(Refusal::OwnAddress), "{own}");
        }
        // A documentation address is no address of this machine.
        assert_eq!(guard.check(addr("192.0.2.1:12000"), b"x"), Ok(()));
        let mut guard = guard_v4_any();
        assert_eq!(guard.check(addr("[::ffff:127.0.0.1]:12000"), b"x"), Err(Refusal::OwnAddress));
    }

    fn guard_v4_any() -> ReplyGuard {
        guard("0.0.0.0:12000", 100, 10)
    }

    #[test]
    fn a_local_address_is_one_this_machine_can_bind() {
        assert!(is_local_address("127.0.0.1".parse().unwrap()));
        assert!(is_local_address("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_local_address("192.0.2.1".parse().unwrap()), "a documentation address");
    }

    #[test]
    fn clients_of_one_network_taking_bytes_ahead_leave_each_other_enough() {
        // A relay's reply threads, one per client, all of 127.0.0.0/24: each takes its
        // client's byte budget 4 KiB ahead; requests and replies are 20 bytes (3x credit).
        let mut guard = ReplyGuard::new("127.0.0.1:12000".parse().unwrap(), &ReplyArgs::default());
        let clients: Vec<SocketAddr> =
            (0..16u16).map(|n| SocketAddr::from(([127, 0, 0, 1], 40_000 + n))).collect();
        let mut prepaid = [0usize; 16];
        let (mut refused, mut sent) = (0, 0);
        let mut now = Instant::now();
        let mut seed: u64 = 7;
        for round in 0..20_000u32 {
            now += Duration::from_micros(100);
            for (c, client) in clients.iter().enumerate() {
                let request = format!("request {round} {c:2}");
                assert_eq!(guard.check_at(*client, request.as_bytes(), now), Ok(()));
            }
            for _ in 0..16 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                let c = (seed >> 33) as usize % 16;
                if prepaid[c] < 20 {
                    match guard.spend_ahead_at(clients[c], 20, 4096, now) {
                        Ok(taken) => prepaid[c] += taken,
                        Err(_) => {
                            refused += 1;
                            continue;
                        }
                    }
                }
                prepaid[c] -= 20;
                sent += 1;
            }
        }
        assert_eq!(
            refused, 0,
            "replies refused though the network sent 3x their bytes ({sent} sent)"
        );
    }
}
