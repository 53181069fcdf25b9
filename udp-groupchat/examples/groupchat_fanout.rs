//! The hub's fan-out, measured: N members join, one of them sends M lines at a steady rate,
//! and every member counts what reaches it and when.
//!
//! Prints the lines relayed per second, the deliveries per second (lines × members), the
//! deliveries lost, and the latency from a line's sending to its arrival at the *last*
//! member. Loopback only; the run is bounded by M and ends by itself.
//!
//! ```text
//! cargo run --release -p udp-groupchat --bin server -- --port 2410 --quiet --max-members-per-ip 1000 &
//! cargo run --release -p udp-groupchat --example groupchat_fanout -- 2410 100 3000 1000
//! ```
//! (port, members, lines, lines per second)

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use shared::load::Histogram;
use shared::udp::connect_udp;
use udp_groupchat::client::{Session, join};
use udp_groupchat::protocol::{ClientMessage, ServerMessage};

fn main() -> shared::Result<()> {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<usize>().ok());
    let port = args.next().flatten().unwrap_or(2410);
    let members = args.next().flatten().unwrap_or(100).clamp(1, 1000);
    let lines = args.next().flatten().unwrap_or(3000).clamp(1, 1_000_000);
    let rate = args.next().flatten().unwrap_or(1000).clamp(1, 1_000_000);
    let server = SocketAddr::from(([127, 0, 0, 1], u16::try_from(port).unwrap_or(2410)));

    // Each member's socket, and its session (everything the hub sends it carries its secret).
    let joined: Vec<(UdpSocket, Session)> = (0..members)
        .map(|i| {
            let socket = connect_udp(server)?;
            let session = join(&socket, server, &format!("m{i}"), Duration::from_secs(5))?;
            Ok((socket, session))
        })
        .collect::<shared::Result<_>>()?;
    let (sockets, sessions): (Vec<UdpSocket>, Vec<Session>) = joined.into_iter().unzip();
    let sender =
        sockets[0].try_clone().map_err(|e| shared::Error::io("cannot clone a socket", e))?;

    let started = Instant::now();
    let arrivals = thread::scope(|scope| {
        let listeners: Vec<_> = sockets
            .iter()
            .zip(&sessions)
            .map(|(socket, session)| scope.spawn(move || listen(socket, session, lines)))
            .collect();
        // The sender: line i is due at started + i / rate.
        let mut sent_at = Vec::with_capacity(lines);
        for i in 0..lines {
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            sent_at.push(Instant::now());
            let _ = sender.send(ClientMessage::Say(&format!("line {i}")).to_string().as_bytes());
        }
        let arrivals: Vec<Vec<Option<Instant>>> =
            listeners.into_iter().map(|listener| listener.join().unwrap_or_default()).collect();
        (sent_at, arrivals)
    });
    let (sent_at, arrivals) = arrivals;
    let elapsed = started.elapsed();

    let mut to_last_member = Histogram::default();
    let mut delivered = 0usize;
    for (i, sent) in sent_at.iter().enumerate() {
        let reached: Vec<Instant> =
            arrivals.iter().filter_map(|member| member.get(i).copied().flatten()).collect();
        delivered += reached.len();
        if reached.len() == members {
            if let Some(last) = reached.iter().max() {
                to_last_member.record(last.duration_since(*sent));
            }
        }
    }
    let seconds = elapsed.as_secs_f64();
    let millis = |d: Option<Duration>| d.map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
    shared::console::print_line(format_args!(
        "{members} members, {lines} lines in {seconds:.1} s: {:.0} lines/s relayed, {:.0} deliveries/s, {} of {} deliveries lost; to the last member: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        lines as f64 / seconds,
        delivered as f64 / seconds,
        members * lines - delivered,
        members * lines,
        millis(to_last_member.quantile(0.5)),
        millis(to_last_member.quantile(0.99)),
        millis(to_last_member.max()),
    ));
    for socket in &sockets {
        let _ = socket.send(ClientMessage::Leave.to_string().as_bytes());
    }
    Ok(())
}

/// Records when each line `line <i>` arrives at this member; stops when all have arrived
/// or nothing has come for a second.
fn listen(socket: &UdpSocket, session: &Session, lines: usize) -> Vec<Option<Instant>> {
    let mut arrived = vec![None; lines];
    let mut remaining = lines;
    let mut buffer = [0u8; 2048];
    let _ = socket.set_read_timeout(Some(Duration::from_secs(1)));
    while remaining > 0 {
        let Ok(len) = socket.recv(&mut buffer) else { break };
        if let Some(ServerMessage::Chat { text, .. }) = session.open(&buffer[..len]) {
            let index = text.strip_prefix("line ").and_then(|n| n.parse::<usize>().ok());
            if let Some(slot) = index.and_then(|i| arrived.get_mut(i)) {
                if slot.is_none() {
                    *slot = Some(Instant::now());
                    remaining -= 1;
                }
            }
        }
    }
    arrived
}
