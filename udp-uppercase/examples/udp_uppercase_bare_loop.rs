//! The benchmark's yardstick: the least a UDP uppercase server can do.
//!
//! `recv_from`, uppercase ASCII in place, `send_to`, forever: no logging, no counting, no
//! Unicode, no shutdown (Ctrl-C kills it). The real server is measured against this loop
//! (see BENCHMARKS.md); whatever it is slower by is the price of what it adds.
//!
//! It uppercases (ASCII only, enough for the load client's requests) rather than echoing,
//! so that the load client, which checks every reply, counts its replies as correct.
//!
//! ```text
//! cargo run --release -p udp-uppercase --example udp_uppercase_bare_loop -- 12000
//! ```

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(12000);
    let socket = UdpSocket::bind(("127.0.0.1", port))?;
    shared::console::print_line(format_args!("bare loop on {}", socket.local_addr()?));
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (len, client) = socket.recv_from(&mut buffer)?;
        buffer[..len].make_ascii_uppercase();
        socket.send_to(&buffer[..len], client)?;
    }
}
