//! The relay's sockets and threads: one socket facing the clients, one socket per client
//! facing the server.
//!
//! ```text
//!   client A ──┐                      ┌── upstream socket A ──┐
//!              ├─► listen socket ─────┤                       ├─► server
//!   client B ──┘   (127.0.0.1:12001)  └── upstream socket B ──┘   (127.0.0.1:12000)
//! ```
//!
//! Why a socket per client: a UDP server knows its clients only by their source address.
//! If the relay sent everything from one socket, the server would see one client, and the
//! 3h server's per-client table, the chat's members, and every reply's destination would be
//! wrong. With one upstream socket per client, the server sees one source port per client,
//! as it would without the relay, and a reply that arrives on socket A can only be for A.
//! Each upstream socket is `connect`ed to the server, so nobody else can send into it.
//!
//! Threads (std only, no async): the main thread receives from the clients (and sends
//! upstream when nothing delays that direction); each client has a thread that receives
//! the server's replies on its upstream socket; each direction that can delay datagrams has
//! a thread that sends them when due (see [`crate::link`]). Every blocking receive has a
//! timeout of [`POLL_INTERVAL`], so a stop request is seen within a tenth of a second.
//!
//! Bounded everywhere: `--max-clients` entries in the client table (a new client beyond it
//! replaces the one heard from least recently), idle clients dropped after `--idle-timeout`,
//! and the queues of each direction ([`crate::queue`]). A replaced client's socket and thread live on while
//! datagrams for it are queued (and for up to [`POLL_INTERVAL`] after): every [`Client`]
//! is counted while it exists, and past twice `--max-clients` a new client is refused, so
//! sockets and threads stay bounded however many datagrams are queued.
//!
//! And the relay answers only whom a server would: the reply rule of `shared::reply`
//! (its own addresses, port 0, low ports, loops, the rate per network) on what comes from
//! the clients, and its byte budget on what goes back to them ([`crate::budget`]). Otherwise a relay in front
//! of a careful server is a careless server: it would reflect and amplify (with
//! `--duplicate`) what the server refuses, and play the other half of a loop.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};
use std::thread::{self, Scope};
use std::time::{Duration, Instant};

use shared::error::{Context, Error, Result, describe_io_error};
use shared::io_errors::{is_harmless_receive_error, is_port_unreachable, is_timeout_or_interrupt};
use shared::log::Log;
use shared::reply::{ReplyGuard, own::reaches};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::udp::raise_buffers;

use crate::args::Args;
use crate::client::Client;
use crate::direction::Direction;
use crate::flow::Flow;
use crate::link::Pipe;
use crate::probe::Probe;
use crate::queue::Bounds;
use crate::rng;
use crate::sockets::resolve;
use crate::summary::{Summary, Tally};
use crate::table::{ClientTable, Entry};
use crate::throttle::Throttle;
use crate::wire::Wire;

/// Receive buffers hold any datagram whole (the largest UDP payload is 65,507 bytes).
pub const RECV_BUFFER_SIZE: usize = 65_536;

/// How often the client table is checked for idle clients.
const SWEEP_INTERVAL: Duration = Duration::from_millis(250);

/// Stack size of a client's reply thread: it only receives and hands over (its buffer is on
/// the heap), so a small stack lets many clients fit.
const CLIENT_THREAD_STACK: usize = 256 * 1024;

/// A bound relay, ready to [`run`](Relay::run).
pub struct Relay {
    listen: Arc<UdpSocket>,
    listen_addr: SocketAddr,
    server: SocketAddr,
    seed: u64,
    max_clients: usize,
    idle_timeout: Duration,
    log: Log,
    up: Arc<Pipe>,
    down: Arc<Pipe>,
    tally: Arc<Tally>,
    new_client_lines: Throttle,
    table_full: Throttle,
    refused: Throttle,
    receive_failed: Throttle,
    /// `--capture` and `--diagram`, if given.
    wire: Option<Arc<Wire>>,
    /// Whom the relay may send to (see the module's doc), shared with the downstream pipe.
    reply_guard: Arc<Mutex<ReplyGuard>>,
}

impl Relay {
    /// Resolves `--listen` and `--to` and binds the listening socket. Binding first and
    /// running second lets a caller learn the real address (with port 0 the OS picks one).
    pub fn bind(args: &Args, log: Log) -> Result<Relay> {
        let listen_addr = resolve("--listen", &args.listen)?;
        let listen =
            UdpSocket::bind(listen_addr).context(|| format!("cannot bind {listen_addr}"))?;
        Relay::with_socket(args, listen, log)
    }

    /// Like [`bind`](Relay::bind), with a listening socket that is already bound (its
    /// address wins over `--listen`): a test never has to free a port and bind it again.
    pub fn with_socket(args: &Args, listen: UdpSocket, log: Log) -> Result<Relay> {
        // Room for the largest datagram (macOS gives UDP sockets 9,216 bytes by default).
        raise_buffers(&listen)?;
        let server = resolve("--to", &args.to)?;
        let listen_addr = listen.local_addr().context(|| "cannot read the relay's address")?;
        if reaches(listen_addr, server) {
            return Err(Error::msg(format!(
                "--to {server} is the relay's own address: every datagram would go round forever"
            )));
        }
        listen
            .set_read_timeout(Some(POLL_INTERVAL))
            .context(|| "cannot set the socket's read timeout")?;
        let listen = Arc::new(listen);
        let bounds = Bounds {
            rate_queue: to_usize(args.rate_queue),
            max_delayed: to_usize(args.max_delayed),
            max_delayed_bytes: args.max_delayed_bytes,
            reorder_hold: args.reorder_hold,
        };
        let seed = args.seed.unwrap_or_else(rng::fresh_seed);
        let title = vec![
            format!("lossy-link {listen_addr} -> {server}, seed {seed}"),
            format!("{}: {}", Direction::Up.label(), args.up()),
            format!("{}: {}", Direction::Down.label(), args.down()),
        ];
        let wire = Wire::open(&args.wire, listen_addr, server, title, log.clone())?;
        let wire = wire.map(Arc::new);
        let pipe = |direction, impairment| {
            let wire = wire.clone();
            Pipe::new(direction, impairment, bounds, Arc::clone(&listen), log.clone(), wire)
        };
        let reply_guard = Arc::new(Mutex::new(ReplyGuard::new(listen_addr, &args.replies)));
        Ok(Relay {
            up: Arc::new(pipe(Direction::Up, args.up())),
            down: Arc::new(
                pipe(Direction::Down, args.down()).with_reply_guard(Arc::clone(&reply_guard)),
            ),
            reply_guard,
            listen,
            listen_addr,
            server,
            seed,
            max_clients: to_usize(args.max_clients),
            idle_timeout: args.idle_timeout,
            log,
            tally: Arc::default(),
            new_client_lines: Throttle::new(),
            table_full: Throttle::new(),
            refused: Throttle::new(),
            receive_failed: Throttle::new(),
            wire,
        })
    }

    /// Where clients should send: the relay's listening address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listen_addr
    }

    /// The seed in use (the one given, or the one picked).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Live counts, readable while the relay runs.
    pub fn probe(&self) -> Probe {
        Probe::new(Arc::clone(&self.up), Arc::clone(&self.down), Arc::clone(&self.tally))
    }

    /// Relays until `shutdown` is requested, then prints and returns the summary.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let started = Instant::now();
        self.log.info(format_args!(
            "lossy-link relaying {} -> {} (UDP), seed {}; press Ctrl-C to stop.",
            self.listen_addr, self.server, self.seed
        ));
        for pipe in [&self.up, &self.down] {
            self.log.info(format_args!("  {}: {}", pipe.direction().label(), pipe.impairment()));
        }
        thread::scope(|scope| {
            for pipe in [&self.up, &self.down] {
                if pipe.needs_scheduler() {
                    scope.spawn(move || pipe.run(shutdown));
                }
            }
            self.serve_clients(scope, shutdown, started);
        });
        // Anything a receiving thread queued after its sending thread stopped.
        self.up.discard_queued();
        self.down.discard_queued();
        let summary = Summary {
            up: self.up.summary(),
            down: self.down.summary(),
            clients: self.tally.clients.load(Ordering::Relaxed),
            evicted: self.tally.evicted.load(Ordering::Relaxed),
            idle_dropped: self.tally.idle_dropped.load(Ordering::Relaxed),
            refused: self.tally.refused.load(Ordering::Relaxed) + self.guard().refused().total(),
            seed: self.seed,
            elapsed: started.elapsed(),
        };
        for line in summary.to_string().lines() {
            self.log.info(format_args!("{line}"));
        }
        if let Some(wire) = &self.wire {
            wire.finish()?;
        }
        Ok(summary)
    }

    /// The main thread: datagrams from clients, the client table, idle clients.
    fn serve_clients<'scope, 'env>(
        &'env self,
        scope: &'scope Scope<'scope, 'env>,
        shutdown: &'env Shutdown,
        started: Instant,
    ) {
        let mut clients = ClientTable::new(self.max_clients);
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        let mut next_sweep = started + SWEEP_INTERVAL;
        while !shutdown.is_requested() {
            match self.listen.recv_from(&mut buffer) {
                Ok((len, from)) => {
                    let verdict = self.guard().check(from, &buffer[..len]);
                    if let Err(refusal) = verdict {
                        self.refused.warn(&self.log, || {
                            format!("ignored a datagram from {from}: {refusal}")
                        });
                        continue;
                    }
                    let now_ms = millis_since(started);
                    if !clients.contains(from)
                        && !self.admit(from, &mut clients, scope, shutdown, started, now_ms)
                    {
                        continue;
                    }
                    if let Some(entry) = clients.heard(from, now_ms) {
                        self.up.carry(&buffer[..len], &entry.client, &mut entry.flow);
                    }
                }
                // Nothing arrived this interval, Ctrl-C interrupted the wait, or (Windows)
                // a client's port was gone when a reply reached it: go round.
                Err(error) if is_harmless_receive_error(&error) => {}
                Err(error) => self.receive_failed.warn(&self.log, || {
                    format!("receive from clients failed: {}", describe_io_error(&error))
                }),
            }
            let now = Instant::now();
            if now >= next_sweep {
                next_sweep = now + SWEEP_INTERVAL;
                self.drop_idle(&mut clients, millis_since(started));
            }
        }
        clients.drop_all();
    }

    /// Puts the new client at `from` in the table, with its upstream socket and reply
    /// thread; `false` if the datagram must not be relayed.
    fn admit<'scope, 'env>(
        &'env self,
        from: SocketAddr,
        clients: &mut ClientTable,
        scope: &'scope Scope<'scope, 'env>,
        shutdown: &'env Shutdown,
        started: Instant,
        now_ms: u64,
    ) -> bool {
        // A forged source must not start a loop: never relay for port 0, the server, or
        // the relay itself.
        let refusal = if from.port() == 0 {
            Some("source port 0")
        } else if reaches(self.server, from) {
            Some("it is the server's own address")
        } else if clients.is_upstream_socket(from) {
            // --to leads back to this relay (e.g. --listen 0.0.0.0:P --to 127.0.0.1:P).
            Some("it is one of the relay's own upstream sockets")
        } else {
            None
        };
        if let Some(reason) = refusal {
            self.tally.refused.fetch_add(1, Ordering::Relaxed);
            self.refused.warn(&self.log, || format!("ignored a datagram from {from}: {reason}"));
            return false;
        }
        if clients.is_full() {
            self.evict_least_recent(clients);
        }
        // Replaced clients live on while datagrams for them are queued: past twice
        // --max-clients, no new socket or thread until some are gone.
        if self.tally.live.load(Ordering::Relaxed) >= self.max_clients.saturating_mul(2) {
            self.tally.refused.fetch_add(1, Ordering::Relaxed);
            self.table_full.warn(&self.log, || {
                format!(
                    "not relaying for new client {from}: twice --max-clients ({}) sockets \
                     are still in use by replaced clients' queued datagrams",
                    self.max_clients
                )
            });
            return false;
        }
        match self.new_client(from, scope, shutdown, started, now_ms) {
            Ok(entry) => {
                clients.insert(from, entry);
                true
            }
            Err(error) => {
                self.tally.refused.fetch_add(1, Ordering::Relaxed);
                self.refused
                    .warn(&self.log, || format!("cannot relay for new client {from}: {error}"));
                false
            }
        }
    }

    fn new_client<'scope, 'env>(
        &'env self,
        addr: SocketAddr,
        scope: &'scope Scope<'scope, 'env>,
        shutdown: &'env Shutdown,
        started: Instant,
        now_ms: u64,
    ) -> Result<Entry> {
        let upstream = upstream_socket(self.server)?;
        let upstream_addr = upstream.local_addr().context(|| "cannot read the upstream address")?;
        let number = self.tally.clients.load(Ordering::Relaxed);
        let client = Arc::new(Client::new(addr, upstream, upstream_addr, now_ms, &self.tally.live));
        let replies = Arc::clone(&client);
        thread::Builder::new()
            .name(format!("replies for {addr}"))
            .stack_size(CLIENT_THREAD_STACK)
            .spawn_scoped(scope, move || self.serve_replies(&replies, number, shutdown, started))
            .context(|| "cannot start its thread")?;
        self.tally.clients.fetch_add(1, Ordering::Relaxed);
        self.new_client_lines.message(&self.log, || {
            format!("new client {addr}: relayed to {} from {upstream_addr}", self.server)
        });
        Ok(Entry::new(client, Flow::new(self.seed, number, Direction::Up)))
    }

    /// A client's reply thread: the server's datagrams on the client's upstream socket go
    /// back down to the client, until the client is dropped or the relay stops.
    fn serve_replies(
        &self,
        client: &Arc<Client>,
        number: u64,
        shutdown: &Shutdown,
        started: Instant,
    ) {
        let mut flow = Flow::new(self.seed, number, Direction::Down);
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        while !shutdown.is_requested() && !client.is_dropped() {
            match client.upstream.recv(&mut buffer) {
                Ok(len) => {
                    client.heard(millis_since(started));
                    self.down.carry(&buffer[..len], client, &mut flow);
                }
                Err(error) if is_timeout_or_interrupt(&error) => {}
                // The ICMP "port unreachable" for an earlier datagram: nothing listens at
                // --to. UDP reports it on a connected socket's next call.
                Err(error) if is_port_unreachable(&error) => {
                    self.receive_failed.warn(&self.log, || {
                        format!(
                            "no server is listening at {} (a datagram from {} came back as \
                         'port unreachable')",
                            self.server, client.addr
                        )
                    });
                }
                Err(error) => self.receive_failed.warn(&self.log, || {
                    format!("receive from the server failed: {}", describe_io_error(&error))
                }),
            }
        }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ReplyGuard> {
        self.reply_guard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn evict_least_recent(&self, clients: &mut ClientTable) {
        if let Some(addr) = clients.evict_least_recent() {
            self.tally.evicted.fetch_add(1, Ordering::Relaxed);
            self.table_full.warn(&self.log, || {
                format!(
                    "client table full (--max-clients {}): dropped {addr}, heard from least \
                     recently",
                    self.max_clients
                )
            });
        }
    }

    fn drop_idle(&self, clients: &mut ClientTable, now_ms: u64) {
        let idle_ms = u64::try_from(self.idle_timeout.as_millis()).unwrap_or(u64::MAX);
        clients.drop_idle(now_ms, idle_ms, |addr| {
            self.tally.idle_dropped.fetch_add(1, Ordering::Relaxed);
            self.new_client_lines.message(&self.log, || {
                format!(
                    "client {addr} silent for {} s: its upstream socket is closed",
                    self.idle_timeout.as_secs_f64()
                )
            });
        });
    }
}

/// A new socket towards `server`: on loopback if the server is, else on any address of its
/// family, with a free port, connected to the server.
fn upstream_socket(server: SocketAddr) -> Result<UdpSocket> {
    let ip: IpAddr = match server.ip() {
        ip if ip.is_loopback() => ip,
        IpAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        IpAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket =
        UdpSocket::bind((ip, 0)).context(|| format!("cannot bind an upstream socket on {ip}"))?;
    raise_buffers(&socket)?;
    socket.connect(server).context(|| format!("cannot reach {server}"))?;
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    Ok(socket)
}

fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
