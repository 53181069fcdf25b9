//! The client's load mode (`--clients N --duration SECS`, or `--count N`): many clients at
//! once, every response checked, one summary line. Run it against each of the server's
//! modes, with `--work-ms`, to compare them (see the README and `BENCHMARKS.md`). The
//! `client` binary chooses between it and the seed's client ([`crate::client`]).

use std::io::Write;
use std::net::SocketAddr;

use shared::error::Result;
use shared::load::{self, Request};
use shared::shutdown::Shutdown;

use crate::RESPONSE;
use crate::args::ClientArgs;

/// Runs `--clients` clients that send numbered requests and check every response, and
/// writes the summary line to `out`.
pub fn run(
    args: &ClientArgs,
    server: SocketAddr,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    load::run_udp(&args.load.plan(args.count, args.timeout), server, shutdown, request, out)
}

/// Load mode's request: numbered, though every response is the same `Message received`.
fn request(client: u32, sequence: u64) -> Request {
    let datagram = format!("Hello, Server! (client {client}, request {sequence})").into_bytes();
    Request { datagram, expected_reply: RESPONSE.to_vec() }
}
