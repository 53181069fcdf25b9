//! The UDP multi-client client: the notebook's `UDPMultiClient.py`.
//!
//! It sends `Hello, world (<pid>)` `--count` times, one every `--interval`, and checks that
//! each echo is the same bytes it sent. The process id in the message tells the clients
//! apart in the server's log when you run several at once, in several terminals.
//!
//! UDP may lose a datagram (or its echo) without a word, so each wait for an echo is bounded
//! by `--timeout`: a missing echo is reported and counted, and the client goes on with the
//! next message. The exit status says whether every echo came back.

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use shared::address::AddressArgs;
use shared::datagram::{
    MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, bytes_literal, connect_udp, is_timeout, udp_client_error,
};
use shared::error::{Context, Error, Result};
use shared::load::{self, LoadArgs, Request, parse_seconds, parse_seconds_or_zero};
use shared::report::output_line;
use shared::shutdown::Shutdown;

use crate::Course;

/// How many messages a client sends when `--count` is not given.
pub const DEFAULT_COUNT: u64 = 5;

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    version,
    about = "UDP multi-client client (course module 3h): sends 'Hello, world (<pid>)' a few \
             times and checks each echo. Run it in several terminals at once.",
    long_about = "UDP multi-client client (course module 3h): sends 'Hello, world (<pid>)' a few \
                  times and checks each echo. Run it in several terminals at once.\n\n\
                  The exit status is 0 only if every echo came back unchanged. With --clients or \
                  --duration it runs the load mode instead: many clients at once, one summary line."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// Messages to send [default: 5]. In load mode: the most each client sends.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Seconds between messages (0 for none).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds_or_zero, allow_negative_numbers = true)]
    pub interval: Duration,

    /// Seconds to wait for each echo before counting it lost (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub timeout: Duration,

    /// What to send instead of 'Hello, world (<pid>)'.
    #[arg(long, short, value_name = "TEXT")]
    pub message: Option<String>,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// The notebook's message, with this process's id.
pub fn hello_message() -> String {
    format!("Hello, world ({})", std::process::id())
}

/// Runs the client (or, with `--clients`/`--duration`, the load mode), writing what it
/// sees to `out`. `Ok` only if every echo came back unchanged.
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    if args.load.is_requested() {
        return run_load(args, server, shutdown, out);
    }
    let message = args.message.clone().unwrap_or_else(hello_message);
    if message.len() > MAX_UDP_PAYLOAD {
        return Err(Error::msg(format!(
            "a message of {} bytes does not fit in one UDP datagram",
            message.len()
        )));
    }
    let socket = connect_udp(server)?;
    socket.set_read_timeout(Some(args.timeout)).context(|| "cannot set the echo timeout")?;

    let count = args.count.unwrap_or(DEFAULT_COUNT);
    let mut echoed = 0;
    for number in 1..=count {
        if number > 1 && !shutdown.sleep(args.interval) {
            break; // Ctrl-C during the pause
        }
        let outcome = send_and_check(&socket, server, message.as_bytes())?;
        let line = match &outcome {
            Echo::Same => {
                format!("Received {} ({number} of {count})", bytes_literal(message.as_bytes(), 80))
            }
            Echo::Different(reply) => {
                format!("Wrong echo ({number} of {count}): got {}", bytes_literal(reply, 80))
            }
            Echo::Missing => format!(
                "No echo within {} s ({number} of {count}): lost",
                args.timeout.as_secs_f64()
            ),
        };
        output_line(out, format_args!("{line}"))?;
        if outcome == Echo::Same {
            echoed += 1;
        }
    }
    output_line(out, format_args!("{echoed} of {count} echoes came back."))?;
    if echoed == count {
        Ok(())
    } else {
        Err(Error::msg(format!("{} of {count} echoes did not come back unchanged", count - echoed)))
    }
}

/// What came back for one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Echo {
    /// The same bytes.
    Same,
    /// Something else (the bytes that came).
    Different(Vec<u8>),
    /// Nothing, within the timeout.
    Missing,
}

/// Sends `message` and waits (up to the socket's read timeout) for its echo.
pub fn send_and_check(socket: &UdpSocket, server: SocketAddr, message: &[u8]) -> Result<Echo> {
    // BEGIN SOLUTION
    socket.send(message).map_err(|error| udp_client_error(server, error))?;
    let mut reply = vec![0u8; RECV_BUFFER_SIZE];
    match socket.recv(&mut reply) {
        Ok(len) if reply[..len] == *message => Ok(Echo::Same),
        Ok(len) => Ok(Echo::Different(reply[..len].to_vec())),
        Err(error) if is_timeout(&error) => Ok(Echo::Missing),
        Err(error) => Err(udp_client_error(server, error)),
    }
    // END SOLUTION
}

/// Load mode: every client sends numbered hellos and checks each echo.
fn run_load(
    args: &ClientArgs,
    server: SocketAddr,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    load::run_udp(&args.load.plan(args.count, args.timeout), server, shutdown, echo_request, out)
}

fn echo_request(client: u32, sequence: u64) -> Request {
    let datagram =
        format!("Hello, world ({}) client {client} message {sequence}", std::process::id())
            .into_bytes();
    Request { expected_reply: datagram.clone(), datagram }
}
