//! A relay for other crates' tests: each UDP module's grading suite checks that its client
//! behaves as its README says through a bad network.

use std::net::SocketAddr;

use clap::Parser;

use shared::log::Log;
use shared::testing::TestServer;

use crate::{Args, Relay, Summary};

/// Starts a relay in this process, listening on a free loopback port and relaying to
/// `server`, with the impairment `flags` (`["--loss", "20%", "--seed", "7"]`); its address
/// is the returned server's `addr`, and `stop` returns its [`Summary`].
#[allow(clippy::unwrap_used, reason = "a test helper: a failure fails the test")]
#[track_caller]
pub fn start_relay(server: SocketAddr, flags: &[&str]) -> TestServer<Summary> {
    let to = server.to_string();
    let argv = ["lossy-link", "--listen", "127.0.0.1:0", "--to", &to];
    let args = Args::try_parse_from(argv.iter().chain(flags)).unwrap();
    let (log, captured) = Log::capture(false);
    let relay = Relay::bind(&args, log).unwrap();
    TestServer::start(relay.local_addr(), captured, move |shutdown| relay.run(shutdown))
}
