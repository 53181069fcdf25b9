//! Sharing the chat port, as the seed's broadcast chat needs: every client on a host binds
//! the same port to hear the broadcasts, and the broadcast server shares its own port with
//! them (and with nobody else it can keep out). std's `UdpSocket` cannot set
//! `SO_REUSEADDR` or `SO_REUSEPORT`, so these sockets are made with socket2.

use std::net::{SocketAddr, UdpSocket};

use shared::error::{Context, Result};
use socket2::{Domain, Protocol, Socket, Type};

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
