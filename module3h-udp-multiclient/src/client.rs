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
//! `--clients`/`--duration`, is in `load.rs`: the `client` binary chooses it.)

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};

use shared::client_errors::udp_client_error;
use shared::echo::{Echo, repeat_and_check};
use shared::error::{Context, Error, Result};
use shared::io_errors::is_timeout;
use shared::shutdown::Shutdown;
use shared::udp::{MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, connect_udp};

use crate::args::ClientArgs;

/// Runs the client, writing what it sees to `out`. `Ok` only if every echo came back
/// unchanged. (Load mode is not here: the binary calls `load::run` for it.)
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
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
