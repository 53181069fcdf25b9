//! # `shared`: what every module stands on
//!
//! The course modules differ in their lesson (uppercase over UDP, one thread per TCP
//! connection, a group chat...), but they all need the same plumbing. It lives here, written
//! once, so each module's code can stay about its lesson:
//!
//! | module | what it gives |
//! |---|---|
//! | [`address`] | `--host` and `--port` flags with per-module defaults, resolved to a socket address |
//! | [`error`] | one error type, one-line messages (`error: cannot bind ...`), exit codes |
//! | [`flags`] | parsing seconds and counts, with errors that say the rule in words |
//! | [`datagram`] | UDP sizes, buffers, client sockets, receive errors, showing a datagram as text |
//! | [`echo`] | the echo clients' loop: send N times, check every echo |
//! | [`framing`] | reading a TCP byte stream as lines, with a maximum line length |
//! | [`shutdown`] | a cloneable stop signal, wired to Ctrl-C in the binaries |
//! | [`prefix`] | addresses grouped by network (IPv4 per address, IPv6 per /64) for limits per host |
//! | [`prefix_args`] | `--ipv4-prefix`, `--ipv6-prefix`: how many bits of an address name one host |
//! | [`reply`] | whom a UDP server may answer: no loops, no amplification (3x the bytes per network), a rate per network |
//! | [`report`] | log lines, `--quiet`, and a captured log for tests |
//! | [`throttle`] | "say it at most N times in a window", for every warning that could flood |
//! | [`load`] | the clients' load mode (`--clients N --duration SECS`) and its summary |
//! | [`testing`] | running a server on a thread in a test, with a deadline |

pub mod address;
pub mod datagram;
pub mod echo;
pub mod error;
pub mod flags;
pub mod framing;
pub mod load;
pub mod prefix;
pub mod prefix_args;
pub mod reply;
pub mod report;
pub mod shutdown;
pub mod testing;
pub mod throttle;

pub use error::{Context, Error, Result};
