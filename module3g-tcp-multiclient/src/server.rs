//! The TCP multi-client echo server: the main thread accepts, a thread per connection echoes.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `s = socket.socket(AF_INET, SOCK_STREAM)`, `s.bind(...)`, `s.listen()` | [`Server::bind`] (with a backlog you choose) |
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
//! **Limits.** The table of open connections ([`crate::open_connections`]) holds at most
//! `--max-clients`, and at most `--max-per-ip` from one host (by default an IPv4 address or
//! an IPv6 /64, and a quarter of `--max-clients`); one more is told so and closed. A client
//! silent for `--idle-timeout`, or that leaves its echoes unread that long, is disconnected,
//! and so is one slower than the minimum pace ([`crate::pace`]). Each connection's kernel
//! buffers are `--socket-buffer`. Connection threads get small stacks (most of a thread's
//! default 2 MiB would go unused) so that 10,000 connections fit in memory.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, Scope};
use std::time::Duration;

use shared::error::{Context, Result, describe_io_error};
use shared::log::Log;
use shared::prefix_args::PrefixArgs;
use shared::shutdown::Shutdown;
use shared::text::plural;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::connection::{CHECK_INTERVAL, Connection, Ending};
use crate::open_connections::{Full, OpenConnections};
use crate::pace::Pace;
use crate::summary::{Summary, Tally};

/// A listening server, ready to [`run`](Server::run).
pub struct Server {
    listener: TcpListener,
    log: Log,
    config: Config,
    open: OpenConnections,
    tally: Tally,
}

impl Server {
    /// Binds and listens on `address` (port 0: any free port), as `config` says.
    ///
    /// What `TcpListener::bind` does (socket, bind, listen), written out with the socket2
    /// crate: std's `bind` has no way to choose the backlog (it always asks for 128), nor to
    /// size the buffers before `listen`.
    pub fn bind(address: SocketAddr, config: Config, log: Log) -> Result<Server> {
        let socket = Socket::new(Domain::for_address(address), Type::STREAM, Some(Protocol::TCP))
            .context(|| "cannot create a TCP socket")?;
        // As std does on Unix: a restarted server may bind its port at once, even while
        // connections of its previous run linger in TIME_WAIT.
        #[cfg(unix)]
        socket.set_reuse_address(true).context(|| "cannot set SO_REUSEADDR")?;
        // Set on the listener, before `listen`, so that every connection accepted has them
        // and the TCP handshake already offers a window that fits.
        socket.set_recv_buffer_size(config.socket_buffer).context(|| "cannot set SO_RCVBUF")?;
        socket.set_send_buffer_size(config.socket_buffer).context(|| "cannot set SO_SNDBUF")?;
        socket.bind(&address.into()).context(|| format!("cannot bind {address}"))?;
        socket.listen(config.backlog).context(|| format!("cannot listen on {address}"))?;
        Ok(Server {
            listener: socket.into(),
            log,
            open: OpenConnections::new(config.max_clients, config.max_per_ip, config.hosts),
            config,
            tally: Tally::default(),
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

        thread::scope(|scope| {
            self.accept_loop(scope, shutdown);
            // Stop every connection thread: their blocked reads and writes fail at once (on
            // Windows, within CHECK_INTERVAL).
            self.open.shut_all_down();
        }); // <- here the scope has waited for every connection thread to finish
        let summary = self.tally.summary();
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
    fn accept_loop<'scope>(&'scope self, scope: &'scope Scope<'scope, '_>, shutdown: &Shutdown) {
        // BEGIN SOLUTION: accept connections and hand each to spawn_echo_thread, until shutdown (the steps are in the doc comment)
        loop {
            self.log.message(format_args!("Main thread waiting for connections"));
            let accepted = self.listener.accept();
            if shutdown.is_requested() {
                return;
            }
            match accepted {
                Ok((stream, peer)) => self.spawn_echo_thread(scope, stream, peer, shutdown),
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

    /// Registers the connection and starts its thread (which runs
    /// [`echo_thread`](Self::echo_thread)), or refuses it when the server is full.
    fn spawn_echo_thread<'scope>(
        &'scope self,
        scope: &'scope Scope<'scope, '_>,
        stream: TcpStream,
        peer: SocketAddr,
        shutdown: &Shutdown,
    ) {
        if shutdown.is_requested() {
            // The server is stopping: this is probably its own wake-up connection (see
            // `wake_accept_on_shutdown`), and in any case not a client to serve now.
            return;
        }
        let id = self.tally.accepted();
        let stream = Arc::new(stream);
        if let Err(full) = self.open.insert(id, &stream, peer.ip()) {
            self.refuse(&stream, peer, full);
            return;
        }
        // Every wait of the connection's thread has a limit: see `crate::connection`.
        if let Err(error) = stream
            .set_read_timeout(Some(CHECK_INTERVAL))
            .and_then(|()| stream.set_write_timeout(Some(CHECK_INTERVAL)))
        {
            self.open.remove(id, peer.ip());
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
            .spawn_scoped(scope, move || self.echo_thread(id, &name, &stream, peer));
        if let Err(error) = spawned {
            self.open.remove(id, peer.ip());
            self.log.warn(format_args!(
                "cannot start a thread for {peer}: {}",
                describe_io_error(&error)
            ));
        }
    }

    /// A connection's thread: serves it, then takes it off the table, counts it and logs how
    /// it ended.
    fn echo_thread(&self, id: u64, name: &str, stream: &TcpStream, peer: SocketAddr) {
        let connection = Connection {
            peer,
            name,
            idle_timeout: self.config.idle_timeout,
            pace: self.config.pace,
            closing: self.open.closing(),
            log: &self.log,
        };
        let (lines, mut ending) = connection.serve(stream);
        if self.open.is_closing() {
            // Our own shutdown ended the read or write, not the client.
            ending = Ending::ServerStopping;
        } else {
            // While closing, the table is being emptied anyway: skipping the lock keeps
            // thousands of threads from queueing for it at shutdown.
            self.open.remove(id, peer.ip());
        }
        self.tally.record(lines, &ending);
        self.log_ending(name, peer, lines, &ending);
    }

    /// Tells a connection over `--max-clients` (or `--max-per-ip`) that the server is busy
    /// (or that its host has too many), closes it, and counts it.
    fn refuse(&self, stream: &TcpStream, peer: SocketAddr, full: Full) {
        self.tally.refused();
        let (line, why) = match full {
            Full::Server => {
                let connected = plural(self.config.max_clients as u64, "client");
                (
                    format!("error: server busy ({connected} connected); try again later\n"),
                    format!("{connected} already connected"),
                )
            }
            Full::ThisIp => {
                let connected = plural(self.config.max_per_ip as u64, "connection");
                let host = self.config.hosts.describe_host(peer.ip());
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

/// What the server needs of its command line, besides the address it binds (built by
/// [`ServerArgs::config`](crate::args::ServerArgs::config)).
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// `--max-clients`: most connections served at once.
    pub max_clients: usize,
    /// `--max-per-ip`: most connections from one host.
    pub max_per_ip: usize,
    /// Which addresses count as one host (`--ipv4-prefix`, `--ipv6-prefix`).
    pub hosts: PrefixArgs,
    /// `--idle-timeout`: how long a client may stay silent, or leave its echoes unread.
    pub idle_timeout: Duration,
    /// `--line-timeout` and `--min-rate`: the minimum pace of a line, and of an echo's reading.
    pub pace: Pace,
    /// `--socket-buffer`: bytes of kernel buffer each way, for each connection.
    pub socket_buffer: usize,
    /// `--backlog`: connections the kernel may queue before the main thread accepts them.
    pub backlog: i32,
}

/// Stack size of a connection thread. The echo loop needs a few KiB; 128 KiB leaves a wide
/// margin, and only the pages a thread touches cost memory.
const ECHO_THREAD_STACK: usize = 128 * 1024;

/// How long the main thread pauses after a failed `accept` (e.g. out of file descriptors),
/// so that a lasting failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Whether a failed `accept` only says that one client gave up before it was accepted (it
/// reset the connection: Windows reports it, as WSAECONNRESET), or that the call was
/// interrupted. Nothing to warn about.
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
