//! The client's load mode (`--clients N --duration SECS`, or `--count N`): many clients at
//! once, every reply checked, one summary line. This is how you measure the server (see
//! `BENCHMARKS.md`); the lesson's client is in [`crate::client`], and the `client` binary
//! chooses between them.

use std::io::Write;
use std::net::SocketAddr;

use shared::error::Result;
use shared::load::{self, Request};
use shared::shutdown::Shutdown;

use crate::args::ClientArgs;

/// Runs `--clients` clients that send uppercase requests and check every reply, and writes
/// the summary line to `out`.
pub fn run(
    args: &ClientArgs,
    server: SocketAddr,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    load::run_udp(&args.load.plan(args.count, args.timeout), server, shutdown, request, out)
}

/// Request `sequence` of load client `client`, and the reply it must get. The expected
/// reply is computed here, independently of the server's code. (The text is ASCII so the
/// benchmark's bare loop, which only uppercases ASCII, answers it correctly too.)
fn request(client: u32, sequence: u64) -> Request {
    let text = format!("client {client} request {sequence}: hello, world");
    Request { expected_reply: text.to_uppercase().into_bytes(), datagram: text.into_bytes() }
}
