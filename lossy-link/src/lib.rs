//! # lossy-link: what UDP does not promise, on your own machine
//!
//! UDP hands each datagram to the network and forgets it. The course's notebooks say it
//! "does not guarantee delivery, order, or error checking", but on loopback (`127.0.0.1`)
//! nothing is ever lost, late, doubled or out of order, so the clients' `--timeout` and the
//! servers' careful counting look like paranoia. This relay sits between a client and a
//! server and does to datagrams what a bad network does:
//!
//! - **Loss** (`--loss 20%`). A router with a full queue, a radio burst, a cable fault: the
//!   datagram is gone, and nobody says so. UDP has no acknowledgement, so the sender cannot
//!   know; the receiver cannot know either (it never heard of it). A client that waits for a
//!   reply must stop waiting some time (`--timeout`) and decide: retry, or give up. A lost
//!   *reply* is worse than a lost request: the server did the work, and the client cannot
//!   tell the two apart.
//! - **Delay and jitter** (`--delay 50ms --jitter 30ms`). Distance and queues make every
//!   datagram late, each by a different amount. A timeout shorter than the round trip turns
//!   every reply into a "lost" one (and the late reply then arrives to the *next* request).
//! - **Duplication** (`--duplicate 5%`). A link-layer retry whose acknowledgement was lost,
//!   a routing change: the same datagram arrives twice. A server that counts or executes
//!   requests counts and executes it twice, unless the message carries a number to spot it.
//! - **Reordering** (`--reorder 10%`). Two datagrams take different paths or queues, and
//!   the second arrives first. Anything that assumes "the last datagram is the newest" is
//!   wrong.
//! - **A slow link** (`--rate 64k`). The link carries so many bytes per second; faster
//!   traffic waits in a queue, and when the queue is full the rest is dropped. That is
//!   congestion, the Internet's most common cause of loss: send faster, lose more.
//!
//! TCP is built on the same unreliable datagrams (IP packets) and hides all of this with
//! sequence numbers, acknowledgements, retransmission and flow control. This relay cannot
//! show that recovery: it relays UDP, and a TCP connection's packets never pass through it.
//!
//! ## How it is built
//!
//! - [`relay`]: the sockets and threads: one socket facing the clients, one per client
//!   facing the server, a bounded client table. The binary (`src/main.rs`) binds a
//!   [`Relay`] and runs it until Ctrl-C.
//! - [`link`]: one direction of the link, what happens to one datagram: the dice, the rate
//!   queue, the delay queue, and the thread that sends each datagram when it is due.
//! - [`flow`]: one client's traffic in one direction: its dice and what keeps it in order.
//! - [`queue`]: a direction's queues and their bounds.
//! - [`table`]: the client table, bounded, least recent out, idle clients dropped.
//! - [`client`]: one client as the relay knows it, shared by [`relay`] and [`link`].
//! - [`direction`]: up (client → server) or down (server → client).
//! - [`budget`]: the reply rule's byte budget on the way down (no amplifying).
//! - [`summary`]: the counts, printed when the relay stops; [`probe`]: the same, live.
//! - [`sockets`]: addresses, and what a failed receive means.
//! - [`args`]: the flags, per direction ("up" is client → server, "down" is server →
//!   client).
//! - [`tamper`]: `--tamper`, a datagram changed on the way (a new checksum and all).
//! - [`rng`]: a seeded random number generator (SplitMix64), so `--seed` repeats a run.
//! - [`units`]: `20%`, `50ms`, `64k`.
//! - [`throttle`]: warnings that cannot flood the log when a queue is full.
//! - `testing`: a relay for the modules' grading suites (with the `testing` feature, which
//!   only dev-dependencies turn on).
//! - [`wire`], [`verdict`], [`capture`], [`diagram`]: `--capture FILE` (pcapng for Wireshark) and
//!   `--diagram FILE.svg` (the run as a ladder diagram).
//!
//! The tests (`src/tests/`) drive [`Relay`] in-process over real loopback sockets.

pub mod args;
pub mod budget;
pub mod capture;
pub mod client;
pub mod diagram;
pub mod direction;
pub mod flow;
pub mod link;
pub mod probe;
pub mod queue;
pub mod relay;
pub mod rng;
pub mod sockets;
pub mod summary;
pub mod table;
pub mod tamper;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod units;
pub mod verdict;
pub mod wire;

#[cfg(test)]
mod tests;

pub use args::Args;
pub use relay::Relay;
pub use summary::Summary;
