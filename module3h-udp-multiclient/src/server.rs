//! The UDP multi-client echo server.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `s = socket.socket(AF_INET, SOCK_DGRAM)`, `s.bind((HOST, PORT))` | `UdpSocket::bind` in [`Server::bind`] |
//! | `CLIENT_TABLE = {}` | [`ClientTable`], bounded by `--max-clients` |
//! | `while True:` / `data, addr = s.recvfrom(1024)` | the loop in [`Server::serve`] |
//! | `res = s.sendto(data, addr)` | `send_to` in [`Server::serve`] |
//! | `CLIENT_TABLE[addr] += 1` | [`ClientTable::record`], called in [`Server::serve`] |
//! | the three `print`s | [`log_echo`], same three lines |
//!
//! The loop is single-threaded, like the notebook's: one socket, one datagram at a time,
//! and the table needs no lock. The source address does all the work of telling clients
//! apart.

use std::fmt;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use shared::error::{Context, Result, describe_io_error};
use shared::log::{Log, report_receive_error};
use shared::reply::{Refused, ReplyArgs, ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::{bytes_literal, plural};
use shared::udp::{RECV_BUFFER_SIZE, raise_buffers};

use crate::table::{ClientContext, ClientTable, Eviction};

/// A bound server socket and its client table (empty until the first datagram).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    table: ClientTable,
    datagrams: u64,
    /// Whom the server may answer (see `shared::reply`): no loops, no amplification, a
    /// rate per network.
    replies: ReplyGuard,
}

impl Server {
    /// Binds a UDP socket to `address` (with port 0, any free port: see
    /// [`Server::local_addr`]), with an empty table of at most `config.max_clients` clients.
    pub fn bind(address: SocketAddr, config: Config) -> Result<Server> {
        let socket = UdpSocket::bind(address).context(|| format!("cannot bind {address}"))?;
        // Room for the largest datagram both ways (macOS starts UDP sockets at 9,216 bytes).
        raise_buffers(&socket)?;
        let own = socket.local_addr().context(|| "cannot read the server's address")?;
        Ok(Server {
            socket,
            log: config.log,
            table: ClientTable::new(config.max_clients),
            datagrams: 0,
            replies: ReplyGuard::new(own, &config.replies),
        })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Announces the server, echoes datagrams until `shutdown` is requested, then prints
    /// and returns the summary.
    pub fn run(mut self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        self.log.info(format_args!("UDP echo server listening on {addr}; press Ctrl-C to stop."));
        self.serve(shutdown)?;
        let summary = Summary::of(&self.table, self.datagrams, self.replies.refused());
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The notebook's `while True:` loop: receive a datagram, echo it to its sender, and
    /// count it in the sender's context in the client table; until `shutdown` is requested.
    ///
    /// 1. Set a read timeout of [`POLL_INTERVAL`] on the socket (`set_read_timeout`). It
    ///    returns an `io::Result`: give it a message with
    ///    `.context(|| "cannot set the socket's read timeout")` before `?` (see
    ///    `shared::error::Context`).
    /// 2. Make one buffer of [`RECV_BUFFER_SIZE`] bytes.
    /// 3. Until `shutdown.is_requested()`: `recv_from` into the buffer (on an error, hand it
    ///    to [`report_receive_error`] and go round again); count it in `self.datagrams`.
    /// 4. Note when it arrived (`Instant::now()`), and ask
    ///    `self.may_answer(client, data, arrived)` whether the sender may be answered (a
    ///    forged source must not start a loop); if not, go round again (it has said why).
    /// 5. Record it in `self.table` (`record(client, len, arrived)`); if that evicted a
    ///    client, log it with [`log_eviction`] first, so cause comes before effect.
    /// 6. `send_to` the same bytes back to the client; log the echo with [`log_echo`] (it
    ///    shows the client's count, as the notebook does), or warn that it failed.
    pub fn serve(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: receive with recv_from, record the client in the table, echo with send_to, until shutdown (the steps are in the doc comment)
        // std cannot interrupt a blocked `recv_from` from another thread, so the loop wakes
        // up every POLL_INTERVAL to see whether Ctrl-C asked it to stop.
        self.socket
            .set_read_timeout(Some(POLL_INTERVAL))
            .context(|| "cannot set the socket's read timeout")?;
        // Big enough for any datagram: the notebook's `recvfrom(1024)` cuts longer ones.
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        while !shutdown.is_requested() {
            let (len, client) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(error) => {
                    report_receive_error(&self.log, &error);
                    continue;
                }
            };
            let data = &buffer[..len];
            self.datagrams += 1;
            // One clock reading for both the reply rule and the table.
            let arrived = Instant::now();
            // An echo is never bigger than what came in, so it needs no byte budget: the
            // check alone keeps it from loops and floods.
            if !self.may_answer(client, data, arrived) {
                continue;
            }
            // CLIENT_TABLE[addr] += 1, in a table that cannot grow without limit.
            let (context, evicted) = self.table.record(client, len, arrived);
            if let Some(eviction) = evicted {
                log_eviction(&self.log, &eviction);
            }
            match self.socket.send_to(data, client) {
                Ok(echoed) => log_echo(&self.log, data, client, echoed, context),
                Err(error) => self
                    .log
                    .warn(format_args!("echo to {client} failed: {}", describe_io_error(&error))),
            }
        }
        Ok(())
        // END SOLUTION
    }

    /// Whether the reply rule lets the server answer `data` from `client`, which arrived at
    /// `arrived` (a forged source, a loop, a network over its rate: no); when not, a warning
    /// says why.
    fn may_answer(&mut self, client: SocketAddr, data: &[u8], arrived: Instant) -> bool {
        let verdict = self.replies.check_at(client, data, arrived);
        if let Err(refusal) = verdict {
            warn_refusal(&self.log, client, refusal);
        }
        verdict.is_ok()
    }
}

/// What [`Server::bind`] needs besides the address.
pub struct Config {
    /// The server's log (stdout in the binary, a captured log in the tests).
    pub log: Log,
    /// Most clients the table remembers (`--max-clients`).
    pub max_clients: usize,
    /// Whom the server may answer (`--reply-rate`, `--max-sources`, ...).
    pub replies: ReplyArgs,
}

/// How many bytes of a datagram a log line shows.
const SHOWN_BYTES: usize = 80;

/// The most clients the summary lists one by one (the most active ones, when there are more).
pub const MAX_CLIENTS_LISTED: usize = 20;

/// The notebook's three lines for one datagram (skipped under `--quiet`).
pub fn log_echo(
    log: &Log,
    data: &[u8],
    client: SocketAddr,
    echoed: usize,
    context: &ClientContext,
) {
    if log.is_quiet() {
        return; // skip building the line at all
    }
    log.message(format_args!(
        "data: {}\nfrom {client}\necho done, result: {echoed}, client count: {}",
        bytes_literal(data, SHOWN_BYTES),
        context.datagrams,
    ));
}

/// The line that says a client was forgotten to make room (skipped under `--quiet`).
pub fn log_eviction(log: &Log, eviction: &Eviction) {
    log.message(format_args!(
        "client table full ({}): forgot {}, seen least recently ({:.1} s ago, {})",
        plural(eviction.max_clients as u64, "client"),
        eviction.addr,
        eviction.context.last_seen.elapsed().as_secs_f64(),
        plural(eviction.context.datagrams, "datagram"),
    ));
}

/// What the server did, printed when it stops: totals, then one line per client.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Datagrams received.
    pub datagrams: u64,
    /// Clients evicted from the table.
    pub evictions: u64,
    /// Datagrams not answered by the reply rule (forged sources, loops, over the reply rate
    /// or the byte budget, a full table of sources).
    pub refused: Refused,
    /// The clients still in the table: address, datagrams, bytes; in order of arrival.
    pub clients: Vec<(SocketAddr, u64, u64)>,
}

impl Summary {
    fn of(table: &ClientTable, datagrams: u64, refused: Refused) -> Self {
        let clients = table
            .clients_by_first_seen()
            .into_iter()
            .map(|(addr, context)| (addr, context.datagrams, context.bytes))
            .collect();
        Summary { datagrams, evictions: table.evictions(), refused, clients }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Echoed {} for {}",
            plural(self.datagrams, "datagram"),
            plural(self.clients.len() as u64, "client")
        )?;
        if self.evictions > 0 {
            write!(f, " in the table ({} to make room)", plural(self.evictions, "eviction"))?;
        }
        if self.refused.total() > 0 {
            write!(f, "; did not answer {} ({})", self.refused.total(), self.refused)?;
        }
        f.write_str(if self.clients.is_empty() { "." } else { ":" })?;
        // A screenful at most: after a flood the table holds --max-clients entries.
        let mut shown: Vec<&(SocketAddr, u64, u64)> = self.clients.iter().collect();
        if shown.len() > MAX_CLIENTS_LISTED {
            // Most active first (the sort is stable: ties stay in order of arrival).
            shown.sort_by_key(|(_, datagrams, _)| std::cmp::Reverse(*datagrams));
            shown.truncate(MAX_CLIENTS_LISTED);
        }
        for (addr, datagrams, bytes) in &shown {
            write!(
                f,
                "\n  {addr}: {}, {}",
                plural(*datagrams, "datagram"),
                plural(*bytes, "byte")
            )?;
        }
        if self.clients.len() > shown.len() {
            write!(f, "\n  ... and {} more", self.clients.len() - shown.len())?;
        }
        Ok(())
    }
}
