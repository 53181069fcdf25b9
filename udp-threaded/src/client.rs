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
//! (`--clients N --duration S`, in [`crate::load`]) is how the three server modes are
//! compared.

use std::io::Write;
use std::time::Duration;

use shared::address::AddressArgs;
use shared::client_errors::{no_reply_error, udp_client_error};
use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::flags::{parse_count, parse_seconds};
use shared::load::LoadArgs;
use shared::shutdown::Shutdown;
use shared::text::as_text;
use shared::udp::{MAX_UDP_PAYLOAD, RECV_BUFFER_SIZE, connect_udp};

use crate::Seed;

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "udp-threaded client",
    version,
    about = "UDP client for udp-threaded: sends 'Hello, Server!' and prints the response.",
    long_about = "UDP client for udp-threaded: sends 'Hello, Server!' and prints the response.\n\n\
                  With --clients, --duration or --count it runs the load mode instead: many \
                  clients at once, every response checked, one summary line. Use it to compare \
                  the server's modes (see the server's --mode and --work-ms)."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Seed>,

    /// The message to send.
    #[arg(long, short, value_name = "TEXT", default_value = "Hello, Server!")]
    pub message: String,

    /// Seconds to wait for the response (more than 0, at most 3600).
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Load mode: each client sends at most N requests (alone: one client, N requests).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub count: Option<u64>,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

impl ClientArgs {
    /// Whether these arguments ask for load mode.
    pub fn is_load_mode(&self) -> bool {
        self.load.is_requested() || self.count.is_some()
    }
}

/// Runs the client (or its load mode), writing what it sees to `out`.
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    if args.is_load_mode() {
        return crate::load::run(args, server, shutdown, out);
    }
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
