//! What an I/O error on a socket means: a timeout, an interrupt, a "port unreachable", or
//! something worth a word.
//!
//! A socket with a read timeout returns an error when the timeout expires, a signal
//! (Ctrl-C) can interrupt a wait, and over UDP an ICMP "port unreachable" comes back as an
//! error on a later call. None of these is a bug: each caller asks here which one it got (the
//! kind differs from one system to the next) and decides. A server goes round its loop
//! again; a client waits a little longer, or says what it means
//! ([`crate::client_errors`]). UDP and TCP code both use these.

use std::io;

/// Whether a UDP socket's error is the ICMP "port unreachable" that came back for an
/// earlier datagram: `ConnectionRefused` on Linux and macOS, `ConnectionReset` on Windows.
/// A server sees it too (on Windows), when a client has gone before its reply arrived:
/// that is the client's business, not an error of the server's.
pub fn is_port_unreachable(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset)
}

/// Whether an error is a read timeout: `set_read_timeout` expiring shows up as `WouldBlock`
/// on Unix and `TimedOut` on Windows.
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Whether a receive came back empty-handed for a harmless reason: its timeout expired, or
/// a signal interrupted it (Ctrl-C does: a socket with a timeout is not restarted after a
/// signal handler runs, see `man 7 signal`). Either way: check for shutdown, then try again.
pub fn is_timeout_or_interrupt(error: &io::Error) -> bool {
    is_timeout(error) || error.kind() == io::ErrorKind::Interrupted
}

/// Whether a server's failed `recv_from` is nothing to worry about: a timeout, an
/// interrupt, or (on Windows) a gone client's "port unreachable". Go round the loop again.
pub fn is_harmless_receive_error(error: &io::Error) -> bool {
    is_timeout_or_interrupt(error) || is_port_unreachable(error)
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_read_timeout_is_recognised() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let error = socket.recv_from(&mut [0; 4]).unwrap_err();
        assert!(is_timeout(&error), "{error:?}");
    }
}
