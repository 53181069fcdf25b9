//! Reading a TCP byte stream as lines, with a limit on how long a line may be.
//!
//! TCP delivers a stream of bytes, not messages. One `recv` may return half a line, or two
//! lines and the start of a third; the course's TCP server counts `recv` calls as lines,
//! which is only right when the network happens to be kind. A [`LineReader`] buffers bytes
//! until it has a whole line (ended by `\n` or `\r\n`), hands that line over, and keeps
//! the rest for the next call.
//!
//! A reader cannot buffer forever while waiting for a `\n` that never comes: that is a way
//! for the other side to eat all its memory. So a line longer than the limit is an error
//! ([`LineError::TooLong`]).
//!
//! A [`LineConnection`] is a TCP connection spoken in lines, both ways, over one socket:
//! [`read_line`](LineConnection::read_line) and [`send_line`](LineConnection::send_line)
//! (tokio's mini-redis has the same idea in its `Connection::read_frame`/`write_frame`).
//!
//! A client waiting for a line must still stop at Ctrl-C, and std cannot cancel a blocked
//! read. [`LineConnection::with_patience`] makes its reads wake up every
//! [`POLL_INTERVAL`] to look at a [`Shutdown`], and give up only after the whole timeout.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::io_errors::is_timeout;
use crate::shutdown::{POLL_INTERVAL, Shutdown};

/// Why [`LineReader::read_line`] could not return a line.
#[derive(Debug)]
pub enum LineError {
    /// The line grew past the limit before its `\n` arrived.
    TooLong {
        /// The limit, in bytes (without the line ending).
        max: usize,
    },
    /// The stream failed (the connection was reset, a read timed out, ...).
    Io(io::Error),
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong { max } => write!(f, "line longer than {max} bytes"),
            LineError::Io(error) => f.write_str(&crate::error::describe_io_error(error)),
        }
    }
}

impl std::error::Error for LineError {}

/// Capacity a reader keeps for its line between lines; more is freed.
const KEEP_CAPACITY: usize = 4 * 1024;

/// Splits a byte stream into lines of at most `max_len` bytes.
pub struct LineReader<R> {
    reader: R,
    max_len: usize,
    /// The line being assembled; reused from line to line, so reading allocates only when
    /// a line is longer than any before it.
    line: Vec<u8>,
    /// If set, a read that times out is tried again until this much longer has passed.
    patience: Option<Patience>,
}

/// How long a [`LineReader`] keeps trying after its reader times out, and what ends it.
struct Patience {
    /// A line must arrive within this time of asking for it.
    timeout: Duration,
    /// A stop request ends the wait at once (within one of the reader's timeouts).
    shutdown: Shutdown,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `reader` (wrap a `TcpStream` in a `BufReader`); a line may hold at
    /// most `max_len` bytes, not counting its `\n` or `\r\n`.
    pub fn new(reader: R, max_len: usize) -> Self {
        LineReader { reader, max_len, line: Vec::new(), patience: None }
    }

    /// Makes a read that times out (the reader's own short timeout) try again, keeping
    /// what it has of the line, until `timeout` has passed since the line was asked for;
    /// a stop requested meanwhile ends the read with [`io::ErrorKind::Interrupted`].
    pub fn with_patience(mut self, timeout: Duration, shutdown: &Shutdown) -> Self {
        self.patience = Some(Patience { timeout, shutdown: shutdown.clone() });
        self
    }

    /// After a read timed out: `Ok` to try again, or the error that ends the read.
    fn wait_longer(&self, asked: Instant, timed_out: io::Error) -> io::Result<()> {
        match &self.patience {
            Some(patience) if patience.shutdown.is_requested() => {
                Err(io::Error::new(io::ErrorKind::Interrupted, "stopped waiting for the line"))
            }
            Some(patience) if asked.elapsed() < patience.timeout => Ok(()),
            _ => Err(timed_out),
        }
    }

    /// The next line, without its ending; `Ok(None)` at the end of the stream.
    ///
    /// A last line with no `\n` before the end of the stream is still a line. Bytes are
    /// returned as they came (they may not be UTF-8): show them with
    /// [`crate::text::as_text`].
    pub fn read_line(&mut self) -> Result<Option<&[u8]>, LineError> {
        self.line.clear();
        // After an unusually long line, give the memory back: a server with thousands of
        // idle connections must not keep each one's longest line allocated.
        self.line.shrink_to(KEEP_CAPACITY);
        let asked = Instant::now();
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => match self.wait_longer(asked, e) {
                    Ok(()) => continue,
                    Err(e) => return Err(LineError::Io(e)),
                },
                Err(e) => return Err(LineError::Io(e)),
            };
            if available.is_empty() {
                // End of stream: whatever we hold is the unterminated last line.
                return if self.line.is_empty() { Ok(None) } else { self.finish_line().map(Some) };
            }
            let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (&available[..=at], true),
                None => (available, false),
            };
            // Check *before* copying, so memory never grows past the limit. The `+ 2` leaves
            // room for a `\r\n` ending, which does not count as part of the line.
            if self.line.len() + chunk.len() > self.max_len + 2 {
                return Err(LineError::TooLong { max: self.max_len });
            }
            self.line.extend_from_slice(chunk);
            let used = chunk.len();
            self.reader.consume(used);
            if found_newline {
                return self.finish_line().map(Some);
            }
        }
    }

    /// Strips the line ending, then applies the exact limit to what is left.
    fn finish_line(&mut self) -> Result<&[u8], LineError> {
        if self.line.ends_with(b"\n") {
            self.line.pop();
        }
        if self.line.ends_with(b"\r") {
            self.line.pop();
        }
        if self.line.len() > self.max_len {
            return Err(LineError::TooLong { max: self.max_len });
        }
        Ok(&self.line)
    }

    /// After [`LineError::TooLong`], throws away the rest of that line (up to and including
    /// its `\n`, without keeping it in memory), so that reading can go on with the next one.
    pub fn skip_rest_of_line(&mut self) -> io::Result<()> {
        self.line.clear();
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok(());
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(at) => {
                    self.reader.consume(at + 1);
                    return Ok(());
                }
                None => {
                    let all = available.len();
                    self.reader.consume(all);
                }
            }
        }
    }

    /// The reader underneath (e.g. to reach the `TcpStream` inside a `BufReader`).
    pub fn get_ref(&self) -> &R {
        &self.reader
    }
}

/// A TCP connection that sends and receives lines, over one socket (one file descriptor).
///
/// Reading goes through a buffer, since a line may arrive in pieces; writing goes straight
/// to the socket (a `&TcpStream` can write while the buffer owns the stream).
pub struct LineConnection {
    lines: LineReader<BufReader<TcpStream>>,
    /// The line being sent, with its `\n`: reused, so sending allocates only when a line is
    /// longer than any before it.
    outgoing: Vec<u8>,
}

impl LineConnection {
    /// Speaks lines over `stream`; a line read may hold at most `max_line` bytes, and the
    /// read buffer holds `read_buffer` bytes (small, when there are thousands of
    /// connections; a longer line is still read whole).
    pub fn new(stream: TcpStream, max_line: usize, read_buffer: usize) -> Self {
        let lines = LineReader::new(BufReader::with_capacity(read_buffer, stream), max_line);
        LineConnection { lines, outgoing: Vec::new() }
    }

    /// Makes [`read_line`](Self::read_line) wait at most `timeout` for a line, and stop
    /// within [`POLL_INTERVAL`] when `shutdown` is requested (the error is then
    /// [`io::ErrorKind::Interrupted`]): the socket's read timeout becomes that interval, and
    /// the reader tries again after each one. For a client that Ctrl-C must stop.
    pub fn with_patience(self, timeout: Duration, shutdown: &Shutdown) -> io::Result<Self> {
        self.stream().set_read_timeout(Some(POLL_INTERVAL.min(timeout)))?;
        let LineConnection { lines, outgoing } = self;
        Ok(LineConnection { lines: lines.with_patience(timeout, shutdown), outgoing })
    }

    /// The next line, without its ending; `Ok(None)` when the other side has closed the
    /// connection. See [`LineReader::read_line`].
    pub fn read_line(&mut self) -> Result<Option<&[u8]>, LineError> {
        self.lines.read_line()
    }

    /// Sends `line` and a `\n`, in one write (one system call, so one segment for a short
    /// line: the other side does not get the line and its ending in two pieces).
    pub fn send_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.outgoing.clear();
        self.outgoing.extend_from_slice(line);
        self.outgoing.push(b'\n');
        let sent = self.stream().write_all(&self.outgoing);
        // After an unusually long line, give the memory back.
        self.outgoing.shrink_to(KEEP_CAPACITY);
        sent
    }

    /// The socket underneath (to set its timeouts, or read its addresses).
    pub fn stream(&self) -> &TcpStream {
        self.lines.get_ref().get_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Read};

    /// A reader that hands out its bytes in fixed pieces, the way TCP may split a stream.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        piece: usize,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.piece.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn lines_of(data: &[u8], piece: usize, max_len: usize) -> Vec<Result<String, String>> {
        let pieces = Pieces { data: data.to_vec(), at: 0, piece };
        let mut reader = LineReader::new(BufReader::with_capacity(piece.max(1), pieces), max_len);
        let mut out = Vec::new();
        loop {
            match reader.read_line() {
                Ok(Some(line)) => out.push(Ok(String::from_utf8_lossy(line).into_owned())),
                Ok(None) => return out,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    return out;
                }
            }
        }
    }

    fn ok(lines: &[&str]) -> Vec<Result<String, String>> {
        lines.iter().map(|l| Ok(l.to_string())).collect()
    }

    /// A reader that times out (as a socket with a read timeout does) between its pieces.
    struct Slow {
        pieces: Vec<&'static [u8]>,
        timed_out: bool,
    }

    impl Read for Slow {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.timed_out = !self.timed_out;
            if self.timed_out {
                return Err(io::Error::from(io::ErrorKind::WouldBlock));
            }
            if self.pieces.is_empty() {
                return Ok(0);
            }
            let piece = self.pieces.remove(0);
            buf[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    #[test]
    fn a_patient_reader_keeps_the_start_of_a_line_across_timeouts() {
        let slow = Slow { pieces: vec![b"hel", b"lo\nwor", b"ld\n"], timed_out: false };
        let mut reader = LineReader::new(BufReader::new(slow), 100)
            .with_patience(Duration::from_secs(30), &Shutdown::new());
        assert_eq!(reader.read_line().unwrap(), Some(&b"hello"[..]));
        assert_eq!(reader.read_line().unwrap(), Some(&b"world"[..]));
        assert_eq!(reader.read_line().unwrap(), None);
    }

    #[test]
    fn a_patient_reader_stops_waiting_when_the_stop_is_requested() {
        let shutdown = Shutdown::new();
        shutdown.request();
        let slow = Slow { pieces: vec![b"never\n"], timed_out: false };
        let mut reader = LineReader::new(BufReader::new(slow), 100)
            .with_patience(Duration::from_secs(30), &shutdown);
        match reader.read_line() {
            Err(LineError::Io(error)) => assert_eq!(error.kind(), io::ErrorKind::Interrupted),
            other => panic!("a requested stop should end the read as interrupted, not {other:?}"),
        }
    }

    #[test]
    fn without_patience_a_timeout_is_an_error_at_once() {
        let slow = Slow { pieces: vec![b"late\n"], timed_out: false };
        let mut reader = LineReader::new(BufReader::new(slow), 100);
        match reader.read_line() {
            Err(LineError::Io(error)) => assert!(is_timeout(&error), "{error}"),
            other => panic!("the timeout should be the caller's to see, not {other:?}"),
        }
    }

    #[test]
    fn a_line_split_across_reads_is_one_line() {
        assert_eq!(lines_of(b"hello world\n", 3, 100), ok(&["hello world"]));
        assert_eq!(lines_of(b"hello world\n", 1, 100), ok(&["hello world"]));
    }

    #[test]
    fn lines_joined_in_one_read_are_separate_lines() {
        assert_eq!(lines_of(b"one\ntwo\nthree\n", 64, 100), ok(&["one", "two", "three"]));
    }

    #[test]
    fn crlf_and_lf_endings_are_both_removed() {
        assert_eq!(lines_of(b"dos\r\nunix\n", 4, 100), ok(&["dos", "unix"]));
    }

    #[test]
    fn an_unterminated_last_line_is_still_a_line() {
        assert_eq!(lines_of(b"first\nlast", 4, 100), ok(&["first", "last"]));
    }

    #[test]
    fn empty_lines_are_lines_and_an_empty_stream_has_none() {
        assert_eq!(lines_of(b"\n\nx\n", 8, 100), ok(&["", "", "x"]));
        assert_eq!(lines_of(b"", 8, 100), ok(&[]));
    }

    #[test]
    fn a_line_at_the_limit_is_accepted_with_either_ending() {
        assert_eq!(lines_of(b"12345\n", 2, 5), ok(&["12345"]));
        assert_eq!(lines_of(b"12345\r\n", 2, 5), ok(&["12345"]));
        assert_eq!(lines_of(b"12345", 2, 5), ok(&["12345"]));
    }

    #[test]
    fn a_line_over_the_limit_is_an_error() {
        let expected = vec![Ok("ok".to_string()), Err("line longer than 5 bytes".to_string())];
        assert_eq!(lines_of(b"ok\n123456\n", 3, 5), expected);
        assert_eq!(lines_of(b"ok\n123456", 3, 5), expected);
        assert_eq!(lines_of(b"ok\n123456\r\n", 3, 5), expected);
    }

    #[test]
    fn an_endless_line_is_refused_without_reading_it_all() {
        // 10 MB with no newline: the reader must give up after about `max_len` bytes.
        let pieces = Pieces { data: vec![b'x'; 10_000_000], at: 0, piece: 4096 };
        let mut reader = LineReader::new(BufReader::new(pieces), 1000);
        assert!(matches!(reader.read_line(), Err(LineError::TooLong { max: 1000 })));
        assert!(reader.get_ref().get_ref().at < 10_000, "read too much before giving up");
    }

    #[test]
    fn after_a_line_too_long_the_rest_can_be_skipped_and_reading_goes_on() {
        let mut data = vec![b'y'; 10_000];
        data.extend_from_slice(b"\nnext\n");
        let pieces = Pieces { data, at: 0, piece: 100 };
        let mut reader = LineReader::new(BufReader::with_capacity(64, pieces), 50);
        assert!(matches!(reader.read_line(), Err(LineError::TooLong { max: 50 })));
        reader.skip_rest_of_line().unwrap();
        assert_eq!(reader.read_line().unwrap(), Some(&b"next"[..]));
        assert_eq!(reader.read_line().unwrap(), None);
    }

    #[test]
    fn invalid_utf8_comes_through_as_bytes() {
        let pieces = Pieces { data: b"caf\xff\n".to_vec(), at: 0, piece: 2 };
        let mut reader = LineReader::new(BufReader::new(pieces), 100);
        assert_eq!(reader.read_line().unwrap(), Some(&b"caf\xff"[..]));
        assert_eq!(reader.read_line().unwrap(), None);
    }

    #[test]
    fn a_failing_stream_is_an_io_error() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::ConnectionReset.into())
            }
        }
        let mut reader = LineReader::new(BufReader::new(Broken), 100);
        match reader.read_line() {
            Err(LineError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::ConnectionReset),
            other => panic!("expected an I/O error, got {other:?}"),
        }
    }

    #[test]
    fn a_line_connection_sends_and_reads_lines_over_one_socket() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut client = LineConnection::new(client, 100, 64);
        let mut server = LineConnection::new(server, 100, 64);
        client.send_line(b"hello").unwrap();
        client.send_line(b"").unwrap();
        assert_eq!(server.read_line().unwrap(), Some(&b"hello"[..]));
        assert_eq!(server.read_line().unwrap(), Some(&b""[..]));
        server.send_line(b"back").unwrap();
        assert_eq!(client.read_line().unwrap(), Some(&b"back"[..]));
        drop(server);
        assert_eq!(client.read_line().unwrap(), None, "a closed connection reads as the end");
    }
}
