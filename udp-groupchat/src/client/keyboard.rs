//! What the user types: the keyboard thread, and erasing a typed line from the terminal.
//!
//! The seed's client waits in `input()` on one thread and in `recvfrom` on another; here
//! the keyboard gets its own thread too ([`read_lines_on_a_thread`]), which only passes
//! each line into a channel, so that the chat loop can wait for the keyboard and the
//! network at once.

use std::io::BufRead;
use std::thread;

use crossbeam_channel::{Receiver, bounded};
use shared::framing::{LineError, LineReader};

/// Longest line read from the keyboard.
const MAX_INPUT_LINE: usize = 4096;

/// Erases the line the user just typed: cursor up one line, then clear that line.
pub(crate) const ERASE_TYPED_LINE: &str = "\x1b[F\x1b[2K";

/// What the main loop waits for besides the network.
pub(crate) enum Input {
    Line(String),
    /// A line too long for the chat was skipped.
    Skipped,
    End,
}

/// Starts the keyboard thread: it passes each line of `input` into the returned channel,
/// then `Input::End`. It may block in a read forever (a terminal), so nobody joins it: it
/// ends with the process.
pub(crate) fn read_lines_on_a_thread(input: impl BufRead + Send + 'static) -> Receiver<Input> {
    let (sender, lines) = bounded(64);
    // If the thread cannot start, `sender` is dropped with its closure, the channel closes,
    // and the client takes that as the end of input.
    let _ = thread::Builder::new().name("keyboard".into()).spawn(move || {
        let mut reader = LineReader::new(input, MAX_INPUT_LINE);
        loop {
            let line = match reader.read_line() {
                Ok(Some(line)) => Input::Line(String::from_utf8_lossy(line).into_owned()),
                Ok(None) | Err(LineError::Io(_)) => Input::End,
                Err(LineError::TooLong { .. }) => match reader.skip_rest_of_line() {
                    Ok(()) => Input::Skipped,
                    Err(_) => Input::End,
                },
            };
            let end = matches!(line, Input::End);
            if sender.send(line).is_err() || end {
                return;
            }
        }
    });
    lines
}
