//! The benchmark's yardstick for udp-threaded: the least a server can do to answer
//! `Message received` to every datagram.
//!
//! `recv_from`, `send_to`, forever, in one thread: no handler, no logging, no counting, no
//! shutdown (stop it with Ctrl-C or SIGTERM). BENCHMARKS.md compares the three server modes
//! with this loop.
//!
//! ```text
//! cargo run --release -p udp-threaded --example udp_threaded_bare_loop -- 6532
//! ```

use std::net::UdpSocket;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(6532);
    let socket = UdpSocket::bind(("127.0.0.1", port))?;
    shared::console::print_line(format_args!("bare loop on {}", socket.local_addr()?));
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (_, client) = socket.recv_from(&mut buffer)?;
        socket.send_to(b"Message received", client)?;
    }
}
