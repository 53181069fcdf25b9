//! # Module 3g: multiple client connections for TCP sockets
//!
//! TCP is connection-oriented, which makes many clients harder than over UDP: the server
//! must accept new connections *and* serve the ones it already has, at the same time. The
//! notebook's answer is threads:
//!
//! - the **main thread** does nothing but `accept`: it waits for a connection, hands it to
//!   a new thread, and goes back to waiting;
//! - each **connection thread** serves one client: it reads what the client sends and
//!   echoes it back as it arrives, and keeps that client's context (its line count) in
//!   its own local variables.
//!
//! Because every client has its own thread, a slow or silent client blocks only its own
//! thread; the others, and the main thread, carry on.
//!
//! What this version adds to the notebook, each a lesson of its own:
//! - **Lines, not `recv` calls.** TCP is a byte stream: one `recv` can return half a line
//!   or three lines. The notebook counts `recv` calls as lines; here the server echoes
//!   bytes as they come, as the notebook does, but counts lines by their `\n`
//!   ([`line_count::LineCount`]); the client reads whole lines with
//!   [`shared::framing::LineConnection`].
//! - **Limits.** At most `--max-clients` connections, and at most `--max-per-ip` from one
//!   host (one more is told why in one line, and closed), a client idle for `--idle-timeout`, or
//!   slower than a minimum pace ([`pace`]), is disconnected, bounded socket buffers, small
//!   thread stacks so that 10,000 connections fit in memory, and a listen backlog
//!   (`--backlog`) large enough for a burst.
//! - **A clean stop.** Ctrl-C stops the accepting, closes every connection, waits for every
//!   thread, and prints a summary.
//!
//! - [`server`]: the listening socket, the accept loop and each connection's thread.
//! - [`connection`]: one connection's echo loop, run on its own thread.
//! - [`line_count`]: lines counted by their `\n`, however the stream was cut into reads.
//! - [`open_connections`]: the table of open connections, with its limits.
//! - [`pace`]: the minimum pace a client must keep (a line, an echo read), against slow drips.
//! - [`summary`]: what the server counts, and the summary it prints when it stops.
//! - [`client`]: the notebook's `TCPSimpleClient.py`, and an interactive mode.
//! - [`load`]: the client's load mode, for measuring the server.
//! - [`args`]: the command line of both programs.

pub mod args;
pub mod client;
pub mod connection;
pub mod line_count;
pub mod load;
pub mod open_connections;
pub mod pace;
pub mod server;
pub mod summary;

#[cfg(test)]
mod tests;

use shared::address::AddressDefaults;

/// The notebook's address: `HOST = '127.0.0.1'`, `PORT = 12354`.
#[derive(Debug, Clone, Copy)]
pub struct Course;

impl AddressDefaults for Course {
    const HOST: &'static str = "127.0.0.1";
    const PORT: u16 = 12354;
}

/// The longest line (in bytes, without its `\n`) the client reads, of its input or of an
/// echo. (The server has no limit: it echoes bytes as they come, never holding a line.)
pub const MAX_LINE: usize = 64 * 1024;
