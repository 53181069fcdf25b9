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
//! network splits them (a [`LineConnection`], from [`shared::framing`]). The load mode
//! (`--clients`, `--duration`) is in [`crate::load`], which uses this client's exchange; the
//! binary chooses between the two.

use std::io::{self, BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use shared::console::output_line;
use shared::echo::{Echo, repeat_and_check};
use shared::error::{Context, Error, Result};
use shared::framing::{LineConnection, LineError, LineReader};
use shared::io_errors::is_timeout;
use shared::shutdown::Shutdown;
use shared::text::as_text;

use crate::MAX_LINE;
use crate::args::ClientArgs;

/// The read buffer of the client's connection.
const READ_BUFFER: usize = 8 * 1024;

/// Runs the client (the hello lines, or `--interactive`), writing what it sees to `out`;
/// `input` is read in `--interactive` mode, after a one-line hint if `hint` is set (the
/// binary sets it when stdin is a terminal). `Ok` only if every echo came back unchanged.
/// (Load mode is [`crate::load::run`]: the binary chooses.)
pub fn run(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead,
    hint: bool,
    out: &mut impl Write,
) -> Result<()> {
    let server = args.address.resolve()?;
    if args.interactive {
        let session = Session { server, timeout: args.echo.timeout, keep_going: hint };
        return session.echo_input(input, out);
    }
    let stream = connect(server, args.echo.timeout)?;
    // Ctrl-C must not wait for an echo that may take the whole --timeout to come.
    let mut connection = LineConnection::new(stream, MAX_LINE, READ_BUFFER)
        .with_patience(args.echo.timeout, shutdown)
        .context(|| "cannot set the read timeout")?;
    let message = args.echo.message();
    if message.contains('\n') {
        return Err(Error::msg("the message must be one line (no newline in --message)"));
    }
    repeat_and_check(&args.echo, message.as_bytes(), shutdown, out, |message| {
        send_line_and_check(&mut connection, message)
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
/// the server (busy).
///
/// 1. [`send_line`](LineConnection::send_line) the message (an error: "cannot send").
/// 2. [`read_line`](LineConnection::read_line) the echo, and say what it is: the same
///    bytes ([`Echo::Same`]), different ones ([`Echo::Different`]), or a line starting
///    with `error: `, the server refusing (an error saying what the server said).
/// 3. The end of the stream is an error (the server closed the connection); so is a
///    timeout ([`is_timeout`]): over TCP nothing is lost in between, so a missing echo
///    means the server is stuck, and a late echo would be taken for the next one.
pub fn send_line_and_check(connection: &mut LineConnection, message: &[u8]) -> Result<Echo> {
    // BEGIN SOLUTION: send the message as a line, read one line back and judge it (the steps are in the doc comment)
    connection.send_line(message).context(|| "cannot send to the server")?;
    match connection.read_line() {
        Ok(Some(echo)) if echo == message => Ok(Echo::Same),
        Ok(Some(echo)) if echo.starts_with(b"error: ") => {
            Err(Error::msg(format!("the server says: {}", as_text(&echo[7..]))))
        }
        Ok(Some(echo)) => Ok(Echo::Different(echo.to_vec())),
        Ok(None) => Err(Error::msg("the server closed the connection")),
        Err(LineError::Io(error)) if is_timeout(&error) => {
            Err(Error::msg("no echo within the timeout: the server is not answering"))
        }
        Err(error) => Err(Error::msg(format!("cannot read the echo: {error}"))),
    }
    // END SOLUTION
}

/// `--interactive`: the lines you type go to the server; every echo is printed.
struct Session {
    server: SocketAddr,
    timeout: Duration,
    /// At a terminal, a failure (no server yet, the server gone) is said and the session
    /// goes on: the next line tries again, so you can start the server and retry. Reading
    /// from a pipe, the first failure ends the client with an error (a script needs it).
    keep_going: bool,
}

impl Session {
    fn echo_input(&self, input: impl BufRead, out: &mut impl Write) -> Result<()> {
        let mut connection =
            if self.keep_going { self.connect_or_say(out)? } else { Some(self.connect()?) };
        let mut lines = LineReader::new(input, MAX_LINE);
        loop {
            let line = match lines.read_line() {
                Ok(Some(line)) => line,
                Ok(None) => return Ok(()),
                Err(error) => return Err(Error::msg(format!("cannot read input: {error}"))),
            };
            if connection.is_none() {
                connection = self.connect_or_say(out)?;
            }
            let Some(open) = connection.as_mut() else { continue };
            match send_line_and_check(open, line) {
                Ok(Echo::Same) => output_line(out, format_args!("{}", as_text(line)))?,
                Ok(Echo::Different(echo)) => output_line(out, format_args!("{}", as_text(&echo)))?,
                Ok(Echo::Missing) => return Err(Error::msg("no echo within the timeout")),
                Err(error) if self.keep_going && !error.is_stopped() => {
                    output_line(out, format_args!("({error}; the next line connects again)"))?;
                    connection = None;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn connect(&self) -> Result<LineConnection> {
        let stream = connect(self.server, self.timeout)?;
        Ok(LineConnection::new(stream, MAX_LINE, READ_BUFFER))
    }

    /// Connects, and says so; or says why not (`None`), for the next line to try again.
    fn connect_or_say(&self, out: &mut impl Write) -> Result<Option<LineConnection>> {
        match self.connect() {
            Ok(connection) => {
                let hint = "Type lines to send them; Ctrl-D (Windows: Ctrl-Z, Enter) quits.";
                output_line(out, format_args!("Connected to {}. {hint}", self.server))?;
                Ok(Some(connection))
            }
            Err(error) => {
                output_line(out, format_args!("({error}; type a line to try again)"))?;
                Ok(None)
            }
        }
    }
}
