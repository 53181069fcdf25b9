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
use std::thread;
use std::time::Duration;

use shared::datagram::{PREVIEW_CHARS, preview};
use shared::error::describe_io_error;
use shared::report::Log;

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
    /// Handles one datagram from `client`, counting it while it runs and once it is done.
    pub fn handle(&self, data: &[u8], client: SocketAddr) {
        let _in_flight = self.stats.enter();
        self.respond(data, client);
        self.stats.handled.fetch_add(1, Ordering::Relaxed);
    }

    /// The seed's `handle_client`: log the datagram, do the (simulated) work, reply.
    pub fn respond(&self, data: &[u8], client: SocketAddr) {
        // BEGIN SOLUTION: log "Received data from CLIENT: TEXT" (unless quiet), sleep self.work if it is not zero, then send RESPONSE back to the client
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "Received data from {client}: {}",
                preview(data, PREVIEW_CHARS)
            ));
        }
        if !self.work.is_zero() {
            thread::sleep(self.work);
        }
        if let Err(error) = self.socket.send_to(RESPONSE, client) {
            self.log
                .warn(format_args!("could not reply to {client}: {}", describe_io_error(&error)));
        }
        // END SOLUTION
    }
}

/// Counters shared by all handler threads (and the receiving loop).
#[derive(Debug, Default)]
pub struct Stats {
    /// Datagrams handled (answered, or at least attempted).
    pub handled: AtomicU64,
    /// Datagrams dropped: the pool's queue was full, or no thread could be started.
    pub dropped: AtomicU64,
    /// Datagrams still queued at shutdown, dropped without being handled.
    pub discarded_at_shutdown: AtomicU64,
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
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
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
