//! The UDP multi-client client: the notebook's `UDPMultiClient.py`.
//!
//! It sends `Hello, world (<pid>)` `--count` times, one every `--interval`, and checks that
//! each echo is the same bytes it sent. The process id in the message tells the clients
//! apart in the server's log when you run several at once, in several terminals.
//!
//! UDP may lose a datagram (or its echo) without a word, so each wait for an echo is bounded
//! by `--timeout`: a missing echo is reported and counted, and the client goes on with the
//! next message. The exit status says whether every echo came back. (The counting and
//! reporting loop is shared with module 3g's TCP client: [`shared::echo`]; the load mode,
//! `--clients`/`--duration`, is in [`crate::load`].)

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};

use shared::address::AddressArgs;
use shared::client_errors::udp_client_error;
use shared::echo::{Echo, EchoArgs, repeat_and_check};
use shared::error::{Context, Error, Result};
use shared::io_errors::is_timeout;
use shared::load::LoadArgs;
use shared::shutdown::Shutdown;
use shared::udp::{MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, connect_udp};

use crate::Course;

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "module3h-udp-multiclient client",
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

    /// `--count`, `--interval`, `--timeout`, `--message`.
    #[command(flatten)]
    pub echo: EchoArgs,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Runs the client (or, with `--clients`/`--duration`, the load mode), writing what it
/// sees to `out`. `Ok` only if every echo came back unchanged.
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    if args.load.is_requested() {
        return crate::load::run(args, server, shutdown, out);
    }
    let message = args.echo.message();
    if message.len() > MAX_UDP_PAYLOAD {
        return Err(Error::msg(format!(
            "a message of {} bytes does not fit in one UDP datagram",
            message.len()
        )));
    }
    let socket = connect_udp(server)?;
    socket.set_read_timeout(Some(args.echo.timeout)).context(|| "cannot set the echo timeout")?;
    let mut reply = vec![0u8; RECV_BUFFER_SIZE];
    repeat_and_check(&args.echo, message.as_bytes(), shutdown, out, |message| {
        send_and_check(&socket, server, message, &mut reply)
    })
}

/// Sends `message` and waits (up to the socket's read timeout) for its echo, which lands
/// in `reply`.
///
/// 1. `send` the message on `socket` (connected to `server`); an error becomes
///    [`udp_client_error`] (`.map_err(|error| udp_client_error(server, error))?`).
/// 2. `recv` into `reply`, and match what came back: the same bytes as `message` are
///    [`Echo::Same`]; other bytes are [`Echo::Different`] (with a copy of them); a timeout
///    ([`is_timeout`]) is [`Echo::Missing`]; any other error becomes [`udp_client_error`].
pub fn send_and_check(
    socket: &UdpSocket,
    server: SocketAddr,
    message: &[u8],
    reply: &mut [u8],
) -> Result<Echo> {
    // BEGIN SOLUTION: send the message, receive into reply, and say whether the echo is the same bytes, different, or missing (a timeout)
    socket.send(message).map_err(|error| udp_client_error(server, error))?;
    match socket.recv(reply) {
        Ok(len) if reply[..len] == *message => Ok(Echo::Same),
        Ok(len) => Ok(Echo::Different(reply[..len].to_vec())),
        Err(error) if is_timeout(&error) => Ok(Echo::Missing),
        Err(error) => Err(udp_client_error(server, error)),
    }
    // END SOLUTION
}
