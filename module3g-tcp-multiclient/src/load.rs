//! The client's load mode (`--clients N --duration SECS`): many connections at once (10,000
//! are fine), every echo checked, one summary line. This is how you measure the server
//! (see `BENCHMARKS.md`); the lesson's client is in [`crate::client`].

use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use shared::console::output_line;
use shared::echo::Echo;
use shared::error::{Context, Result};
use shared::framing::LineConnection;
use shared::load::{self, Exchange, Outcome};
use shared::shutdown::Shutdown;

use crate::MAX_LINE;
use crate::args::ClientArgs;
use crate::client::{connect, send_line_and_check};

/// Read buffer of each load client: small, since there may be 10,000 of them.
const READ_BUFFER: usize = 1024;

/// Runs `--clients` connections that send numbered lines and check every echo, and writes
/// the summary line to `out`. `Ok` only if every echo came back unchanged.
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    let timeout = args.echo.timeout;
    let plan = args.load.plan(args.echo.count, timeout);
    // Each connection's reads wait on the run's stop, so that the run ends at its --duration.
    let summary = load::run_until_stopped(&plan, shutdown, |client, stop| {
        LineExchange::connect(server, timeout, stop, client)
    })?;
    output_line(out, format_args!("{summary}"))?;
    summary.check()
}

/// One load client: a connection that sends numbered lines and checks each echo.
struct LineExchange {
    connection: LineConnection,
    client: u32,
    /// The run's stop: a read it cut short is no failure (see `with_patience`).
    stop: Shutdown,
}

impl LineExchange {
    fn connect(
        server: SocketAddr,
        timeout: Duration,
        stop: &Shutdown,
        client: u32,
    ) -> Result<Self> {
        let stream = connect(server, timeout)?;
        // The run's end (or Ctrl-C) must not wait for echoes that may take the whole
        // --timeout to come.
        let connection = LineConnection::new(stream, MAX_LINE, READ_BUFFER)
            .with_patience(timeout, stop)
            .context(|| "cannot set the read timeout")?;
        Ok(LineExchange { connection, client, stop: stop.clone() })
    }
}

impl Exchange for LineExchange {
    /// The interactive client's exchange, judged: any error (a refusal, a closed connection,
    /// a missing echo, which over TCP means a stuck server) stops this load client.
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
        let message =
            format!("Hello, world ({}) client {} line {sequence}", std::process::id(), self.client);
        match send_line_and_check(&mut self.connection, message.as_bytes()) {
            Ok(Echo::Same) => Ok(Outcome::Correct),
            Ok(_) => Ok(Outcome::Wrong),
            Err(_) if self.stop.is_requested() => Ok(Outcome::Lost), // the wait was cut short
            Err(error) => Err(io::Error::other(error.to_string())),
        }
    }
}
