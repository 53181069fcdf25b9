//! The client table: what the server remembers about each client, and how much of it.
//!
//! The notebook keeps `CLIENT_TABLE = {}` and adds every new address to it, forever.
//! Here the table has a size limit. When a datagram comes from a new address and the table
//! is full, the entry seen least recently is removed ("evicted") to make room. A flood of
//! datagrams from 100,000 different ports then costs the table no more memory than
//! `--max-clients` entries, and the clients that keep talking keep their context.
//!
//! Finding the least recently seen client must not mean scanning the whole table for every
//! new address (a flood would make that slow), so the table keeps two maps:
//! - `clients`: address → context, for the lookup every datagram needs;
//! - `by_recency`: a counter value → address, ordered, so the first entry is always the
//!   least recently seen client. Every datagram moves its client to the end.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Instant;

/// What the server knows about one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientContext {
    /// Datagrams received from this client.
    pub datagrams: u64,
    /// Bytes received from this client.
    pub bytes: u64,
    /// When its first datagram arrived.
    pub first_seen: Instant,
    /// When its latest datagram arrived.
    pub last_seen: Instant,
    /// Its place in the recency order (larger = more recent); the key in `by_recency`.
    recency: u64,
    /// The clock when it first came (orders the summary; `first_seen` may tie).
    arrival: u64,
}

/// A client removed from the table to make room for a new one.
#[derive(Debug, Clone)]
pub struct Eviction {
    /// The evicted client's address.
    pub addr: SocketAddr,
    /// Its context at the time it was removed.
    pub context: ClientContext,
    /// How many clients the table holds when full.
    pub max_clients: usize,
}

/// Clients' contexts keyed by address, holding at most `max_clients` of them.
#[derive(Debug)]
pub struct ClientTable {
    clients: HashMap<SocketAddr, ClientContext>,
    by_recency: BTreeMap<u64, SocketAddr>,
    /// Counts datagrams; each one's value orders its client in `by_recency`.
    clock: u64,
    max_clients: usize,
    evictions: u64,
}

impl ClientTable {
    /// An empty table for at most `max_clients` clients (at least 1).
    pub fn new(max_clients: usize) -> Self {
        ClientTable {
            clients: HashMap::new(),
            by_recency: BTreeMap::new(),
            clock: 0,
            max_clients: max_clients.max(1),
            evictions: 0,
        }
    }

    /// Records a datagram of `len` bytes from `addr`, received at `now`. Returns the
    /// client's context after counting it, and the client evicted to make room, if any.
    pub fn record(
        &mut self,
        addr: SocketAddr,
        len: usize,
        now: Instant,
    ) -> (&ClientContext, Option<Eviction>) {
        let mut evicted = None;
        // Asking whether `addr` is known costs a lookup of its own: only worth it when full.
        if self.clients.len() >= self.max_clients && !self.clients.contains_key(&addr) {
            evicted = self.evict_least_recent();
        }
        self.clock += 1;
        let clock = self.clock;
        let context = self.clients.entry(addr).or_insert_with(|| ClientContext {
            datagrams: 0,
            bytes: 0,
            first_seen: now,
            last_seen: now,
            recency: clock,
            arrival: clock,
        });
        // Move the client to the most recent end of the order.
        self.by_recency.remove(&context.recency);
        context.recency = clock;
        self.by_recency.insert(clock, addr);

        context.datagrams += 1;
        context.bytes += len as u64;
        context.last_seen = now;
        (context, evicted)
    }

    /// Removes the client seen least recently.
    fn evict_least_recent(&mut self) -> Option<Eviction> {
        let (_, addr) = self.by_recency.pop_first()?;
        let context = self.clients.remove(&addr)?;
        self.evictions += 1;
        Some(Eviction { addr, context, max_clients: self.max_clients })
    }

    /// The context of the client at `addr`, if it is in the table.
    pub fn get(&self, addr: &SocketAddr) -> Option<&ClientContext> {
        self.clients.get(addr)
    }

    /// How many clients the table holds.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether the table holds no client.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// How many clients have been evicted so far.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// The largest number of clients the table holds.
    pub fn max_clients(&self) -> usize {
        self.max_clients
    }

    /// The clients in the order they were first seen.
    pub fn clients_by_first_seen(&self) -> Vec<(SocketAddr, &ClientContext)> {
        let mut clients: Vec<_> =
            self.clients.iter().map(|(addr, context)| (*addr, context)).collect();
        clients.sort_by_key(|(_, context)| context.arrival);
        clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn counts_datagrams_and_bytes_per_client() {
        let mut table = ClientTable::new(10);
        let now = Instant::now();
        table.record(addr(1), 20, now);
        table.record(addr(2), 5, now);
        let (context, evicted) = table.record(addr(1), 30, now);
        assert_eq!((context.datagrams, context.bytes), (2, 50));
        assert!(evicted.is_none());
        assert_eq!(table.get(&addr(2)).map(|c| c.datagrams), Some(1));
        assert_eq!(table.len(), 2);
    }

    #[test]
    fn a_full_table_evicts_the_least_recently_seen_client() {
        let mut table = ClientTable::new(2);
        let now = Instant::now();
        table.record(addr(1), 1, now);
        table.record(addr(2), 1, now);
        table.record(addr(1), 1, now); // 1 is now more recent than 2
        let (_, evicted) = table.record(addr(3), 1, now);
        let evicted = evicted.expect("the table was full");
        assert_eq!(evicted.addr, addr(2));
        assert_eq!(evicted.context.datagrams, 1);
        assert_eq!(table.len(), 2);
        assert!(table.get(&addr(1)).is_some() && table.get(&addr(3)).is_some());
        assert_eq!(table.evictions(), 1);
    }

    #[test]
    fn a_known_client_never_causes_an_eviction() {
        let mut table = ClientTable::new(1);
        let now = Instant::now();
        table.record(addr(1), 1, now);
        for _ in 0..10 {
            assert!(table.record(addr(1), 1, now).1.is_none());
        }
        assert_eq!(table.get(&addr(1)).map(|c| c.datagrams), Some(11));
    }

    #[test]
    fn a_flood_of_new_addresses_never_grows_the_table() {
        let mut table = ClientTable::new(64);
        let now = Instant::now();
        for port in 1..=50_000 {
            table.record(addr(port), 10, now);
        }
        assert_eq!(table.len(), 64);
        assert_eq!(table.evictions(), 50_000 - 64);
        // The survivors are the 64 most recent senders, and the order map matches the table.
        assert!(table.get(&addr(50_000)).is_some() && table.get(&addr(49_936)).is_none());
        assert_eq!(table.by_recency.len(), table.len());
    }

    #[test]
    fn clients_are_listed_in_the_order_they_first_came() {
        let mut table = ClientTable::new(10);
        let now = Instant::now();
        for port in [5, 3, 9, 3] {
            table.record(addr(port), 1, now);
        }
        let order: Vec<u16> = table.clients_by_first_seen().iter().map(|(a, _)| a.port()).collect();
        assert_eq!(order, [5, 3, 9]);
    }
}
