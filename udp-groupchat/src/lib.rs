//! # udp-groupchat: a group chat over UDP
//!
//! The course's seed is a small group chat: each client asks for a username, then reads what
//! its user types on one thread while printing what arrives on another; the server relays
//! every message to everyone by **broadcasting** it. This module builds that design and a
//! safer one:
//!
//! - **broadcast mode** (`--broadcast`, the seed's design): the server sends each message to
//!   the broadcast address; every client on the network, sharing the chat port, receives
//!   it. Simple, and open to all: anyone on the network can read the chat, and anyone can
//!   write `alice: ...` and be believed.
//! - **hub mode** (the default): the server keeps the member list and relays only to
//!   members. It stamps each line with the sender's name itself, admits an address only
//!   after the address has answered a challenge, never answers a stranger with more bytes
//!   than the stranger sent, gives each member a session secret that everything it sends
//!   the member carries, refuses look-alike names, and bounds names, messages, members and
//!   the rate of any one source. See [`server`].
//!
//! - [`args`]: the command line of both programs.
//! - [`server`]: the server's socket code (`src/server.rs`): the seed's broadcaster, then
//!   the hub's loop; the hub's reactions to each datagram are in `src/server/hub.rs`.
//! - [`protocol`]: the hub's text protocol, one message per datagram.
//! - [`names`]: what a name may be, and when two names look the same.
//! - [`text`]: what chat text may hold: no control or invisible characters, no runs of
//!   spaces, blank-looking characters or stacked marks.
//! - [`seal`] and [`replay_window`]: the sealed chat (`--passphrase-file`), lines encrypted
//!   and authenticated end to end, replays dropped; the hub relays what it cannot read.
//! - [`client`]: the seed's broadcast client (`src/client.rs`), then the hub's client
//!   (`src/client/hub.rs`), which reads the keyboard and the network at once (two threads,
//!   merged with crossbeam-channel's `select!`).
//! - [`load`]: load mode (`--clients N`), members that post and count the hub's fan-out.
//! - [`port_sharing`]: the sockets of the broadcast chat, which share the chat port.

pub mod args;
pub mod client;
pub mod load;
pub mod names;
pub mod port_sharing;
pub mod protocol;
pub mod replay_window;
pub mod seal;
pub mod server;
pub mod text;

#[cfg(test)]
mod tests;

use shared::address::AddressDefaults;

/// The seed's address: `UDP_IP_ADDRESS = '127.0.0.1'`, `UDP_PORT_NO = 2410`.
#[derive(Debug, Clone, Copy)]
pub struct Course;

impl AddressDefaults for Course {
    const HOST: &'static str = "127.0.0.1";
    const PORT: u16 = 2410;
}
