//! The seed's UDP client: send `Hello, Server!`, print the server's response.
//!
//! ```python
//! client_socket.sendto(message.encode('utf-8'), (host, port))
//! print(f"Sent message to {host}:{port}")
//! response, server_address = client_socket.recvfrom(1024)
//! print(f"Received response from {server_address}: {response.decode('utf-8')}")
//! ```
//!
//! Unlike the seed's, this client waits at most `--timeout` for the response. Its load mode
//! (`--clients N --duration S`, in `load.rs`, which the `client` binary chooses) is how the
//! three server modes are compared.

use std::io::Write;

use shared::client_errors::{no_reply_error, udp_client_error};
use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::text::as_text;
use shared::udp::{MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, connect_udp};

use crate::args::ClientArgs;

/// Runs the client, writing what it sees to `out`. (Load mode is not here: the binary
/// calls `load::run` for it.)
pub fn run(args: &ClientArgs, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    if args.message.len() > MAX_UDP_PAYLOAD {
        return Err(Error::msg(format!(
            "a message of {} bytes does not fit in one UDP datagram",
            args.message.len()
        )));
    }
    let socket = connect_udp(server)?;
    socket.set_read_timeout(Some(args.timeout)).context(|| "cannot set the reply timeout")?;
    socket.send(args.message.as_bytes()).map_err(|error| udp_client_error(server, error))?;
    output_line(out, format_args!("Sent message to {}", args.address))?;
    let mut response = vec![0u8; RECV_BUFFER_SIZE];
    let len =
        socket.recv(&mut response).map_err(|error| no_reply_error(server, args.timeout, error))?;
    output_line(out, format_args!("Received response from {server}: {}", as_text(&response[..len])))
}
