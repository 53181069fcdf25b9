//! The other end of a loop between servers, and a socket on a well-known service's port:
//! what the tests of the reply rule ([`crate::reply`]) attack a server with.

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crate::udp::{RECV_BUFFER_SIZE, connect_udp};

/// Plays the other half of a loop between two servers (what one forged datagram starts,
/// see [`crate::reply`]): sends `first` to `server` from a fresh socket, then sends back
/// every datagram that arrives, for `duration` (or until the server has been silent for a
/// second). Returns how many arrived: a server that
/// answers everything without limit sends tens of thousands a second.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
pub fn bounce_for(server: SocketAddr, first: &[u8], duration: Duration) -> u64 {
    let socket = connect_udp(server).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    socket.send(first).unwrap();
    let mut buffer = vec![0; RECV_BUFFER_SIZE];
    let (mut arrived, deadline) = (0, Instant::now() + duration);
    let mut last_heard = Instant::now();
    // Ends at `duration`, or once the server has been silent for a second: the loop is over.
    while Instant::now() < deadline && last_heard.elapsed() < Duration::from_secs(1) {
        if let Ok(len) = socket.recv(&mut buffer) {
            arrived += 1;
            last_heard = Instant::now();
            let _ = socket.send(&buffer[..len]);
        }
    }
    arrived
}

/// Points two servers at each other, as one forged datagram would (Loop DoS), and counts
/// what they send. A test cannot forge a source address (that needs a raw socket, so root),
/// so the test is the wire between them: one socket faces `a`, another faces `b`, and each
/// datagram that arrives on one is sent on by the other, unchanged. Each server sees what
/// the other sent, from one peer socket, as in a direct loop. Starts with `first` to `a`;
/// ends at `duration`, or once both have been silent for a second (the loop is over).
/// Returns how many datagrams crossed the wire.
pub fn wire_between(a: SocketAddr, b: SocketAddr, first: &[u8], duration: Duration) -> u64 {
    wire_between_each(a, b, &[first], duration)
}

/// [`wire_between`] with several first datagrams to `a`: several loops between the same two
/// servers at once, their datagrams taking turns.
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
pub fn wire_between_each(
    a: SocketAddr,
    b: SocketAddr,
    firsts: &[&[u8]],
    duration: Duration,
) -> u64 {
    let to_a = connect_udp(a).unwrap();
    let to_b = connect_udp(b).unwrap();
    for socket in [&to_a, &to_b] {
        socket.set_nonblocking(true).unwrap();
    }
    for first in firsts {
        to_a.send(first).unwrap();
    }
    let mut buffer = vec![0; RECV_BUFFER_SIZE];
    let (mut crossed, deadline) = (0, Instant::now() + duration);
    let mut last_heard = Instant::now();
    while Instant::now() < deadline && last_heard.elapsed() < Duration::from_secs(1) {
        let mut idle = true;
        for (from, onward) in [(&to_a, &to_b), (&to_b, &to_a)] {
            if let Ok(len) = from.recv(&mut buffer) {
                crossed += 1;
                idle = false;
                last_heard = Instant::now();
                let _ = onward.send(&buffer[..len]);
            }
        }
        if idle {
            thread::sleep(Duration::from_micros(200));
        }
    }
    crossed
}

/// A UDP socket on a port below 1024 (a well-known service's, as a forged datagram would
/// claim), to check that a server does not answer it; `None`, with a note on stderr, where
/// the system does not allow it (such ports need root on Linux and macOS; Windows allows
/// them), so the test can skip.
#[allow(clippy::print_stderr, reason = "tells the person running the tests why one skipped")]
pub fn service_port_socket() -> Option<UdpSocket> {
    let socket = (1000..1024).find_map(|port| UdpSocket::bind(("127.0.0.1", port)).ok());
    if socket.is_none() {
        eprintln!("note: cannot bind a port below 1024 here (not root): test skipped");
    }
    socket
}
