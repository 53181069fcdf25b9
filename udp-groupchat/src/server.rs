//! The chat server's socket code: bind, then one `recv_from` loop, in one of two modes.
//!
//! **The seed's server** (`--broadcast ADDR`) receives every datagram and sends it, as it
//! is, to the broadcast address: every host on the network gets it, member or not, and
//! whatever name a sender writes in front of the text is believed. Its whole loop is
//! `Server::serve_broadcast`, the seed's `while True: recvfrom ... sendto` in Rust.
//!
//! **The hub** (the default) runs the same loop, `Server::serve_hub`, but hands each
//! datagram to the hub, which keeps a member table and relays each line to the members only
//! (its reactions are in `src/server/hub.rs`, with what it does and why).

mod hub;
mod join_throttle;
mod limit_warning;
mod member_index;
mod summary;

pub use summary::Summary;

use std::net::{SocketAddr, UdpSocket};

use shared::error::{Context, Result, describe_io_error};
use shared::log::{Log, report_receive_error};
use shared::reply::{ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::udp::{RECV_BUFFER_SIZE, raise_buffers};

use crate::args::ServerConfig;
use crate::port_sharing::bind_broadcast_server;
use crate::protocol::RELAY_MARKER;
use crate::text::clean_text;
use hub::Hub;

/// A bound chat server, ready to [`run`](Server::run).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    config: ServerConfig,
}

impl Server {
    /// Binds `addr`. The hub's socket is a plain one; in broadcast mode the socket may send
    /// broadcasts, and shares its port with the same user's clients only (see
    /// [`bind_broadcast_server`]).
    pub fn bind(addr: SocketAddr, config: &ServerConfig, log: Log) -> Result<Server> {
        let socket = match config.broadcast {
            Some(_) => bind_broadcast_server(addr)?,
            None => {
                let socket = UdpSocket::bind(addr).context(|| format!("cannot bind {addr}"))?;
                // Room for a few of the largest datagrams (macOS's default is smaller).
                raise_buffers(&socket)?;
                socket
            }
        };
        Ok(Server { socket, log, config: config.clone() })
    }

    /// Serves until `shutdown` is requested; then (the hub) tells the members, prints the
    /// summary and returns it.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let summary = match self.config.broadcast {
            Some(broadcast) => {
                let port = self.local_addr()?.port();
                self.serve_broadcast(shutdown, SocketAddr::new(broadcast, port))?
            }
            None => self.serve_hub(shutdown)?,
        };
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The seed's server: every datagram goes to the broadcast address, for whoever listens.
    /// Only the size is checked and control characters removed; who sent it is not checked
    /// at all. That is the design's flaw, kept here so it can be seen.
    fn serve_broadcast(&self, shutdown: &Shutdown, broadcast: SocketAddr) -> Result<Summary> {
        let (socket, log) = (&self.socket, &self.log);
        log.info(format_args!(
            "!!!Server is ready!!! Relaying every datagram to the broadcast address {broadcast}; press Ctrl-C to stop."
        ));
        let mut summary = Summary { broadcast: true, ..Summary::default() };
        // std cannot interrupt a blocked recv_from, so it wakes every POLL_INTERVAL to check
        // for Ctrl-C.
        socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
        // Big enough for any datagram: the seed's recvfrom(1024) would cut longer ones silently.
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        while !shutdown.is_requested() {
            let (len, from) = match socket.recv_from(&mut buffer) {
                Ok(received) => received,
                // Nothing this interval, or Ctrl-C interrupted the wait (both silent), or a
                // real error (warned): go round, check for a stop.
                Err(error) => {
                    report_receive_error(log, &error);
                    continue;
                }
            };
            let datagram = &buffer[..len];
            // A relay (ours heard back, or another broadcast server's on the same port):
            // relaying it again would start a broadcast storm.
            if datagram.starts_with(RELAY_MARKER.as_bytes()) {
                summary.ignored += 1;
                continue;
            }
            if len > self.config.max_message as usize {
                log.warn(format_args!("dropped {len} bytes from {from}: too long"));
                continue;
            }
            let text = clean_text(&String::from_utf8_lossy(datagram));
            let relayed = format!("{RELAY_MARKER}{text}");
            match socket.send_to(relayed.as_bytes(), broadcast) {
                Ok(_) => {
                    log.message(format_args!("{text}"));
                    summary.messages += 1;
                }
                Err(error) => {
                    log.warn(format_args!("could not broadcast: {}", describe_io_error(&error)));
                }
            }
        }
        Ok(summary)
    }

    /// The hub's loop: the same `recv_from` loop, but each datagram goes to [`Hub::handle`],
    /// which sends the replies; between datagrams the hub drops the members who went silent.
    /// When `shutdown` comes, the hub tells the members it is closing and returns what it did.
    fn serve_hub(&self, shutdown: &Shutdown) -> Result<Summary> {
        let (socket, log) = (&self.socket, &self.log);
        let addr = self.local_addr()?;
        log.info(format_args!("Chat hub ready on {addr}; press Ctrl-C to stop."));
        let mut hub = Hub::new(socket, log, &self.config);
        // Whom the hub never answers (its own address, port 0, ports below 1024), and how
        // often one source may make it answer: shared by every UDP server of the course.
        let mut reply_guard = ReplyGuard::new(addr, &self.config.replies);
        // std cannot interrupt a blocked recv_from, so it wakes every POLL_INTERVAL to check
        // for Ctrl-C.
        socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
        // Big enough for any datagram, so none is ever cut short.
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        while !shutdown.is_requested() {
            match socket.recv_from(&mut buffer) {
                // Replies to non-members are no bigger than what came in (the hub's
                // `send_at_most`), so the hub needs the check only, not `ReplyGuard::spend`.
                Ok((len, from)) => match reply_guard.check(from, &buffer[..len]) {
                    Ok(()) => hub.handle(&buffer[..len], from),
                    // The log rate-limits this warning itself.
                    Err(refusal) => warn_refusal(log, from, refusal),
                },
                // Nothing this interval, or Ctrl-C interrupted the wait (both silent), or a
                // real error (warned): fall through.
                Err(error) => report_receive_error(log, &error),
            }
            // Quiet or busy, silent members must go (checked at most once a second).
            hub.drop_idle_members();
        }
        Ok(hub.close(reply_guard.refused().total()))
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }
}
