//! The command lines of `server` and `client` (clap), kept apart so that the socket files
//! open with sockets.

use std::time::Duration;

use shared::address::AddressArgs;
use shared::flags::{parse_count, parse_seconds};
use shared::load::LoadArgs;
use shared::log::{Log, QuietArg};
use shared::reply::ReplyArgs;

use crate::Textbook;
use crate::server::Config;

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "udp-uppercase server",
    version,
    about = "UDP uppercase server: replies to every datagram with its text in uppercase.",
    long_about = "UDP uppercase server: replies to every datagram with its text in uppercase.\n\n\
                  The textbook's first UDP server. It prints one line per datagram (who sent \
                  what, and what went back) and, on Ctrl-C, a summary."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Textbook>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Whom the server may answer: `--allow-low-ports`, `--reply-rate`, `--max-sources`.
    #[command(flatten)]
    pub replies: ReplyArgs,
}

impl ServerArgs {
    /// What [`Server::bind`](crate::server::Server::bind) needs from the command line,
    /// with `log` for the server's lines.
    pub fn config(&self, log: Log) -> Config {
        Config { log, replies: self.replies.clone() }
    }
}

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "udp-uppercase client",
    version,
    about = "UDP uppercase client: sends each line you type to the server and prints the reply.",
    long_about = "UDP uppercase client: sends each line you type to the server and prints the reply.\n\n\
                  Type a line and press Enter; Ctrl-D (end of input) quits. With --message it \
                  sends one message and exits. With --clients/--duration/--count it runs the load \
                  mode: many clients at once, every reply checked, one summary line."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Textbook>,

    /// Send this one message, print the reply, and exit (instead of reading lines).
    #[arg(long, short, value_name = "TEXT", conflicts_with_all = ["clients", "duration", "count"])]
    pub message: Option<String>,

    /// Seconds to wait for each reply before giving up (UDP never says a datagram was lost);
    /// more than 0, at most 3600.
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds, allow_negative_numbers = true)]
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
