//! The client's load mode (`--clients N --duration SECS`): many clients at once, every echo
//! checked, one summary line. This is how you measure the server (see `BENCHMARKS.md`);
//! the lesson's client is in [`crate::client`], and the `client` binary chooses between
//! them.

use std::io::Write;
use std::net::SocketAddr;

use shared::error::Result;
use shared::load::{self, Request};
use shared::shutdown::Shutdown;

use crate::args::ClientArgs;

/// Runs `--clients` clients that send numbered messages and check every echo, and writes
/// the summary line to `out`.
pub fn run(
    args: &ClientArgs,
    server: SocketAddr,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    let plan = args.load.plan(args.echo.count, args.echo.timeout);
    load::run_udp(&plan, server, shutdown, request, out)
}

/// Load mode's request: numbered, so that a late echo is never mistaken for a newer one.
fn request(client: u32, sequence: u64) -> Request {
    let datagram =
        format!("Hello, world ({}) client {client} message {sequence}", std::process::id())
            .into_bytes();
    Request { expected_reply: datagram.clone(), datagram }
}
