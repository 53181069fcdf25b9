//! The TCP multi-client client: the notebook's `TCPSimpleClient.py`, and more.
//!
//! By default it connects, sends `Hello, world (<pid>)` `--count` times (one line each,
//! `--interval` apart), reads each echo and checks it is exactly what it sent. Run it in
//! several terminals at once: each connection gets its own thread in the server.
//!
//! `--interactive` sends the lines you type instead and prints each echo. `--clients N`
//! runs the load mode: N connections at once (thousands are fine), every echo checked.
//!
//! Over TCP a line is only a line because both sides agree on the `\n` at its end: the
//! client sends `message\n`, and reads bytes until a `\n` to get the echo, however the
//! network splits them (see [`shared::framing`]).

use std::borrow::Borrow;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use shared::address::AddressArgs;
use shared::datagram::{as_text, is_timeout};
use shared::echo::{Echo, EchoArgs, repeat_and_check};
use shared::error::{Context, Error, Result};
use shared::framing::{LineError, LineReader};
use shared::load::{self, Exchange, LoadArgs, Outcome};
use shared::report::output_line;
use shared::shutdown::Shutdown;

use crate::{Course, DEFAULT_MAX_LINE};

/// Read buffer of each load client: small, since there may be 10,000 of them.
const LOAD_READ_BUFFER: usize = 1024;

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    version,
    about = "TCP multi-client client (course module 3g): connects, sends 'Hello, world (<pid>)' \
             a few times and checks each echo. Run it in several terminals at once.",
    long_about = "TCP multi-client client (course module 3g): connects, sends 'Hello, world (<pid>)' \
                  a few times and checks each echo. Run it in several terminals at once.\n\n\
                  With --interactive it sends the lines you type instead. With --clients or \
                  --duration it runs the load mode: many connections at once, every echo checked, \
                  one summary line. The exit status is 0 only if every echo came back unchanged."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--count`, `--interval`, `--timeout`, `--message`.
    #[command(flatten)]
    pub echo: EchoArgs,

    /// Send the lines you type (until Ctrl-D) instead of the hello message; print each echo.
    #[arg(long, short, conflicts_with_all = ["message", "count", "clients", "duration"])]
    pub interactive: bool,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Runs the client, writing what it sees to `out`; `input` is read in `--interactive` mode,
/// after a one-line hint if `hint` is set (the binary sets it when stdin is a terminal).
/// `Ok` only if every echo came back unchanged.
pub fn run(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead,
    hint: bool,
    out: &mut impl Write,
) -> Result<()> {
    let server = args.address.resolve()?;
    let timeout = args.echo.timeout;
    if args.load.is_requested() {
        let plan = args.load.plan(args.echo.count, timeout);
        let summary =
            load::run(&plan, shutdown, |client| LineExchange::connect(server, timeout, client))?;
        output_line(out, format_args!("{summary}"))?;
        return summary.check();
    }

    let stream = connect(server, timeout)?;
    let mut echoes = LineReader::new(BufReader::new(&stream), DEFAULT_MAX_LINE as usize);
    if args.interactive {
        if hint {
            output_line(
                out,
                format_args!("Connected to {server}. Type lines to send them; Ctrl-D quits."),
            )?;
        }
        return echo_input(&mut echoes, input, out);
    }
    let message = args.echo.message();
    if message.contains('\n') {
        return Err(Error::msg("the message must be one line (no newline in --message)"));
    }
    repeat_and_check(&args.echo, message.as_bytes(), shutdown, out, |message| {
        send_line_and_check(&mut echoes, message)
    })
}

/// Connects to the server, waiting at most `timeout`, and makes every later read and
/// write on the connection wait at most `timeout` too.
pub fn connect(server: SocketAddr, timeout: Duration) -> Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&server, timeout).map_err(|error| match error.kind() {
        io::ErrorKind::ConnectionRefused => Error::msg(format!(
            "no server is listening at {server} (start the server first, or check --host and --port)"
        )),
        _ => Error::io(format!("cannot connect to {server}"), error),
    })?;
    stream.set_read_timeout(Some(timeout)).context(|| "cannot set the read timeout")?;
    stream.set_write_timeout(Some(timeout)).context(|| "cannot set the write timeout")?;
    Ok(stream)
}

/// Sends `message` as one line and reads one line back: the echo, or an error line from
/// the server (busy, line too long).
///
/// `echoes` reads from the connection; the same connection is written to through it (a
/// `&TcpStream` can write), so one connection needs one file descriptor, not two.
pub fn send_line_and_check<S: Read + Borrow<TcpStream>>(
    echoes: &mut LineReader<BufReader<S>>,
    message: &[u8],
) -> Result<Echo> {
    // BEGIN SOLUTION: send the message and a '\n' in one write (to echoes.get_ref().get_ref().borrow(), the connection), read one line back with echoes.read_line(), and compare it; a line starting with 'error: ' is the server refusing, a timeout is an error
    let mut line = Vec::with_capacity(message.len() + 1);
    line.extend_from_slice(message);
    line.push(b'\n');
    let mut stream: &TcpStream = echoes.get_ref().get_ref().borrow();
    stream.write_all(&line).context(|| "cannot send to the server")?;
    match echoes.read_line() {
        Ok(Some(echo)) if echo == message => Ok(Echo::Same),
        Ok(Some(echo)) if echo.starts_with(b"error: ") => {
            Err(Error::msg(format!("the server says: {}", as_text(&echo[7..]))))
        }
        Ok(Some(echo)) => Ok(Echo::Different(echo.to_vec())),
        Ok(None) => Err(Error::msg("the server closed the connection")),
        // Over TCP nothing is lost in between: a missing echo means the server is stuck, and
        // the stream is out of step (a late echo would be taken for the next one). Stop.
        Err(LineError::Io(error)) if is_timeout(&error) => {
            Err(Error::msg("no echo within the timeout: the server is not answering"))
        }
        Err(error) => Err(Error::msg(format!("cannot read the echo: {error}"))),
    }
    // END SOLUTION
}

/// `--interactive`: every line of `input` goes to the server; every echo is printed.
fn echo_input(
    echoes: &mut LineReader<BufReader<&TcpStream>>,
    input: impl BufRead,
    out: &mut impl Write,
) -> Result<()> {
    let mut lines = LineReader::new(input, DEFAULT_MAX_LINE as usize);
    loop {
        let line = match lines.read_line() {
            Ok(Some(line)) => line,
            Ok(None) => return Ok(()),
            Err(error) => return Err(Error::msg(format!("cannot read input: {error}"))),
        };
        match send_line_and_check(echoes, line)? {
            Echo::Same => output_line(out, format_args!("{}", as_text(line)))?,
            Echo::Different(echo) => output_line(out, format_args!("{}", as_text(&echo)))?,
            Echo::Missing => return Err(Error::msg("no echo within the timeout")),
        }
    }
}

/// One load client: a connection that sends numbered lines and checks each echo.
struct LineExchange {
    /// The connection, read (and, through it, written) by `send_line_and_check`.
    echoes: LineReader<BufReader<TcpStream>>,
    client: u32,
}

impl LineExchange {
    fn connect(server: SocketAddr, timeout: Duration, client: u32) -> Result<Self> {
        let stream = connect(server, timeout)?;
        let echoes = LineReader::new(
            BufReader::with_capacity(LOAD_READ_BUFFER, stream),
            DEFAULT_MAX_LINE as usize,
        );
        Ok(LineExchange { echoes, client })
    }
}

impl Exchange for LineExchange {
    /// The interactive client's exchange, judged: any error (a refusal, a closed connection,
    /// a missing echo, which over TCP means a stuck server) stops this load client.
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
        let message =
            format!("Hello, world ({}) client {} line {sequence}", std::process::id(), self.client);
        match send_line_and_check(&mut self.echoes, message.as_bytes()) {
            Ok(Echo::Same) => Ok(Outcome::Correct),
            Ok(_) => Ok(Outcome::Wrong),
            Err(error) => Err(io::Error::other(error.to_string())),
        }
    }
}
