//! How often one host may join: a token bucket per host (an IPv4 address, an IPv6 /64).
//!
//! Every join costs the hub a `WELCOME` and a notice to every member, and every leave
//! another notice: one socket joining and leaving in a loop made the hub send 1.47 million
//! notices in 5 s (issue 18), and real joins starved. IRC servers throttle joins per client
//! for the same reason. A host may join [`JoinThrottle::burst`] times at once (as many as
//! it may have members), then once every `60 / --joins-per-minute` seconds. A leave needs a
//! join before it, so this bounds leaves too.
//!
//! The table is bounded. Hosts whose bucket is full again (they owe nothing) are swept out
//! once a second; when the table is full of hosts that still owe, a new host is refused
//! until the sweep makes room, rather than forgetting anyone's debt (forgetting would let
//! an attacker wipe their own debt by joining from enough other hosts).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How often full buckets are swept out of the table.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// What the throttle says about a join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// The host may join (and the join is counted).
    Allowed,
    /// The host has used its joins: it must wait.
    TooOften,
    /// The host is new and the table is full of hosts that still owe: it must wait for
    /// the sweep.
    TableFull,
}

/// One host's bucket: how many joins it may make now, as of `updated`.
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Joins per host, limited to a burst and then a steady rate.
pub(super) struct JoinThrottle {
    buckets: HashMap<IpAddr, Bucket>,
    /// The most joins at once (the bucket's size).
    burst: f64,
    /// Joins regained per second.
    per_second: f64,
    /// The most hosts tracked at once.
    max_hosts: usize,
    last_sweep: Instant,
}

impl JoinThrottle {
    /// A throttle allowing `burst` joins at once and `per_minute` a minute after that, for
    /// at most `max_hosts` hosts at once.
    pub(super) fn new(burst: u32, per_minute: u32, max_hosts: usize) -> Self {
        JoinThrottle {
            buckets: HashMap::new(),
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute) / 60.0,
            max_hosts: max_hosts.max(1),
            last_sweep: Instant::now(),
        }
    }

    /// Whether `host` may join now; if so, the join is counted.
    pub(super) fn check(&mut self, host: IpAddr, now: Instant) -> Verdict {
        self.sweep(now);
        if !self.buckets.contains_key(&host) && self.buckets.len() >= self.max_hosts {
            return Verdict::TableFull; // full of hosts that still owe: forget nobody
        }
        let (burst, per_second) = (self.burst, self.per_second);
        let bucket = self.buckets.entry(host).or_insert(Bucket { tokens: burst, updated: now });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(burst);
        bucket.updated = now;
        if bucket.tokens < 1.0 {
            return Verdict::TooOften;
        }
        bucket.tokens -= 1.0;
        Verdict::Allowed
    }

    /// Once a second, forgets the hosts whose bucket has filled up again.
    fn sweep(&mut self, now: Instant) {
        if now.saturating_duration_since(self.last_sweep) < SWEEP_EVERY {
            return;
        }
        self.last_sweep = now;
        let (burst, per_second) = (self.burst, self.per_second);
        self.buckets.retain(|_, bucket| {
            let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
            bucket.tokens + elapsed * per_second < burst
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    impl JoinThrottle {
        fn allow(&mut self, host: IpAddr, now: Instant) -> bool {
            self.check(host, now) == Verdict::Allowed
        }
    }

    #[test]
    fn a_host_joins_its_burst_then_at_the_steady_rate() {
        let mut throttle = JoinThrottle::new(3, 60, 100); // one a second after the burst
        let start = Instant::now();
        for i in 0..3 {
            assert!(throttle.allow(ip(1), start), "join {i} of the burst should pass");
        }
        assert!(!throttle.allow(ip(1), start), "a fourth at once should be refused");
        assert!(throttle.allow(ip(2), start), "another host has its own bucket");
        let later = start + Duration::from_millis(1100);
        assert!(throttle.allow(ip(1), later), "a second later one more join passes");
        assert!(!throttle.allow(ip(1), later), "but only one");
    }

    #[test]
    fn a_full_table_refuses_new_hosts_and_never_forgets_a_debt() {
        let mut throttle = JoinThrottle::new(1, 6, 2); // one join, then one every 10 s
        let start = Instant::now();
        assert!(throttle.allow(ip(1), start), "host 1's one join");
        assert!(throttle.allow(ip(2), start), "host 2's one join");
        assert_eq!(
            throttle.check(ip(3), start),
            Verdict::TableFull,
            "a third host does not fit while both owe"
        );
        // Two seconds later both still owe (a join takes 10 s to come back): nobody is
        // forgotten, so host 1 is still refused.
        let soon = start + Duration::from_secs(2);
        assert!(!throttle.allow(ip(3), soon), "still full");
        assert!(!throttle.allow(ip(1), soon), "host 1's debt was not forgotten");
        // After 10 s both buckets are full again and swept: room for host 3.
        let later = start + Duration::from_secs(11);
        assert!(throttle.allow(ip(3), later), "the sweep made room");
    }
}
