//! The relay's command line, and what it means for each direction.
//!
//! "Up" is client → server, "down" is server → client. Every impairment has one flag for
//! both directions (`--loss 20%`) and two that override it for one direction
//! (`--loss-down 50%`): real links are often asymmetric (a phone's uplink is worse than its
//! downlink), and losing only the replies shows something different from losing only the
//! requests (the server did the work; the client never knows).

use std::time::Duration;

use shared::reply::ReplyArgs;

use crate::units::{
    Percent, Rate, parse_bytes, parse_duration, parse_host_port, parse_percent, parse_rate,
    show_duration,
};

const IMPAIRMENTS: &str = "Impairments (both directions; the -up/-down flags override)";
const BOUNDS: &str = "Bounds (what happens when full is counted and warned about)";

/// Command-line arguments of `lossy-link`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "lossy-link",
    version,
    about = "A UDP relay that loses, delays, duplicates and reorders datagrams, like a bad network.",
    long_about = "A UDP relay that loses, delays, duplicates and reorders datagrams, like a bad \
                  network.\n\n\
                  Start a UDP server, start the relay in front of it, and point the client at the \
                  relay instead of the server. Every datagram from the client goes on to the \
                  server, and every reply comes back, each through the impairments you choose. \
                  Each client gets its own socket towards the server, so the server still sees \
                  one address per client. On Ctrl-C it prints what it did in each direction.\n\n\
                  'up' is client -> server, 'down' is server -> client. Both default to loopback: \
                  the relay listens on 127.0.0.1:12001 and forwards to 127.0.0.1:12000 (the \
                  udp-uppercase server).",
    after_help = "Example (udp-uppercase: server on 12000, relay on 12001, client through it):\n  \
                  cargo run -p udp-uppercase --bin server\n  \
                  cargo run -p lossy-link -- --listen 127.0.0.1:12001 --to 127.0.0.1:12000 \
                  --loss 20% --delay 50ms --jitter 30ms --duplicate 5% --reorder 10% --seed 7\n  \
                  cargo run -p udp-uppercase --bin client -- --port 12001"
)]
pub struct Args {
    /// Where the relay listens: point the client here. Stays on loopback unless you choose
    /// otherwise.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:12001",
          value_parser = parse_host_port)]
    pub listen: String,

    /// The server the datagrams go on to.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:12000",
          value_parser = parse_host_port)]
    pub to: String,

    /// Chance that a datagram is lost.
    #[arg(long, value_name = "PERCENT", default_value = "0", value_parser = parse_percent,
          help_heading = IMPAIRMENTS)]
    pub loss: Percent,
    /// --loss for client -> server only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub loss_up: Option<Percent>,
    /// --loss for server -> client only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub loss_down: Option<Percent>,

    /// How long every datagram takes to cross, e.g. 50ms.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration,
          help_heading = IMPAIRMENTS)]
    pub delay: Duration,
    /// --delay for client -> server only.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = IMPAIRMENTS)]
    pub delay_up: Option<Duration>,
    /// --delay for server -> client only.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = IMPAIRMENTS)]
    pub delay_down: Option<Duration>,

    /// How much each datagram's delay varies, up or down, at random: --delay 50ms --jitter
    /// 30ms gives delays from 20ms to 80ms. A delay never goes below 0 (with a --jitter
    /// larger than --delay, the shortest delays are all 0). Datagrams still leave in order
    /// (use --reorder).
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration,
          help_heading = IMPAIRMENTS)]
    pub jitter: Duration,
    /// --jitter for client -> server only.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = IMPAIRMENTS)]
    pub jitter_up: Option<Duration>,
    /// --jitter for server -> client only.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = IMPAIRMENTS)]
    pub jitter_down: Option<Duration>,

    /// Chance that a datagram arrives twice.
    #[arg(long, value_name = "PERCENT", default_value = "0", value_parser = parse_percent,
          help_heading = IMPAIRMENTS)]
    pub duplicate: Percent,
    /// --duplicate for client -> server only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub duplicate_up: Option<Percent>,
    /// --duplicate for server -> client only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub duplicate_down: Option<Percent>,

    /// Chance that a datagram is held back until the next one (of the same client and
    /// direction) has overtaken it, or --reorder-hold has passed.
    #[arg(long, value_name = "PERCENT", default_value = "0", value_parser = parse_percent,
          help_heading = IMPAIRMENTS)]
    pub reorder: Percent,
    /// --reorder for client -> server only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub reorder_up: Option<Percent>,
    /// --reorder for server -> client only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub reorder_down: Option<Percent>,
    /// The longest a datagram picked by --reorder waits to be overtaken; then it goes
    /// anyway, in order.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration,
          help_heading = IMPAIRMENTS)]
    pub reorder_hold: Duration,

    /// Chance that a datagram's payload is changed on the way (the case of its last letter
    /// swapped; the UDP checksum is recomputed, as any attacker on the path would): what a
    /// receiver can detect only with a keyed check (see the sealed chat in udp-groupchat).
    #[arg(long, value_name = "PERCENT", default_value = "0", value_parser = parse_percent,
          help_heading = IMPAIRMENTS)]
    pub tamper: Percent,
    /// --tamper for client -> server only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub tamper_up: Option<Percent>,
    /// --tamper for server -> client only.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, help_heading = IMPAIRMENTS)]
    pub tamper_down: Option<Percent>,

    /// The link's speed in bytes per second (e.g. 64k, 1M; 0 or unlimited for no limit);
    /// datagrams that arrive faster wait in the rate queue (see --rate-queue), as at a slow
    /// link's router. Shared by all clients in each direction.
    #[arg(long, value_name = "BYTES/s", default_value = "unlimited", value_parser = parse_rate,
          help_heading = IMPAIRMENTS)]
    pub rate: Rate,
    /// --rate for client -> server only.
    #[arg(long, value_name = "BYTES/s", value_parser = parse_rate, help_heading = IMPAIRMENTS)]
    pub rate_up: Option<Rate>,
    /// --rate for server -> client only.
    #[arg(long, value_name = "BYTES/s", value_parser = parse_rate, help_heading = IMPAIRMENTS)]
    pub rate_down: Option<Rate>,

    /// Seed for the dice: the same seed and the same datagrams give the same losses,
    /// duplicates, delays and reorderings. Without it a seed is picked and printed.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// Datagrams that may wait for a --rate link, per direction; more are dropped (tail
    /// drop, as a full router queue does).
    #[arg(long, value_name = "N", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000), help_heading = BOUNDS)]
    pub rate_queue: u64,

    /// Datagrams that may wait out their --delay/--jitter/--reorder, per direction; more
    /// are dropped.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000), help_heading = BOUNDS)]
    pub max_delayed: u64,

    /// Bytes that may wait out their delay, per direction (64 KiB datagrams fill the queue
    /// long before --max-delayed does); more are dropped.
    #[arg(long, value_name = "BYTES", default_value = "64M", value_parser = parse_bytes,
          help_heading = BOUNDS)]
    pub max_delayed_bytes: u64,

    /// Clients relayed at once (each has its own socket and thread towards the server).
    /// A new client beyond this replaces the one heard from least recently. Sockets and
    /// threads, counting those of replaced clients that still have datagrams queued, never
    /// exceed twice this: beyond, a new client is refused until they are gone.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=65_536), help_heading = BOUNDS)]
    pub max_clients: u64,

    /// A client silent this long (in both directions) loses its upstream socket; its next
    /// datagram gets a new one (and the server sees a new source port).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration,
          help_heading = BOUNDS)]
    pub idle_timeout: Duration,

    /// Whom the relay may send to: the servers' reply rule (`shared::reply`), applied to
    /// the clients, so that the relay is no open reflector and no partner in a loop.
    #[command(flatten)]
    pub replies: ReplyArgs,

    /// Do not print a line per new or idle client (the ready line, the warnings and the
    /// summary still print). Use it when measuring speed.
    #[arg(long, short)]
    pub quiet: bool,

    /// `--capture` and `--diagram` (see `wire`).
    #[command(flatten)]
    pub wire: crate::wire::WireArgs,
}

/// What the link does to datagrams going one way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Impairment {
    /// Chance that a datagram is lost.
    pub loss: Percent,
    /// Fixed delay of every datagram.
    pub delay: Duration,
    /// Random variation of the delay, up or down.
    pub jitter: Duration,
    /// Chance of a second copy.
    pub duplicate: Percent,
    /// Chance of being held back until overtaken.
    pub reorder: Percent,
    /// The link's speed.
    pub rate: Rate,
    /// Chance that the payload is changed.
    pub tamper: Percent,
}

impl Impairment {
    /// A link that does nothing to datagrams.
    pub const NONE: Impairment = Impairment {
        loss: Percent::ZERO,
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
        duplicate: Percent::ZERO,
        reorder: Percent::ZERO,
        rate: Rate::UNLIMITED,
        tamper: Percent::ZERO,
    };

    /// Whether every datagram can leave the moment it arrives (no delay, no jitter, no
    /// reordering, no rate limit): then the receiving thread sends it itself, with no queue.
    pub fn is_immediate(&self) -> bool {
        self.delay.is_zero()
            && self.jitter.is_zero()
            && self.reorder.is_zero()
            && self.rate.bytes_per_second().is_none()
    }
}

impl std::fmt::Display for Impairment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == Impairment::NONE {
            return f.write_str("untouched");
        }
        write!(
            f,
            "loss {}, delay {} ± {}, duplicate {}, reorder {}, rate {}",
            self.loss,
            show_duration(self.delay),
            show_duration(self.jitter),
            self.duplicate,
            self.reorder,
            self.rate
        )?;
        if !self.tamper.is_zero() {
            write!(f, ", tamper {}", self.tamper)?;
        }
        Ok(())
    }
}

impl Args {
    /// What happens to client → server datagrams.
    pub fn up(&self) -> Impairment {
        Impairment {
            loss: self.loss_up.unwrap_or(self.loss),
            delay: self.delay_up.unwrap_or(self.delay),
            jitter: self.jitter_up.unwrap_or(self.jitter),
            duplicate: self.duplicate_up.unwrap_or(self.duplicate),
            reorder: self.reorder_up.unwrap_or(self.reorder),
            rate: self.rate_up.unwrap_or(self.rate),
            tamper: self.tamper_up.unwrap_or(self.tamper),
        }
    }

    /// What happens to server → client datagrams.
    pub fn down(&self) -> Impairment {
        Impairment {
            loss: self.loss_down.unwrap_or(self.loss),
            delay: self.delay_down.unwrap_or(self.delay),
            jitter: self.jitter_down.unwrap_or(self.jitter),
            duplicate: self.duplicate_down.unwrap_or(self.duplicate),
            reorder: self.reorder_down.unwrap_or(self.reorder),
            rate: self.rate_down.unwrap_or(self.rate),
            tamper: self.tamper_down.unwrap_or(self.tamper),
        }
    }
}
