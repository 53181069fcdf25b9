//! The command line of both programs: every flag of `server` and `client`, and nothing else.
//!
//! `--help` prints these doc comments; `src/bin/server.rs` and `src/bin/client.rs` parse
//! them. The shared flags (the address, `--quiet`, the reply rule, the load run) come
//! from `shared`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use shared::address::AddressArgs;
use shared::flags::parse_seconds;
use shared::load::LoadArgs;
use shared::log::QuietArg;
use shared::prefix_args::PrefixArgs;
use shared::reply::ReplyArgs;

use crate::Course;
use crate::seal::KdfParams;

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

    /// What the server does: the mode, and the hub's limits.
    #[command(flatten)]
    pub config: ServerConfig,
}

/// The server's configuration, beyond where it listens: broadcast mode, or the hub's
/// limits. [`Server::bind`](crate::server::Server::bind) takes this, not the whole command line.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerConfig {
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
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds,
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

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "udp-groupchat client",
    version,
    about = "Group chat client over UDP: type lines to send them to everyone; /quit or Ctrl-D leaves.",
    long_about = "Group chat client over UDP: type lines to send them to everyone; /quit or Ctrl-D leaves.\n\n\
                  It asks for a username, joins the hub (the server answers a challenge first), \
                  and prints what everyone says. With --broadcast it joins the seed's broadcast \
                  chat instead: it listens on the chat port itself, with every other client on \
                  this host, and the server broadcasts to all of them."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// Your name in the chat; without it you are asked, as in the seed.
    #[arg(long, short, value_name = "NAME")]
    pub username: Option<String>,

    /// Seconds to wait for the server to answer the join.
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Seconds between keep-alives (the hub drops members that stay silent too long; three
    /// unanswered keep-alives mean the server is gone).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub keepalive: Duration,

    /// Load mode (hub only): `--clients N` members join and post for `--duration SECS`.
    #[command(flatten)]
    pub load: LoadArgs,

    /// Broadcast mode (the seed's design): listen on 0.0.0.0 at the chat port, shared with
    /// the other clients on this host, and send lines as 'username: text' to the server.
    #[arg(long)]
    pub broadcast: bool,

    /// The sealed chat: `--passphrase-file` and the key derivation's settings.
    #[command(flatten)]
    pub seal: SealArgs,
}

/// The sealed chat's flags.
#[derive(clap::Args, Debug, Clone)]
pub struct SealArgs {
    /// Seal the chat: the group's passphrase is the first line of this file (every member
    /// uses the same). Lines are then encrypted and authenticated end to end; the hub
    /// relays them without being able to read them. Not a flag value: a command line is
    /// visible to every user of the machine (`ps`); a file can be yours alone (chmod 600).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,

    /// Sealed chat: memory the key derivation (Argon2id) uses, in MiB. Every member must
    /// use the same value (it is part of the key). More makes each guess of an attacker who
    /// captured a line dearer, and each start slower.
    #[arg(long, value_name = "MIB", default_value_t = KdfParams::DEFAULT.memory_kib / 1024,
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub kdf_memory: u32,

    /// Sealed chat: passes of the key derivation over its memory (same for every member).
    #[arg(long, value_name = "N", default_value_t = KdfParams::DEFAULT.passes,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub kdf_passes: u32,

    /// Sealed chat: senders whose replay windows are remembered; when full, a new sender
    /// takes the place of the one heard from least recently.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_senders: u32,

    /// Sealed load mode: each member opens only its own lines, not every line delivered.
    /// All the members of a load run share this machine's cores with the hub, so opening
    /// every line costs this machine what N machines would share; with this flag a run
    /// measures what sealing costs the hub and the network alone.
    #[arg(long)]
    pub open_only_own: bool,
}
