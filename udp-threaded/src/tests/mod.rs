//! The grading suite for udp-threaded, by subject: [`server`] (the three modes), [`pool`]
//! (the worker pool's queue), [`client`] (the seed's client), [`load`] (load mode),
//! [`hostile`] (loops and amplification), [`command_line`] (defaults and `--version`). The
//! helpers they share are here.
//!
//! Every test starts the real server in this process on a free port (`--port 0`), in the
//! mode under test, and talks to it over real loopback sockets. The tests do not time the
//! server with a stopwatch (a loaded machine makes that flaky); they check what the server
//! itself counts, such as how many requests it handled at the same time.

mod client;
mod command_line;
mod hostile;
mod load;
mod pool;
mod server;

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, returns_within, udp_client, udp_exchange};

use crate::RESPONSE;
use crate::args::{ClientArgs, ServerArgs};
use crate::server::{Server, Summary};

const MODES: [&str; 3] = ["single", "thread-per-datagram", "pool"];

/// Starts the real server on a free port of 127.0.0.1 with these extra flags, its log
/// captured.
fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args = ServerArgs::try_parse_from(
        ["server", "--host", "127.0.0.1", "--port", "0"].iter().chain(extra_args),
    )
    .unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(args.address.resolve().unwrap(), args.config(log)).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// `clients` clients at once, each sending `requests` datagrams and checking each response.
fn concurrent_clients(server: SocketAddr, clients: usize, requests: usize) {
    let threads: Vec<_> = (0..clients)
        .map(|id| {
            thread::spawn(move || {
                let socket = udp_client(server);
                for request in 0..requests {
                    let response =
                        udp_exchange(&socket, format!("client {id} request {request}").as_bytes());
                    assert_eq!(response, RESPONSE, "client {id} got a wrong response");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client got no response or a wrong one");
    }
}

/// Reads responses until none comes for a second, then stops the server.
fn loop_until_quiet_then_stop(
    running: TestServer<Summary>,
    socket: &std::net::UdpSocket,
) -> Summary {
    socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut buffer = [0u8; 64];
    while socket.recv(&mut buffer).is_ok() {}
    running.stop()
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

/// Runs the client as the binary does (load mode or the seed's client, by the flags) with
/// these arguments; returns its outcome and what it printed.
fn run_client(args: &[&str]) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let deadline = client_deadline(args.timeout, args.count, Duration::ZERO, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = if args.is_load_mode() {
            args.address
                .resolve()
                .and_then(|server| crate::load::run(&args, server, &Shutdown::new(), &mut out))
        } else {
            crate::client::run(&args, &mut out)
        };
        (outcome, String::from_utf8(out).unwrap())
    })
}
