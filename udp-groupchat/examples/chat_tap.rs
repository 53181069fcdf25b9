//! The eavesdropper, replayer and forger of the broadcast chat, for the README's attacks.
//!
//! It binds the chat port on 0.0.0.0, sharing it as every broadcast client does, and prints
//! every datagram it hears there (**read**). With `--replay` it sends each chat line it heard
//! once more to the broadcast address, a second later (**replay**). With `--forge TEXT` it
//! sends TEXT to the server once, as any program may (**forge**: `--forge "alice: I never
//! said this"`). Against the plain chat every one of them works; against the sealed chat the
//! tap sees only base64, and the members drop its replays and forgeries.
//!
//! ```text
//! cargo run -p udp-groupchat --bin server -- --broadcast 127.255.255.255
//! cargo run -p udp-groupchat --example chat_tap -- --replay --forge "alice: I never said this"
//! ```
//!
//! Loopback only by default; bounded: it stops after `--duration` seconds or
//! `--max-datagrams` datagrams, or at Ctrl-C, and remembers at most `--max-datagrams` of its
//! own replays (so it never replays a replay).

use std::collections::HashSet;
use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use shared::datagram::{RECV_BUFFER_SIZE, is_timeout_or_interrupt};
use shared::error::{Context, Error, Result, exit_code};
use shared::report::{output_line, plural};
use shared::shutdown::{POLL_INTERVAL, Shutdown, install_ctrl_c};
use udp_groupchat::bind_shared_port;
use udp_groupchat::protocol::{RELAY_MARKER, clean_text};

/// Command-line arguments of `chat_tap`.
#[derive(Parser, Debug)]
#[command(
    name = "chat_tap",
    about = "Reads, replays and forges the broadcast chat (loopback only): what anyone on the LAN can do."
)]
struct Args {
    /// The chat port to listen on (shared with the chat's clients).
    #[arg(long, default_value_t = 2410)]
    port: u16,

    /// The chat server, for --forge.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    server: IpAddr,

    /// Where --replay sends (the broadcast server's broadcast address).
    #[arg(long, value_name = "ADDR", default_value = "127.255.255.255")]
    broadcast: IpAddr,

    /// Send every chat line heard once more, a second later, to the broadcast address.
    #[arg(long)]
    replay: bool,

    /// Send this text to the server once, at the start, as if a member had said it.
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

/// How long a heard line waits before it is replayed: long enough to see it twice.
const REPLAY_AFTER: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    exit_code(tap(&Args::parse()))
}

fn tap(args: &Args) -> Result<()> {
    let shutdown = Shutdown::new();
    install_ctrl_c(&shutdown)?;
    let socket = bind_shared_port((Ipv4Addr::UNSPECIFIED, args.port).into())?;
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    let mut out = io::stdout();
    output_line(&mut out, format_args!("chat_tap listening on 0.0.0.0:{}", args.port))?;
    if let Some(text) = &args.forge {
        let server = SocketAddr::new(args.server, args.port);
        socket.send_to(text.as_bytes(), server).context(|| format!("cannot send to {server}"))?;
        output_line(&mut out, format_args!("forged {:?} to {server}", clean_text(text)))?;
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
        let text = clean_text(&String::from_utf8_lossy(&datagram));
        output_line(&mut out, format_args!("[{heard}] {len} bytes from {from}: {text}"))?;
        // Replay chat lines only (what the server relayed), each once, never our own replay.
        let is_line = datagram.starts_with(RELAY_MARKER.as_bytes());
        if args.replay && is_line && replayed.len() < max && replayed.insert(datagram.clone()) {
            due.push_back((Instant::now() + REPLAY_AFTER, datagram));
        }
    }
    output_line(
        &mut out,
        format_args!("chat_tap heard {}, replayed {sent}", plural(heard, "datagram")),
    )?;
    if shutdown.is_requested() {
        return Err(Error::stopped());
    }
    Ok(())
}
