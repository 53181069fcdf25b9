//! The grading suite for module 3g, by subject: [`server`] (the lesson: echo, line counts,
//! the notebook's log, many clients, a clean stop), [`hostile`] (clients that misbehave),
//! [`limits`] (how many places, per host), [`client`], [`load`] (the client's load mode) and
//! [`command_line`]. This file holds the helpers they share.
//!
//! Every test starts the real server in this process on a free port (`--port 0`) and talks
//! to it over real loopback TCP connections. Every read has a deadline, so an unfinished
//! server fails a test instead of hanging the run.

mod client;
mod command_line;
mod hostile;
mod limits;
mod load;
mod server;

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, patience, returns_within};

use crate::args::{ClientArgs, ServerArgs};
use crate::server::Server;
use crate::summary::Summary;

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(args.address.resolve().unwrap(), args.config(), log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// A client connection: write to `stream`, read lines from `lines`.
struct Client {
    stream: TcpStream,
    lines: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&server, patience()).unwrap();
        stream.set_read_timeout(Some(patience())).unwrap();
        stream.set_nodelay(true).unwrap();
        let lines = BufReader::new(stream.try_clone().unwrap());
        Client { stream, lines }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next line from the server, without its `\n`; `None` at end of stream.
    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.lines.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(line.trim_end_matches('\n').to_string()),
            Err(e) => panic!("no line from the server within {:?}: {e}", patience()),
        }
    }

    fn echo(&mut self, text: &str) -> String {
        self.send(format!("{text}\n").as_bytes());
        self.read_line().unwrap_or_else(|| {
            panic!("the server closed the connection instead of echoing {text:?}")
        })
    }

    /// Reads until the server closes the connection; true if it did (rather than reset).
    fn wait_for_close(&mut self) -> bool {
        let mut rest = Vec::new();
        self.lines.read_to_end(&mut rest).is_ok()
    }
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

fn run_client(args: &[&str], input: &str) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    let input = input.to_string();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let echo = &args.echo;
    let deadline = client_deadline(echo.timeout, echo.count, echo.interval, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome =
            run_like_the_binary(&args, &Shutdown::new(), Cursor::new(input), false, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
}

/// A server that accepts connections and never answers: its clients wait for echoes.
fn silent_server() -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (addr, holder)
}

/// Runs the client with `args` against a silent server, and requests its stop (as Ctrl-C
/// does) once it is waiting; returns how it ended, what it printed and how long the stop
/// took.
fn stop_a_client_waiting_for_an_echo(args: &[&str]) -> (Result<()>, String, Duration) {
    let (addr, _holder) = silent_server();
    let port = addr.port().to_string();
    let args: Vec<&str> = ["client", "--port", &port, "--timeout", "20"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let args = ClientArgs::try_parse_from(args).unwrap();
    let shutdown = Shutdown::new();
    let stopper = shutdown.clone();
    let client = thread::spawn(move || {
        let mut out = Vec::new();
        let outcome = run_like_the_binary(&args, &stopper, Cursor::new(""), false, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    });
    thread::sleep(Duration::from_millis(500));
    let asked = std::time::Instant::now();
    shutdown.request();
    let (outcome, out) = client.join().unwrap();
    (outcome, out, asked.elapsed())
}

/// A connection from `ip` (another loopback address: the "attacker" of a test).
#[cfg(not(target_os = "macos"))] // used only where a second loopback address exists
fn connect_from(ip: &str, server: SocketAddr) -> Client {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(ip.parse().unwrap(), 0).into()).unwrap();
    socket.connect_timeout(&server.into(), patience()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(patience())).unwrap();
    let lines = BufReader::new(stream.try_clone().unwrap());
    Client { stream, lines }
}

/// Writes one byte every `every` until the server closes the connection; how long that took.
fn drip_until_closed(client: &mut Client, every: Duration, give_up: Duration) -> Option<Duration> {
    let start = std::time::Instant::now();
    client.stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let mut buffer = [0u8; 64];
    while start.elapsed() < give_up {
        if client.stream.write_all(b"x").is_err() {
            return Some(start.elapsed()); // reset: closed
        }
        thread::sleep(every);
        match client.stream.read(&mut buffer) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// What `src/bin/client.rs` does with its arguments: load mode for `--clients` or
/// `--duration`, the client otherwise.
fn run_like_the_binary(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead,
    hint: bool,
    out: &mut Vec<u8>,
) -> Result<()> {
    if args.load.is_requested() {
        crate::load::run(args, shutdown, out)
    } else {
        crate::client::run(args, shutdown, input, hint, out)
    }
}
