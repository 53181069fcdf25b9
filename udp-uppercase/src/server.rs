//! The UDP uppercase server.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `serverSocket = socket(AF_INET, SOCK_DGRAM)` and `bind(('', 12000))` | [`Server::bind`] |
//! | `print("The server is ready to receive.")` | the first line of [`Server::run`] |
//! | `while True:` / `message, clientAddress = serverSocket.recvfrom(2048)` | [`serve_datagrams`] in [`Server::run`]: `recv_from` into a 64 KiB buffer, until Ctrl-C |
//! | `modifiedMessage = message.decode().upper()` | [`crate::uppercase`] |
//! | `serverSocket.sendto(modifiedMessage.encode(), clientAddress)` | [`reply_to`], called by [`Server::answer`] |
//!
//! What it adds to the notebook: a buffer big enough for any datagram (the notebook's 2048
//! bytes silently cut longer ones), bytes that are not UTF-8 survive, one log line per
//! datagram, and Ctrl-C that stops the loop and prints a summary.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};

use shared::address::AddressArgs;
use shared::datagram::{PREVIEW_CHARS, bind_udp, preview, serve_datagrams};
use shared::error::{Context, Result, describe_io_error};
use shared::report::{Log, QuietArg, plural};
use shared::shutdown::Shutdown;

use crate::{Textbook, uppercase};

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    version,
    about = "UDP uppercase server: replies to every datagram with its text in uppercase.",
    long_about = "UDP uppercase server: replies to every datagram with its text in uppercase.\n\n\
                  The textbook's first UDP server. It prints one line per datagram (who sent \
                  what, and what went back) and, on Ctrl-C, a summary."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Textbook>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// How many different client addresses the summary counts; past this many it says
    /// "at least N" (the set of addresses is kept in memory, so it needs a limit).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_tracked_clients: usize,
}

/// A bound server socket, ready to [`run`](Server::run).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    max_tracked_clients: usize,
}

impl Server {
    /// Binds the socket `args` name. Binding first and running second lets a caller learn
    /// the real address (with `--port 0` the OS picks the port) before the loop starts.
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let addr = args.address.resolve()?;
        let socket = bind_udp(addr)?;
        Ok(Server { socket, log, max_tracked_clients: args.max_tracked_clients })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Receives and answers datagrams until `shutdown` is requested, then prints and
    /// returns the summary.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        self.log.info(format_args!(
            "The server is ready to receive. Listening on {addr} (UDP); press Ctrl-C to stop."
        ));
        let mut summary = Summary::new(self.max_tracked_clients);
        // The notebook's `while True: message, clientAddress = serverSocket.recvfrom(2048)`,
        // with a stop on Ctrl-C and a buffer big enough for any datagram.
        serve_datagrams(&self.socket, shutdown, &self.log, |message, client| {
            self.answer(message, client, &mut summary);
        })?;
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// Replies to one datagram with its uppercase, logs it, and counts it.
    pub fn answer(&self, message: &[u8], client: SocketAddr, summary: &mut Summary) {
        match reply_to(&self.socket, message, client) {
            Ok(reply) => self.log_exchange(message, client, &reply),
            Err(error) => {
                summary.failed_replies += 1;
                self.log_failed_reply(message, client, &error);
            }
        }
        summary.count(client);
    }

    fn log_exchange(&self, message: &[u8], client: SocketAddr, reply: &[u8]) {
        // Building previews costs more than the reply itself: skip it when quiet.
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "Received '{}' from {client}, sent back '{}'",
                preview(message, PREVIEW_CHARS),
                preview(reply, PREVIEW_CHARS),
            ));
        }
    }

    fn log_failed_reply(&self, message: &[u8], client: SocketAddr, error: &io::Error) {
        // The usual cause: uppercase made the reply longer than one datagram can be.
        self.log.warn(format_args!(
            "could not reply to {client} ({} bytes in, {} bytes out): {}",
            message.len(),
            uppercase(message).len(),
            describe_io_error(error),
        ));
    }
}

/// The heart of the server, the notebook's loop body: uppercase the message and send it
/// back to the address it came from. Returns the reply that was sent.
pub fn reply_to(socket: &UdpSocket, message: &[u8], client: SocketAddr) -> io::Result<Vec<u8>> {
    // BEGIN SOLUTION: uppercase the message and send it back to the client; return the reply
    let reply = uppercase(message);
    socket.send_to(&reply, client)?;
    Ok(reply)
    // END SOLUTION
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Datagrams received (and answered, unless the reply failed).
    pub datagrams: u64,
    /// Replies that could not be sent.
    pub failed_replies: u64,
    /// Different client addresses seen, up to the limit.
    clients: HashSet<SocketAddr>,
    max_tracked_clients: usize,
    /// Whether an address went uncounted because the set was full.
    clients_overflowed: bool,
}

impl Summary {
    fn new(max_tracked_clients: usize) -> Self {
        Summary {
            datagrams: 0,
            failed_replies: 0,
            clients: HashSet::new(),
            max_tracked_clients,
            clients_overflowed: false,
        }
    }

    /// Counts one datagram from `client`.
    fn count(&mut self, client: SocketAddr) {
        self.datagrams += 1;
        if self.clients.len() < self.max_tracked_clients {
            self.clients.insert(client);
        } else if !self.clients.contains(&client) {
            self.clients_overflowed = true;
        }
    }

    /// How many different client addresses sent datagrams (a lower bound if the limit was
    /// reached).
    pub fn distinct_clients(&self) -> usize {
        self.clients.len()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at_least = if self.clients_overflowed { "at least " } else { "" };
        write!(
            f,
            "Served {} from {at_least}{}",
            plural(self.datagrams, "datagram"),
            plural(self.clients.len() as u64, "distinct client")
        )?;
        if self.failed_replies > 0 {
            write!(f, "; {} could not be sent", plural(self.failed_replies, "reply"))?;
        }
        f.write_str(".")
    }
}
