//! The command line of `server` and `client`: every flag, its default and its limits, as
//! `--help` shows them. The programs' code is elsewhere: [`crate::server`] and
//! [`crate::connection`] for the server, [`crate::client`] and [`crate::load`] for the client.

use std::time::Duration;

use shared::address::AddressArgs;
use shared::echo::EchoArgs;
use shared::flags::parse_seconds;
use shared::load::LoadArgs;
use shared::log::QuietArg;
use shared::prefix_args::PrefixArgs;

use crate::Course;
use crate::pace::Pace;
use crate::server::Config;

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "module3g-tcp-multiclient server",
    version,
    about = "TCP echo server for many clients (course module 3g): the main thread accepts \
             connections, and each one gets its own thread that echoes what it sends.",
    long_about = "TCP echo server for many clients (course module 3g): the main thread accepts \
                  connections, and each one gets its own thread that echoes what it sends.\n\n\
                  It logs what the notebook logs: each connection, what it sends with its line count, and \
                  how many lines each connection sent. On Ctrl-C it closes every connection and \
                  prints a summary. Type to it with the client's --interactive (or nc 127.0.0.1 12354)."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Most connections served at once; one more gets a line saying the server is busy and
    /// is closed.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: u32,

    /// Most connections from any one host (an IPv4 address, an IPv6 /64: see
    /// --ipv4-prefix, --ipv6-prefix); one more gets a line saying so and is closed. Keeps one
    /// host (an attacker holding idle connections open) from taking every place. Default: a
    /// quarter of --max-clients.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_per_ip: Option<u32>,

    /// Which addresses count as one host for --max-per-ip.
    #[command(flatten)]
    pub hosts: PrefixArgs,

    /// Seconds a client may stay silent, or leave its echoes unread, before it is
    /// disconnected (a client that never reads would otherwise hold its thread forever).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub idle_timeout: Duration,

    /// Seconds a line may take to arrive once begun (until its newline), and an echo to be
    /// read, plus one second for every --min-rate bytes of it: a client that sends (or
    /// reads) a byte now and then, to stay clear of --idle-timeout, is disconnected.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub line_timeout: Duration,

    /// Bytes a second that earn a line (or an echo) one more second past --line-timeout;
    /// 0 gives every line --line-timeout, whatever its size.
    #[arg(long, value_name = "BYTES", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000_000))]
    pub min_rate: u32,

    /// Bytes of kernel buffer for each direction of each connection (SO_RCVBUF,
    /// SO_SNDBUF; Linux doubles the figure for its bookkeeping). Without a bound, the kernel
    /// grows them to megabytes for a client that sends fast and reads slowly.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(4096..=64 * 1024 * 1024))]
    pub socket_buffer: u32,

    /// Connections the kernel may queue before the main thread accepts them. std's
    /// TcpListener uses 128, too few for a burst of thousands (they would wait seconds for
    /// retries). Linux caps it at net.core.somaxconn.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(i32).range(1..=65_535))]
    pub backlog: i32,
}

impl ServerArgs {
    /// `--max-per-ip`, or by default a quarter of `--max-clients` (at least 1), so that one
    /// host never takes every place.
    pub fn per_host_limit(&self) -> u32 {
        self.max_per_ip.unwrap_or((self.max_clients / 4).max(1))
    }

    /// What the server needs of its flags, besides the address it binds.
    pub fn config(&self) -> Config {
        Config {
            max_clients: self.max_clients as usize,
            max_per_ip: self.per_host_limit() as usize,
            hosts: self.hosts,
            idle_timeout: self.idle_timeout,
            pace: Pace { allowance: self.line_timeout, min_rate: self.min_rate },
            socket_buffer: self.socket_buffer as usize,
            backlog: self.backlog,
        }
    }
}

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "module3g-tcp-multiclient client",
    version,
    about = "TCP multi-client client (course module 3g): connects, sends 'Hello, world (<pid>)' \
             a few times and checks each echo. Run it in several terminals at once.",
    long_about = "TCP multi-client client (course module 3g): connects, sends 'Hello, world (<pid>)' \
                  a few times and checks each echo. Run it in several terminals at once.\n\n\
                  With --interactive it sends the lines you type instead. With --clients or \
                  --duration it runs the load mode: many connections at once, every echo checked, \
                  one summary line. The exit status is 0 only if every echo came back unchanged."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--count`, `--interval`, `--timeout`, `--message`.
    #[command(flatten)]
    pub echo: EchoArgs,

    /// Send the lines you type (until Ctrl-D) instead of the hello message; print each echo.
    #[arg(long, short, conflicts_with_all = ["message", "count", "clients", "duration"])]
    pub interactive: bool,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}
