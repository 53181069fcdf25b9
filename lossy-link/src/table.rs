//! The client table: the clients the relay relays for now, by address, owned by the main
//! thread (so it needs no lock).
//!
//! Bounded by `--max-clients`: when it is full, a new client replaces the one heard from
//! least recently, as a NAT's table does. A client silent for `--idle-timeout` is dropped.
//! A client dropped from the table is told so (its reply thread ends); its socket lives on
//! while datagrams for it are still queued (see [`crate::client`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::client::Client;
use crate::flow::Flow;
use crate::sockets::is_same_socket;

/// A client in the table: its shared part and its upstream flow (owned by the main thread).
pub struct Entry {
    /// The part its reply thread and its queued datagrams share.
    pub client: Arc<Client>,
    /// Its datagrams' way up: their dice and their order.
    pub flow: Flow,
    /// The number of the client's latest datagram among all clients' (a tie-breaker for
    /// clients last heard from in the same millisecond).
    last_datagram: u64,
    /// The address of the client's upstream socket.
    upstream_addr: SocketAddr,
}

impl Entry {
    /// A new client's entry, its datagrams going up as `flow`.
    pub fn new(client: Arc<Client>, flow: Flow) -> Entry {
        let upstream_addr = client.upstream_addr;
        Entry { client, flow, last_datagram: 0, upstream_addr }
    }
}

/// The clients the relay relays for now.
pub struct ClientTable {
    entries: HashMap<SocketAddr, Entry>,
    max_clients: usize,
    /// Datagrams relayed so far: orders clients heard from in the same millisecond, for
    /// eviction.
    datagrams: u64,
}

impl ClientTable {
    /// An empty table for at most `max_clients` clients.
    pub fn new(max_clients: usize) -> Self {
        ClientTable { entries: HashMap::new(), max_clients, datagrams: 0 }
    }

    /// Whether `from` is in the table.
    #[inline] // on every datagram's path, as when the table was part of relay.rs
    pub fn contains(&self, from: SocketAddr) -> bool {
        self.entries.contains_key(&from)
    }

    /// Whether a datagram from `from` could come from one of the relay's own upstream
    /// sockets (`--to` leads back to the relay).
    pub fn is_upstream_socket(&self, from: SocketAddr) -> bool {
        self.entries.values().any(|entry| is_same_socket(entry.upstream_addr, from))
    }

    /// Whether a new client must replace one.
    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_clients
    }

    /// Adds the client at `from`.
    pub fn insert(&mut self, from: SocketAddr, entry: Entry) {
        self.entries.insert(from, entry);
    }

    /// The entry of `from` (if it is in the table), noted as heard from at `now_ms`.
    #[inline] // on every datagram's path, as when the table was part of relay.rs
    pub fn heard(&mut self, from: SocketAddr, now_ms: u64) -> Option<&mut Entry> {
        let entry = self.entries.get_mut(&from)?;
        entry.client.heard(now_ms);
        entry.last_datagram = self.datagrams;
        self.datagrams += 1;
        Some(entry)
    }

    /// Drops the client heard from least recently; returns its address.
    pub fn evict_least_recent(&mut self) -> Option<SocketAddr> {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| (entry.client.last_heard(), entry.last_datagram))
            .map(|(addr, _)| *addr);
        oldest.and_then(|addr| self.entries.remove(&addr)).map(|entry| {
            entry.client.drop_from_table();
            entry.client.addr
        })
    }

    /// Drops every client not heard from for `idle_ms` by `now_ms`, calling `dropped` with
    /// the address of each.
    pub fn drop_idle(&mut self, now_ms: u64, idle_ms: u64, mut dropped: impl FnMut(SocketAddr)) {
        self.entries.retain(|addr, entry| {
            let idle = now_ms.saturating_sub(entry.client.last_heard()) >= idle_ms;
            if idle {
                entry.client.drop_from_table();
                dropped(*addr);
            }
            !idle
        });
    }

    /// Drops every client (the relay is stopping): their reply threads end.
    pub fn drop_all(&self) {
        for entry in self.entries.values() {
            entry.client.drop_from_table();
        }
    }
}
