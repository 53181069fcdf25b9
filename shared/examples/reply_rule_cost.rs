//! What the reply rule costs a server per datagram, measured without the network: the
//! nanoseconds of one `ReplyGuard::check` and the `spend` for its reply, for datagrams from
//! `clients` sockets of one host taking turns (as the load mode's clients do), and the same
//! for `check` alone (module 3h's echo needs no byte budget). See BENCHMARKS.md.
//!
//! ```text
//! cargo run --release -p shared --example reply_rule_cost -- [clients] [datagrams]
//! ```

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use shared::reply::{ReplyArgs, ReplyGuard};

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: u16 = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(16).clamp(1, 1000);
    let datagrams: u32 = args.next().and_then(|arg| arg.parse().ok()).unwrap_or(10_000_000).max(1);
    let own: SocketAddr = ([127, 0, 0, 1], 12000).into();
    let sources: Vec<SocketAddr> =
        (0..clients).map(|n| SocketAddr::from(([127, 0, 0, 1], 40_000 + n))).collect();
    // The load mode's requests: numbered, so that no two are equal (the number is written
    // into the first bytes of one buffer: formatting it would cost more than the rule).
    let mut request = *b"12345678: a request from a load client";
    let args = ReplyArgs { reply_rate: 10_000_000, ..ReplyArgs::default() };

    for (label, spend) in [("check + spend", true), ("check alone", false)] {
        let mut guard = ReplyGuard::new(own, &args);
        let start = Instant::now();
        let mut answered = 0u32;
        for n in 0..datagrams {
            let from = sources[(n % u32::from(clients)) as usize];
            request[..8].copy_from_slice(&u64::from(n).to_le_bytes());
            if guard.check(from, black_box(&request)).is_ok()
                && (!spend || guard.spend(from, request.len()).is_ok())
            {
                answered += 1;
            }
        }
        let elapsed = start.elapsed();
        let each = elapsed.as_nanos() as f64 / f64::from(datagrams);
        shared::console::print_line(format_args!(
            "{label:>13}: {each:6.1} ns per datagram ({clients} clients, {datagrams} datagrams, \
             {answered} answered)"
        ));
    }
}
