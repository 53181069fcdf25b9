//! The reply rule's flags (`--reply-rate`, `--loop-after`, `--max-sources`, ...) and their
//! defaults.

/// The reply rule's flags, for every UDP server.
#[derive(clap::Args, Debug, Clone)]
pub struct ReplyArgs {
    /// Also answer source ports below 1024 (the well-known services: DNS, NTP, ...). Off by
    /// default: a forged datagram from such a port could start an endless exchange.
    #[arg(long)]
    pub allow_low_ports: bool,

    /// Most replies a second to any one network (see --source-prefix-v4/-v6), whatever its
    /// ports; more are not sent, and counted. A backstop: loops and amplification have
    /// rules of their own.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPLY_RATE,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub reply_rate: u32,

    /// Bytes a network may be sent beyond three times what it sent (they come back at that
    /// many a second): room for a short request with a longer answer.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_ALLOWANCE,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub reply_allowance: u32,

    /// A source that sends the server's last reply back this many times in a row, each
    /// within 100 ms, is taken for a loop between two servers and not answered until it
    /// pauses.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_LOOP_AFTER,
          value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    pub loop_after: u32,

    /// Leading bits of an IPv4 address that make one network for the limits (24: a /24).
    #[arg(long, value_name = "BITS", default_value_t = 24,
          value_parser = clap::value_parser!(u8).range(1..=32))]
    pub source_prefix_v4: u8,

    /// Leading bits of an IPv6 address that make one network for the limits (56: a /56).
    #[arg(long, value_name = "BITS", default_value_t = 56,
          value_parser = clap::value_parser!(u8).range(1..=128))]
    pub source_prefix_v6: u8,

    /// Most networks (and, separately, most source sockets) tracked at once. When the
    /// networks' table is full of ones that still owe, a new network is not answered until
    /// room comes back.
    #[arg(long, value_name = "N", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_sources: u32,
}

/// `--reply-rate`'s default: above what the load clients on one machine send (about
/// 120,000 a second on loopback, all from one address).
pub const DEFAULT_REPLY_RATE: u32 = 250_000;

/// `--reply-allowance`'s default, in bytes.
pub const DEFAULT_ALLOWANCE: u32 = 512;

/// `--loop-after`'s default.
pub const DEFAULT_LOOP_AFTER: u32 = 1000;

impl Default for ReplyArgs {
    fn default() -> Self {
        ReplyArgs {
            allow_low_ports: false,
            reply_rate: DEFAULT_REPLY_RATE,
            reply_allowance: DEFAULT_ALLOWANCE,
            loop_after: DEFAULT_LOOP_AFTER,
            source_prefix_v4: 24,
            source_prefix_v6: 56,
            max_sources: 4096,
        }
    }
}
