//! The benchmark's yardstick for module 3g: the least a thread-per-connection TCP echo
//! server can do.
//!
//! Accept, spawn a thread, copy bytes back as they come: no line framing, no logging, no
//! limits, no shutdown (stop it with Ctrl-C or SIGTERM). BENCHMARKS.md compares the real
//! server with this.
//!
//! ```text
//! cargo run --release -p module3g-tcp-multiclient --example tcp_multiclient_bare_echo -- 12354
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(12354);
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    shared::console::print_line(format_args!("bare echo on {}", listener.local_addr()?));
    for stream in listener.incoming().flatten() {
        // Same small stacks as the real server, so that the two compare fairly.
        let _ = thread::Builder::new().stack_size(128 * 1024).spawn(move || echo(stream));
    }
    Ok(())
}

fn echo(mut stream: TcpStream) {
    let mut buffer = [0u8; 2048];
    while let Ok(len @ 1..) = stream.read(&mut buffer) {
        if stream.write_all(&buffer[..len]).is_err() {
            return;
        }
    }
}
