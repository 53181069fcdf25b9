//! Handling one datagram: the seed's `handle_client`, the same in every mode.
//!
//! ```python
//! def handle_client(data, client_address, server_socket):
//!     print(f"Received data from {client_address}: {data.decode('utf-8')}")
//!     response = "Message received"
//!     server_socket.sendto(response.encode('utf-8'), client_address)
//! ```
//!
//! Many threads may run [`Handler::handle`] at once (in the threaded modes): they share one
//! socket (sending from several threads at once is fine: each `send_to` is one whole
//! datagram) and count what they do in atomic counters, which need no lock.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use shared::error::describe_io_error;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::text::{PREVIEW_CHARS, preview};

use crate::RESPONSE;

/// What every handler shares: the socket to reply on, the log, the simulated work, and the
/// counters.
pub struct Handler {
    /// The server's socket.
    pub socket: UdpSocket,
    /// Where handlers log.
    pub log: Log,
    /// How long each request "works" before replying (`--work-ms`).
    pub work: Duration,
    /// What the handlers did.
    pub stats: Stats,
}

impl Handler {
    /// Handles one datagram from `client`, counting it while it runs and once it is done
    /// (handled, or cut short by a stop).
    pub fn handle(&self, data: &[u8], client: SocketAddr, shutdown: &Shutdown) {
        let _in_flight = self.stats.enter();
        let counter = match self.respond(data, client, shutdown) {
            Handled::Answered => &self.stats.handled,
            Handled::CutShort => &self.stats.cut_short,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The seed's `handle_client`: log the datagram, do the (simulated) work, reply.
    ///
    /// 1. Unless the log is quiet, log `"Received data from {client}: {text}"`, the text
    ///    shown with `preview(data, PREVIEW_CHARS)`.
    /// 2. Do the work: `shutdown.sleep(self.work)` (unless it is zero). It returns `false`
    ///    when a stop cut it short: then return [`Handled::CutShort`] without replying (a
    ///    stop must not wait for `--work-ms`).
    /// 3. `send_to` the client [`RESPONSE`]; a failed send is a warning. Return
    ///    [`Handled::Answered`].
    pub fn respond(&self, data: &[u8], client: SocketAddr, shutdown: &Shutdown) -> Handled {
        // BEGIN SOLUTION: log the datagram, do the work (shutdown.sleep), send RESPONSE back (the steps are in the doc comment)
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "Received data from {client}: {}",
                preview(data, PREVIEW_CHARS)
            ));
        }
        if !self.work.is_zero() && !shutdown.sleep(self.work) {
            return Handled::CutShort;
        }
        if let Err(error) = self.socket.send_to(RESPONSE, client) {
            self.log
                .warn(format_args!("could not reply to {client}: {}", describe_io_error(&error)));
        }
        Handled::Answered
        // END SOLUTION
    }
}

/// What became of a datagram a handler took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Its work was done and the response sent (or attempted).
    Answered,
    /// A stop came during its work: no response.
    CutShort,
}

/// Counters shared by all handler threads, the pool's workers and the receiving loop.
#[derive(Debug, Default)]
pub struct Stats {
    /// Datagrams handled (answered, or at least attempted).
    pub handled: AtomicU64,
    /// Datagrams dropped: the pool's queue was full (in datagrams or in bytes), or no
    /// thread could be started.
    pub dropped: AtomicU64,
    /// Datagrams received but never handled because the stop came first: still queued in
    /// the pool (counted by a worker), or (thread-per-datagram) received after the stop or
    /// while the loop waited for a thread (counted by the loop).
    pub discarded_at_shutdown: AtomicU64,
    /// Datagrams whose work a stop cut short (no response was sent).
    pub cut_short: AtomicU64,
    /// Datagrams that waited in the pool's queue longer than `--max-queue-ms`: dropped
    /// unhandled, since their client has likely given up.
    pub stale: AtomicU64,

    /// Times the receiving loop waited for a handler thread to finish (`--max-threads`).
    pub waits_for_a_thread: AtomicU64,
    /// Handlers running right now.
    in_flight: AtomicUsize,
    /// The most handlers that ever ran at once.
    pub peak_in_flight: AtomicUsize,
}

impl Stats {
    /// Counts a handler as running until the returned guard is dropped.
    fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        // Few handlers set a new peak: looking first spares the others a locked write.
        if now > self.peak_in_flight.load(Ordering::SeqCst) {
            self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        }
        InFlight(self)
    }
}

/// A running handler; dropping it (even by a panic) counts it as finished.
struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
