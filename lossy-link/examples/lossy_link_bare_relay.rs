//! The least a UDP relay can do: lossy-link before it adds anything.
//!
//! One client: the first datagram names it. What it sends goes on to the server from the
//! relay's own socket, and what the server sends back goes to it. No loss, no delay, no
//! table of clients, no reply rule, no shutdown (Ctrl-C kills it). The README lists what
//! the real relay adds to this loop, and why.
//!
//! ```text
//! cargo run -p udp-uppercase --bin server
//! cargo run -p lossy-link --example lossy_link_bare_relay          # or: -- LISTEN_PORT SERVER_PORT
//! cargo run -p udp-uppercase --bin client -- --port 12001
//! ```

use std::net::UdpSocket;
use std::thread;

fn main() -> std::io::Result<()> {
    let port = |n, default| std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default);
    let listen = UdpSocket::bind(("127.0.0.1", port(1, 12001)))?; // the client sends here
    let upstream = UdpSocket::bind("127.0.0.1:0")?; // the server sees the client here
    upstream.connect(("127.0.0.1", port(2, 12000)))?;
    shared::console::print_line(format_args!("bare relay on {}", listen.local_addr()?));
    let mut buffer = vec![0u8; 65_536];
    let (len, client) = listen.recv_from(&mut buffer)?; // the first datagram names the client
    upstream.send(&buffer[..len])?;
    thread::scope(|scope| -> std::io::Result<()> {
        scope.spawn(|| -> std::io::Result<()> {
            let mut buffer = vec![0u8; 65_536];
            loop {
                let len = upstream.recv(&mut buffer)?; // server -> client
                listen.send_to(&buffer[..len], client)?;
            }
        });
        loop {
            let (len, from) = listen.recv_from(&mut buffer)?; // client -> server
            if from == client {
                upstream.send(&buffer[..len])?;
            }
        }
    })
}
