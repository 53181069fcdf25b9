//! # udp-threaded: a thread per datagram, no threads, and a worker pool
//!
//! The course's seed ("Python Networking Using UDP with Threading") shows a UDP server that
//! starts a new thread for every datagram, and the same server without threads. Module 3h's
//! notebook ends by asking what happens when each request takes long to handle. This module
//! answers with numbers: the same server in three modes, and a load client to measure them.
//!
//! - **single** (the seed's "without threading"): the receiving loop handles each datagram
//!   itself. While it handles one, nobody else is served: with 200 ms of work per request,
//!   eight clients wait 8 × 200 ms for the last answer.
//! - **thread-per-datagram** (the seed's server, the default): the loop starts a thread per
//!   datagram and goes straight back to receiving. Requests overlap, but every request pays
//!   for a new thread, and a flood of datagrams would start a flood of threads, so the
//!   number alive at once is capped (`--max-threads`).
//! - **pool**: a fixed set of worker threads, started once, takes datagrams from a bounded
//!   queue. No thread is created per request; when the queue is full the datagram is
//!   dropped and counted, as the network itself would drop it.
//!
//! `--work-ms` makes every request take that long (a sleep, standing in for real work), so
//! the difference between the modes shows: run the client's load mode against each.
//!
//! - [`handler`]: the seed's `handle_client`, shared by all three modes.
//! - [`pool`]: the worker pool (the Rust Book's thread pool, with a bounded queue).
//! - [`server`]: the receiving loop and the three ways to hand datagrams off.
//! - [`client`]: the seed's client.
//! - [`load`]: the client's load mode, for comparing the modes (the `client` binary
//!   chooses it).
//! - [`args`]: the command lines.

pub mod args;
pub mod client;
pub mod handler;
pub mod load;
pub mod pool;
pub mod server;

#[cfg(test)]
mod tests;

use shared::address::AddressDefaults;

/// The seed's address: `host='localhost'`, `port=6532`.
#[derive(Debug, Clone, Copy)]
pub struct Seed;

impl AddressDefaults for Seed {
    const HOST: &'static str = "localhost";
    const PORT: u16 = 6532;
}

/// What the server answers to every datagram, as in the seed.
pub const RESPONSE: &[u8] = b"Message received";
