//! Load mode's flags (`--clients`, `--duration`, `--csv`, `--chart`) and the run they describe.

use std::time::Duration;

use super::Pictures;

/// The most clients one load run may start (each is a thread and a socket).
pub const MAX_CLIENTS: u32 = 20_000;

/// How long a load run lasts when neither `--duration` nor `--count` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(5);

/// The longest a load run may last, whatever the flags say: load loops stop by themselves.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// `--clients`, `--duration`, `--csv` and `--chart`, flattened into every client's arguments.
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
