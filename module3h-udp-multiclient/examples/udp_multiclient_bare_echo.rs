//! The benchmark's yardstick for module 3h: the least a UDP echo server can do.
//!
//! `recv_from`, `send_to`, forever: no client table, no logging, no shutdown (stop it with
//! Ctrl-C or SIGTERM). BENCHMARKS.md compares the real server with this loop.
//!
//! ```text
//! cargo run --release -p module3h-udp-multiclient --example udp_multiclient_bare_echo -- 12354
//! ```

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(12354);
    let socket = UdpSocket::bind(("127.0.0.1", port))?;
    shared::console::print_line(format_args!("bare echo loop on {}", socket.local_addr()?));
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (len, client) = socket.recv_from(&mut buffer)?;
        socket.send_to(&buffer[..len], client)?;
    }
}
