//! The grading suite for module 3h, by subject: [`server`] (the lesson's loop), [`table`]
//! (the bounded client table), [`client`] (the notebook's client), [`load`] (load mode),
//! [`hostile`] (floods, forged sources, loops), [`command_line`] (defaults and
//! `--version`). The helpers they share are here.
//!
//! Every test starts the real server in this process on a free port (`--port 0`) and talks
//! to it over real loopback sockets. Every wait has a deadline, so an unfinished server
//! fails a test instead of hanging the run.

mod client;
mod command_line;
mod hostile;
mod load;
mod server;
mod table;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, returns_within};

use crate::args::{ClientArgs, ServerArgs};
use crate::server::{Server, Summary};

/// Starts the real server on a free port with these extra flags, its log captured.
fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(args.address.resolve().unwrap(), args.config(log)).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

/// Runs the client as the binary does (load mode or the notebook's client, by the flags)
/// with these arguments; returns its outcome and what it printed.
fn run_client(args: &[&str]) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let echo = &args.echo;
    let deadline = client_deadline(echo.timeout, echo.count, echo.interval, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = if args.is_load_mode() {
            args.address
                .resolve()
                .and_then(|server| crate::load::run(&args, server, &Shutdown::new(), &mut out))
        } else {
            crate::client::run(&args, &Shutdown::new(), &mut out)
        };
        (outcome, String::from_utf8(out).unwrap())
    })
}

// HIDDEN TESTS
/// Instructors' tests: kept in the reference and graded, left out of starters (see the
/// root README, "Hidden tests"). Keep this module last in the file.
mod hidden {
    use shared::testing::{udp_client, udp_exchange};

    use super::start_server;

    #[test]
    fn echoes_a_binary_datagram_unchanged() {
        let running = start_server(&["--quiet"]);
        let client = udp_client(running.addr);
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(udp_exchange(&client, &data), data, "every byte value must come back");
        running.stop();
    }
}
