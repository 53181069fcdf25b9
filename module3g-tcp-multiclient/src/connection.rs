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
//! The notebook counts every `recv` as a line. TCP does not keep the sender's boundaries:
//! `recv` may return half a line, or several lines at once, so that count is only right
//! when the network happens to deliver one line per segment. Here a
//! [`LineReader`](shared::framing::LineReader) reassembles the stream into lines, and
//! each line is echoed (with a `\n`) and counted once.
//!
//! The client's context, its line count, lives in this thread's local variable, exactly
//! as in the notebook: no other thread needs it, so no lock is needed.

use std::fmt;
use std::io::{self, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use shared::datagram::bytes_literal;
use shared::framing::{LineError, LineReader};
use shared::report::Log;

/// The read buffer of each connection. Small, because there may be 10,000 connections;
/// a longer line is still read whole (the reader keeps assembling it up to `--max-line`).
const READ_BUFFER: usize = 2 * 1024;

/// A connection's buffers are kept between lines up to this size; larger ones are freed.
const KEEP_BUFFER: usize = 4 * 1024;

/// How many bytes of a line the log shows.
const SHOWN_BYTES: usize = 80;

/// How a connection ended, with the number of lines it echoed.
#[derive(Debug)]
pub enum Ending {
    /// The client closed the connection (end of data).
    Closed,
    /// The client sent a line longer than the limit; it was told so and disconnected.
    LineTooLong,
    /// The connection failed (reset by the client, say).
    Failed(io::Error),
    /// The server is stopping and closed the connection.
    ServerStopping,
}

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Closed => f.write_str("end of data"),
            Ending::LineTooLong => f.write_str("line too long"),
            Ending::Failed(error) => f.write_str(&shared::error::describe_io_error(error)),
            Ending::ServerStopping => f.write_str("server stopping"),
        }
    }
}

/// What a connection thread knows: who it serves, what it is called, its limits, its log.
pub struct Connection<'a> {
    /// The client's address.
    pub peer: SocketAddr,
    /// The thread's name (`echo-7`), which starts each of its log lines.
    pub name: &'a str,
    /// The longest line accepted, in bytes.
    pub max_line: usize,
    /// Where to log.
    pub log: &'a Log,
}

impl Connection<'_> {
    /// Echoes `stream` line by line until the client is done; returns how many lines were
    /// echoed and how the connection ended.
    pub fn serve(&self, stream: &TcpStream) -> (u64, Ending) {
        // BEGIN SOLUTION: read lines with a LineReader (at most self.max_line bytes), echo each with echo_line, count and log them (log_line), refuse a line too long (refuse_long_line), and say how the connection ended
        self.log.message(format_args!("{}: echoing {}", self.name, self.peer));
        let mut lines =
            LineReader::new(BufReader::with_capacity(READ_BUFFER, stream), self.max_line);
        let mut echo: Vec<u8> = Vec::new();
        let mut count = 0;
        loop {
            let line = match lines.read_line() {
                Ok(Some(line)) => line,
                Ok(None) => return (count, Ending::Closed),
                Err(LineError::TooLong { max }) => {
                    refuse_long_line(stream, max);
                    return (count, Ending::LineTooLong);
                }
                Err(LineError::Io(error)) => return (count, Ending::Failed(error)),
            };
            if let Err(error) = echo_line(stream, line, &mut echo) {
                return (count, Ending::Failed(error));
            }
            count += 1;
            self.log_line(line, count);
        }
        // END SOLUTION
    }

    /// The notebook's two lines for each line received (`line` without its `\n`).
    fn log_line(&self, line: &[u8], count: u64) {
        if !self.log.is_quiet() {
            self.log.message(format_args!(
                "{}: received data from {}\n  data: {}, count: {count}",
                self.name,
                self.peer,
                bytes_literal(line, SHOWN_BYTES)
            ));
        }
    }
}

/// Sends `line` back followed by `\n`, in one write (one system call, one segment), using
/// `buffer` to put the two together. A buffer grown by an unusually long line is let go
/// afterwards: with thousands of idle connections, each keeping its longest line's worth of
/// memory would add up.
pub fn echo_line(mut stream: &TcpStream, line: &[u8], buffer: &mut Vec<u8>) -> io::Result<()> {
    buffer.clear();
    buffer.extend_from_slice(line);
    buffer.push(b'\n');
    let written = stream.write_all(buffer);
    if buffer.capacity() > KEEP_BUFFER {
        *buffer = Vec::new();
    }
    written
}

/// Tells a client its line was too long, before the connection is closed. It may not be
/// listening any more, so a failed write changes nothing.
pub fn refuse_long_line(mut stream: &TcpStream, max: usize) {
    let _ = writeln!(stream, "error: line longer than {max} bytes; closing the connection");
}
