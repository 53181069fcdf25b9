//! The clients' load mode: many clients at once, and one line that says how it went.
//!
//! `client --clients 16 --duration 5` starts 16 clients, each on its own thread with its
//! own socket. Each one sends a request, waits for the reply, checks it, and sends the next,
//! until the time is up (or `--count` requests are sent, or Ctrl-C). Then one line sums up:
//!
//! ```text
//! 16 clients, 5.0 s: 204113 requests, 204113 replies, 0 lost, 0 wrong, 40822 requests/s (fewest replies to one client: 12391), latency p50 0.361 ms, p99 0.812 ms, max 3.954 ms
//! ```
//!
//! - **replies** are correct replies; **wrong** ones came back but were not what the request
//!   should get; **lost** ones never came back within `--timeout` (UDP may drop datagrams).
//!   UDP may also duplicate and reorder datagrams: a reply that comes twice, or after its
//!   request was given up as lost, is skipped and counted, `(3 duplicated, 2 late)`, when it
//!   happens (neither is an error).
//! - The run's time starts when every client has connected; when that took a while (thousands
//!   of TCP connections), the line says how long, e.g. `10000 clients (connected in 3.2 s)`.
//! - **requests/s** counts every request sent, over the whole run; the **fewest replies**
//!   any one client got shows whether the server was fair (a starved client would have
//!   far fewer than the average).
//! - **latency** is measured from just before sending to just after the reply arrived, for
//!   correct replies: p50 is the median, p99 the value 99% of requests beat.
//!
//! Run it against a server that handles one request at a time and against one with threads,
//! and the difference shows in numbers. It is also this project's benchmark
//! (`BENCHMARKS.md`).
//!
//! A module supplies only what one request is ([`Exchange`]); for request/reply over UDP,
//! [`UdpExchange`] is ready-made.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the flags (`--clients`, `--duration`), the plan, what one request is |
//! | `runner.rs` | [`run`]: the clients' threads, the start gate, each client's loop |
//! | `summary.rs` | [`LoadSummary`]: the counts and the one summary line |
//! | `histogram.rs` | [`Histogram`]: latency percentiles in little memory |
//! | `udp.rs` | [`UdpExchange`] and [`run_udp`]: request/reply over UDP |
//! | `pictures.rs` | `--csv` and `--chart`: the run over time, and its latency spread |

use std::io;
use std::time::Duration;

mod histogram;
mod pictures;
mod runner;
mod summary;
mod udp;

#[cfg(test)]
mod tests;

pub use histogram::Histogram;
pub use pictures::{Pictures, SlotCounts, Sweep, Timeline, sweep_chart};
pub use runner::{run, run_until_stopped};
pub use summary::LoadSummary;
pub use udp::{Request, UdpExchange, run_udp};

/// The most clients one load run may start (each is a thread and a socket).
pub const MAX_CLIENTS: u32 = 20_000;

/// How long a load run lasts when neither `--duration` nor `--count` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(5);

/// The longest a load run may last, whatever the flags say: load loops stop by themselves.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A client gives up after this many lost replies in a row.
pub const MAX_LOST_IN_A_ROW: u32 = 5;

/// `--clients` and `--duration`, flattened into every client's arguments.
///
/// `--count` and `--timeout` are not here, though load mode uses them: every client has them
/// in its normal mode too, with its own meaning and default (module 3h's `--count` is how
/// many messages to send), so each client declares them and hands them to [`LoadArgs::plan`].
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Load mode: run N clients at once, each with its own socket, and print one summary line
    /// (requests, replies, lost, wrong, requests/s, latency). Default 1 when load mode is
    /// asked for without it (by --duration, say).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CLIENTS)))]
    pub clients: Option<u32>,

    /// Load mode: run for SECS seconds (default 5; at most 3600). Fractions are fine: 0.5.
    #[arg(long, value_name = "SECS", value_parser = crate::flags::parse_seconds, allow_negative_numbers = true)]
    pub duration: Option<Duration>,

    /// Load mode: also write what was measured per tenth of a second to FILE as CSV
    /// (requests, replies, lost, wrong, mean and max latency).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<std::path::PathBuf>,

    /// Load mode: also draw FILE.svg: the latency distribution, and requests, replies and
    /// losses per second over time.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<std::path::PathBuf>,
}

impl LoadArgs {
    /// Whether `--clients` or `--duration` asked for load mode.
    pub fn is_requested(&self) -> bool {
        self.clients.is_some() || self.duration.is_some()
    }

    /// `--csv` and `--chart`.
    pub fn pictures(&self) -> Pictures {
        Pictures { csv: self.csv.clone(), chart: self.chart.clone() }
    }

    /// The run these flags describe. `count` caps the requests of each client; `timeout`
    /// is how long a client waits for each reply.
    pub fn plan(&self, count: Option<u64>, timeout: Duration) -> LoadPlan {
        let duration = match (self.duration, count) {
            (Some(duration), _) => duration,
            // A count alone decides when the run ends; the ceiling only guards against a
            // run that would otherwise never stop.
            (None, Some(_)) => MAX_DURATION,
            (None, None) => DEFAULT_DURATION,
        };
        LoadPlan {
            clients: self.clients.unwrap_or(1),
            duration,
            count,
            timeout,
            pictures: self.pictures(),
        }
    }
}

/// One load run: how many clients, for how long, how many requests each, how patiently.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Clients running at once.
    pub clients: u32,
    /// The run stops after this long.
    pub duration: Duration,
    /// Each client stops after this many requests, if given.
    pub count: Option<u64>,
    /// How long a client waits for one reply before counting it lost.
    pub timeout: Duration,
    /// `--csv` and `--chart`, written when the run ends.
    pub pictures: Pictures,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The expected reply came back.
    Correct,
    /// A reply came back, but not the expected one.
    Wrong,
    /// No reply within the timeout.
    Lost,
}

/// Replies a client did not wait for: see [`Exchange::strays`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Strays {
    /// Replies to a request already answered: a duplicated datagram.
    pub duplicates: u64,
    /// Replies to a request given up as lost: out of order, too late.
    pub late: u64,
}

/// One client's side of a request/reply protocol: send request number `sequence`, wait
/// for its reply, and judge it. An `Err` stops this client (the server is gone, say).
pub trait Exchange {
    /// Replies that came twice, or late (after the request was given up as lost): UDP may
    /// duplicate and reorder datagrams. Neither is an error; both are counted, and shown
    /// in the summary when they happen. (Replies that are all alike cannot tell.)
    fn strays(&self) -> Strays {
        Strays::default()
    }

    /// Performs one request and reports its outcome.
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome>;
}
