//! One connection, served by its own thread: the notebook's `EchoThread.run`.
//!
//! ```python
//! numLines = 0
//! while True:
//!     data = self.conn.recv(1024)
//!     if not data:
//!         print("end of data, stopping")
//!         return
//!     self.conn.sendall(data)
//!     numLines += 1
//! ```
//!
//! Like the notebook, the thread echoes bytes as they arrive: `read` → `write_all`. So any
//! client gets its echo at once, whether it ends its message with a newline or not (the
//! course's `TCPSimpleClient.py` sends `Hello, world (<pid>)` without one; `nc` and telnet
//! send whole lines). And memory stays one small buffer per connection, however long a
//! line is.
//!
//! The notebook counts every `recv` as a line. TCP does not keep the sender's boundaries:
//! one `recv` may return half a line, or several lines at once, so that count is only right
//! when the network happens to deliver one line per segment. Here lines are counted by
//! their `\n`, across reads ([`crate::line_count`]); a last line without one counts when the
//! client closes.
//!
//! The client's context, its line count, lives in this thread's local variables, exactly
//! as in the notebook: no other thread needs it, so no lock is needed.
//!
//! Every wait has a limit. A read wakes every [`CHECK_INTERVAL`] to see whether the server
//! is stopping (on Windows, closing a socket does not wake a thread blocked reading it), and
//! gives up on a client silent for `--idle-timeout`; a write gives up on a client that has
//! not read its echoes for `--idle-timeout` (it would otherwise hold this thread forever).
//! And a client must keep a minimum pace ([`crate::pace`]): a line begun must arrive, and an
//! echo be read, within `--line-timeout` plus a second per `--min-rate` bytes, so that a
//! byte now and then cannot hold a place past the idle timeout.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use shared::io_errors::is_timeout_or_interrupt;
use shared::log::Log;
use shared::text::bytes_literal;

use crate::line_count::LineCount;
use crate::pace::{OpenLine, Pace};

/// The read buffer of each connection: the notebook's `recv(1024)`, twice. Small, because
/// there may be 10,000 connections; it lives on the thread's stack.
pub const READ_BUFFER: usize = 2 * 1024;

/// How often a blocked read or write looks up to see whether the server is stopping.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// How many bytes of a read the log shows.
const SHOWN_BYTES: usize = 80;

/// How a connection ended.
#[derive(Debug)]
pub enum Ending {
    /// The client closed the connection (end of data).
    Closed,
    /// The client said nothing, or read nothing, for `--idle-timeout`.
    Idle,
    /// The client sent a line, or read an echo, slower than the minimum pace.
    TooSlow,
    /// The connection failed (reset by the client, say).
    Failed(io::Error),
    /// The server is stopping and closed the connection.
    ServerStopping,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Closed => f.write_str("end of data"),
            Ending::Idle => f.write_str("idle too long"),
            Ending::TooSlow => f.write_str("too slow (--line-timeout, --min-rate)"),
            Ending::Failed(error) => f.write_str(&shared::error::describe_io_error(error)),
            Ending::ServerStopping => f.write_str("server stopping"),
        }
    }
}

/// What a connection thread knows: who it serves, what it is called, its limits, whether
/// the server is stopping, its log.
pub struct Connection<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// The thread's name (`echo-7`), which starts each of its log lines.
    pub name: &'a str,
    /// How long the client may stay silent, or leave its echoes unread.
    pub idle_timeout: Duration,
    /// The minimum pace of a line, and of an echo's reading.
    pub pace: Pace,
    /// Set when the server begins closing every connection: the thread then stops.
    pub closing: &'a AtomicBool,
    /// Where to log.
    pub log: &'a Log,
}

impl Connection<'_> {
    /// The notebook's `EchoThread.run`: echoes what the client sends, as it arrives, until
    /// the client closes; counts the lines. Returns the line count and how it ended.
    ///
    /// 1. Log `"{name}: echoing {peer}"`; make a buffer of [`READ_BUFFER`] bytes and a
    ///    [`LineCount`]; note when the client was last heard from (`Instant::now()`).
    /// 2. Loop: `read` from the stream (`(&*stream).read(&mut buffer)`, since `&TcpStream`
    ///    reads). `Ok(0)` is the end of data: return the count [`at_end`](LineCount::at_end)
    ///    and [`Ending::Closed`].
    /// 3. A timeout ([`is_timeout_or_interrupt`]) is a chance to look up: if
    ///    [`self.stopping()`](Self::stopping), return [`Ending::ServerStopping`]; if the client
    ///    has been silent for `idle_timeout`, [`Ending::Idle`]; else read again. Any other
    ///    error: [`Ending::Failed`].
    /// 4. Send the bytes back with [`self.send_all`](Self::send_all) (an error ends the
    ///    connection as [`send_all`](Self::send_all) says), add them to the count, and log
    ///    them with [`self.log_data`](Self::log_data).
    ///
    /// (Beyond the notebook: an [`OpenLine`] notes the line being received; after every read
    /// and every timeout, a line slower than `self.pace` ends the connection as
    /// [`Ending::TooSlow`].)
    pub fn serve(&self, stream: &TcpStream) -> (u64, Ending) {
        // BEGIN SOLUTION: read what arrives, send it back with send_all, count lines with LineCount, until end of data (the steps are in the doc comment)
        self.log.message(format_args!("{}: echoing {}", self.name, self.peer));
        let mut buffer = [0u8; READ_BUFFER];
        let mut count = LineCount::default();
        let mut last_heard = Instant::now();
        let mut open_line = OpenLine::default();
        loop {
            let len = match (&*stream).read(&mut buffer) {
                Ok(0) => return (count.at_end(), Ending::Closed),
                Ok(len) => len,
                Err(error) if is_timeout_or_interrupt(&error) => {
                    if self.stopping() {
                        return (count.lines, Ending::ServerStopping);
                    }
                    if last_heard.elapsed() >= self.idle_timeout {
                        return (count.lines, Ending::Idle);
                    }
                    if open_line.is_too_slow(self.pace, Instant::now()) {
                        return (count.lines, Ending::TooSlow);
                    }
                    continue;
                }
                Err(error) => return (count.lines, Ending::Failed(error)),
            };
            last_heard = Instant::now();
            let data = &buffer[..len];
            open_line.add(data, last_heard);
            if open_line.is_too_slow(self.pace, last_heard) {
                return (count.lines, Ending::TooSlow);
            }
            if let Err(ending) = self.send_all(stream, data) {
                return (count.lines, ending);
            }
            count.add(data);
            self.log_data(data, count.lines);
        }
        // END SOLUTION
    }

    /// Python's `sendall`: writes all of `data`, however many writes that takes. A write
    /// blocked by a client that does not read gives up after `idle_timeout`, one by a client
    /// that reads slower than `self.pace` at its deadline, and at once when the server is
    /// stopping.
    pub fn send_all(&self, mut stream: &TcpStream, mut data: &[u8]) -> Result<(), Ending> {
        let mut last_progress = Instant::now();
        let deadline = self.pace.deadline(last_progress, data.len() as u64);
        while !data.is_empty() {
            match stream.write(data) {
                Ok(0) => return Err(Ending::Failed(io::ErrorKind::WriteZero.into())),
                Ok(written) => {
                    data = &data[written..];
                    last_progress = Instant::now();
                }
                Err(error) if is_timeout_or_interrupt(&error) => {
                    if self.stopping() {
                        return Err(Ending::ServerStopping);
                    }
                    if last_progress.elapsed() >= self.idle_timeout {
                        return Err(Ending::Idle);
                    }
                    if Instant::now() > deadline {
                        return Err(Ending::TooSlow);
                    }
                }
                Err(error) => return Err(Ending::Failed(error)),
            }
        }
        Ok(())
    }

    /// Whether the server has begun closing every connection.
    pub fn stopping(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// The notebook's two lines for each piece received.
    pub fn log_data(&self, data: &[u8], lines: u64) {
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "{}: received data from {}\n  data: {}, lines so far: {lines}",
                self.name,
                self.peer,
                bytes_literal(data, SHOWN_BYTES)
            ));
        }
    }
}
