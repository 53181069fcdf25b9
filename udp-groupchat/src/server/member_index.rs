//! What the hub must look up about its members on every join, each in one step: whose name
//! a new name looks like, and how many members a host already has.
//!
//! Without an index both are a walk over every member, and the look-alike check computes
//! each member's confusable skeleton again on the way: with 256 members, a valid `HELLO`
//! cost the hub 17 times what a `PING` does, so an attacker replaying one, within the hub's
//! own rate limit, could keep it too busy to let real users in (issue 18 measured it). Here
//! a member's skeleton is computed once, when it joins, and kept in a map from skeleton to
//! member; members are listed per host (an IPv4 address, an IPv6 /64: see
//! [`shared::prefix`]) as they come.
//!
//! The hub's member table stays the truth: whatever code removes a member (a `LEAVE` in
//! `Hub::handle`, a time-out), the index checks against the table when it answers, and the
//! hub sweeps it once a second ([`MemberIndex::retain`]), so an entry left behind lives a
//! second at most and never counts.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// The members' skeletons and their addresses per host. The hub calls
/// [`insert`](Self::insert) when a member joins, and [`retain`](Self::retain) once a second.
#[derive(Default)]
pub(super) struct MemberIndex {
    /// Each member's name skeleton, and the host it counts against.
    by_addr: HashMap<SocketAddr, (String, IpAddr)>,
    /// Which member has a name with this skeleton.
    by_skeleton: HashMap<String, SocketAddr>,
    /// Each host's members (at most `--max-members-per-ip` that are still members); a host
    /// with none is removed.
    per_host: HashMap<IpAddr, Vec<SocketAddr>>,
}

impl MemberIndex {
    /// Notes a new member at `addr`, whose name has `skeleton`, counted against `host`.
    pub(super) fn insert(&mut self, addr: SocketAddr, skeleton: String, host: IpAddr) {
        self.remove(addr); // never counted twice
        self.by_skeleton.insert(skeleton.clone(), addr);
        self.per_host.entry(host).or_default().push(addr);
        self.by_addr.insert(addr, (skeleton, host));
    }

    /// Forgets the member at `addr` (nothing, if it was none).
    pub(super) fn remove(&mut self, addr: SocketAddr) {
        let Some((skeleton, host)) = self.by_addr.remove(&addr) else { return };
        if self.by_skeleton.get(&skeleton) == Some(&addr) {
            self.by_skeleton.remove(&skeleton);
        }
        if let Some(members) = self.per_host.get_mut(&host) {
            members.retain(|member| *member != addr);
            if members.is_empty() {
                self.per_host.remove(&host);
            }
        }
    }

    /// Forgets every entry whose address `is_member` says is no longer a member.
    pub(super) fn retain(&mut self, is_member: impl Fn(&SocketAddr) -> bool) {
        let gone: Vec<SocketAddr> =
            self.by_addr.keys().filter(|addr| !is_member(addr)).copied().collect();
        for addr in gone {
            self.remove(addr);
        }
    }

    /// Forgets every member.
    pub(super) fn clear(&mut self) {
        *self = MemberIndex::default();
    }

    /// The address that joined with a name of this skeleton, if any (check that it is
    /// still a member).
    pub(super) fn with_skeleton(&self, skeleton: &str) -> Option<SocketAddr> {
        self.by_skeleton.get(skeleton).copied()
    }

    /// How many members `host` has: its addresses that `is_member` confirms (at most
    /// `--max-members-per-ip` of them, so this stays a few steps).
    pub(super) fn members_of(
        &self,
        host: IpAddr,
        is_member: impl Fn(&SocketAddr) -> bool,
    ) -> usize {
        self.per_host
            .get(&host)
            .map_or(0, |members| members.iter().filter(|a| is_member(a)).count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::prefix::{PrefixLengths, network_of};

    #[test]
    fn members_of_one_ipv6_slash_64_count_against_one_host() {
        // Loopback has only ::1, so the /64 grouping is checked here, on the keying itself.
        let mut index = MemberIndex::default();
        let host = |ip: &str| network_of(ip.parse().unwrap(), PrefixLengths::default());
        let ips = ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:1:2:3:4"];
        for (port, ip) in (4000u16..).zip(ips) {
            let addr = SocketAddr::new(ip.parse().unwrap(), port);
            index.insert(addr, format!("name{port}"), host(ip));
        }
        assert_eq!(
            index.members_of(host("2001:db8:1:2::77"), |_| true),
            3,
            "one /64, one host: 3 members"
        );
        assert_eq!(
            index.members_of(host("2001:db8:1:3::1"), |_| true),
            0,
            "the next /64 is another host"
        );
        index.remove("[2001:db8:1:2::1]:4000".parse().unwrap());
        assert_eq!(
            index.members_of(host("2001:db8:1:2::1"), |_| true),
            2,
            "a member gone is uncounted"
        );
    }

    #[test]
    fn a_skeleton_finds_its_member_until_the_member_goes() {
        let mut index = MemberIndex::default();
        let alice: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        index.insert(alice, "alice".into(), alice.ip());
        index.insert(alice, "alice".into(), alice.ip()); // a second insert is not a second member
        assert_eq!(index.with_skeleton("alice"), Some(alice), "the skeleton finds alice");
        assert_eq!(index.members_of(alice.ip(), |_| true), 1, "inserted twice, counted once");
        index.remove(alice);
        assert_eq!(index.with_skeleton("alice"), None, "gone, not found");
        assert_eq!(index.members_of(alice.ip(), |_| true), 0, "gone, not counted");
    }

    #[test]
    fn an_entry_the_table_no_longer_has_never_counts_and_is_swept() {
        let mut index = MemberIndex::default();
        let (a, b): (SocketAddr, SocketAddr) =
            ("127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap());
        index.insert(a, "alice".into(), a.ip());
        index.insert(b, "bob".into(), b.ip());
        // `a` left through code that did not tell the index: the table is the truth.
        let still = |addr: &SocketAddr| *addr == b;
        assert_eq!(index.members_of(a.ip(), still), 1, "only bob counts");
        index.retain(still);
        assert_eq!(index.with_skeleton("alice"), None, "the sweep forgot alice");
        assert_eq!(index.with_skeleton("bob"), Some(b), "and kept bob");
    }
}
