//! What the hub must look up about its members on every join, each in one step: whose name
//! a new name looks like, and how many members a host already has.
//!
//! Without an index both are a walk over every member, and the look-alike check computes
//! each member's confusable skeleton again on the way: with 256 members, a valid `HELLO`
//! cost the hub 17 times what a `PING` does, so an attacker replaying one, within the hub's
//! own rate limit, could keep it too busy to let real users in (issue 18 measured it). Here
//! a member's skeleton is computed once, when it joins, and kept in a map from skeleton to
//! member; members are counted per host (an IPv4 address, an IPv6 /64: see
//! [`shared::prefix`]) as they come and go.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// The members' skeletons and their count per host. The hub calls [`insert`](Self::insert)
/// when a member joins and [`remove`](Self::remove) whenever one goes.
#[derive(Default)]
pub(super) struct MemberIndex {
    /// Each member's name skeleton, and the host it counts against.
    by_addr: HashMap<SocketAddr, (String, IpAddr)>,
    /// Which member has a name with this skeleton.
    by_skeleton: HashMap<String, SocketAddr>,
    /// Members per host; a host with none is removed.
    per_host: HashMap<IpAddr, usize>,
}

impl MemberIndex {
    /// Notes a new member at `addr`, whose name has `skeleton`, counted against `host`.
    pub(super) fn insert(&mut self, addr: SocketAddr, skeleton: String, host: IpAddr) {
        self.remove(addr); // never counted twice
        self.by_skeleton.insert(skeleton.clone(), addr);
        *self.per_host.entry(host).or_insert(0) += 1;
        self.by_addr.insert(addr, (skeleton, host));
    }

    /// Forgets the member at `addr` (nothing, if it was none).
    pub(super) fn remove(&mut self, addr: SocketAddr) {
        let Some((skeleton, host)) = self.by_addr.remove(&addr) else { return };
        if self.by_skeleton.get(&skeleton) == Some(&addr) {
            self.by_skeleton.remove(&skeleton);
        }
        if let Some(count) = self.per_host.get_mut(&host) {
            *count -= 1;
            if *count == 0 {
                self.per_host.remove(&host);
            }
        }
    }

    /// Forgets every member.
    pub(super) fn clear(&mut self) {
        *self = MemberIndex::default();
    }

    /// The member whose name has this skeleton, if any.
    pub(super) fn with_skeleton(&self, skeleton: &str) -> Option<SocketAddr> {
        self.by_skeleton.get(skeleton).copied()
    }

    /// How many members `host` has.
    pub(super) fn members_of(&self, host: IpAddr) -> usize {
        self.per_host.get(&host).copied().unwrap_or(0)
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
        assert_eq!(index.members_of(host("2001:db8:1:2::77")), 3, "one /64, one host: 3 members");
        assert_eq!(index.members_of(host("2001:db8:1:3::1")), 0, "the next /64 is another host");
        index.remove("[2001:db8:1:2::1]:4000".parse().unwrap());
        assert_eq!(index.members_of(host("2001:db8:1:2::1")), 2, "a member gone is uncounted");
    }

    #[test]
    fn a_skeleton_finds_its_member_until_the_member_goes() {
        let mut index = MemberIndex::default();
        let alice: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        index.insert(alice, "alice".into(), alice.ip());
        index.insert(alice, "alice".into(), alice.ip()); // a second insert is not a second member
        assert_eq!(index.with_skeleton("alice"), Some(alice), "the skeleton finds alice");
        assert_eq!(index.members_of(alice.ip()), 1, "inserted twice, counted once");
        index.remove(alice);
        assert_eq!(index.with_skeleton("alice"), None, "gone, not found");
        assert_eq!(index.members_of(alice.ip()), 0, "gone, not counted");
    }
}
