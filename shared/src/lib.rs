//! # `shared`: what every module stands on
//!
//! The course modules differ in their lesson (uppercase over UDP, one thread per TCP
//! connection, a group chat...), but they all need the same plumbing. It lives here, written
//! once, so each module's code can stay about its lesson. Each file holds one concern, named
//! by what a reader would look it up by ("how big can a datagram be?" is [`udp`], "how is a
//! datagram shown in a log?" is [`text`], "is this error a timeout?" is [`io_errors`]); a
//! directory module (`load/`, `reply/`, `log/`, `testing/`) splits its concern the same way,
//! and its `mod` file says which file holds what.
//!
//! | module | what it gives |
//! |---|---|
//! | [`address`] | `--host` and `--port` flags with per-module defaults, resolved to a socket address |
//! | [`flags`] | parsing seconds and counts, with errors that say the rule in words |
//! | [`error`] | one error type, one-line messages (`error: cannot bind ...`), exit codes |
//! | [`io_errors`] | what a socket's I/O error means: a timeout, an interrupt, a "port unreachable" |
//! | [`udp`] | UDP datagram sizes, and sockets with room for the largest datagram |
//! | [`client_errors`] | what a UDP client says when its server is not there or does not answer |
//! | [`text`] | text shown to people: a datagram as safe text or a bytes literal, counts in words |
//! | [`console`] | lines to the terminal that never panic: notices, a client's output |
//! | [`log`] | a server's log: its lines, `--quiet`, rate-limited warnings, a writer thread |
//! | [`throttle`] | "say it at most N times in a window", for every warning that could flood |
//! | [`shutdown`] | a cloneable stop signal shared by a program's threads |
//! | [`ctrl_c`] | Ctrl-C wired to the stop signal, in the binaries |
//! | [`framing`] | reading a TCP byte stream as lines, with a maximum line length |
//! | [`echo`] | the echo clients' loop: send N times, check every echo |
//! | [`prefix`] | addresses grouped by network (IPv4 per address, IPv6 per /64) for limits per host |
//! | [`prefix_args`] | `--ipv4-prefix`, `--ipv6-prefix`: how many bits of an address name one host |
//! | [`reply`] | whom a UDP server may answer: no loops, no amplification (3x the bytes per network), a rate per network |
//! | [`load`] | the clients' load mode (`--clients N --duration SECS`) and its summary |
//! | `testing` | running a server on a thread in a test, with a deadline (`testing` feature) |
//!
//! ## Test helpers: the `testing` feature
//!
//! `shared::testing` and the log a test reads (`Log::capture`, `CapturedLog`) exist only
//! with the `testing` feature. They fail a test by panicking, which no program may do, so
//! the library the binaries link does not have them: only test builds turn the feature on,
//! through each crate's dev-dependency,
//!
//! ```toml
//! [dev-dependencies]
//! shared = { workspace = true, features = ["testing"] }
//! ```

pub mod address;
pub mod client_errors;
pub mod console;
pub mod ctrl_c;
pub mod echo;
pub mod error;
pub mod flags;
pub mod framing;
pub mod io_errors;
pub mod load;
pub mod log;
pub mod prefix;
pub mod prefix_args;
pub mod reply;
pub mod shutdown;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod text;
pub mod throttle;
pub mod udp;

pub use error::{Context, Error, Result};
