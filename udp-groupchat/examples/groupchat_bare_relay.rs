//! The least a chat relay can do: every datagram goes to every address the relay has heard
//! from, sender included, as it came.
//!
//! No member list worth the name (whoever sent once is in, and stays), no names, no
//! challenge, no limits but the table's size, no shutdown (stop it with Ctrl-C). The hub
//! (`src/server.rs`) is this loop plus the additions the README lists.
//!
//! ```text
//! cargo run -p udp-groupchat --example groupchat_bare_relay -- 2410
//! ```

use std::collections::HashSet;
use std::net::UdpSocket;

/// The most addresses remembered: one more is relayed to the others but hears nothing.
const MAX_SEEN: usize = 256;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(2410);
    let socket = UdpSocket::bind(("127.0.0.1", port))?;
    shared::console::print_line(format_args!("bare relay on {}", socket.local_addr()?));
    let mut seen = HashSet::new();
    let mut buffer = vec![0u8; 65_536];
    loop {
        let (len, from) = socket.recv_from(&mut buffer)?;
        if seen.len() < MAX_SEEN {
            seen.insert(from);
        }
        for &member in &seen {
            socket.send_to(&buffer[..len], member)?;
        }
    }
}
