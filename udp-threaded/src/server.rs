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

use std::fmt;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use shared::address::AddressArgs;
use shared::datagram::{RECV_BUFFER_SIZE, bind_udp, report_receive_error};
use shared::error::{Context, Result, describe_io_error};
use shared::report::{Log, QuietArg, plural};
use shared::shutdown::{POLL_INTERVAL, Shutdown};

use crate::Seed;
use crate::handler::{Handler, Stats};
use crate::pool::{Job, WorkerPool};

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
}

/// A bound server, ready to [`run`](Server::run) in its mode.
pub struct Server {
    handler: Arc<Handler>,
    args: ServerArgs,
}

impl Server {
    /// Binds the socket `args` name (with `--port 0`, any free port).
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let socket = bind_udp(args.address.resolve()?)?;
        let work = Duration::from_millis(args.work_ms);
        let handler = Arc::new(Handler { socket, log, work, stats: Stats::default() });
        Ok(Server { handler, args: args.clone() })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.handler.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Serves until `shutdown` is requested; then waits for every handler, prints the
    /// summary and returns it.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        let handler = &self.handler;
        handler.log.info(format_args!(
            "Server started, listening on {addr} (mode: {}); press Ctrl-C to stop.",
            self.args.mode
        ));
        match self.args.mode {
            Mode::Single => self.run_single(shutdown)?,
            Mode::ThreadPerDatagram => self.run_thread_per_datagram(shutdown)?,
            Mode::Pool => self.run_pool(shutdown)?,
        }
        let summary = Summary::of(&self.args, &handler.stats);
        handler.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The seed's "without threading": the loop handles each datagram itself.
    fn run_single(&self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: run receive_loop on the handler's socket, handling each datagram right there in the loop
        let handler = &*self.handler;
        receive_loop(&handler.socket, shutdown, &handler.log, |data, client| {
            handler.handle(data, client);
        })
        // END SOLUTION
    }

    /// The seed's server: a thread per datagram, at most `--max-threads` alive at once.
    fn run_thread_per_datagram(&self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: inside thread::scope, run receive_loop; for each datagram take a place from a ThreadLimit (count the waits), copy the data, and spawn a scoped thread that handles it and then frees its place
        let handler = &*self.handler;
        let limit = ThreadLimit::new(self.args.max_threads as usize);
        // Every handler thread runs inside this scope, and the scope does not end until all
        // of them have finished: that is how shutdown joins them.
        thread::scope(|scope| {
            receive_loop(&handler.socket, shutdown, &handler.log, |data, client| {
                let Some((permit, waited)) = limit.acquire(shutdown) else {
                    // The stop came while we waited for a place: this datagram is not started.
                    handler.stats.discarded_at_shutdown.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                if waited {
                    handler.stats.waits_for_a_thread.fetch_add(1, Ordering::Relaxed);
                }
                // The receive buffer is reused for the next datagram: the thread gets a copy.
                let data = data.to_vec();
                let spawned = thread::Builder::new().stack_size(HANDLER_STACK).spawn_scoped(
                    scope,
                    move || {
                        handler.handle(&data, client);
                        drop(permit); // this thread's place is free again
                    },
                );
                if let Err(error) = spawned {
                    handler.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    handler.log.warn(format_args!(
                        "cannot start a thread for {client}, datagram dropped: {}",
                        describe_io_error(&error)
                    ));
                }
            })
        })
        // END SOLUTION
    }

    /// Workers started once, fed through a bounded queue.
    fn run_pool(&self, shutdown: &Shutdown) -> Result<()> {
        // BEGIN SOLUTION: start a WorkerPool, run receive_loop submitting each datagram as a Job (count it in stats.dropped when the queue is full), then drop the pool to join its workers
        let handler = &self.handler;
        let pool = WorkerPool::new(
            self.args.workers as usize,
            self.args.queue as usize,
            handler,
            shutdown,
        )?;
        receive_loop(&handler.socket, shutdown, &handler.log, |data, client| {
            if pool.submit(Job { data: data.to_vec(), client }).is_err() {
                // The queue is full: drop the datagram rather than wait (UDP's way).
                handler.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        })?;
        drop(pool); // closes the queue and joins every worker
        Ok(())
        // END SOLUTION
    }
}

/// The loop of the first lessons (udp-uppercase, module 3h), with what to do with each
/// datagram passed in as `on_datagram`: receive datagrams on `socket` until `shutdown` is
/// requested, and hand each one, with its sender's address, to `on_datagram`.
pub fn receive_loop(
    socket: &UdpSocket,
    shutdown: &Shutdown,
    log: &Log,
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
            Ok((len, client)) => on_datagram(&buffer[..len], client),
            Err(error) => report_receive_error(log, &error),
        }
    }
    Ok(())
}

/// A cap on live handler threads: a counting semaphore built from a `Mutex` and a `Condvar`.
struct ThreadLimit {
    live: Mutex<usize>,
    freed: Condvar,
    max: usize,
}

/// A place under the cap; dropping it gives the place back.
struct Permit<'a>(&'a ThreadLimit);

impl ThreadLimit {
    fn new(max: usize) -> Self {
        ThreadLimit { live: Mutex::new(0), freed: Condvar::new(), max }
    }

    /// Takes a place, waiting for one to be freed if all are taken; also says whether it
    /// had to wait. `None` if a stop is requested while it waits (checked every
    /// `POLL_INTERVAL`): after a stop, no new handler starts.
    fn acquire(&self, shutdown: &Shutdown) -> Option<(Permit<'_>, bool)> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let waited = *live >= self.max;
        while *live >= self.max {
            if shutdown.is_requested() {
                return None;
            }
            live = match self.freed.wait_timeout(live, POLL_INTERVAL) {
                Ok((live, _)) => live,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        *live += 1;
        Some((Permit(self), waited))
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.live.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.0.freed.notify_one();
    }
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
    /// Times the receiving loop waited for a handler thread (thread-per-datagram).
    pub waits_for_a_thread: u64,
    /// The most datagrams handled at the same time.
    pub peak_in_flight: usize,
    /// `--max-threads` or `--workers`, whichever the mode uses.
    pub threads: u32,
}

impl Summary {
    fn of(args: &ServerArgs, stats: &Stats) -> Self {
        Summary {
            mode: args.mode,
            handled: stats.handled.load(Ordering::Relaxed),
            dropped: stats.dropped.load(Ordering::Relaxed),
            discarded_at_shutdown: stats.discarded_at_shutdown.load(Ordering::Relaxed),
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
                "; {}; dropped {} (queue full); discarded {} still queued at shutdown",
                plural(self.threads, "worker"),
                self.dropped,
                self.discarded_at_shutdown
            )?,
        }
        if self.mode != Mode::Pool && self.dropped > 0 {
            write!(f, "; dropped {}", self.dropped)?;
        }
        f.write_str(".")
    }
}
