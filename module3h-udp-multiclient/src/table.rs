//! The client table: what the server remembers about each client, and how much of it.
//!
//! The notebook keeps `CLIENT_TABLE = {}` and adds every new address to it, forever.
//! Here the table has a size limit. When a datagram comes from a new address and the table
//! is full, the entry seen least recently is removed ("evicted") to make room. A flood of
//! datagrams from 100,000 different ports then costs the table no more memory than
//! `--max-clients` entries, and the clients that keep talking keep their context.
//!
//! Finding the least recently seen client must not mean scanning the whole table for every
//! new address (a flood would make that slow), nor reordering anything big for every
//! datagram (every datagram makes its client the most recent). So the table keeps its
//! clients in a `Vec`, each entry linked to the next older and the next newer one: a chain
//! from the least to the most recently seen (the textbook LRU list; Python's `OrderedDict`
//! is one too). A datagram moves its client to the newest end by changing a few links; the
//! client to evict is always at the oldest end. And a map, address → place in the `Vec`,
//! finds a client in one lookup.

use std::collections::HashMap;
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
    /// How many clients came before it (orders the summary; `first_seen` may tie).
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

/// One client in the table, and its neighbours in the recency chain (places in
/// `ClientTable::entries`; `None` at the ends).
#[derive(Debug)]
struct Entry {
    addr: SocketAddr,
    context: ClientContext,
    older: Option<usize>,
    newer: Option<usize>,
}

/// Clients' contexts keyed by address, holding at most `max_clients` of them.
#[derive(Debug)]
pub struct ClientTable {
    /// Each client's place in `entries`.
    places: HashMap<SocketAddr, usize>,
    /// The clients, chained from the least to the most recently seen.
    entries: Vec<Entry>,
    /// The least and the most recently seen client: the two ends of the chain.
    oldest: Option<usize>,
    newest: Option<usize>,
    /// Clients that ever came; each new one's number orders the summary.
    arrivals: u64,
    max_clients: usize,
    evictions: u64,
}

impl ClientTable {
    /// An empty table for at most `max_clients` clients (at least 1).
    pub fn new(max_clients: usize) -> Self {
        ClientTable {
            places: HashMap::new(),
            entries: Vec::new(),
            oldest: None,
            newest: None,
            arrivals: 0,
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
        let (place, evicted) = match self.places.get(&addr) {
            Some(&place) => {
                self.unchain(place);
                (place, None)
            }
            None => self.admit(addr, now),
        };
        // Move the client to the most recent end of the chain.
        self.chain_as_newest(place);

        let context = &mut self.entries[place].context;
        context.datagrams += 1;
        context.bytes += len as u64;
        context.last_seen = now;
        (context, evicted)
    }

    /// Gives a new client a place (the least recently seen client's, if the table is full),
    /// not yet counted nor chained; returns the place, and the eviction if there was one.
    fn admit(&mut self, addr: SocketAddr, now: Instant) -> (usize, Option<Eviction>) {
        self.arrivals += 1;
        let context = ClientContext {
            datagrams: 0,
            bytes: 0,
            first_seen: now,
            last_seen: now,
            arrival: self.arrivals,
        };
        let fresh = Entry { addr, context, older: None, newer: None };
        let (place, evicted) = if self.entries.len() < self.max_clients {
            self.entries.push(fresh);
            (self.entries.len() - 1, None)
        } else {
            let (place, eviction) = self.evict_least_recent(fresh);
            (place, Some(eviction))
        };
        self.places.insert(addr, place);
        (place, evicted)
    }

    /// Puts `fresh` in the place of the client seen least recently (unchained, and
    /// forgotten); returns that place, and the eviction. Only for a full table.
    fn evict_least_recent(&mut self, fresh: Entry) -> (usize, Eviction) {
        // A full table has an oldest client (it holds at least one).
        let place = self.oldest.unwrap_or(0);
        self.unchain(place);
        let old = std::mem::replace(&mut self.entries[place], fresh);
        self.places.remove(&old.addr);
        self.evictions += 1;
        (place, Eviction { addr: old.addr, context: old.context, max_clients: self.max_clients })
    }

    /// Takes the entry at `place` out of the recency chain, linking its neighbours.
    fn unchain(&mut self, place: usize) {
        let Entry { older, newer, .. } = self.entries[place];
        match older {
            Some(older) => self.entries[older].newer = newer,
            None => self.oldest = newer,
        }
        match newer {
            Some(newer) => self.entries[newer].older = older,
            None => self.newest = older,
        }
    }

    /// Links the (unchained) entry at `place` at the most recent end of the chain.
    fn chain_as_newest(&mut self, place: usize) {
        self.entries[place].older = self.newest;
        self.entries[place].newer = None;
        match self.newest {
            Some(newest) => self.entries[newest].newer = Some(place),
            None => self.oldest = Some(place),
        }
        self.newest = Some(place);
    }

    /// The context of the client at `addr`, if it is in the table.
    pub fn get(&self, addr: &SocketAddr) -> Option<&ClientContext> {
        self.places.get(addr).map(|&place| &self.entries[place].context)
    }

    /// How many clients the table holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table holds no client.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
            self.entries.iter().map(|entry| (entry.addr, &entry.context)).collect();
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
        // The survivors are the 64 most recent senders, and the chain holds each of them once.
        assert!(table.get(&addr(50_000)).is_some() && table.get(&addr(49_936)).is_none());
        assert_eq!(chain(&table), (49_937..=50_000).map(addr).collect::<Vec<_>>());
    }

    /// The clients from the least to the most recently seen, following the chain's links
    /// (each checked against its neighbour's link back).
    fn chain(table: &ClientTable) -> Vec<SocketAddr> {
        let mut order = Vec::new();
        let mut at = table.oldest;
        let mut previous = None;
        while let Some(place) = at {
            assert!(order.len() < table.len(), "the chain has a cycle");
            let entry = &table.entries[place];
            assert_eq!(entry.older, previous, "a link back is wrong");
            order.push(entry.addr);
            previous = Some(place);
            at = entry.newer;
        }
        assert_eq!(table.newest, previous, "the newest end is wrong");
        order
    }

    #[test]
    fn every_datagram_moves_its_client_to_the_newest_end_of_the_chain() {
        let mut table = ClientTable::new(4);
        let now = Instant::now();
        for port in [1, 2, 3, 1, 3, 3, 4, 2] {
            table.record(addr(port), 1, now);
        }
        assert_eq!(chain(&table), [addr(1), addr(3), addr(4), addr(2)]);
        let (_, evicted) = table.record(addr(5), 1, now);
        assert_eq!(evicted.map(|eviction| eviction.addr), Some(addr(1)));
        assert_eq!(chain(&table), [addr(3), addr(4), addr(2), addr(5)]);
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
