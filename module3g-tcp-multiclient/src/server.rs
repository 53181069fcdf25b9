//! The TCP multi-client echo server: the main thread accepts, a thread per connection echoes.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `s = socket.socket(AF_INET, SOCK_STREAM)`, `s.bind(...)`, `s.listen()` | [`listen`] (with a backlog you choose) |
//! | `while True:` / `print("Main thread waiting for connections")` | `Server::accept_loop`, called by [`Server::run`] |
//! | `srvConn, addr = s.accept()` | `accept` on the listener, in `Server::accept_loop` |
//! | `eThread = EchoThread(srvConn)`, `eThread.start()` | `Server::spawn_echo_thread` |
//! | `EchoThread.run` | [`crate::connection::Connection::serve`] |
//!
//! **Stopping.** A thread blocked in `accept` cannot be interrupted in std. The server
//! registers a waker with the shutdown signal: on Ctrl-C it connects to the server itself,
//! `accept` returns, and the main thread sees the stop request. (The waker's socket is made
//! when the server starts, so that it works even when every file descriptor is taken.) The
//! main thread then shuts down every open connection (on Linux and macOS their threads'
//! blocked reads and writes return at once; on Windows they notice within
//! [`CHECK_INTERVAL`]), and the [`std::thread::scope`] in which all connection threads run
//! waits for every one of them before `run` returns: no thread outlives the server.
//!
//! **Limits.** The registry of open connections holds at most `--max-clients`, and at most
//! `--max-per-ip` from one host (an IPv4 address, an IPv6 /64; a quarter of `--max-clients`
//! by default); one more is told so and closed. A client silent for `--idle-timeout`, or
//! that leaves its echoes unread that long, is disconnected, and so is one slower than the
//! minimum pace ([`crate::pace`]). Each connection's kernel buffers are `--socket-buffer`.
//! Connection threads get small stacks (most of a thread's default 2 MiB would go unused) so
//! that 10,000 connections fit in memory.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown as Both, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, Scope};
use std::time::Duration;

use shared::address::AddressArgs;
use shared::error::{Context, Result, describe_io_error};
use shared::flags::parse_seconds;
use shared::log::{Log, QuietArg};
use shared::prefix_args::PrefixArgs;
use shared::shutdown::Shutdown;
use shared::text::plural;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::Course;
use crate::connection::{CHECK_INTERVAL, Connection, Ending};
use crate::pace::Pace;

/// Stack size of a connection thread. The echo loop needs a few KiB; 128 KiB leaves a wide
/// margin, and only the pages a thread touches cost memory.
const ECHO_THREAD_STACK: usize = 128 * 1024;

/// How long the main thread pauses after a failed `accept` (e.g. out of file descriptors),
/// so that a lasting failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "module3g-tcp-multiclient server",
    version,
    about = "TCP echo server for many clients (course module 3g): the main thread accepts \
             connections, and each one gets its own thread that echoes what it sends.",
    long_about = "TCP echo server for many clients (course module 3g): the main thread accepts \
                  connections, and each one gets its own thread that echoes what it sends.\n\n\
                  It logs what the notebook logs: each connection, what it sends with its line count, and \
                  how many lines each connection sent. On Ctrl-C it closes every connection and \
                  prints a summary. Type to it with the client's --interactive (or nc 127.0.0.1 12354)."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Most connections served at once; one more gets a line saying the server is busy and
    /// is closed.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: u32,

    /// Most connections from any one host (an IPv4 address, an IPv6 /64: see
    /// --ipv4-prefix, --ipv6-prefix); one more gets a line saying so and is closed. Keeps one
    /// host (an attacker holding idle connections open) from taking every place. Default: a
    /// quarter of --max-clients.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_per_ip: Option<u32>,

    /// Which addresses count as one host for --max-per-ip.
    #[command(flatten)]
    pub hosts: PrefixArgs,

    /// Seconds a client may stay silent, or leave its echoes unread, before it is
    /// disconnected (a client that never reads would otherwise hold its thread forever).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub idle_timeout: Duration,

    /// Seconds a line may take to arrive once begun (until its newline), and an echo to be
    /// read, plus one second for every --min-rate bytes of it: a client that sends (or
    /// reads) a byte now and then, to stay clear of --idle-timeout, is disconnected.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub line_timeout: Duration,

    /// Bytes a second that earn a line (or an echo) one more second past --line-timeout;
    /// 0 gives every line --line-timeout, whatever its size.
    #[arg(long, value_name = "BYTES", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000_000))]
    pub min_rate: u32,

    /// Bytes of kernel buffer for each direction of each connection (SO_RCVBUF,
    /// SO_SNDBUF; Linux doubles the figure for its bookkeeping). Without a bound, the kernel
    /// grows them to megabytes for a client that sends fast and reads slowly.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u32).range(4096..=64 * 1024 * 1024))]
    pub socket_buffer: u32,

    /// Connections the kernel may queue before the main thread accepts them. std's
    /// TcpListener uses 128, too few for a burst of thousands (they would wait seconds for
    /// retries). Linux caps it at net.core.somaxconn.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(i32).range(1..=65_535))]
    pub backlog: i32,
}

impl ServerArgs {
    /// `--max-per-ip`, or by default a quarter of `--max-clients` (at least 1), so that one
    /// host never takes every place.
    pub fn per_host_limit(&self) -> u32 {
        self.max_per_ip.unwrap_or((self.max_clients / 4).max(1))
    }
}

/// Binds and listens on `addr` with the given backlog: what `TcpListener::bind` does, but
/// with a backlog of our choosing (through socket2, since std has no such option). Every
/// connection accepted gets socket buffers of `buffer` bytes each way: set on the listener,
/// before `listen`, so that the TCP handshake already offers a window that fits.
pub fn listen(addr: SocketAddr, backlog: i32, buffer: usize) -> Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create a TCP socket")?;
    // As std does on Unix: a restarted server may bind its port at once, even while
    // connections of its previous run linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true).context(|| "cannot set SO_REUSEADDR")?;
    socket.set_recv_buffer_size(buffer).context(|| "cannot set SO_RCVBUF")?;
    socket.set_send_buffer_size(buffer).context(|| "cannot set SO_SNDBUF")?;
    socket.bind(&addr.into()).context(|| format!("cannot bind {addr}"))?;
    socket.listen(backlog).context(|| format!("cannot listen on {addr}"))?;
    Ok(socket.into())
}

/// A listening server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    log: Log,
    max_clients: usize,
    max_per_ip: usize,
    hosts: PrefixArgs,
    idle_timeout: Duration,
    pace: Pace,
}

impl Server {
    /// Binds and listens on the address `args` name (with `--port 0`, any free port).
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let listener = listen(args.address.resolve()?, args.backlog, args.socket_buffer as usize)?;
        Ok(Server {
            listener,
            log,
            max_clients: args.max_clients as usize,
            max_per_ip: args.per_host_limit() as usize,
            hosts: args.hosts,
            idle_timeout: args.idle_timeout,
            pace: Pace { allowance: args.line_timeout, min_rate: args.min_rate },
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener.local_addr().context(|| "cannot read the server's address")
    }

    /// Accepts and serves connections until `shutdown` is requested; then closes them all,
    /// waits for their threads, prints the summary and returns it.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        wake_accept_on_shutdown(shutdown, addr)?;
        self.log.info(format_args!("TCP echo server listening on {addr}; press Ctrl-C to stop."));

        let open = OpenConnections::new(self.max_clients, self.max_per_ip, self.hosts);
        let tally = Tally::default();
        thread::scope(|scope| {
            self.accept_loop(scope, shutdown, &open, &tally);
            // Stop every connection thread: their blocked reads and writes fail at once.
            open.shut_all_down();
        }); // <- here the scope has waited for every connection thread to finish
        let summary = tally.summary();
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The notebook's `main` loop: wait for a connection, hand it to a thread of its own,
    /// and go back to waiting; until `shutdown` is requested.
    ///
    /// 1. Loop: log `"Main thread waiting for connections"` (a message line), then
    ///    `accept` on `self.listener`.
    /// 2. If `shutdown.is_requested()`, return (the connection is probably the server's own
    ///    waker: see `wake_accept_on_shutdown`).
    /// 3. A new connection goes to [`self.spawn_echo_thread`](Self::spawn_echo_thread).
    /// 4. An error: [`is_client_gone`] ones (the client reset before we accepted) and
    ///    interrupts are nothing; any other (out of file descriptors, say) is a warning, and
    ///    the loop pauses [`ACCEPT_BACKOFF`] so that a lasting failure does not spin.
    fn accept_loop<'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        shutdown: &Shutdown,
        open: &'scope OpenConnections,
        tally: &'scope Tally,
    ) {
        // BEGIN SOLUTION: accept connections and hand each to spawn_echo_thread, until shutdown (the steps are in the doc comment)
        loop {
            self.log.message(format_args!("Main thread waiting for connections"));
            let accepted = self.listener.accept();
            if shutdown.is_requested() {
                return;
            }
            match accepted {
                Ok((stream, peer)) => {
                    self.spawn_echo_thread(scope, stream, peer, open, tally, shutdown);
                }
                Err(error) if is_client_gone(&error) => {}
                Err(error) => {
                    // Out of file descriptors, say. The connection waits in the backlog.
                    self.log.warn(format_args!("accept failed: {}", describe_io_error(&error)));
                    thread::sleep(ACCEPT_BACKOFF);
                }
            }
        }
        // END SOLUTION
    }

    /// Registers the connection and starts its thread, or refuses it when the server is full.
    fn spawn_echo_thread<'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        stream: TcpStream,
        peer: SocketAddr,
        open: &'scope OpenConnections,
        tally: &'scope Tally,
        shutdown: &Shutdown,
    ) {
        if shutdown.is_requested() {
            // The server is stopping: this is probably its own wake-up connection (see
            // `wake_accept_on_shutdown`), and in any case not a client to serve now.
            return;
        }
        let id = tally.accepted.fetch_add(1, Ordering::Relaxed) + 1;
        let stream = Arc::new(stream);
        if let Err(full) = open.insert(id, &stream, peer.ip()) {
            tally.refused.fetch_add(1, Ordering::Relaxed);
            self.refuse(&stream, peer, full);
            return;
        }
        // Every wait of the connection's thread has a limit: see `crate::connection`.
        if let Err(error) = stream
            .set_read_timeout(Some(CHECK_INTERVAL))
            .and_then(|()| stream.set_write_timeout(Some(CHECK_INTERVAL)))
        {
            open.remove(id, peer.ip());
            self.log.warn(format_args!(
                "cannot set timeouts for {peer}: {}",
                describe_io_error(&error)
            ));
            return;
        }
        let name = format!("echo-{id}");
        self.log.message(format_args!("connection from {peer}, spawning echo thread {name}"));
        let spawned = thread::Builder::new()
            .name(name.clone())
            .stack_size(ECHO_THREAD_STACK)
            .spawn_scoped(scope, move || {
                let connection = Connection {
                    peer,
                    name: &name,
                    idle_timeout: self.idle_timeout,
                    pace: self.pace,
                    open,
                    log: &self.log,
                };
                let (lines, mut ending) = connection.serve(&stream);
                if open.is_closing() {
                    // Our own shutdown ended the read or write, not the client.
                    ending = Ending::ServerStopping;
                }
                if !open.is_closing() {
                    // While closing, the registry is being emptied anyway: skipping the lock
                    // keeps thousands of threads from queueing for it at shutdown.
                    open.remove(id, peer.ip());
                }
                tally.record(lines, &ending);
                self.log_ending(&name, peer, lines, &ending);
            });
        if let Err(error) = spawned {
            open.remove(id, peer.ip());
            self.log.warn(format_args!(
                "cannot start a thread for {peer}: {}",
                describe_io_error(&error)
            ));
        }
    }

    /// Tells a connection over `--max-clients` (or `--max-per-ip`) that the server is busy,
    /// and closes it.
    fn refuse(&self, stream: &TcpStream, peer: SocketAddr, full: Full) {
        let (line, why) = match full {
            Full::Server => {
                let connected = plural(self.max_clients as u64, "client");
                (
                    format!("error: server busy ({connected} connected); try again later\n"),
                    format!("{connected} already connected"),
                )
            }
            Full::ThisIp => {
                let connected = plural(self.max_per_ip as u64, "connection");
                let host = self.hosts.describe_host(peer.ip());
                let yours = if host.contains('/') { "network" } else { "address" };
                (
                    format!(
                        "error: too many connections from your {yours} ({connected}); try again later\n"
                    ),
                    format!("{connected} from {host} already"),
                )
            }
        };
        // A new connection's send buffer is empty: this write does not block. Its result does
        // not matter: the connection is dropped either way.
        let _ = (&*stream).write_all(line.as_bytes());
        self.log.message(format_args!("connection from {peer} refused: {why}"));
    }

    fn log_ending(&self, name: &str, peer: SocketAddr, lines: u64, ending: &Ending) {
        match ending {
            Ending::Closed => self.log.message(format_args!(
                "{name}: end of data, stopping: connection from {peer} closed after {}",
                plural(lines, "line")
            )),
            _ => self.log.message(format_args!(
                "{name}: {ending}: connection from {peer} closed after {}",
                plural(lines, "line")
            )),
        }
    }
}

/// Whether a failed `accept` only says that one client gave up before it was accepted (it
/// reset the connection: Windows reports it, as WSAECONNRESET). Nothing to warn about.
pub fn is_client_gone(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::Interrupted
    )
}

/// On shutdown, connect to the server so that its blocked `accept` returns.
///
/// The waker's socket is made now, not at the stop: with every file descriptor taken (a
/// flood of connections), a socket made at the stop would fail, and `accept` would stay
/// blocked. `connect` needs no new descriptor.
fn wake_accept_on_shutdown(shutdown: &Shutdown, listening: SocketAddr) -> Result<()> {
    // A server on 0.0.0.0 (every interface) is reached through loopback.
    let ip = match listening.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let wake = SockAddr::from(SocketAddr::new(ip, listening.port()));
    let waker = Socket::new(wake.domain(), Type::STREAM, Some(Protocol::TCP))
        .context(|| "cannot create the socket that wakes the server on Ctrl-C")?;
    shutdown.on_request(move || {
        // Success or failure, the attempt is all that matters: the server is stopping.
        let _ = waker.connect_timeout(&wake, Duration::from_secs(1));
    });
    Ok(())
}

/// The open connections, so that a shutdown can close them all. Bounded by `max`, and by
/// `max_per_ip` from any one host.
pub struct OpenConnections {
    /// Set when the server starts closing every connection.
    closing: AtomicBool,
    registry: Mutex<Registry>,
    max: usize,
    max_per_ip: usize,
    hosts: PrefixArgs,
}

#[derive(Default)]
struct Registry {
    // The stream is shared with its thread (an `Arc`, not a second file descriptor from
    // `try_clone`: with 10,000 connections, descriptors run short).
    streams: HashMap<u64, Arc<TcpStream>>,
    /// Open connections per client host (an IPv4 address, an IPv6 /64); a host with none
    /// is removed.
    per_ip: HashMap<IpAddr, usize>,
}

/// Which limit a refused connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// `--max-clients` are open.
    Server,
    /// `--max-per-ip` are open from the same address.
    ThisIp,
}

impl OpenConnections {
    fn new(max: usize, max_per_ip: usize, hosts: PrefixArgs) -> Self {
        OpenConnections {
            closing: AtomicBool::new(false),
            registry: Mutex::new(Registry::default()),
            max,
            max_per_ip,
            hosts,
        }
    }

    /// Adds a connection from `ip`, or says which limit it meets (and adds nothing). It
    /// counts against `ip`'s host: the address itself for IPv4, its /64 for IPv6.
    fn insert(&self, id: u64, stream: &Arc<TcpStream>, ip: IpAddr) -> Result<(), Full> {
        let ip = self.hosts.host_of(ip);
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.streams.len() >= self.max {
            return Err(Full::Server);
        }
        let from_ip = registry.per_ip.entry(ip).or_insert(0);
        if *from_ip >= self.max_per_ip {
            return Err(Full::ThisIp);
        }
        *from_ip += 1;
        registry.streams.insert(id, Arc::clone(stream));
        Ok(())
    }

    /// Whether the server has begun closing every connection.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    fn remove(&self, id: u64, ip: IpAddr) {
        let ip = self.hosts.host_of(ip);
        let mut registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        if registry.streams.remove(&id).is_none() {
            return;
        }
        if let Some(from_ip) = registry.per_ip.get_mut(&ip) {
            *from_ip -= 1;
            if *from_ip == 0 {
                registry.per_ip.remove(&ip);
            }
        }
    }

    /// Shuts every open connection down in both directions: each thread's blocked read
    /// returns "end of data" (or a write fails), and the thread ends.
    fn shut_all_down(&self) {
        self.closing.store(true, Ordering::SeqCst);
        let registry = self.registry.lock().unwrap_or_else(PoisonError::into_inner);
        for stream in registry.streams.values() {
            // Already closed by the client? Then there is nothing left to do.
            let _ = stream.shutdown(Both::Both);
        }
    }
}

/// Counters shared by all threads.
#[derive(Default)]
struct Tally {
    accepted: AtomicU64,
    refused: AtomicU64,
    served: AtomicU64,
    lines: AtomicU64,
    idle: AtomicU64,
    too_slow: AtomicU64,
}

impl Tally {
    fn record(&self, lines: u64, ending: &Ending) {
        self.served.fetch_add(1, Ordering::Relaxed);
        self.lines.fetch_add(lines, Ordering::Relaxed);
        if matches!(ending, Ending::Idle) {
            self.idle.fetch_add(1, Ordering::Relaxed);
        }
        if matches!(ending, Ending::TooSlow) {
            self.too_slow.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn summary(&self) -> Summary {
        Summary {
            connections: self.served.load(Ordering::Relaxed),
            lines: self.lines.load(Ordering::Relaxed),
            refused_busy: self.refused.load(Ordering::Relaxed),
            idle: self.idle.load(Ordering::Relaxed),
            too_slow: self.too_slow.load(Ordering::Relaxed),
        }
    }
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Connections served (each by its own thread).
    pub connections: u64,
    /// Lines echoed, over all connections.
    pub lines: u64,
    /// Connections refused because `--max-clients` were open.
    pub refused_busy: u64,
    /// Connections closed for being idle past `--idle-timeout`.
    pub idle: u64,
    /// Connections closed for sending a line, or reading an echo, too slowly
    /// (`--line-timeout`, `--min-rate`).
    pub too_slow: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Served {}, echoed {}",
            plural(self.connections, "connection"),
            plural(self.lines, "line")
        )?;
        if self.refused_busy > 0 {
            write!(f, "; refused {} (busy)", plural(self.refused_busy, "connection"))?;
        }
        if self.idle > 0 {
            write!(f, "; closed {} for being idle", plural(self.idle, "connection"))?;
        }
        if self.too_slow > 0 {
            write!(f, "; closed {} for being too slow", plural(self.too_slow, "connection"))?;
        }
        f.write_str(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_from_one_ipv6_slash_64_count_against_one_host() {
        // Loopback has only ::1, so the /64 grouping is checked on the registry itself, with
        // one real stream registered under made-up addresses.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = Arc::new(TcpStream::connect(listener.local_addr().unwrap()).unwrap());
        let open = OpenConnections::new(100, 2, PrefixArgs::default());
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        open.insert(1, &stream, ip("2001:db8:1:2::1")).expect("the /64's first connection");
        open.insert(2, &stream, ip("2001:db8:1:2:ffff::2")).expect("the /64's second");
        assert_eq!(
            open.insert(3, &stream, ip("2001:db8:1:2:abcd::3")),
            Err(Full::ThisIp),
            "a third address of the same /64 is the same host, over --max-per-ip 2"
        );
        open.insert(4, &stream, ip("2001:db8:1:3::1")).expect("the next /64 is another host");
        open.remove(1, ip("2001:db8:1:2::1"));
        open.insert(5, &stream, ip("2001:db8:1:2::5")).expect("a place freed in the /64");
    }
}
