//! The relay's socket plumbing: the addresses it is given, and whose address a datagram
//! comes from. (What a failed receive means is in `shared::io_errors`.)

use std::net::{SocketAddr, ToSocketAddrs};

use shared::address::prefer_ipv4;
use shared::error::{Error, Result, describe_io_error};

/// Whether a datagram from `from` could come from the socket bound to `local` (bound to
/// an unspecified address, a socket sends from whichever address the route picks).
pub fn is_same_socket(local: SocketAddr, from: SocketAddr) -> bool {
    local.port() == from.port() && (local.ip().is_unspecified() || local.ip() == from.ip())
}

/// `HOST:PORT` (a name, an IPv4 address, or `[IPv6]:PORT`) to one address, IPv4 preferred
/// (as the workspace's `--host` flags do).
pub fn resolve(flag: &str, text: &str) -> Result<SocketAddr> {
    let candidates = text.to_socket_addrs().map_err(|e| {
        Error::msg(format!(
            "cannot resolve {flag} '{text}' (give HOST:PORT, e.g. 127.0.0.1:12001): {}",
            describe_io_error(&e)
        ))
    })?;
    prefer_ipv4(candidates).ok_or_else(|| Error::msg(format!("{flag} '{text}' has no addresses")))
}
