//! The server's table of open connections: how many there are, from which hosts, and the
//! streams themselves, so that a shutdown can close them all.
//!
//! The main thread adds a connection before starting its thread (or refuses it: [`Full`]);
//! the thread removes it when it ends. A connection's thread never sees this table: all it
//! needs is the [`closing`](OpenConnections::closing) flag.

use std::collections::HashMap;
use std::net::{IpAddr, Shutdown as Both, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use shared::prefix_args::PrefixArgs;

/// The open connections, so that a shutdown can close them all. Bounded by `max`, and by
/// `max_per_ip` from any one host.
pub struct OpenConnections {
    /// Set when the server starts closing every connection.
    closing: AtomicBool,
    registry: Mutex<Registry>,
    max: usize,
    max_per_ip: usize,
    hosts: PrefixArgs,
}

#[derive(Default)]
struct Registry {
    // The stream is shared with its thread (an `Arc`, not a second file descriptor from
    // `try_clone`: with 10,000 connections, descriptors run short).
    streams: HashMap<u64, Arc<TcpStream>>,
    /// Open connections per client host (by default an IPv4 address, an IPv6 /64); a host
    /// with none is removed.
    per_ip: HashMap<IpAddr, usize>,
}

/// Which limit a refused connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// `--max-clients` are open.
    Server,
    /// `--max-per-ip` are open from the same host (by default an IPv4 address, an IPv6 /64).
    ThisIp,
}

impl OpenConnections {
    /// An empty table for at most `max` connections, `max_per_ip` from any one host
    /// (as `hosts` groups addresses).
    pub fn new(max: usize, max_per_ip: usize, hosts: PrefixArgs) -> Self {
        OpenConnections {
            closing: AtomicBool::new(false),
            registry: Mutex::new(Registry::default()),
            max,
            max_per_ip,
            hosts,
        }
    }

    /// Adds a connection from `ip`, or says which limit it meets (and adds nothing). It
    /// counts against `ip`'s host, as `--ipv4-prefix` and `--ipv6-prefix` group addresses (by
    /// default the address itself for IPv4, its /64 for IPv6).
    pub fn insert(&self, id: u64, stream: &Arc<TcpStream>, ip: IpAddr) -> Result<(), Full> {
        let ip = self.hosts.host_of(ip);
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.streams.len() >= self.max {
            return Err(Full::Server);
        }
        let from_ip = registry.per_ip.entry(ip).or_insert(0);
        if *from_ip >= self.max_per_ip {
            return Err(Full::ThisIp);
        }
        *from_ip += 1;
        registry.streams.insert(id, Arc::clone(stream));
        Ok(())
    }

    /// Whether the server has begun closing every connection.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// The flag set when the server begins closing every connection: what a connection's
    /// thread watches (see [`crate::connection::Connection::closing`]).
    pub fn closing(&self) -> &AtomicBool {
        &self.closing
    }

    /// Takes connection `id`, from `ip`, off the table (if it is there), freeing its place
    /// and its host's.
    pub fn remove(&self, id: u64, ip: IpAddr) {
        let ip = self.hosts.host_of(ip);
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.streams.remove(&id).is_none() {
            return;
        }
        if let Some(from_ip) = registry.per_ip.get_mut(&ip) {
            *from_ip -= 1;
            if *from_ip == 0 {
                registry.per_ip.remove(&ip);
            }
        }
    }

    /// Sets the closing flag, then shuts every open connection down in both directions: on
    /// Linux and macOS each thread's blocked read returns "end of data" (or its write fails)
    /// at once; on Windows the thread sees the flag when its read or write times out.
    pub fn shut_all_down(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        for stream in registry.streams.values() {
            // Already closed by the client? Then there is nothing left to do.
            let _ = stream.shutdown(Both::Both);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn connections_from_one_ipv6_slash_64_count_against_one_host() {
        // Loopback has only ::1, so the /64 grouping is checked on the registry itself, with
        // one real stream registered under made-up addresses.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let open = OpenConnections::new(100, 2, PrefixArgs::default());
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        open.insert(1, &stream, ip("2001:db8:1:2::1")).expect("the /64's first connection");
        open.insert(2, &stream, ip("2001:db8:1:2:ffff::2")).expect("the /64's second");
        assert_eq!(
            open.insert(3, &stream, ip("2001:db8:1:2:abcd::3")),
            Err(Full::ThisIp),
            "a third address of the same /64 is the same host, over --max-per-ip 2"
        );
        open.insert(4, &stream, ip("2001:db8:1:3::1")).expect("the next /64 is another host");
        open.remove(1, ip("2001:db8:1:2::1"));
        open.insert(5, &stream, ip("2001:db8:1:2::5")).expect("a place freed in the /64");
    }
}
