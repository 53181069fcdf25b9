//! UDP datagrams: how big they can be, how to show one as text, and the sockets that carry them.
//!
//! Over UDP one `send_to` is one datagram and one `recv_from` receives exactly one, whole or
//! not at all. The course's Python servers call `recvfrom(2048)`: a longer datagram is cut
//! to 2048 bytes *silently*. Here every receive buffer is [`RECV_BUFFER_SIZE`] bytes, enough
//! for the largest datagram UDP can carry, so nothing is ever cut.
//!
//! Datagrams are bytes, not text. A server must cope with bytes that are not UTF-8, so the
//! helpers here replace invalid sequences (lossy decoding) and never panic.

use std::borrow::Cow;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::Duration;

use crate::error::{Context, Error, Result, describe_io_error};
use crate::report::Log;

/// The largest UDP payload over IPv4: 65,535 (the IP length field) − 20 (IP header) − 8
/// (UDP header) bytes.
pub const MAX_UDP_PAYLOAD: usize = 65_507;

/// Receive buffers are this large: one byte more than any datagram, so no datagram is ever
/// truncated (IPv6 on loopback allows 65,527 bytes, which also fits).
pub const RECV_BUFFER_SIZE: usize = 65_536;

/// How many characters of a datagram a log line shows before it says `...`.
pub const PREVIEW_CHARS: usize = 80;

/// A datagram as text: invalid UTF-8 replaced by `U+FFFD`, one trailing `\n` or `\r\n`
/// removed (a line typed at a terminal ends with one). Borrows when it can.
pub fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

/// A datagram as a log shows it: [`as_text`], at most `max_chars` characters, then
/// `... (N bytes)` when it was longer. Control characters are escaped (`\u{1b}`), so that a
/// datagram cannot move the cursor or recolour the server's terminal; so are the line and
/// paragraph separators and the characters that display as nothing ([`is_invisible`]), so
/// that it cannot hide text or reverse what follows it on the line (U+202E) either.
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let text = as_text(bytes);
    let mut shown = String::with_capacity(text.len().min(max_chars + 16));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            shown.push_str(&format!("... ({} bytes)", bytes.len()));
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else if is_invisible(c) || matches!(c, '\u{2028}' | '\u{2029}') {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Whether `c` is a default-ignorable code point: one that displays as nothing at all
/// (Unicode's `Default_Ignorable_Code_Point` property, DerivedCoreProperties.txt, Unicode
/// 15.1). Among them: the soft hyphen, the Arabic letter mark, Hangul fillers, zero-width
/// spaces and joiners, the direction controls, the word joiner, variation selectors, the
/// byte-order mark, and the tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// What a UDP server does with a failed `recv_from`: nothing, when the error is harmless
/// (its read timeout expired, Ctrl-C interrupted it, or on Windows a gone client's "port
/// unreachable" came back: see [`is_harmless_receive_error`]); otherwise a warning. Either
/// way the error concerns one datagram, not the server, so the server goes round its loop
/// again.
pub fn report_receive_error(log: &Log, error: &io::Error) {
    if !is_harmless_receive_error(error) {
        log.warn(format_args!("receive failed: {}", describe_io_error(error)));
    }
}

/// Bytes written the way Python prints them, `b'Hello, world'`, as the course's notebooks
/// show received data: printable ASCII as is, `\t` `\n` `\r` `\\` `\'` escaped, any other
/// byte as `\xNN`. At most `max_bytes` bytes are shown, then `...` and the full length.
pub fn bytes_literal(bytes: &[u8], max_bytes: usize) -> String {
    let shown = &bytes[..bytes.len().min(max_bytes)];
    let mut literal = String::with_capacity(shown.len() + 3);
    literal.push_str("b'");
    for &byte in shown {
        match byte {
            b'\t' => literal.push_str("\\t"),
            b'\n' => literal.push_str("\\n"),
            b'\r' => literal.push_str("\\r"),
            b'\\' => literal.push_str("\\\\"),
            b'\'' => literal.push_str("\\'"),
            b' '..=b'~' => literal.push(char::from(byte)),
            _ => literal.push_str(&format!("\\x{byte:02x}")),
        }
    }
    literal.push('\'');
    if shown.len() < bytes.len() {
        literal.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    literal
}

/// Binds a UDP socket for a server, with an error that names the address, and buffers
/// big enough for the largest datagram (see [`raise_buffers`]).
pub fn bind_udp(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = UdpSocket::bind(addr).context(|| format!("cannot bind {addr}"))?;
    raise_buffers(&socket)?;
    Ok(socket)
}

/// The send and receive buffer every UDP socket here asks for, at least: room for a few
/// of the largest datagrams.
pub const SOCKET_BUFFER_SIZE: usize = 256 * 1024;

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
    use super::*;

    #[test]
    fn text_drops_one_trailing_newline() {
        assert_eq!(as_text(b"hello\n"), "hello");
        assert_eq!(as_text(b"hello\r\n"), "hello");
        assert_eq!(as_text(b"hello\n\n"), "hello\n");
        assert_eq!(as_text(b""), "");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(as_text(b"caf\xff!"), "caf\u{FFFD}!");
        assert_eq!(as_text(&[0xC3]), "\u{FFFD}");
    }

    #[test]
    fn preview_escapes_control_characters() {
        assert_eq!(preview(b"a\tb\x1b[31m", 80), "a\\tb\\u{1b}[31m");
    }

    #[test]
    fn preview_escapes_invisible_characters_and_line_separators() {
        let sneaky = "pay \u{202E}0001$\u{200B} to\u{2028}bob\u{E0041}";
        assert_eq!(
            preview(sneaky.as_bytes(), 80),
            "pay \\u{202e}0001$\\u{200b} to\\u{2028}bob\\u{e0041}",
            "a log must show what would be invisible or reorder the line"
        );
        assert_eq!(preview("café ünïcode 日本".as_bytes(), 80), "café ünïcode 日本");
    }

    #[test]
    fn preview_shortens_long_datagrams_and_says_how_long_they_were() {
        let long = vec![b'x'; 1000];
        let shown = preview(&long, 10);
        assert_eq!(shown, "xxxxxxxxxx... (1000 bytes)");
        assert_eq!(preview(b"exactly10!", 10), "exactly10!");
    }

    #[test]
    fn bytes_literal_reads_like_python() {
        assert_eq!(bytes_literal(b"Hello, world (15548)", 80), "b'Hello, world (15548)'");
        assert_eq!(bytes_literal(b"it's\tok\r\n", 80), r"b'it\'s\tok\r\n'");
        assert_eq!(bytes_literal(b"caf\xc3\xa9 \x00\\", 80), r"b'caf\xc3\xa9 \x00\\'");
        assert_eq!(bytes_literal(b"", 80), "b''");
        assert_eq!(bytes_literal(&[b'z'; 100], 3), "b'zzz'... (100 bytes)");
    }

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

    #[test]
    fn a_read_timeout_is_recognised() {
        let socket = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let error = socket.recv_from(&mut [0; 4]).unwrap_err();
        assert!(is_timeout(&error), "{error:?}");
    }
}
