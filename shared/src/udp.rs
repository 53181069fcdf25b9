//! UDP sockets and the datagrams they carry: how big a datagram can be, and sockets with room
//! for the largest one.
//!
//! Over UDP one `send_to` is one datagram and one `recv_from` receives exactly one, whole or
//! not at all. The course's Python servers call `recvfrom(2048)`: a longer datagram is cut
//! to 2048 bytes *silently*. Here every receive buffer is [`RECV_BUFFER_SIZE`] bytes, enough
//! for the largest datagram UDP can carry, so nothing is ever cut; and every socket made here
//! asks for send and receive buffers of at least [`SOCKET_BUFFER_SIZE`], so that the largest
//! datagram can go out on every system.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

use crate::error::{Context, Result};

/// The largest UDP payload over IPv4: 65,535 (the IP length field) − 20 (IP header) − 8
/// (UDP header) bytes.
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Receive buffers are this large: one byte more than any datagram, so no datagram is ever
/// truncated (IPv6 on loopback allows 65,527 bytes, which also fits).
pub const RECV_BUFFER_SIZE: usize = 65_536;

/// The send and receive buffer every UDP socket here asks for, at least: room for a few
/// of the largest datagrams.
pub const SOCKET_BUFFER_SIZE: usize = 256 * 1024;

/// Binds a UDP socket for a server, with an error that names the address, and buffers
/// big enough for the largest datagram (see [`raise_buffers`]).
pub fn bind_udp(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = UdpSocket::bind(addr).context(|| format!("cannot bind {addr}"))?;
    raise_buffers(&socket)?;
    Ok(socket)
}

/// Raises `socket`'s send and receive buffers to [`SOCKET_BUFFER_SIZE`] if they are smaller
/// (never lowers them). A socket cannot send a datagram larger than its send buffer: macOS
/// gives UDP sockets 9,216 bytes by default, so without this a 65,507-byte datagram could
/// not go out there. (Linux and Windows start larger; the system may cap what it grants.)
pub fn raise_buffers(socket: &UdpSocket) -> Result<()> {
    let socket = socket2::SockRef::from(socket);
    if socket.send_buffer_size().context(|| "cannot read the send buffer size")?
        < SOCKET_BUFFER_SIZE
    {
        socket
            .set_send_buffer_size(SOCKET_BUFFER_SIZE)
            .context(|| "cannot raise the send buffer size")?;
    }
    if socket.recv_buffer_size().context(|| "cannot read the receive buffer size")?
        < SOCKET_BUFFER_SIZE
    {
        socket
            .set_recv_buffer_size(SOCKET_BUFFER_SIZE)
            .context(|| "cannot raise the receive buffer size")?;
    }
    Ok(())
}

/// A client's socket for talking to `server`: bound to any free port of the same address
/// family (the OS picks the port, as in the textbook), and *connected* to the server.
///
/// `connect` on a UDP socket sends nothing. It records the peer, so that `send`/`recv` need no
/// address, datagrams from anyone else are filtered out, and the kernel can report
/// "connection refused" when nothing listens at the server's port instead of leaving the
/// client waiting for its timeout.
pub fn connect_udp(server: SocketAddr) -> Result<UdpSocket> {
    let any: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(any).context(|| format!("cannot create a UDP socket on {any}"))?;
    raise_buffers(&socket)?;
    socket.connect(server).context(|| format!("cannot reach {server}"))?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_connected_client_socket_exchanges_with_its_server() {
        let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let client = connect_udp(server.local_addr().unwrap()).unwrap();
        client.send(b"ping").unwrap();
        let mut buf = [0; 16];
        server.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let (len, from) = server.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"ping");
        assert_eq!(from, client.local_addr().unwrap());
    }

    #[test]
    fn binding_a_taken_port_names_the_address() {
        let taken = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = taken.local_addr().unwrap();
        let error = bind_udp(addr).unwrap_err();
        assert_eq!(error.io_kind(), Some(io::ErrorKind::AddrInUse));
        assert!(error.to_string().starts_with(&format!("cannot bind {addr}: ")), "{error}");
    }

    #[test]
    fn sockets_have_room_for_the_largest_datagram() {
        let socket = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let buffers = socket2::SockRef::from(&socket);
        assert!(
            buffers.send_buffer_size().unwrap() > MAX_UDP_PAYLOAD,
            "the send buffer must hold a 65,507-byte datagram (macOS starts at 9,216)"
        );
        let client = connect_udp(socket.local_addr().unwrap()).unwrap();
        client.send(&vec![b'x'; MAX_UDP_PAYLOAD]).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buffer = vec![0; RECV_BUFFER_SIZE];
        assert_eq!(socket.recv(&mut buffer).unwrap(), MAX_UDP_PAYLOAD, "it should arrive whole");
    }
}
