//! "Is this source me?": every address a server's socket can be reached at.
//!
//! A socket bound to one address (127.0.0.1:12000) is reached at that address only. A
//! socket bound to the unspecified address (`0.0.0.0` or `[::]`, which on most systems also
//! takes IPv4 as `::ffff:a.b.c.d`) is reached at *every* address of the machine with its
//! port: a datagram forged "from" any of them, with the server's port, would be answered
//! by the server to itself. std cannot list a machine's addresses (that needs
//! `getifaddrs`, or the Windows equivalent), so the rule asks the system the one question
//! it needs: *can I bind a socket to this address?* Only a local address can be bound. The
//! question is asked only for a source that carries the server's own port (rare), and
//! the answers are remembered in a small table.
//!
//! Decided conservatively: IPv4-mapped addresses count as IPv4; any loopback address
//! (127.0.0.0/8, `::1`) and the unspecified address count as local without asking.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};

/// Most answers remembered; when full, the table starts again.
const MAX_REMEMBERED: usize = 256;

/// The server's own address, and what it has learned about others.
#[derive(Debug)]
pub(super) struct OwnAddresses {
    own: SocketAddr,
    local: HashMap<IpAddr, bool>,
}

impl OwnAddresses {
    pub(super) fn new(own: SocketAddr) -> Self {
        let own = SocketAddr::new(own.ip().to_canonical(), own.port());
        OwnAddresses { own, local: HashMap::new() }
    }

    /// Whether a datagram from `source` could have come from the server's own socket.
    pub(super) fn is_own(&mut self, source: SocketAddr) -> bool {
        if source.port() != self.own.port() {
            return false;
        }
        let ip = source.ip().to_canonical();
        if ip == self.own.ip() {
            return true;
        }
        if !self.own.ip().is_unspecified() {
            return false;
        }
        if ip.is_loopback() || ip.is_unspecified() {
            return true;
        }
        if self.local.len() >= MAX_REMEMBERED {
            self.local.clear();
        }
        *self.local.entry(ip).or_insert_with(|| is_local_address(ip))
    }
}

/// Whether `ip` is an address of this machine: only those can be bound.
pub fn is_local_address(ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    ip.is_loopback() || ip.is_unspecified() || UdpSocket::bind((ip, 0)).is_ok()
}

/// Whether a datagram sent to `to` would reach the socket bound to `own` (or, the same
/// thing, whether a datagram from `to` could be the socket's own): the same port, and the
/// same address, or any local address when `own` is bound to the unspecified address.
pub fn reaches(own: SocketAddr, to: SocketAddr) -> bool {
    OwnAddresses::new(own).is_own(to)
}
