//! Request/reply over UDP: the load mode of every UDP module's client.

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{Exchange, LoadPlan, Outcome, Strays, run_until_stopped};
use crate::error::{Error, Result};
use crate::io_errors::{is_port_unreachable, is_timeout_or_interrupt};
use crate::shutdown::{POLL_INTERVAL, Shutdown};
use crate::udp::{RECV_BUFFER_SIZE, connect_udp};

/// The whole load mode of a UDP request/reply client: runs `plan` with one [`UdpExchange`]
/// per client against `server`, writes the summary line to `out`, and is `Ok` only if every
/// request got its correct reply.
pub fn run_udp(
    plan: &LoadPlan,
    server: SocketAddr,
    shutdown: &Shutdown,
    make_request: fn(u32, u64) -> Request,
    out: &mut impl io::Write,
) -> Result<()> {
    // Each exchange waits on the run's stop, so that the run ends at its --duration.
    let summary = run_until_stopped(plan, shutdown, |client, stop| {
        UdpExchange::connect(server, plan.timeout, stop, client, make_request)
    })?;
    crate::console::output_line(out, format_args!("{summary}"))?;
    summary.check()
}

/// Request/reply over UDP, ready for any module whose server answers each datagram with
/// one datagram: the module says what request `n` of client `c` is and what reply it
/// expects.
pub struct UdpExchange<F> {
    socket: UdpSocket,
    client: u32,
    make_request: F,
    pub(super) timeout: Duration,
    shutdown: Shutdown,
    buffer: Vec<u8>,
    /// Replies we gave up on. One may still arrive, late, while we wait for the next reply;
    /// it is recognised here, counted as late and skipped rather than counted as wrong.
    overdue: VecDeque<Vec<u8>>,
    /// The replies that came most recently: one arriving again is a duplicate.
    answered: VecDeque<Vec<u8>>,
    strays: Strays,
}

/// How many overdue, and answered, replies a client remembers.
const MAX_OVERDUE: usize = 16;

/// A request and the reply it should get.
pub struct Request {
    /// The datagram to send.
    pub datagram: Vec<u8>,
    /// The reply the server should send back.
    pub expected_reply: Vec<u8>,
}

impl<F: FnMut(u32, u64) -> Request> UdpExchange<F> {
    /// A client numbered `client` with its own socket connected to `server`; it waits
    /// `timeout` for each reply, but gives up sooner when `shutdown` is requested.
    /// `make_request(client, sequence)` builds each request.
    pub fn connect(
        server: SocketAddr,
        timeout: Duration,
        shutdown: &Shutdown,
        client: u32,
        make_request: F,
    ) -> Result<Self> {
        let socket = connect_udp(server)?;
        // Wait in slices of at most POLL_INTERVAL, so that Ctrl-C is noticed even when
        // `--timeout` is long. The timeout is set once here, not per request.
        socket
            .set_read_timeout(Some(timeout.min(POLL_INTERVAL)))
            .map_err(|e| Error::io("cannot set the reply timeout", e))?;
        Ok(UdpExchange {
            socket,
            client,
            make_request,
            timeout,
            shutdown: shutdown.clone(),
            buffer: vec![0; RECV_BUFFER_SIZE],
            overdue: VecDeque::new(),
            answered: VecDeque::new(),
            strays: Strays::default(),
        })
    }
}

/// Keeps `reply` among the last [`MAX_OVERDUE`] remembered.
fn remember(replies: &mut VecDeque<Vec<u8>>, reply: Vec<u8>) {
    if replies.len() == MAX_OVERDUE {
        replies.pop_front();
    }
    replies.push_back(reply);
}

impl<F: FnMut(u32, u64) -> Request> Exchange for UdpExchange<F> {
    fn strays(&self) -> Strays {
        self.strays
    }

    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
        let request = (self.make_request)(self.client, sequence);
        self.socket.send(&request.datagram).map_err(explain_refused)?;
        let give_up_at = Instant::now() + self.timeout;
        loop {
            let len = match self.socket.recv(&mut self.buffer) {
                Ok(len) => len,
                Err(error) if is_timeout_or_interrupt(&error) => {
                    if Instant::now() < give_up_at && !self.shutdown.is_requested() {
                        continue; // one slice of the wait is over; the reply may still come
                    }
                    remember(&mut self.overdue, request.expected_reply);
                    return Ok(Outcome::Lost);
                }
                Err(error) => return Err(explain_refused(error)),
            };
            let reply = &self.buffer[..len];
            if reply == request.expected_reply {
                remember(&mut self.answered, request.expected_reply);
                return Ok(Outcome::Correct);
            }
            // A late answer to an earlier request: count it, skip it, keep waiting for ours.
            if let Some(at) = self.overdue.iter().position(|old| old.as_slice() == reply) {
                self.overdue.remove(at);
                self.strays.late += 1;
                continue;
            }
            // An answer that came before: the network (or the server) sent it twice.
            if self.answered.iter().any(|old| old.as_slice() == reply) {
                self.strays.duplicates += 1;
                continue;
            }
            return Ok(Outcome::Wrong);
        }
    }
}

/// "Connection refused" on a UDP socket means the server's port is unreachable: nothing
/// listens there (see [`crate::client_errors::udp_client_error`]). Say so in UDP's words.
fn explain_refused(error: io::Error) -> io::Error {
    if is_port_unreachable(&error) {
        io::Error::new(error.kind(), "no server is listening (its port is unreachable)")
    } else {
        error
    }
}
