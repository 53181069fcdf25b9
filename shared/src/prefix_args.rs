//! The flags that say how many leading bits of an address name one host, for the servers
//! whose limits count per host ([`crate::prefix`]).

use std::net::IpAddr;

use crate::prefix::{PrefixLengths, network_of};

/// `--ipv4-prefix` and `--ipv6-prefix`: which addresses count as one host in the per-host
/// limits.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct PrefixArgs {
    /// Leading bits of an IPv4 address that name one host in the per-host limits: 32 (each
    /// address is a host) by default; 24 would count a whole /24 as one.
    #[arg(long, value_name = "BITS", default_value_t = 32,
          value_parser = clap::value_parser!(u8).range(0..=32))]
    pub ipv4_prefix: u8,

    /// Leading bits of an IPv6 address that name one host in the per-host limits: 64 by
    /// default, since one machine is usually given a whole /64 (2^64 addresses).
    #[arg(long, value_name = "BITS", default_value_t = 64,
          value_parser = clap::value_parser!(u8).range(0..=128))]
    pub ipv6_prefix: u8,
}

impl PrefixArgs {
    /// The lengths the flags name.
    pub fn lengths(&self) -> PrefixLengths {
        PrefixLengths { v4: self.ipv4_prefix, v6: self.ipv6_prefix }
    }

    /// The host `ip` counts as: its network ([`network_of`]).
    pub fn host_of(&self, ip: IpAddr) -> IpAddr {
        network_of(ip, self.lengths())
    }

    /// The host `ip` counts as, for a message: `127.0.0.1` when a host is one address,
    /// `2001:db8:1:2::/64` when it is a network.
    pub fn describe_host(&self, ip: IpAddr) -> String {
        let host = self.host_of(ip);
        let bits =
            if host.is_ipv4() { self.ipv4_prefix.min(32) } else { self.ipv6_prefix.min(128) };
        let full = if host.is_ipv4() { 32 } else { 128 };
        if bits == full { host.to_string() } else { format!("{host}/{bits}") }
    }
}

impl Default for PrefixArgs {
    fn default() -> Self {
        let PrefixLengths { v4, v6 } = PrefixLengths::default();
        PrefixArgs { ipv4_prefix: v4, ipv6_prefix: v6 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_described_as_an_address_or_as_a_network() {
        let args = PrefixArgs::default();
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(args.describe_host(ip("127.0.0.2")), "127.0.0.2", "IPv4: the address");
        assert_eq!(
            args.describe_host(ip("2001:db8:1:2:3::9")),
            "2001:db8:1:2::/64",
            "IPv6: its /64"
        );
        assert_eq!(args.describe_host(ip("::ffff:10.0.0.1")), "10.0.0.1", "mapped is IPv4");
    }
}
