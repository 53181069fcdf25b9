//! The UDP server in three modes: `single`, `thread-per-datagram` and `pool`.
//!
//! All three share the receiving loop (`Server::receive_loop`: the seed's `while True:
//! data, client_address = server_socket.recvfrom(1024)`, the loop you wrote in the first
//! lessons, now taking what to do with a datagram as a parameter) and the handler
//! ([`Handler::handle`]: the seed's `handle_client`). They differ only in what they do with
//! a datagram, that is, in who runs the handler:
//!
//! | mode | who handles a datagram | while it works, the loop... |
//! |---|---|---|
//! | `single` | the loop itself | ...does not receive: everyone else waits |
//! | `thread-per-datagram` | a new thread, started for it | ...receives the next datagram at once |
//! | `pool` | one of `--workers` threads, started once | ...queues the next datagram for a free worker |

use std::collections::VecDeque;
use std::fmt;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, ScopedJoinHandle};
use std::time::{Duration, Instant};

use shared::error::{Context, Result, describe_io_error};
use shared::log::{Log, report_receive_error};
use shared::reply::{Refused, ReplyArgs, ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;
use shared::udp::{RECV_BUFFER_SIZE, raise_buffers};

use crate::RESPONSE;
use crate::handler::{Handler, Stats};
use crate::pool::{Job, QueueLimits, WorkerPool};

/// A bound server, ready to [`run`](Server::run) in its mode.
pub struct Server {
    /// The socket, the log, the simulated work and the counters, shared by every handler.
    handler: Arc<Handler>,
    /// Who handles each datagram.
    mode: Mode,
    /// thread-per-datagram: most handler threads alive at once.
    max_threads: usize,
    /// pool: worker threads, and what their queue may hold.
    workers: usize,
    queue: QueueLimits,
    /// Whom the server may answer (see `shared::reply`), checked by the receiving loop.
    replies: ReplyGuard,
}

impl Server {
    /// Binds a UDP socket to `address` (with port 0, any free port), to serve in
    /// `config.mode`.
    pub fn bind(address: SocketAddr, config: Config) -> Result<Server> {
        let socket = UdpSocket::bind(address).context(|| format!("cannot bind {address}"))?;
        // Room for the largest datagram both ways (macOS starts UDP sockets at 9,216 bytes).
        raise_buffers(&socket)?;
        let own = socket.local_addr().context(|| "cannot read the server's address")?;
        let Config { log, mode, work, max_threads, workers, queue, replies } = config;
        let handler = Arc::new(Handler { socket, log, work, stats: Stats::default() });
        let replies = ReplyGuard::new(own, &replies);
        Ok(Server { handler, mode, max_threads, workers, queue, replies })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.handler.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Serves until `shutdown` is requested; then waits for every handler, prints the
    /// summary and returns it.
    pub fn run(mut self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        self.handler.log.info(format_args!(
            "Server started, listening on {addr} (mode: {}); press Ctrl-C to stop.",
            self.mode
        ));
        match self.mode {
            Mode::Single => self.run_single(shutdown)?,
            Mode::ThreadPerDatagram => self.run_thread_per_datagram(shutdown)?,
            Mode::Pool => self.run_pool(shutdown)?,
        }
        let threads = match self.mode {
            Mode::Single => 0,
            Mode::ThreadPerDatagram => self.max_threads,
            Mode::Pool => self.workers,
        };
        let summary = Summary::of(self.mode, threads, &self.handler.stats, self.replies.refused());
        self.handler.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The seed's "without threading": the loop handles each datagram itself.
    fn run_single(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: run receive_loop, handling each datagram right there in the loop
        let handler = Arc::clone(&self.handler);
        self.receive_loop(shutdown, |data, client| handler.handle(data, client, shutdown))
        // END SOLUTION
    }

    /// The seed's server: a thread per datagram, at most `--max-threads` alive at once.
    ///
    /// 1. Inside `thread::scope` (it joins every thread it started before it returns), run
    ///    `self.receive_loop`.
    /// 2. For each datagram: after a stop, start nothing (count it in
    ///    `stats.discarded_at_shutdown`). Join the threads at the front of `live` that have
    ///    finished (`is_finished`, `join`): a thread counts until it has exited. If
    ///    `self.max_threads` are still alive, count a wait in `stats.waits_for_a_thread` and
    ///    join the oldest (and if the stop came meanwhile, count the datagram in
    ///    `stats.discarded_at_shutdown` and start nothing).
    /// 3. Copy the datagram (the buffer is reused) and start a scoped thread with
    ///    `thread::Builder::new().stack_size(HANDLER_STACK).spawn_scoped(...)` that calls
    ///    `handler.handle`; keep its handle at the back of `live`. If it cannot start, count
    ///    the datagram in `stats.dropped` and warn.
    fn run_thread_per_datagram(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: a scoped thread per datagram, at most --max-threads alive (the steps are in the doc comment)
        let handler = Arc::clone(&self.handler);
        let handler = &*handler;
        let max_threads = self.max_threads;
        thread::scope(|scope| {
            // The handler threads that may still be running, oldest first.
            let mut live: VecDeque<ScopedJoinHandle<'_, ()>> = VecDeque::new();
            self.receive_loop(shutdown, |data, client| {
                if shutdown.is_requested() {
                    handler.stats.discarded_at_shutdown.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                while live.front().is_some_and(ScopedJoinHandle::is_finished) {
                    let _ = live.pop_front().map(ScopedJoinHandle::join);
                }
                if live.len() >= max_threads {
                    handler.stats.waits_for_a_thread.fetch_add(1, Ordering::Relaxed);
                    let _ = live.pop_front().map(ScopedJoinHandle::join);
                    if shutdown.is_requested() {
                        // The stop came while we waited: this datagram is not started.
                        handler.stats.discarded_at_shutdown.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                }
                let data = data.to_vec();
                let spawned = thread::Builder::new()
                    .stack_size(HANDLER_STACK)
                    .spawn_scoped(scope, move || handler.handle(&data, client, shutdown));
                match spawned {
                    Ok(thread) => live.push_back(thread),
                    Err(error) => {
                        handler.stats.dropped.fetch_add(1, Ordering::Relaxed);
                        handler.log.warn(format_args!(
                            "cannot start a thread for {client}, datagram dropped: {}",
                            describe_io_error(&error)
                        ));
                    }
                }
            })
        })
        // END SOLUTION
    }

    /// Workers started once, fed through a bounded queue.
    fn run_pool(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: start a WorkerPool, run receive_loop submitting each datagram as a Job (count it in stats.dropped when the queue is full), then drop the pool to join its workers
        let handler = Arc::clone(&self.handler);
        let pool = WorkerPool::new(self.workers, self.queue, &handler, shutdown)?;
        self.receive_loop(shutdown, |data, client| {
            let job = Job { data: data.to_vec(), client, received: Instant::now() };
            if pool.submit(job).is_err() {
                // The queue is full: drop the datagram rather than wait (UDP's way).
                handler.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        })?;
        drop(pool); // closes the queue and joins every worker
        Ok(())
        // END SOLUTION
    }

    /// The loop of the first lessons (udp-uppercase, module 3h), with what to do with each
    /// datagram passed in as `on_datagram`: receive datagrams until `shutdown` is requested,
    /// and hand each one the server may answer, with its sender's address, to
    /// `on_datagram`.
    fn receive_loop(
        &mut self,
        shutdown: &Shutdown,
        mut on_datagram: impl FnMut(&[u8], SocketAddr),
    ) -> Result<()> {
        let handler = Arc::clone(&self.handler);
        let socket = &handler.socket;
        // std cannot interrupt a blocked `recv_from` from another thread, so the loop wakes
        // up every POLL_INTERVAL to see whether Ctrl-C asked it to stop.
        socket
            .set_read_timeout(Some(POLL_INTERVAL))
            .context(|| "cannot set the socket's read timeout")?;
        // Big enough for any datagram: the seed's `recvfrom(1024)` cuts longer ones.
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        while !shutdown.is_requested() {
            match socket.recv_from(&mut buffer) {
                Ok((len, client)) => {
                    if self.may_answer(client, &buffer[..len]) {
                        on_datagram(&buffer[..len], client);
                    }
                }
                Err(error) => report_receive_error(&handler.log, &error),
            }
        }
        Ok(())
    }

    /// Whether the reply rule lets the server answer `data` from `client`: a forged source
    /// must not start a loop, and the response (16 bytes, whatever came in) must not be more
    /// than 3x what the source sent (see `shared::reply`). When not, a warning says why.
    fn may_answer(&mut self, client: SocketAddr, data: &[u8]) -> bool {
        let replies = &mut self.replies;
        let verdict =
            replies.check(client, data).and_then(|()| replies.spend(client, RESPONSE.len()));
        if let Err(refusal) = verdict {
            warn_refusal(&self.handler.log, client, refusal);
        }
        verdict.is_ok()
    }
}

/// Stack size of a handler thread in `thread-per-datagram` mode: small, because a smaller
/// stack is cheaper to set up, and one is set up for every datagram.
const HANDLER_STACK: usize = 64 * 1024;

/// What [`Server::bind`] needs besides the address.
pub struct Config {
    /// The server's log (stdout in the binary, a captured log in the tests).
    pub log: Log,
    /// Who handles each datagram (`--mode`).
    pub mode: Mode,
    /// Simulated work per request (`--work-ms`).
    pub work: Duration,
    /// thread-per-datagram: most handler threads alive at once (`--max-threads`).
    pub max_threads: usize,
    /// pool: worker threads (`--workers`).
    pub workers: usize,
    /// pool: what the queue may hold (`--queue`, `--queue-bytes`, `--max-queue-ms`).
    pub queue: QueueLimits,
    /// Whom the server may answer (`--reply-rate`, `--max-sources`, ...).
    pub replies: ReplyArgs,
}

/// Who handles each datagram.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new thread for every datagram (the seed's server).
    ThreadPerDatagram,
    /// The receiving loop itself, one datagram at a time (the seed's "without threading").
    Single,
    /// A fixed pool of worker threads fed by a bounded queue.
    Pool,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::ThreadPerDatagram => "thread-per-datagram",
            Mode::Single => "single",
            Mode::Pool => "pool",
        })
    }
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The mode it ran in.
    pub mode: Mode,
    /// Datagrams handled.
    pub handled: u64,
    /// Datagrams dropped: the pool's queue was full (in datagrams or in bytes), or no
    /// thread could be started.
    pub dropped: u64,
    /// Datagrams received but never handled because the stop came first: still queued in
    /// the pool, or (thread-per-datagram) received after the stop or while the loop waited
    /// for a thread.
    pub discarded_at_shutdown: u64,
    /// Datagrams whose work a stop cut short (no response sent).
    pub cut_short: u64,
    /// Datagrams that waited in the pool's queue past `--max-queue-ms`, dropped unhandled.
    pub stale: u64,
    /// Datagrams not answered by the reply rule (forged sources, loops, over the reply rate
    /// or the byte budget, a full table of sources).
    pub refused: Refused,
    /// Times the receiving loop waited for a handler thread (thread-per-datagram).
    pub waits_for_a_thread: u64,
    /// The most datagrams handled at the same time.
    pub peak_in_flight: usize,
    /// `--max-threads` or `--workers`, whichever the mode uses (0 in `single`).
    pub threads: u32,
}

impl Summary {
    fn of(mode: Mode, threads: usize, stats: &Stats, refused: Refused) -> Self {
        Summary {
            mode,
            handled: stats.handled.load(Ordering::Relaxed),
            dropped: stats.dropped.load(Ordering::Relaxed),
            discarded_at_shutdown: stats.discarded_at_shutdown.load(Ordering::Relaxed),
            cut_short: stats.cut_short.load(Ordering::Relaxed),
            stale: stats.stale.load(Ordering::Relaxed),
            refused,
            waits_for_a_thread: stats.waits_for_a_thread.load(Ordering::Relaxed),
            peak_in_flight: stats.peak_in_flight.load(Ordering::Relaxed),
            threads: u32::try_from(threads).unwrap_or(u32::MAX),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Handled {} in {} mode, at most {} at once",
            plural(self.handled, "datagram"),
            self.mode,
            self.peak_in_flight
        )?;
        match self.mode {
            Mode::Single => {}
            Mode::ThreadPerDatagram => write!(
                f,
                "; waited {} for a thread to finish (--max-threads {}); discarded {} at shutdown",
                plural(self.waits_for_a_thread, "time"),
                self.threads,
                self.discarded_at_shutdown
            )?,
            Mode::Pool => write!(
                f,
                "; {}; dropped {} (queue full), {} stale (queued past --max-queue-ms); \
                 discarded {} still queued at shutdown",
                plural(self.threads, "worker"),
                self.dropped,
                self.stale,
                self.discarded_at_shutdown
            )?,
        }
        if self.mode != Mode::Pool && self.dropped > 0 {
            write!(f, "; dropped {}", self.dropped)?;
        }
        if self.cut_short > 0 {
            write!(f, "; cut {} short at shutdown", self.cut_short)?;
        }
        if self.refused.total() > 0 {
            write!(f, "; did not answer {} ({})", self.refused.total(), self.refused)?;
        }
        f.write_str(".")
    }
}
