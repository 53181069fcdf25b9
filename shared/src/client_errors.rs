//! What a UDP client says when its server does not answer: nothing listening there, or no
//! reply in time, in UDP's words rather than the system's.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::error::Error;
use crate::io_errors::{is_port_unreachable, is_timeout};

/// The error for a failed send or receive on a client's connected UDP socket.
///
/// UDP has no connections, yet the error can say "connection refused": when a datagram
/// reaches a port where nothing listens, the server's kernel answers with an ICMP "port
/// unreachable", and Linux reports it on the next call on a connected socket (Windows
/// calls it "connection reset"). In UDP's words: no server is listening there.
pub fn udp_client_error(server: SocketAddr, error: io::Error) -> Error {
    if is_port_unreachable(&error) {
        Error::msg(format!(
            "no server is listening at {server} (start the server first, or check --host and --port)"
        ))
    } else {
        Error::io(format!("cannot talk to {server}"), error)
    }
}

/// The error for a client's request that got no reply: `error` is what the receive
/// returned after waiting `timeout` (a timeout, or one of [`udp_client_error`]'s cases).
pub fn no_reply_error(server: SocketAddr, timeout: Duration, error: io::Error) -> Error {
    if is_timeout(&error) {
        Error::msg(format!(
            "no reply from {server} within {} s: is the server running? (UDP says nothing when a \
             datagram or its reply is lost, or when a reply is too large to send)",
            timeout.as_secs_f64()
        ))
    } else {
        udp_client_error(server, error)
    }
}
