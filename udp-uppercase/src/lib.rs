//! # udp-uppercase: the textbook UDP client and server
//!
//! The first socket program of the course (and of Kurose & Ross's textbook):
//!
//! 1. The client reads a line from its keyboard and sends it to the server.
//! 2. The server receives it and converts the characters to uppercase.
//! 3. The server sends the modified line back to the client.
//! 4. The client receives it and prints it.
//!
//! The lesson is UDP itself. There is no connection: the server binds a port and waits;
//! every `recv_from` hands it one whole datagram *and the address it came from*, and that
//! address is all it needs to reply with `send_to`. Nothing tells the client whether its
//! datagram arrived, so a client must decide how long to wait for an answer (`--timeout`):
//! the textbook's client would wait forever.
//!
//! - [`server`]: bind, then receive → uppercase → reply, until Ctrl-C.
//! - [`client`]: read lines (or `--message`), send each, print each reply.
//! - [`load`]: the client's load mode, for measuring the server (the `client` binary
//!   chooses it).
//! - [`args`]: the command lines.

pub mod args;
pub mod client;
pub mod load;
pub mod server;

#[cfg(test)]
mod tests;

use shared::address::AddressDefaults;

/// The textbook's address: `serverName = "127.0.0.1"`, `serverPort = 12000`.
#[derive(Debug, Clone, Copy)]
pub struct Textbook;

impl AddressDefaults for Textbook {
    const HOST: &'static str = "127.0.0.1";
    const PORT: u16 = 12000;
}
