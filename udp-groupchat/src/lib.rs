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
//! - [`protocol`]: the hub's text protocol, one message per datagram.
//! - [`server`]: the seed's broadcaster (`src/server.rs`), then the hub (`src/server/hub.rs`).
//! - [`text`]: what chat text may not contain: blank-looking characters, stacked marks.
//! - [`seal`] and [`replay_window`]: the sealed chat (`--passphrase-file`), lines encrypted
//!   and authenticated end to end, replays dropped; the hub relays what it cannot read.
//! - [`client`]: the seed's broadcast client (`src/client.rs`), then the hub's client
//!   (`src/client/hub.rs`), which reads the keyboard and the network at once (two threads,
//!   merged with crossbeam-channel's `select!`).

pub mod client;
pub mod protocol;
pub mod replay_window;
pub mod seal;
pub mod server;
pub mod text;

#[cfg(test)]
mod tests;

use std::net::{SocketAddr, UdpSocket};

use shared::address::AddressDefaults;
use shared::error::{Context, Result};
use socket2::{Domain, Protocol, Socket, Type};

/// The seed's address: `UDP_IP_ADDRESS = '127.0.0.1'`, `UDP_PORT_NO = 2410`.
#[derive(Debug, Clone, Copy)]
pub struct Course;

impl AddressDefaults for Course {
    const HOST: &'static str = "127.0.0.1";
    const PORT: u16 = 2410;
}

/// A UDP socket bound to `addr` that shares its port with other sockets and may send
/// broadcasts: what the seed's broadcast chat needs, since every client on a host binds the
/// same chat port to receive the broadcasts.
///
/// `SO_REUSEADDR` and `SO_REUSEPORT` let several sockets bind the same address and port (on
/// Linux, each of them then gets a copy of every broadcast datagram); `SO_BROADCAST` allows
/// sending to a broadcast address. std's `UdpSocket` cannot set the first two, so the socket
/// is made with socket2.
pub fn bind_shared_port(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .context(|| "cannot create a UDP socket")?;
    socket.set_reuse_address(true).context(|| "cannot set SO_REUSEADDR")?;
    set_reuse_port(&socket)?;
    socket.set_broadcast(true).context(|| "cannot set SO_BROADCAST")?;
    socket.bind(&addr.into()).context(|| format!("cannot bind {addr}"))?;
    Ok(socket.into())
}

/// The broadcast server's own socket: it may send broadcasts, and it shares its port only
/// with sockets of the same user.
///
/// The clients must share the chat port (each binds it to hear the broadcasts), but the
/// server need not let anyone share *its* socket: with `SO_REUSEADDR` on it, any program,
/// of any user, could bind the same address and port and be handed the datagrams meant for
/// the server. So the server sets only `SO_REUSEPORT`, which Linux grants to sockets of the
/// same user alone (the clients, started by the same user, can still bind the port); another
/// user's bind fails. Where there is no `SO_REUSEPORT`, it sets nothing.
pub fn bind_broadcast_server(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .context(|| "cannot create a UDP socket")?;
    set_reuse_port_quietly(&socket)?;
    socket.set_broadcast(true).context(|| "cannot set SO_BROADCAST")?;
    socket.bind(&addr.into()).context(|| format!("cannot bind {addr}"))?;
    Ok(socket.into())
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))))]
fn set_reuse_port_quietly(socket: &Socket) -> Result<()> {
    socket.set_reuse_port(true).context(|| "cannot set SO_REUSEPORT")
}

#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port_quietly(_: &Socket) -> Result<()> {
    Ok(())
}

#[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))))]
fn set_reuse_port(socket: &Socket) -> Result<()> {
    socket.set_reuse_port(true).context(|| "cannot set SO_REUSEPORT")
}

/// Without `SO_REUSEPORT` (Windows, for one), `SO_REUSEADDR` is all there is: on Windows it
/// lets several sockets share the port too.
#[cfg(not(all(
    unix,
    not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
)))]
fn set_reuse_port(_: &Socket) -> Result<()> {
    shared::console::print_line(format_args!(
        "note: this system has no SO_REUSEPORT; relying on SO_REUSEADDR to share the chat port"
    ));
    Ok(())
}
