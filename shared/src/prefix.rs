//! Grouping addresses by the network they come from, for limits meant "per host".
//!
//! An IPv4 host usually has one address. An IPv6 host is usually handed a whole /64 (2^64
//! addresses), so a limit counted per IPv6 address lets one machine look like billions of
//! clients. Limits that mean "per host" (connections per client, members per client, a
//! reply budget) therefore count per [`network_of`] an address: the address itself for
//! IPv4 (`/32`), its /64 for IPv6, both configurable.
//!
//! An IPv4 address seen through a dual-stack socket arrives as an IPv4-mapped IPv6 address
//! (`::ffff:127.0.0.1`); [`canonical`] turns it back into IPv4 first, so one host is one key
//! whichever socket it reached.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How many leading bits of an address name one host, for IPv4 and for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLengths {
    /// IPv4: 32 (each address is a host) by default.
    pub v4: u8,
    /// IPv6: 64 (each /64 is a host) by default.
    pub v6: u8,
}

impl Default for PrefixLengths {
    fn default() -> Self {
        PrefixLengths { v4: 32, v6: 64 }
    }
}

/// `ip` with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) turned back into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// The network `ip` belongs to: its first `lengths.v4` (IPv4) or `lengths.v6` (IPv6) bits,
/// the rest cleared. IPv4-mapped IPv6 addresses count as IPv4. Lengths above 32 or 128 are
/// taken as 32 or 128.
pub fn network_of(ip: IpAddr, lengths: PrefixLengths) -> IpAddr {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let bits = u32::from(lengths.v4.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let bits = u32::from(lengths.v6.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn an_ipv4_address_is_its_own_network_by_default() {
        let net = network_of(ip("127.0.0.9"), PrefixLengths::default());
        assert_eq!(net, ip("127.0.0.9"), "IPv4 is counted per address by default");
    }

    #[test]
    fn ipv6_addresses_of_one_slash_64_share_a_network() {
        let lengths = PrefixLengths::default();
        let a = network_of(ip("2001:db8:1:2:aaaa::1"), lengths);
        let b = network_of(ip("2001:db8:1:2:bbbb::9"), lengths);
        assert_eq!(a, b, "two addresses of one /64 should be one host");
        assert_eq!(a, ip("2001:db8:1:2::"), "the network keeps only the first 64 bits");
        let other = network_of(ip("2001:db8:1:3::1"), lengths);
        assert_ne!(a, other, "another /64 should be another host");
    }

    #[test]
    fn an_ipv4_mapped_address_counts_as_ipv4() {
        let net = network_of(ip("::ffff:127.0.0.1"), PrefixLengths::default());
        assert_eq!(net, ip("127.0.0.1"), "a dual-stack socket's view of IPv4 is IPv4");
    }

    #[test]
    fn prefix_lengths_are_configurable_and_clamped() {
        let lengths = PrefixLengths { v4: 24, v6: 200 };
        assert_eq!(network_of(ip("10.1.2.3"), lengths), ip("10.1.2.0"), "a /24 for IPv4");
        assert_eq!(network_of(ip("::1"), lengths), ip("::1"), "a length over 128 is 128");
        let zero = PrefixLengths { v4: 0, v6: 0 };
        assert_eq!(network_of(ip("10.1.2.3"), zero), ip("0.0.0.0"), "a /0 is everything");
    }
}
