//! Test helpers for the grading suites: a server on a thread with a deadline, a UDP client
//! that waits only so long, the other end of a loop, and checks of the command line.
//!
//! They fail a test by panicking, as tests do, so they are not in the library by default:
//! only with the `testing` feature, which only dev-dependencies turn on.
//!
//! | file | what it holds |
//! |---|---|
//! | `testing.rs` | [`patience`] and [`STOP_LIMIT`]: how long a test waits |
//! | `testing/server.rs` | [`TestServer`] and [`ServerThread`]: a server on its thread, stopped in time |
//! | `testing/deadline.rs` | [`client_deadline`] and [`returns_within`]: a client that must return |
//! | `testing/udp.rs` | [`udp_client`] and [`udp_exchange`]: a test's UDP client |
//! | `testing/loops.rs` | [`bounce_for`], [`wire_between`], [`service_port_socket`]: attacks on the reply rule |
//! | `testing/cli.rs` | [`assert_version_names_the_module`] |

use std::time::Duration;

mod cli;
mod deadline;
mod loops;
mod server;
mod udp;

pub use cli::assert_version_names_the_module;
pub use deadline::{client_deadline, returns_within};
pub use loops::{bounce_for, service_port_socket, wire_between, wire_between_each};
pub use server::{ServerThread, TestServer};
pub use udp::{udp_client, udp_exchange};

/// How long a server under test may take to stop: the workspace's promise to students.
pub const STOP_LIMIT: Duration = Duration::from_secs(1);

/// How long a test waits for a reply or a log line: generous, for a loaded 2-core machine
/// (a correct server answers in microseconds): 10 seconds, or `GRADING_PATIENCE_SECS`
/// seconds if that is set (`cargo xtask check-exercises` shortens it to see unfinished
/// exercises fail quickly).
pub fn patience() -> Duration {
    std::env::var("GRADING_PATIENCE_SECS")
        .ok()
        .and_then(|secs| secs.parse::<f64>().ok())
        .filter(|secs| secs.is_finite() && *secs > 0.0 && *secs <= 3600.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}
