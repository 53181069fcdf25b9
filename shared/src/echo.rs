//! The echo clients of modules 3g (TCP) and 3h (UDP): send a message a few times, check
//! that each echo is exactly what was sent, and say how it went.
//!
//! Both notebooks' clients do the same thing over different transports, so the loop is
//! written once here; each module supplies only "send this, and tell me what came back"
//! (a closure returning an [`Echo`]). What a student sees:
//!
//! ```text
//! Received b'Hello, world (22573)' (1 of 5)
//! Received b'Hello, world (22573)' (2 of 5)
//! No echo within 3 s (3 of 5): lost
//! ...
//! 4 of 5 echoes came back.
//! ```

use std::io::Write;
use std::time::Duration;

use crate::console::output_line;
use crate::error::{Error, Result};
use crate::flags::{parse_count, parse_seconds, parse_seconds_or_zero};
use crate::shutdown::Shutdown;
use crate::text::{bytes_literal, plural};

/// How many messages an echo client sends when `--count` is not given.
pub const DEFAULT_COUNT: u64 = 5;

/// How many bytes of a message or an echo a line shows.
const SHOWN_BYTES: usize = 80;

/// The echo clients' flags.
#[derive(clap::Args, Debug, Clone)]
pub struct EchoArgs {
    /// Messages to send [default: 5]. In load mode: the most each client sends (default: no
    /// limit, until --duration is up).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub count: Option<u64>,

    /// Seconds between messages (0 for none).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds_or_zero,
          allow_negative_numbers = true)]
    pub interval: Duration,

    /// Seconds to wait for each echo before giving up on it (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub timeout: Duration,

    /// What to send instead of `Hello, world (<pid>)`.
    #[arg(long, short, value_name = "TEXT")]
    pub message: Option<String>,

    /// Number the messages (`Hello, world (<pid>) #1`, `#2`, ...), so that the server's log
    /// shows which one arrived: a lost, doubled or overtaken datagram shows as a gap, a
    /// repeat or a number out of order.
    #[arg(long)]
    pub numbered: bool,
}

impl EchoArgs {
    /// The message to send: `--message`, or the notebooks' `Hello, world (<pid>)`.
    pub fn message(&self) -> String {
        self.message.clone().unwrap_or_else(hello_message)
    }
}

/// The notebooks' message, with this process's id so that each client's messages can be
/// told apart in the server's log.
pub fn hello_message() -> String {
    format!("Hello, world ({})", std::process::id())
}

/// What came back for one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Echo {
    /// The same bytes.
    Same,
    /// Something else: the bytes that came.
    Different(Vec<u8>),
    /// Nothing, within the timeout.
    Missing,
}

/// Sends `message` `--count` times, `--interval` apart, through `send_and_check`, and
/// writes a line per echo and a tally to `out`. `Ok` only if every echo came back
/// unchanged. Ctrl-C (`shutdown`, or a wait that Ctrl-C interrupted) ends the loop early:
/// the tally still prints, and the result is [`Error::stopped`].
pub fn repeat_and_check(
    args: &EchoArgs,
    message: &[u8],
    shutdown: &Shutdown,
    out: &mut impl Write,
    mut send_and_check: impl FnMut(&[u8]) -> Result<Echo>,
) -> Result<()> {
    let count = args.count.unwrap_or(DEFAULT_COUNT);
    let (mut sent, mut echoed, mut lost, mut wrong) = (0, 0, 0, 0);
    for number in 1..=count {
        if number > 1 && !shutdown.sleep(args.interval) {
            break;
        }
        let progress = format!("({number} of {count})");
        let numbered;
        let message = if args.numbered {
            numbered = [message, format!(" #{number}").as_bytes()].concat();
            &numbered[..]
        } else {
            message
        };
        sent += 1;
        let echo = match send_and_check(message) {
            Ok(echo) => echo,
            // After a Ctrl-C, a failed exchange is the stop's doing (a wait cut short).
            Err(error) if error.is_stopped() || shutdown.is_requested() => break,
            Err(error) => return Err(error),
        };
        match echo {
            Echo::Same => {
                echoed += 1;
                output_line(
                    out,
                    format_args!("Received {} {progress}", bytes_literal(message, SHOWN_BYTES)),
                )?;
            }
            Echo::Different(reply) => {
                wrong += 1;
                output_line(
                    out,
                    format_args!(
                        "Wrong echo {progress}: got {}",
                        bytes_literal(&reply, SHOWN_BYTES)
                    ),
                )?;
            }
            Echo::Missing => {
                lost += 1;
                output_line(
                    out,
                    format_args!(
                        "No echo within {} s {progress}: lost",
                        args.timeout.as_secs_f64()
                    ),
                )?;
            }
        }
    }
    // Stopped early, the tally says how many were sent: "3 of 10 came back" alone would
    // read as 7 lost.
    let stopped_early = if sent < count || shutdown.is_requested() {
        format!(" (stopped after sending {sent})")
    } else {
        String::new()
    };
    output_line(
        out,
        format_args!("{echoed} of {} came back{stopped_early}.", plural(count, "echo")),
    )?;
    if shutdown.is_requested() {
        return Err(Error::stopped());
    }
    match (lost, wrong) {
        (0, 0) if echoed == count => Ok(()),
        (0, 0) => Err(Error::msg(format!("stopped after {echoed} of {count} messages"))),
        _ => Err(Error::msg(format!(
            "of {count} echoes, {lost} did not come back and {wrong} came back changed"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        echo: EchoArgs,
    }

    fn args(extra: &[&str]) -> EchoArgs {
        Args::try_parse_from(["client"].iter().chain(extra)).unwrap().echo
    }

    fn run(extra: &[&str], echoes: &[Echo]) -> (Result<()>, String, usize) {
        let mut out = Vec::new();
        let mut sent = 0;
        let outcome =
            repeat_and_check(&args(extra), b"hi", &Shutdown::new(), &mut out, |message| {
                assert_eq!(message, b"hi");
                sent += 1;
                Ok(echoes[sent - 1].clone())
            });
        (outcome, String::from_utf8(out).unwrap(), sent)
    }

    #[test]
    fn all_echoes_back_is_success() {
        let (outcome, out, sent) =
            run(&["--count", "2", "--interval", "0"], &[Echo::Same, Echo::Same]);
        outcome.unwrap();
        assert_eq!(sent, 2);
        assert_eq!(
            out,
            "Received b'hi' (1 of 2)\nReceived b'hi' (2 of 2)\n2 of 2 echoes came back.\n"
        );
    }

    #[test]
    fn a_missing_or_wrong_echo_is_reported_counted_and_fails() {
        let echoes = [Echo::Missing, Echo::Different(b"ho".to_vec()), Echo::Same];
        let (outcome, out, _) =
            run(&["--count", "3", "--interval", "0", "--timeout", "0.5"], &echoes);
        assert!(out.contains("No echo within 0.5 s (1 of 3): lost\n"), "{out}");
        assert!(out.contains("Wrong echo (2 of 3): got b'ho'\n"), "{out}");
        assert!(out.ends_with("1 of 3 echoes came back.\n"), "{out}");
        assert_eq!(
            outcome.unwrap_err().to_string(),
            "of 3 echoes, 1 did not come back and 1 came back changed"
        );
    }

    #[test]
    fn numbered_messages_carry_their_number() {
        let mut sent = Vec::new();
        let outcome = repeat_and_check(
            &args(&["--count", "3", "--interval", "0", "--numbered"]),
            b"hi",
            &Shutdown::new(),
            &mut Vec::new(),
            |message| {
                sent.push(message.to_vec());
                Ok(Echo::Same)
            },
        );
        outcome.unwrap();
        assert_eq!(sent, [b"hi #1".to_vec(), b"hi #2".to_vec(), b"hi #3".to_vec()]);
    }

    #[test]
    fn defaults_follow_the_notebook_client() {
        let args = args(&[]);
        assert_eq!(
            (args.count, args.interval, args.timeout),
            (None, Duration::from_secs(1), Duration::from_secs(3))
        );
        assert_eq!(args.message(), format!("Hello, world ({})", std::process::id()));
    }
}
