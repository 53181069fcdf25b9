//! The UDP multi-client echo server.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `s = socket.socket(AF_INET, SOCK_DGRAM)`, `s.bind((HOST, PORT))` | [`Server::bind`] |
//! | `CLIENT_TABLE = {}` | [`ClientTable`], bounded by `--max-clients` |
//! | `while True:` / `data, addr = s.recvfrom(1024)` | [`serve_datagrams`] in [`Server::run`] |
//! | `res = s.sendto(data, addr)` | [`echo_to`] |
//! | `CLIENT_TABLE[addr] += 1` | [`ClientTable::record`] |
//! | the three `print`s | the loop's body in [`Server::run`], same three lines |
//!
//! The loop is single-threaded, like the notebook's: one socket, one datagram at a time,
//! and the table needs no lock. The source address does all the work of telling clients
//! apart.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Instant;

use shared::address::AddressArgs;
use shared::datagram::{bind_udp, bytes_literal, serve_datagrams};
use shared::error::{Context, Result, describe_io_error};
use shared::report::{Log, QuietArg, plural};
use shared::shutdown::Shutdown;

use crate::Course;
use crate::table::{ClientContext, ClientTable, Eviction};

/// How many bytes of a datagram a log line shows.
const SHOWN_BYTES: usize = 80;

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    version,
    about = "UDP echo server for many clients (course module 3h): echoes every datagram and \
             keeps a context per client, keyed by its address.",
    long_about = "UDP echo server for many clients (course module 3h): echoes every datagram and \
                  keeps a context per client, keyed by its address.\n\n\
                  For each datagram it prints what the notebook prints: the data, the sender, \
                  and the bytes echoed with that client's count. On Ctrl-C it lists the clients."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Most clients the table remembers. When it is full, a new client takes the place of
    /// the one seen least recently, and the eviction is logged.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: u32,
}

/// A bound server socket and its (empty) client table.
pub struct Server {
    socket: UdpSocket,
    log: Log,
    table: ClientTable,
    datagrams: u64,
}

impl Server {
    /// Binds the socket `args` name (with `--port 0`, any free port: see [`Server::local_addr`]).
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let socket = bind_udp(args.address.resolve()?)?;
        let table = ClientTable::new(args.max_clients as usize);
        Ok(Server { socket, log, table, datagrams: 0 })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Echoes datagrams until `shutdown` is requested; then prints and returns the summary.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        let Server { socket, log, mut table, mut datagrams } = self;
        log.info(format_args!("UDP echo server listening on {addr}; press Ctrl-C to stop."));
        // The notebook's `while True: data, addr = s.recvfrom(1024)`, with a stop on Ctrl-C;
        // the closure is the loop's body.
        serve_datagrams(&socket, shutdown, &log, |data, client| {
            let sent = echo_to(&socket, data, client);
            datagrams += 1;
            let (context, evicted) = table.record(client, data.len(), Instant::now());
            match sent {
                Ok(bytes) => log_echo(&log, data, client, bytes, context),
                Err(error) => {
                    log.warn(format_args!(
                        "echo to {client} failed: {}",
                        describe_io_error(&error)
                    ));
                }
            }
            if let Some(eviction) = evicted {
                log_eviction(&log, &eviction, table.max_clients());
            }
        })?;
        let summary = Summary::of(&table, datagrams);
        log.info(format_args!("{summary}"));
        Ok(summary)
    }
}

/// The notebook's `res = s.sendto(data, addr)`: send the datagram back where it came from.
/// Returns the number of bytes sent.
pub fn echo_to(socket: &UdpSocket, data: &[u8], client: SocketAddr) -> io::Result<usize> {
    // BEGIN SOLUTION: send the datagram back to the client; return how many bytes were sent
    socket.send_to(data, client)
    // END SOLUTION
}

/// The notebook's three lines for one datagram.
fn log_echo(log: &Log, data: &[u8], client: SocketAddr, echoed: usize, context: &ClientContext) {
    if log.is_quiet() {
        return; // skip building the line at all
    }
    log.message(format_args!(
        "data: {}\nfrom {client}\necho done, result: {echoed}, client count: {}",
        bytes_literal(data, SHOWN_BYTES),
        context.datagrams,
    ));
}

fn log_eviction(log: &Log, eviction: &Eviction, max_clients: usize) {
    log.message(format_args!(
        "client table full ({max_clients} clients): forgot {}, seen least recently ({:.1} s ago, {})",
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
    /// The clients still in the table: address, datagrams, bytes; in order of arrival.
    pub clients: Vec<(SocketAddr, u64, u64)>,
}

impl Summary {
    fn of(table: &ClientTable, datagrams: u64) -> Self {
        let clients = table
            .clients_by_first_seen()
            .into_iter()
            .map(|(addr, context)| (addr, context.datagrams, context.bytes))
            .collect();
        Summary { datagrams, evictions: table.evictions(), clients }
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
        f.write_str(if self.clients.is_empty() { "." } else { ":" })?;
        for (addr, datagrams, bytes) in &self.clients {
            write!(
                f,
                "\n  {addr}: {}, {}",
                plural(*datagrams, "datagram"),
                plural(*bytes, "byte")
            )?;
        }
        Ok(())
    }
}
