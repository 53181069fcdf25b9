//! Why a server did not answer a datagram, how many it did not answer for each reason, and
//! the one warning every server gives for it.

use std::fmt;
use std::net::SocketAddr;

use crate::log::Log;

/// Why a server did not answer a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The source is one of the server's own addresses: a reply would come straight back.
    OwnAddress,
    /// The source port is 0, which no socket sends from: a forged datagram.
    PortZero,
    /// The source port is a well-known service's (below 1024).
    LowPort,
    /// The source keeps sending the server's reply back: a loop.
    Loop,
    /// The reply would send the source's network more than 3x what it sent.
    OverBudget,
    /// The source's network has had its `--reply-rate` of replies this second.
    RateLimited,
    /// The tables are full of sources that still owe: a new one is not answered.
    TableFull,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::OwnAddress => "it is this server's own address (a forged source)",
            Refusal::PortZero => "its source port is 0 (a forged source)",
            Refusal::LowPort => "its source port is below 1024 (see --allow-low-ports)",
            Refusal::Loop => {
                "it keeps sending this server's reply back (a loop between two servers, \
                 see --loop-after)"
            }
            Refusal::OverBudget => {
                "the reply would send its network more than 3x the bytes it sent (see \
                 --reply-allowance)"
            }
            Refusal::RateLimited => "its network has had its --reply-rate of replies this second",
            Refusal::TableFull => "the table of sources is full (see --max-sources)",
        })
    }
}

/// How many datagrams went unanswered, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refused {
    /// From the server's own address.
    pub own_address: u64,
    /// From port 0.
    pub port_zero: u64,
    /// From a port below 1024.
    pub low_port: u64,
    /// Part of a loop.
    pub looped: u64,
    /// Replies over the byte budget.
    pub over_budget: u64,
    /// Over the reply rate.
    pub rate_limited: u64,
    /// From a new source while the tables were full.
    pub table_full: u64,
}

impl Refused {
    /// All of them.
    pub fn total(&self) -> u64 {
        self.forged() + self.looped + self.over_budget + self.rate_limited + self.table_full
    }

    /// From a source no real client has: own address, port 0, low port.
    pub fn forged(&self) -> u64 {
        self.own_address + self.port_zero + self.low_port
    }

    /// Counts one refusal under its reason.
    pub(super) fn count(&mut self, refusal: Refusal) {
        let counter = match refusal {
            Refusal::OwnAddress => &mut self.own_address,
            Refusal::PortZero => &mut self.port_zero,
            Refusal::LowPort => &mut self.low_port,
            Refusal::Loop => &mut self.looped,
            Refusal::OverBudget => &mut self.over_budget,
            Refusal::RateLimited => &mut self.rate_limited,
            Refusal::TableFull => &mut self.table_full,
        };
        *counter += 1;
    }
}

impl fmt::Display for Refused {
    /// `3 from refused sources, 120 over the reply rate, 2 in a loop` (the last parts only
    /// when not 0).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} from refused sources, {} over the reply rate",
            self.forged(),
            self.rate_limited
        )?;
        for (count, what) in [
            (self.looped, "in a loop"),
            (self.over_budget, "over the byte budget"),
            (self.table_full, "with the table of sources full"),
        ] {
            if count > 0 {
                write!(f, ", {count} {what}")?;
            }
        }
        Ok(())
    }
}

/// The warning for a datagram the server does not answer, the same in every server (the
/// log's throttle keeps a flood of them from flooding the log).
pub fn warn_refusal(log: &Log, source: SocketAddr, refusal: Refusal) {
    log.warn(format_args!("not answering {source}: {refusal}"));
}
