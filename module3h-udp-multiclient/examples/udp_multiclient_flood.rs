//! A flood of clients for module 3h's server: one datagram from each of N different
//! source addresses, to show that the server's client table stays bounded.
//!
//! Each datagram comes from a fresh socket on 127.0.0.1, which the system gives a fresh
//! port: a new client to the server (ports are reused only after the system has gone
//! through its whole ephemeral range, far more than the server's table holds). This works
//! on every system (macOS and Windows have no 127.x.y.z besides 127.0.0.1). Each waits for
//! its echo (up to 1 s) before the next is sent, so the flood is paced by the server and
//! ends by itself after N datagrams. Loopback only.
//!
//! ```text
//! cargo run --release -p module3h-udp-multiclient --example udp_multiclient_flood -- 12354 100000
//! ```

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(12354);
    let sources: u32 =
        args.next().and_then(|arg| arg.parse().ok()).unwrap_or(100_000).min(1_000_000);
    let server = (Ipv4Addr::LOCALHOST, port);
    let started = Instant::now();
    let (mut echoed, mut buffer) = (0u32, [0u8; 64]);
    for _ in 0..sources {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_read_timeout(Some(Duration::from_secs(1)))?;
        socket.send_to(b"flood", server)?;
        if socket.recv_from(&mut buffer).is_ok() {
            echoed += 1;
        }
    }
    shared::console::print_line(format_args!(
        "flood: {sources} datagrams, each from a new socket, {echoed} echoed, in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}
