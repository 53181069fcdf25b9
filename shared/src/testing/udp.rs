//! A test's UDP client: a connected socket that waits at most [`patience`] for a reply.

use std::net::{SocketAddr, UdpSocket};

use super::patience;
use crate::text::as_text;
use crate::udp::{RECV_BUFFER_SIZE, connect_udp};

/// A UDP client socket for a test: connected to `server`, waiting at most [`patience`] for
/// each reply.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn udp_client(server: SocketAddr) -> UdpSocket {
    let socket = connect_udp(server).unwrap();
    socket.set_read_timeout(Some(patience())).unwrap();
    socket
}

/// Sends one datagram on a [`udp_client`] socket and returns the reply; fails the test if
/// none comes within [`patience`].
#[allow(clippy::unwrap_used, clippy::panic, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn udp_exchange(socket: &UdpSocket, datagram: &[u8]) -> Vec<u8> {
    socket.send(datagram).unwrap();
    let mut reply = vec![0; RECV_BUFFER_SIZE];
    let len = match socket.recv(&mut reply) {
        Ok(len) => len,
        Err(e) => panic!(
            "expected a reply to a datagram of {} bytes ({:?}...) within {:?}; got none: {e}",
            datagram.len(),
            as_text(&datagram[..datagram.len().min(40)]),
            patience()
        ),
    };
    reply.truncate(len);
    reply
}
