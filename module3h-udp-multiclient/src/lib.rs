//! # Module 3h: multiple clients with UDP sockets
//!
//! One UDP socket can serve any number of clients, because every datagram arrives with the
//! address it came from (`data, addr = s.recvfrom(1024)` in the notebook). That address,
//! the client's IP and port, *identifies* the client: the server can keep a context for
//! each one (here: how many datagrams and bytes it sent, when it was first and last seen)
//! in a table keyed by address.
//!
//! The notebook's table is a dictionary that only grows. A server on a network cannot
//! afford that: anyone can send datagrams from a fresh port (or a forged address) each time
//! and fill its memory. So the table here is bounded (`--max-clients`): when it is full,
//! the client seen least recently makes room for the new one.
//!
//! - [`table`]: the client table, with its bound and its eviction rule.
//! - [`server`]: receive, echo, record in the table, log like the notebook.
//! - [`client`]: the notebook's `UDPMultiClient.py`: send `Hello, world (<pid>)` a few
//!   times and check every echo; run it in several terminals at once.
//! - [`load`]: the client's load mode, for measuring the server (the `client` binary
//!   chooses it).
//! - [`args`]: the command lines.

pub mod args;
pub mod client;
pub mod load;
pub mod server;
pub mod table;

#[cfg(test)]
mod tests;

use shared::address::AddressDefaults;

/// The notebook's address: `HOST = '127.0.0.1'`, `PORT = 12354`.
#[derive(Debug, Clone, Copy)]
pub struct Course;

impl AddressDefaults for Course {
    const HOST: &'static str = "127.0.0.1";
    const PORT: u16 = 12354;
}
