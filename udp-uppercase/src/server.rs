//! The UDP uppercase server.
//!
//! The notebook's server, step by step, and where each step is here:
//!
//! | notebook | here |
//! |---|---|
//! | `serverSocket = socket(AF_INET, SOCK_DGRAM)` and `bind(('', 12000))` | `UdpSocket::bind` in [`Server::bind`] |
//! | `print("The server is ready to receive.")` | the first line of [`Server::run`] |
//! | `while True:` / `message, clientAddress = serverSocket.recvfrom(2048)` | the loop in [`Server::serve`]: `recv_from` into a 64 KiB buffer, until Ctrl-C |
//! | `modifiedMessage = message.decode().upper()` | `String::from_utf8_lossy(message).to_uppercase()` in [`Server::serve`] |
//! | `serverSocket.sendto(modifiedMessage.encode(), clientAddress)` | `send_to` in [`Server::serve`] |
//!
//! What it adds to the notebook: a buffer big enough for any datagram (the notebook's 2048
//! bytes silently cut longer ones), bytes that are not UTF-8 survive, the reply rule (no
//! answer to a forged source, a loop or an amplification: `shared::reply`), one log line
//! per datagram, and Ctrl-C that stops the loop and prints a summary.

use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};

use shared::error::{Context, Result, describe_io_error};
use shared::log::{Log, report_receive_error};
use shared::reply::{Refused, ReplyArgs, ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::{PREVIEW_CHARS, plural, preview};
use shared::udp::{RECV_BUFFER_SIZE, raise_buffers};

/// A bound server socket, ready to [`run`](Server::run).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    /// Whom the server may answer (see `shared::reply`): no loops, no amplification, a
    /// rate per network.
    replies: ReplyGuard,
}

impl Server {
    /// Binds a UDP socket to `address`. Binding first and running second lets a caller
    /// learn the real address (with port 0 the OS picks the port) before the loop starts.
    pub fn bind(address: SocketAddr, config: Config) -> Result<Server> {
        let socket = UdpSocket::bind(address).context(|| format!("cannot bind {address}"))?;
        // Room for the largest datagram both ways (macOS starts UDP sockets at 9,216 bytes).
        raise_buffers(&socket)?;
        let own = socket.local_addr().context(|| "cannot read the server's address")?;
        let replies = ReplyGuard::new(own, &config.replies);
        Ok(Server { socket, log: config.log, replies })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Announces the server, answers datagrams until `shutdown` is requested, then prints
    /// and returns the summary.
    pub fn run(mut self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        self.log.info(format_args!(
            "The server is ready to receive. Listening on {addr} (UDP); press Ctrl-C to stop."
        ));
        let summary = self.serve(shutdown)?;
        self.log.info(format_args!("{summary}"));
        Ok(summary)
    }

    /// The notebook's `while True:` loop: receive a datagram, uppercase its text, send it
    /// back to the address it came from; log and count each one; stop when `shutdown` is
    /// requested.
    ///
    /// 1. Set a read timeout of [`POLL_INTERVAL`] on the socket (`set_read_timeout`). It
    ///    returns an `io::Result`: give it a message with
    ///    `.context(|| "cannot set the socket's read timeout")` before `?` (see
    ///    `shared::error::Context`).
    /// 2. Make one buffer of [`RECV_BUFFER_SIZE`] bytes, and an empty [`Summary`].
    /// 3. Until `shutdown.is_requested()`: `recv_from` into the buffer (on an error, hand it
    ///    to [`report_receive_error`] and go round again).
    /// 4. Count the datagram. Ask `self.may_answer(client, message)` whether the sender may
    ///    be answered (a forged source must not start a loop); if not, go round again (it
    ///    has said why).
    /// 5. Uppercase the datagram's text (`String::from_utf8_lossy`, `to_uppercase`); ask
    ///    `self.may_send(client, reply.len())` whether that many bytes may go back (no
    ///    amplification; if not, go round), and `send_to` the sender. Log it with
    ///    `log_exchange`, or count and log a failed reply with `log_failed_reply`.
    /// 6. After the loop, return the summary, with `self.refused()` in it.
    pub fn serve(&mut self, shutdown: &Shutdown) -> Result<Summary> {
        // BEGIN SOLUTION: receive with recv_from until shutdown, reply with send_to (the steps are in the doc comment)
        // std cannot interrupt a blocked `recv_from` from another thread, so the loop wakes
        // up every POLL_INTERVAL to see whether Ctrl-C asked it to stop.
        self.socket
            .set_read_timeout(Some(POLL_INTERVAL))
            .context(|| "cannot set the socket's read timeout")?;
        // Big enough for any datagram: the notebook's 2048 bytes cut longer ones silently.
        let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
        let mut summary = Summary::default();
        while !shutdown.is_requested() {
            let (len, client) = match self.socket.recv_from(&mut buffer) {
                Ok(received) => received,
                Err(error) => {
                    report_receive_error(&self.log, &error);
                    continue;
                }
            };
            let message = &buffer[..len];
            summary.datagrams += 1;
            if !self.may_answer(client, message) {
                continue;
            }
            // Not UTF-8? `from_utf8_lossy` shows the bad bytes as U+FFFD instead of failing.
            let reply = String::from_utf8_lossy(message).to_uppercase();
            // Uppercase can make a text longer (ß is SS): never more than 3x what came in.
            if !self.may_send(client, reply.len()) {
                continue;
            }
            match self.socket.send_to(reply.as_bytes(), client) {
                Ok(_) => self.log_exchange(message, client, reply.as_bytes()),
                Err(error) => {
                    summary.failed_replies += 1;
                    self.log_failed_reply(message, client, reply.len(), &error);
                }
            }
        }
        summary.refused = self.refused();
        Ok(summary)
        // END SOLUTION
    }

    /// Whether the reply rule lets the server answer `message` from `client` (a forged
    /// source, a loop, a network over its rate: no); when not, a warning says why.
    fn may_answer(&mut self, client: SocketAddr, message: &[u8]) -> bool {
        let verdict = self.replies.check(client, message);
        if let Err(refusal) = verdict {
            warn_refusal(&self.log, client, refusal);
        }
        verdict.is_ok()
    }

    /// Whether a reply of `len` bytes may go to `client` (not more than 3x the bytes its
    /// network sent); when not, a warning says why.
    fn may_send(&mut self, client: SocketAddr, len: usize) -> bool {
        let verdict = self.replies.spend(client, len);
        if let Err(refusal) = verdict {
            warn_refusal(&self.log, client, refusal);
        }
        verdict.is_ok()
    }

    /// The datagrams not answered so far, by reason.
    fn refused(&self) -> Refused {
        self.replies.refused()
    }

    /// The log line for one datagram and its reply (skipped under `--quiet`).
    fn log_exchange(&self, message: &[u8], client: SocketAddr, reply: &[u8]) {
        // Building previews costs more than the reply itself: skip it when quiet.
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "Received '{}' from {client}, sent back '{}'",
                preview(message, PREVIEW_CHARS),
                preview(reply, PREVIEW_CHARS),
            ));
        }
    }

    /// The warning for a reply that could not be sent.
    fn log_failed_reply(
        &self,
        message: &[u8],
        client: SocketAddr,
        reply_len: usize,
        error: &io::Error,
    ) {
        // The usual cause: uppercase made the reply longer than one datagram can be.
        self.log.warn(format_args!(
            "could not reply to {client} ({} bytes in, {reply_len} bytes out): {}",
            message.len(),
            describe_io_error(error),
        ));
    }
}

/// What [`Server::bind`] needs besides the address: where the log goes, and the reply
/// rule's limits.
pub struct Config {
    /// The server's log (stdout in the binary, a captured log in the tests).
    pub log: Log,
    /// Whom the server may answer (`--reply-rate`, `--max-sources`, ...).
    pub replies: ReplyArgs,
}

/// What the server did, printed when it stops. Lesson 1 keeps no state per client (that is
/// module 3h's lesson): it only counts.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Datagrams received (answered, unless refused by the reply rule or the reply failed).
    pub datagrams: u64,
    /// Replies that could not be sent.
    pub failed_replies: u64,
    /// Datagrams not answered by the reply rule (forged sources, loops, over the reply rate
    /// or the byte budget, a full table of sources).
    pub refused: Refused,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Served {}", plural(self.datagrams, "datagram"))?;
        if self.failed_replies > 0 {
            write!(f, "; {} could not be sent", plural(self.failed_replies, "reply"))?;
        }
        if self.refused.total() > 0 {
            write!(f, "; did not answer {} ({})", self.refused.total(), self.refused)?;
        }
        f.write_str(".")
    }
}
