//! One client, as the relay knows it: its address, its own socket towards the server, and
//! what the threads that carry its datagrams share about it.
//!
//! The relay's main thread makes a [`Client`] for each new source address (see
//! [`crate::relay`]); the client's reply thread, and every datagram of it waiting in a delay
//! queue (see [`crate::link`]), hold it by an `Arc`. It counts itself among the live clients
//! from [`Client::new`] until the last of them lets go, which is what bounds sockets and
//! threads while replaced clients' datagrams are still queued.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

/// One client, as the relay knows it.
#[derive(Debug)]
pub struct Client {
    /// The client's address: where its replies go.
    pub addr: SocketAddr,
    /// The client's own socket towards the server, connected to it.
    pub upstream: UdpSocket,
    /// That socket's address (where the server sees the client come from).
    pub upstream_addr: SocketAddr,
    /// Milliseconds since the relay started when it was last heard from (either direction).
    last_heard_ms: AtomicU64,
    /// Set when the client is dropped from the table: its reply thread ends.
    dropped: AtomicBool,
    /// Per direction, the highest sequence number sent so far (see `link`).
    pub(crate) highest_sent: [AtomicU64; 2],
    /// How many clients exist (in the table, or kept alive by their thread or queued
    /// datagrams): this one counts until it is dropped.
    live: Arc<AtomicUsize>,
    /// Bytes of the client's reply budget taken ahead of time (see
    /// `budget::PREPAID_BYTES`).
    pub(crate) prepaid: AtomicU64,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.live.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Client {
    /// The client at `addr`, relayed through `upstream` (bound at `upstream_addr`), heard
    /// from at `now_ms`; it counts in `live` until dropped.
    pub fn new(
        addr: SocketAddr,
        upstream: UdpSocket,
        upstream_addr: SocketAddr,
        now_ms: u64,
        live: &Arc<AtomicUsize>,
    ) -> Client {
        let client = Client {
            addr,
            upstream,
            upstream_addr,
            last_heard_ms: AtomicU64::new(now_ms),
            dropped: AtomicBool::new(false),
            highest_sent: [AtomicU64::new(0), AtomicU64::new(0)],
            live: Arc::clone(live),
            prepaid: AtomicU64::new(0),
        };
        live.fetch_add(1, Ordering::Relaxed);
        client
    }

    /// Notes that a datagram came from it, or for it from the server, at `ms`.
    pub fn heard(&self, ms: u64) {
        self.last_heard_ms.store(ms, Ordering::Relaxed);
    }

    /// When it was last heard from, in milliseconds since the relay started.
    pub fn last_heard(&self) -> u64 {
        self.last_heard_ms.load(Ordering::Relaxed)
    }

    /// Marks it as no longer in the client table: its reply thread ends.
    pub fn drop_from_table(&self) {
        self.dropped.store(true, Ordering::Relaxed);
    }

    /// Whether it is no longer in the client table.
    pub fn is_dropped(&self) -> bool {
        self.dropped.load(Ordering::Relaxed)
    }
}
