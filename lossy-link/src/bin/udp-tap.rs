//! `udp-tap`: the eavesdropper, replayer and forger of a broadcast UDP service (the
//! broadcast group chat of udp-groupchat), for its README's attacks. By default it sends
//! only to loopback addresses (it listens, like the chat's clients, on every address).
//!
//! It binds the port on 0.0.0.0, sharing it (`SO_REUSEPORT`) as every broadcast chat client
//! does, and prints every datagram it hears there (**read**). With `--replay` it sends each
//! datagram it heard once more to the broadcast address, a second later (**replay**). With
//! `--forge TEXT` it sends TEXT to the server once, as any program may (**forge**). Against
//! the plain chat each of them works; against the sealed chat the tap reads only base64,
//! and the members drop its replays and forgeries.
//!
//! ```text
//! cargo run -p udp-groupchat --bin server -- --broadcast 127.255.255.255
//! cargo run -p lossy-link --bin udp-tap -- --port 2410 --replay
//! cargo run -p lossy-link --bin udp-tap -- --port 2410 --forge "alice: I never said this"
//! ```
//!
//! Bounded: it stops after `--duration` seconds or `--max-datagrams` datagrams, or at
//! Ctrl-C, and remembers at most `--max-datagrams` of what it replayed (so that it never
//! replays its own replay, which it hears too).

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use shared::console::output_line;
use shared::ctrl_c::install_ctrl_c;
use shared::error::{Context, Error, Result, exit_code};
use shared::io_errors::is_timeout_or_interrupt;
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;
use shared::udp::RECV_BUFFER_SIZE;
use socket2::{Domain, Protocol, Socket, Type};

/// Command-line arguments of `udp-tap`.
#[derive(Parser, Debug)]
#[command(
    name = "udp-tap",
    version,
    about = "Reads, replays and forges a broadcast UDP service (loopback only by default): what anyone on a LAN can do."
)]
struct Args {
    /// The port to listen on, shared with the service's clients (the chat's 2410).
    #[arg(long, default_value_t = 2410)]
    port: u16,

    /// The server, for --forge.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    server: IpAddr,

    /// Where --replay sends (the broadcast address the server broadcasts to).
    #[arg(long, value_name = "ADDR", default_value = "127.255.255.255")]
    broadcast: IpAddr,

    /// Send every datagram heard once more, a second later, to the broadcast address.
    #[arg(long)]
    replay: bool,

    /// Send this text to the server once, at the start, as if a client had sent it.
    #[arg(long, value_name = "TEXT")]
    forge: Option<String>,

    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration: u64,

    /// Stop after hearing this many datagrams.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_datagrams: u64,
}

/// How long a heard datagram waits before it is replayed: long enough to see it twice.
const REPLAY_AFTER: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    exit_code(tap(&Args::parse()))
}

/// The tap's loop: print what arrives, replay it when due, until a limit or Ctrl-C.
fn tap(args: &Args) -> Result<()> {
    let shutdown = Shutdown::new();
    install_ctrl_c(&shutdown)?;
    let socket = bind_shared((Ipv4Addr::UNSPECIFIED, args.port).into())?;
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    let mut out = io::stdout();
    output_line(&mut out, format_args!("udp-tap listening on 0.0.0.0:{}", args.port))?;
    if let Some(text) = &args.forge {
        let server = SocketAddr::new(args.server, args.port);
        socket.send_to(text.as_bytes(), server).context(|| format!("cannot send to {server}"))?;
        output_line(&mut out, format_args!("forged {:?} to {server}", printable(text.as_bytes())))?;
    }
    let broadcast = SocketAddr::new(args.broadcast, args.port);
    let max = usize::try_from(args.max_datagrams).unwrap_or(usize::MAX);
    let mut due: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
    let mut replayed: HashSet<Vec<u8>> = HashSet::new();
    let (mut heard, mut sent) = (0u64, 0u64);
    let stop_at = Instant::now() + Duration::from_secs(args.duration);
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    while !shutdown.is_requested() && heard < args.max_datagrams && Instant::now() < stop_at {
        while due.front().is_some_and(|(at, _)| *at <= Instant::now()) {
            if let Some((_, datagram)) = due.pop_front() {
                socket
                    .send_to(&datagram, broadcast)
                    .context(|| format!("cannot send to {broadcast}"))?;
                sent += 1;
                output_line(&mut out, format_args!("  replayed it to {broadcast}"))?;
            }
        }
        let (len, from) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(error) if is_timeout_or_interrupt(&error) => continue,
            Err(error) => return Err(Error::io("cannot receive", error)),
        };
        heard += 1;
        let datagram = buffer[..len].to_vec();
        output_line(
            &mut out,
            format_args!("[{heard}] {len} bytes from {from}: {}", printable(&datagram)),
        )?;
        // Each datagram once; never our own replay, heard back.
        if args.replay && replayed.len() < max && replayed.insert(datagram.clone()) {
            due.push_back((Instant::now() + REPLAY_AFTER, datagram));
        }
    }
    output_line(
        &mut out,
        format_args!("udp-tap heard {}, replayed {sent}", plural(heard, "datagram")),
    )?;
    if shutdown.is_requested() {
        return Err(Error::stopped());
    }
    Ok(())
}

/// A datagram as text safe for a terminal: control characters (escape sequences) become `�`.
fn printable(datagram: &[u8]) -> String {
    String::from_utf8_lossy(datagram)
        .chars()
        .map(|c| if c.is_control() { char::REPLACEMENT_CHARACTER } else { c })
        .collect()
}

/// A socket on `addr` that shares the port with the service's own clients: `SO_REUSEADDR`,
/// and `SO_REUSEPORT` where there is one (as the broadcast chat's clients bind theirs).
fn bind_shared(addr: SocketAddr) -> Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
        .context(|| "cannot create a UDP socket")?;
    socket.set_reuse_address(true).context(|| "cannot set SO_REUSEADDR")?;
    #[cfg(all(
        unix,
        not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))
    ))]
    socket.set_reuse_port(true).context(|| "cannot set SO_REUSEPORT")?;
    socket.set_broadcast(true).context(|| "cannot set SO_BROADCAST")?;
    socket.bind(&addr.into()).context(|| format!("cannot bind {addr}"))?;
    Ok(socket.into())
}
