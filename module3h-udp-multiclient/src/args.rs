//! The command lines of `server` and `client` (clap), kept apart so that the socket files
//! open with sockets.

use shared::address::AddressArgs;
use shared::echo::EchoArgs;
use shared::load::LoadArgs;
use shared::log::{Log, QuietArg};
use shared::reply::ReplyArgs;

use crate::Course;
use crate::server::Config;

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    // `--version` says which module's server this is: every module's is called `server`.
    display_name = "module3h-udp-multiclient server",
    version,
    about = "UDP echo server for many clients (course module 3h): echoes every datagram and \
             keeps a context per client, keyed by its address.",
    long_about = "UDP echo server for many clients (course module 3h): echoes every datagram and \
                  keeps a context per client, keyed by its address.\n\n\
                  For each datagram it prints what the notebook prints: the data, the sender, \
                  and the bytes echoed with that client's count. On Ctrl-C it lists the clients."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Most clients the table remembers. When it is full, a new client takes the place of
    /// the one seen least recently, and the eviction is logged.
    #[arg(long, value_name = "N", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: u32,

    /// Whom the server may answer: `--allow-low-ports`, `--reply-rate`, `--max-sources`.
    #[command(flatten)]
    pub replies: ReplyArgs,
}

impl ServerArgs {
    /// What [`Server::bind`](crate::server::Server::bind) needs from the command line,
    /// with `log` for the server's lines.
    pub fn config(&self, log: Log) -> Config {
        Config { log, max_clients: self.max_clients as usize, replies: self.replies.clone() }
    }
}

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    // `--version` says which module's client this is: every module's is called `client`.
    display_name = "module3h-udp-multiclient client",
    version,
    about = "UDP multi-client client (course module 3h): sends 'Hello, world (<pid>)' a few \
             times and checks each echo. Run it in several terminals at once.",
    long_about = "UDP multi-client client (course module 3h): sends 'Hello, world (<pid>)' a few \
                  times and checks each echo. Run it in several terminals at once.\n\n\
                  The exit status is 0 only if every echo came back unchanged. With --clients or \
                  --duration it runs the load mode instead: many clients at once, one summary line."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--count`, `--interval`, `--timeout`, `--message`.
    #[command(flatten)]
    pub echo: EchoArgs,

    /// Load mode: `--clients` and `--duration`.
    #[command(flatten)]
    pub load: LoadArgs,
}

impl ClientArgs {
    /// Whether these arguments ask for load mode (`--clients` or `--duration`).
    pub fn is_load_mode(&self) -> bool {
        self.load.is_requested()
    }
}
