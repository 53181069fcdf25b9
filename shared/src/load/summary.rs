//! The result of a load run, and its one summary line.

use std::fmt;
use std::time::Duration;

use super::runner::Tally;
use super::{Histogram, Strays};
use crate::error::{Error, Result};
use crate::text::plural;

/// The result of a load run; its `Display` is the one summary line.
#[derive(Debug, Default, Clone)]
pub struct LoadSummary {
    /// Clients that ran.
    pub clients: u32,
    /// Time to start the clients and connect them all, before the run's clock started.
    pub connecting: Duration,
    /// Wall-clock time of the run, from the moment every client was connected.
    pub elapsed: Duration,
    /// Requests sent.
    pub requests: u64,
    /// Correct replies received.
    pub replies: u64,
    /// Requests whose reply did not come within the timeout.
    pub lost: u64,
    /// Replies that were not the expected ones.
    pub wrong: u64,
    /// Clients that stopped on an error.
    pub failed_clients: u32,
    /// The first such error, to show the user.
    pub first_error: Option<String>,
    /// Latencies of the correct replies.
    pub latency: Histogram,
    /// The fewest correct replies any one client got: far below the average means some
    /// clients were starved while others were served.
    pub fewest_replies: Option<u64>,
    /// Replies that came twice or too late (UDP may duplicate and reorder datagrams).
    pub strays: Strays,
    /// Whether Ctrl-C cut the run short (the counts are then those of the part that ran).
    pub interrupted: bool,
    /// Requests still waiting for their reply when the run ended: neither lost nor answered,
    /// and not in `requests`.
    pub unanswered: u64,
    /// Per tenth of a second, when `--csv` or `--chart` asked for it (else empty).
    pub timeline: Vec<super::SlotCounts>,
}

impl LoadSummary {
    pub(super) fn add(&mut self, tally: Tally) {
        self.requests += tally.requests;
        self.replies += tally.correct;
        self.lost += tally.lost;
        self.wrong += tally.wrong;
        self.unanswered += tally.unanswered;
        self.latency.merge(&tally.latency);
        self.strays.duplicates += tally.strays.duplicates;
        self.strays.late += tally.strays.late;
        self.fewest_replies =
            Some(self.fewest_replies.map_or(tally.correct, |fewest| fewest.min(tally.correct)));
        if let Some(error) = tally.error {
            self.failed_clients += 1;
            self.first_error.get_or_insert(error);
        }
    }

    /// Requests sent per second, over the whole run.
    pub fn requests_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.requests as f64 / seconds } else { 0.0 }
    }

    /// `Ok` if every request got its correct reply; otherwise an error that says what
    /// went wrong (a client's exit status follows from it).
    pub fn check(&self) -> Result<()> {
        if self.interrupted {
            return Err(Error::stopped());
        }
        if let Some(error) = &self.first_error {
            return Err(Error::msg(format!(
                "{} of {} clients stopped early; the first because: {error}",
                self.failed_clients, self.clients
            )));
        }
        if self.requests == 0 && self.unanswered > 0 {
            return Err(Error::msg(format!(
                "no reply came before the run ended ({} still waiting): is the server \
                 running? (or make --duration longer than --timeout)",
                plural(self.unanswered, "request")
            )));
        }
        if self.requests == 0 {
            return Err(Error::msg("no request was sent"));
        }
        if self.lost > 0 || self.wrong > 0 {
            // On plain loopback nothing is lost by the network: a lossy-link in between,
            // or the server's reply rule (one client sending faster than its --reply-rate).
            let hint = if self.lost > 0 {
                " (a lost reply: the network lost it, a lossy-link relay included, or the \
                 server held one client to its --reply-rate; for the latter, try more \
                 clients, or a higher --reply-rate on the server)"
            } else {
                ""
            };
            return Err(Error::msg(format!(
                "{} of {} requests lost, {} wrong{hint}",
                self.lost, self.requests, self.wrong
            )));
        }
        Ok(())
    }
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", plural(self.clients, "client"))?;
        // Worth mentioning only when connecting took a noticeable time (thousands of TCP
        // connections), so that the run's seconds are not mistaken for the whole wait.
        if self.connecting >= Duration::from_millis(100) {
            write!(f, " (connected in {:.1} s)", self.connecting.as_secs_f64())?;
        }
        let stopped = if self.interrupted { " (stopped by Ctrl-C)" } else { "" };
        write!(
            f,
            ", {:.1} s{stopped}: {} requests, {} replies, {} lost, {} wrong, {:.0} requests/s",
            self.elapsed.as_secs_f64(),
            self.requests,
            self.replies,
            self.lost,
            self.wrong,
            self.requests_per_second(),
        )?;
        if self.strays != Strays::default() {
            write!(f, " ({} duplicated, {} late)", self.strays.duplicates, self.strays.late)?;
        }
        if self.unanswered > 0 {
            write!(f, " ({} still waiting at the end)", self.unanswered)?;
        }
        if let (Some(fewest), true) = (self.fewest_replies, self.clients > 1) {
            write!(f, " (fewest replies to one client: {fewest})")?;
        }
        match (self.latency.quantile(0.5), self.latency.quantile(0.99), self.latency.max()) {
            (Some(p50), Some(p99), Some(max)) => {
                write!(
                    f,
                    ", latency p50 {} ms, p99 {} ms, max {} ms",
                    millis(p50),
                    millis(p99),
                    millis(max)
                )
            }
            _ => f.write_str(", latency: no replies"),
        }
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}
