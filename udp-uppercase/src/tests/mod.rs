//! The grading suite for udp-uppercase, by subject: [`server`] (the lesson's loop),
//! [`client`] (the lesson's client), [`load`] (load mode), [`hostile`] (forged sources,
//! loops, hostile text), [`command_line`] (defaults and `--version`). The helpers they share
//! are here.
//!
//! Every test starts the real server in this process on a free port (`--port 0`), talks to
//! it over real loopback sockets, and checks what came back. Every wait has a deadline, so
//! an unfinished server fails a test instead of hanging the run.

mod client;
mod command_line;
mod hostile;
mod load;
mod server;

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::testing::{TestServer, client_deadline, returns_within, udp_client, udp_exchange};

use crate::args::{ClientArgs, ServerArgs};
use crate::server::{Server, Summary};

/// Starts the real server on a free port with these extra flags, its log captured.
fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = bind_server(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// Binds the server as the binary does, from its command line.
fn bind_server(args: &ServerArgs, log: Log) -> Result<Server> {
    Server::bind(args.address.resolve()?, args.config(log))
}

/// One datagram to `server` from a fresh client socket, and its reply.
fn ask(server: SocketAddr, message: &[u8]) -> Vec<u8> {
    udp_exchange(&udp_client(server), message)
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

/// Runs the client as the binary does (load mode or the interactive client, by the flags)
/// with these arguments and input; returns its outcome and what it printed.
fn run_client(args: &[&str], input: &str) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    let input = input.to_string();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let deadline = client_deadline(args.timeout, args.count, Duration::ZERO, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = if args.is_load_mode() {
            args.address.resolve().and_then(|server| {
                crate::load::run(&args, server, &shared::shutdown::Shutdown::new(), &mut out)
            })
        } else {
            crate::client::run(&args, Cursor::new(input), false, &mut out)
        };
        (outcome, String::from_utf8(out).unwrap())
    })
}
