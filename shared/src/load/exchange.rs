//! What one request is, to the load runner: a module's [`Exchange`], and what became of it.

use std::io;

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
