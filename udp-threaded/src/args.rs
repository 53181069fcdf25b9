//! The command lines of `server` and `client` (clap), kept apart so that the socket files
//! open with sockets.

use std::thread;
use std::time::Duration;

use shared::address::AddressArgs;
use shared::flags::{parse_count, parse_seconds};
use shared::load::LoadArgs;
use shared::log::{Log, QuietArg};
use shared::reply::ReplyArgs;

use crate::Seed;
use crate::pool::QueueLimits;
use crate::server::{Config, Mode};

/// Four workers per core: enough to overlap work that mostly waits (like `--work-ms`).
fn default_workers() -> u32 {
    let cores = thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores * 4).unwrap_or(64)
}

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "udp-threaded server",
    version,
    about = "UDP server three ways: a thread per datagram (the seed), no threads, or a worker \
             pool. Replies 'Message received' to every datagram.",
    long_about = "UDP server three ways: a thread per datagram (the seed), no threads, or a worker \
                  pool. Replies 'Message received' to every datagram.\n\n\
                  Give every request some work with --work-ms, run the client's load mode \
                  against each mode, and compare. On Ctrl-C the server prints how many datagrams \
                  it handled and dropped."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Seed>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Who handles each datagram.
    #[arg(long, value_enum, default_value_t = Mode::ThreadPerDatagram)]
    pub mode: Mode,

    /// Milliseconds of simulated work per request (a sleep before replying), in every mode.
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub work_ms: u64,

    /// thread-per-datagram: most handler threads alive at once. At the cap, the receiving
    /// loop waits for one to finish (meanwhile the kernel buffers, or drops, new datagrams).
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_threads: u32,

    /// pool: number of worker threads [default: 4 per core].
    #[arg(long, value_name = "N", default_value_t = default_workers(), hide_default_value = true,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub workers: u32,

    /// pool: most datagrams waiting for a worker; when the queue is full, a new datagram is
    /// dropped and counted.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queue: u32,

    /// pool: most bytes of datagrams waiting for a worker (big datagrams fill memory sooner
    /// than many small ones); past it, a new datagram is dropped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(65_536..=4 * 1024 * 1024 * 1024))]
    pub queue_bytes: u64,

    /// pool: a datagram that waited longer than this in the queue is dropped unhandled and
    /// counted (its client has likely given up; answering it would only delay the others).
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub max_queue_ms: u64,

    /// Whom the server may answer: `--allow-low-ports`, `--reply-rate`, `--max-sources`.
    #[command(flatten)]
    pub replies: ReplyArgs,
}

impl ServerArgs {
    /// What [`Server::bind`](crate::server::Server::bind) needs from the command line,
    /// with `log` for the server's lines.
    pub fn config(&self, log: Log) -> Config {
        Config {
            log,
            mode: self.mode,
            work: Duration::from_millis(self.work_ms),
            max_threads: self.max_threads as usize,
            workers: self.workers as usize,
            queue: QueueLimits {
                jobs: self.queue as usize,
                bytes: usize::try_from(self.queue_bytes).unwrap_or(usize::MAX),
                max_age: Duration::from_millis(self.max_queue_ms),
            },
            replies: self.replies.clone(),
        }
    }
}

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "udp-threaded client",
    version,
    about = "UDP client for udp-threaded: sends 'Hello, Server!' and prints the response.",
    long_about = "UDP client for udp-threaded: sends 'Hello, Server!' and prints the response.\n\n\
                  With --clients, --duration or --count it runs the load mode instead: many \
                  clients at once, every response checked, one summary line. Use it to compare \
                  the server's modes (see the server's --mode and --work-ms)."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Seed>,

    /// The message to send.
    #[arg(long, short, value_name = "TEXT", default_value = "Hello, Server!")]
    pub message: String,

    /// Seconds to wait for the response (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Load mode: each client sends at most N requests (alone: one client, N requests).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub count: Option<u64>,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

impl ClientArgs {
    /// Whether these arguments ask for load mode.
    pub fn is_load_mode(&self) -> bool {
        self.load.is_requested() || self.count.is_some()
    }
}
