//! The UDP server in three modes: `single`, `thread-per-datagram` and `pool`.
//!
//! All three share the receiving loop ([`receive_loop`]: the seed's `while True:
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

use shared::address::AddressArgs;
use shared::log::report_receive_error;
use shared::udp::{RECV_BUFFER_SIZE, bind_udp};

use crate::RESPONSE;
use shared::error::{Context, Result, describe_io_error};
use shared::log::{Log, QuietArg};
use shared::reply::{Refused, ReplyArgs, ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;

use crate::Seed;
use crate::handler::{Handler, Stats};
use crate::pool::{Job, QueueLimits, WorkerPool};

/// Stack size of a handler thread in `thread-per-datagram` mode: small, because a smaller
/// stack is cheaper to set up, and one is set up for every datagram.
const HANDLER_STACK: usize = 64 * 1024;

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

/// Four workers per core: enough to overlap work that mostly waits (like `--work-ms`).
fn default_workers() -> u32 {
    let cores = thread::available_parallelism().map_or(1, std::num::NonZero::get);
    u32::try_from(cores * 4).unwrap_or(64)
}

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "udp-threaded server",
    version,
    about = "UDP server three ways: a thread per datagram (the seed), no threads, or a worker \
             pool. Replies 'Message received' to every datagram.",
    long_about = "UDP server three ways: a thread per datagram (the seed), no threads, or a worker \
                  pool. Replies 'Message received' to every datagram.\n\n\
                  Give every request some work with --work-ms, run the client's load mode \
                  against each mode, and compare. On Ctrl-C the server prints how many datagrams \
                  it handled and dropped."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Seed>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Who handles each datagram.
    #[arg(long, value_enum, default_value_t = Mode::ThreadPerDatagram)]
    pub mode: Mode,

    /// Milliseconds of simulated work per request (a sleep before replying), in every mode.
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub work_ms: u64,

    /// thread-per-datagram: most handler threads alive at once. At the cap, the receiving
    /// loop waits for one to finish (meanwhile the kernel buffers, or drops, new datagrams).
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_threads: u32,

    /// pool: number of worker threads [default: 4 per core].
    #[arg(long, value_name = "N", default_value_t = default_workers(), hide_default_value = true,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub workers: u32,

    /// pool: most datagrams waiting for a worker; when the queue is full, a new datagram is
    /// dropped and counted.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub queue: u32,

    /// pool: most bytes of datagrams waiting for a worker (big datagrams fill memory sooner
    /// than many small ones); past it, a new datagram is dropped and counted.
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(65_536..=4 * 1024 * 1024 * 1024))]
    pub queue_bytes: u64,

    /// pool: a datagram that waited longer than this in the queue is dropped unhandled and
    /// counted (its client has likely given up; answering it would only delay the others).
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub max_queue_ms: u64,

    /// Whom the server may answer: `--allow-low-ports`, `--reply-rate`, `--max-sources`.
    #[command(flatten)]
    pub replies: ReplyArgs,
}

/// A bound server, ready to [`run`](Server::run) in its mode.
pub struct Server {
    handler: Arc<Handler>,
    args: ServerArgs,
    /// Whom the server may answer (see `shared::reply`), checked by the receiving loop.
    replies: ReplyGuard,
}

impl Server {
    /// Binds the socket `args` name (with `--port 0`, any free port).
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let socket = bind_udp(args.address.resolve()?)?;
        let own = socket.local_addr().context(|| "cannot read the server's address")?;
        let work = Duration::from_millis(args.work_ms);
        let handler = Arc::new(Handler { socket, log, work, stats: Stats::default() });
        Ok(Server { handler, args: args.clone(), replies: ReplyGuard::new(own, &args.replies) })
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
            self.args.mode
        ));
        match self.args.mode {
            Mode::Single => self.run_single(shutdown)?,
            Mode::ThreadPerDatagram => self.run_thread_per_datagram(shutdown)?,
            Mode::Pool => self.run_pool(shutdown)?,
        }
        let summary = Summary::of(&self.args, &self.handler.stats, self.replies.refused());
        self.handler.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The seed's "without threading": the loop handles each datagram itself.
    fn run_single(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: run receive_loop on the handler's socket, handling each datagram right there in the loop
        let handler = &*self.handler;
        receive_loop(&handler.socket, shutdown, &handler.log, &mut self.replies, |data, client| {
            handler.handle(data, client, shutdown);
        })
        // END SOLUTION
    }

    /// The seed's server: a thread per datagram, at most `--max-threads` alive at once.
    ///
    /// 1. Inside `thread::scope` (it joins every thread it started before it returns), run
    ///    [`receive_loop`] with `self.replies`.
    /// 2. For each datagram: after a stop, start nothing (count it in
    ///    `stats.discarded_at_shutdown`). Join the threads at the front of `live` that have
    ///    finished (`is_finished`, `join`): a thread counts until it has exited. If
    ///    `--max-threads` are still alive, count a wait in `stats.waits_for_a_thread` and
    ///    join the oldest.
    /// 3. Copy the datagram (the buffer is reused) and start a scoped thread with
    ///    `thread::Builder::new().stack_size(HANDLER_STACK).spawn_scoped(...)` that calls
    ///    `handler.handle`; keep its handle at the back of `live`. If it cannot start, count
    ///    the datagram in `stats.dropped` and warn.
    fn run_thread_per_datagram(&mut self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: a scoped thread per datagram, at most --max-threads alive (the steps are in the doc comment)
        let handler = &*self.handler;
        let max_threads = self.args.max_threads as usize;
        let replies = &mut self.replies;
        thread::scope(|scope| {
            // The handler threads that may still be running, oldest first.
            let mut live: VecDeque<ScopedJoinHandle<'_, ()>> = VecDeque::new();
            receive_loop(&handler.socket, shutdown, &handler.log, replies, |data, client| {
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
        let handler = &self.handler;
        let limits = QueueLimits {
            jobs: self.args.queue as usize,
            bytes: usize::try_from(self.args.queue_bytes).unwrap_or(usize::MAX),
            max_age: Duration::from_millis(self.args.max_queue_ms),
        };
        let pool = WorkerPool::new(self.args.workers as usize, limits, handler, shutdown)?;
        receive_loop(
            &handler.socket,
            shutdown,
            &handler.log,
            &mut self.replies,
            |data, client| {
                let job = Job { data: data.to_vec(), client, received: Instant::now() };
                if pool.submit(job).is_err() {
                    // The queue is full: drop the datagram rather than wait (UDP's way).
                    handler.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            },
        )?;
        drop(pool); // closes the queue and joins every worker
        Ok(())
        // END SOLUTION
    }
}

/// The loop of the first lessons (udp-uppercase, module 3h), with what to do with each
/// datagram passed in as `on_datagram`: receive datagrams on `socket` until `shutdown` is
/// requested, and hand each one the server may answer (`replies`), with its sender's
/// address, to `on_datagram`.
pub fn receive_loop(
    socket: &UdpSocket,
    shutdown: &Shutdown,
    log: &Log,
    replies: &mut ReplyGuard,
    mut on_datagram: impl FnMut(&[u8], SocketAddr),
) -> Result<()> {
    // std cannot interrupt a blocked `recv_from` from another thread, so the loop wakes up
    // every POLL_INTERVAL to see whether Ctrl-C asked it to stop.
    socket
        .set_read_timeout(Some(POLL_INTERVAL))
        .context(|| "cannot set the socket's read timeout")?;
    // Big enough for any datagram: the seed's `recvfrom(1024)` cuts longer ones.
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    while !shutdown.is_requested() {
        match socket.recv_from(&mut buffer) {
            // A forged source must not start a loop, and the response (16 bytes, whatever
            // came in) must not be more than 3x what the source sent (see shared::reply).
            Ok((len, client)) => match replies
                .check(client, &buffer[..len])
                .and_then(|()| replies.spend(client, RESPONSE.len()))
            {
                Ok(()) => on_datagram(&buffer[..len], client),
                Err(refusal) => warn_refusal(log, client, refusal),
            },
            Err(error) => report_receive_error(log, &error),
        }
    }
    Ok(())
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The mode it ran in.
    pub mode: Mode,
    /// Datagrams handled.
    pub handled: u64,
    /// Datagrams dropped: the pool's queue was full, or no thread could be started.
    pub dropped: u64,
    /// Datagrams queued in the pool when the stop came, discarded unhandled.
    pub discarded_at_shutdown: u64,
    /// Datagrams whose work a stop cut short (no response sent).
    pub cut_short: u64,
    /// Datagrams that waited in the pool's queue past `--max-queue-ms`, dropped unhandled.
    pub stale: u64,
    /// Datagrams not answered by the reply rule (forged sources, over the reply rate).
    pub refused: Refused,
    /// Times the receiving loop waited for a handler thread (thread-per-datagram).
    pub waits_for_a_thread: u64,
    /// The most datagrams handled at the same time.
    pub peak_in_flight: usize,
    /// `--max-threads` or `--workers`, whichever the mode uses.
    pub threads: u32,
}

impl Summary {
    fn of(args: &ServerArgs, stats: &Stats, refused: Refused) -> Self {
        Summary {
            mode: args.mode,
            handled: stats.handled.load(Ordering::Relaxed),
            dropped: stats.dropped.load(Ordering::Relaxed),
            discarded_at_shutdown: stats.discarded_at_shutdown.load(Ordering::Relaxed),
            cut_short: stats.cut_short.load(Ordering::Relaxed),
            stale: stats.stale.load(Ordering::Relaxed),
            refused,
            waits_for_a_thread: stats.waits_for_a_thread.load(Ordering::Relaxed),
            peak_in_flight: stats.peak_in_flight.load(Ordering::Relaxed),
            threads: match args.mode {
                Mode::Single => 0,
                Mode::ThreadPerDatagram => args.max_threads,
                Mode::Pool => args.workers,
            },
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
