//! The chat server, in the seed's order: first the seed's broadcaster (this file), then the
//! hub that this module runs by default (`hub`, in `src/server/hub.rs`).
//!
//! **The seed's server** receives every datagram and sends it, as it is, to the broadcast
//! address: every host on the network gets it, member or not, and whatever name a sender
//! writes in front of the text is believed. `--broadcast ADDR` runs that design: its whole
//! loop is `run_broadcast`, below, the seed's `while True: recvfrom ... sendto` in Rust.
//!
//! **The hub** keeps a member table and relays each line to the members only; see `hub`
//! for what it does and why.

mod hub;
mod join_throttle;
mod member_index;

use std::fmt;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::Duration;

use shared::address::AddressArgs;
use shared::error::{Context, Result, describe_io_error};
use shared::io_errors::is_harmless_receive_error;
use shared::log::{Log, QuietArg};
use shared::prefix_args::PrefixArgs;
use shared::reply::ReplyArgs;
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;
use shared::udp::{RECV_BUFFER_SIZE, bind_udp};

use crate::protocol::{RELAY_MARKER, clean_text};
use crate::{Course, bind_broadcast_server};

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "udp-groupchat server",
    version,
    about = "Group chat server over UDP: relays every member's lines to all members.",
    long_about = "Group chat server over UDP: relays every member's lines to all members.\n\n\
                  By default it is a hub: it keeps the member list, checks each new member's \
                  address with a challenge, and stamps every line with the sender's name. With \
                  --broadcast ADDR it is the seed's server instead: it sends every datagram it \
                  receives to the broadcast address, for anyone listening on the port."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Broadcast mode (the seed's design): relay every datagram to this broadcast address
    /// at the chat port. Try 127.255.255.255 on one machine; on a LAN it would be
    /// 255.255.255.255 or the subnet's broadcast address, and everyone on the LAN could read
    /// and forge the chat.
    #[arg(long, value_name = "ADDR")]
    pub broadcast: Option<IpAddr>,

    /// Hub: most members at once; a join beyond it is refused.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_members: u32,

    /// Hub: seconds without a word (clients send keep-alives) after which a member is dropped.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = shared::flags::parse_seconds,
          allow_negative_numbers = true)]
    pub idle_timeout: Duration,

    /// Hub: most members from one host (an IPv4 address, an IPv6 /64: see --ipv4-prefix,
    /// --ipv6-prefix); a join beyond it is refused, so that one host cannot fill the table.
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_members_per_ip: u32,

    /// Hub: which addresses count as one host for --max-members-per-ip and
    /// --joins-per-minute.
    #[command(flatten)]
    pub hosts: PrefixArgs,

    /// Hub: joins a minute one host may make once it has used its first
    /// --max-members-per-ip at once; more are refused until the time has come. Every join
    /// and leave is a notice to every member: this bounds what join-and-leave churn costs.
    #[arg(long, value_name = "N", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub joins_per_minute: u32,

    /// Hub: most hosts whose joins --joins-per-minute tracks at once. A host is forgotten
    /// once it may join again in full; while the table is full of hosts that may not, a
    /// new host must wait too (forgetting one would let it join again at once).
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_join_hosts: u32,

    /// Hub: whom it never answers, and how often one source may make it answer
    /// (`--allow-low-ports`, `--reply-rate`, `--max-sources`).
    #[command(flatten)]
    pub replies: ReplyArgs,

    /// Longest chat line relayed, in bytes; a longer one is refused.
    #[arg(long, value_name = "BYTES", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=16_384))]
    pub max_message: u32,
}

/// A bound chat server, ready to [`run`](Server::run).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    args: ServerArgs,
}

impl Server {
    /// Binds the socket `args` name. In broadcast mode it may send broadcasts, and share its
    /// port with the same user's clients only (see [`bind_broadcast_server`]).
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let addr = args.address.resolve()?;
        let socket = match args.broadcast {
            Some(_) => bind_broadcast_server(addr)?,
            None => bind_udp(addr)?,
        };
        Ok(Server { socket, log, args: args.clone() })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Serves until `shutdown` is requested; then (the hub) tells the members, prints the
    /// summary and returns it.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let summary = match self.args.broadcast {
            Some(broadcast) => {
                let port = self.local_addr()?.port();
                run_broadcast(&self, shutdown, SocketAddr::new(broadcast, port))?
            }
            None => hub::run(&self, shutdown)?,
        };
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }
}

/// The seed's server: every datagram goes to the broadcast address, for whoever listens.
/// Only the size is checked and control characters removed; who sent it is not checked at
/// all. That is the design's flaw, kept here so it can be seen.
fn run_broadcast(server: &Server, shutdown: &Shutdown, broadcast: SocketAddr) -> Result<Summary> {
    let (socket, log) = (&server.socket, &server.log);
    log.info(format_args!(
        "!!!Server is ready!!! Relaying every datagram to the broadcast address {broadcast}; press Ctrl-C to stop."
    ));
    let mut summary = Summary { broadcast: true, ..Summary::default() };
    // std cannot interrupt a blocked recv_from, so it wakes every POLL_INTERVAL to check for Ctrl-C.
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    // Big enough for any datagram: the seed's recvfrom(1024) would cut longer ones silently.
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    while !shutdown.is_requested() {
        let (len, from) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            // Nothing this interval, or Ctrl-C interrupted the wait: go round, check for a stop.
            Err(error) if is_harmless_receive_error(&error) => continue,
            Err(error) => {
                log.warn(format_args!("receive failed: {}", describe_io_error(&error)));
                continue;
            }
        };
        let datagram = &buffer[..len];
        // A relay (ours heard back, or another broadcast server's on the same port):
        // relaying it again would start a broadcast storm.
        if datagram.starts_with(RELAY_MARKER.as_bytes()) {
            summary.ignored += 1;
            continue;
        }
        if len > server.args.max_message as usize {
            log.warn(format_args!("dropped {len} bytes from {from}: too long"));
            continue;
        }
        let text = clean_text(&String::from_utf8_lossy(datagram));
        let relayed = format!("{RELAY_MARKER}{text}");
        match socket.send_to(relayed.as_bytes(), broadcast) {
            Ok(_) => {
                log.message(format_args!("{text}"));
                summary.messages += 1;
            }
            Err(error) => {
                log.warn(format_args!("could not broadcast: {}", describe_io_error(&error)));
            }
        }
    }
    Ok(summary)
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Whether this was the broadcaster (its summary only counts messages).
    pub broadcast: bool,
    /// Members admitted (after answering the challenge).
    pub members_seen: u64,
    /// Chat lines relayed.
    pub messages: u64,
    /// Datagrams sent to members (each line and notice, once per member).
    pub deliveries: u64,
    /// Challenges sent.
    pub challenges: u64,
    /// Requests refused.
    pub refused: u64,
    /// Members dropped for silence.
    pub timeouts: u64,
    /// Datagrams left unanswered because they looked like another server's reply (hub), or
    /// were relays of a broadcast server (broadcast mode).
    pub ignored: u64,
    /// Hub: datagrams not acted on because of the reply rule (a refused source, or over
    /// `--reply-rate`).
    pub not_answered: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broadcast {
            return write!(f, "Broadcast {}.", plural(self.messages, "message"));
        }
        write!(
            f,
            "Chat closed: {} seen, {} relayed ({}); {} refused, {} timed out, {} not answered.",
            plural(self.members_seen, "member"),
            plural(self.messages, "message"),
            if self.deliveries == 1 {
                "1 delivery".to_string()
            } else {
                format!("{} deliveries", self.deliveries)
            },
            self.refused,
            self.timeouts,
            self.not_answered,
        )
    }
}
