//! The `--host` and `--port` flags, and turning them into a socket address.
//!
//! Every server and client in the workspace is started with the same two flags, but each
//! module has its own defaults (udp-uppercase listens on 127.0.0.1:12000 like the textbook,
//! udp-threaded on localhost:6532 like its seed). A module names its defaults once, in a
//! type that implements [`AddressDefaults`], and flattens [`AddressArgs`] into its clap
//! arguments; `--help` then shows that module's defaults:
//!
//! ```
//! use clap::Parser;
//! use shared::address::{AddressArgs, AddressDefaults};
//!
//! #[derive(Debug, Clone)]
//! struct Textbook;
//! impl AddressDefaults for Textbook {
//!     const HOST: &'static str = "127.0.0.1";
//!     const PORT: u16 = 12000;
//! }
//!
//! #[derive(Parser)]
//! struct Args {
//!     #[command(flatten)]
//!     address: AddressArgs<Textbook>,
//! }
//!
//! let args = Args::try_parse_from(["server", "--port", "4242"]).unwrap();
//! assert_eq!(args.address.resolve().unwrap().to_string(), "127.0.0.1:4242");
//! ```
//!
//! Resolving is where names become addresses: `localhost` is looked up like any host name,
//! `::1` is IPv6, and a name that does not exist is a one-line error, not a panic.

use std::fmt;
use std::marker::PhantomData;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::error::{Error, Result};

/// A module's default host and port, shown in `--help`.
pub trait AddressDefaults {
    /// The host a server binds to and a client sends to when `--host` is not given.
    const HOST: &'static str;
    /// The port used when `--port` is not given.
    const PORT: u16;
}

/// `--host` and `--port`, with the defaults of module `D`.
#[derive(clap::Args)]
pub struct AddressArgs<D: AddressDefaults + Send + Sync + 'static> {
    /// The server's host: a server listens on it, a client sends to it. A name (localhost),
    /// an IPv4 address (127.0.0.1) or an IPv6 address (::1); server and client must agree.
    /// Servers stay on loopback unless you choose otherwise: 0.0.0.0 opens them to the network.
    #[arg(long, value_name = "HOST", default_value = D::HOST)]
    pub host: String,

    /// The server's port. A server given 0 picks any free port and prints it in its ready line.
    #[arg(long, value_name = "PORT", default_value_t = D::PORT)]
    pub port: u16,

    #[arg(skip)]
    defaults: PhantomData<D>,
}

impl<D: AddressDefaults + Send + Sync + 'static> AddressArgs<D> {
    /// The address the flags name: the host's first IPv4 address if it has one, else its
    /// first address. (A name like `localhost` can have both `127.0.0.1` and `::1`;
    /// preferring IPv4 makes a server and a client started with the same flags agree, and
    /// matches the course's `AF_INET` sockets.)
    pub fn resolve(&self) -> Result<SocketAddr> {
        resolve(&self.host, self.port)
    }
}

/// The host and port as typed, the way addresses are written: `localhost:6532`,
/// `127.0.0.1:12000`, and `[::1]:6532` (an IPv6 address needs brackets, or its colons would
/// run into the port's).
impl<D: AddressDefaults + Send + Sync + 'static> fmt::Display for AddressArgs<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') && !self.host.starts_with('[') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

// Written out rather than derived: a derive would demand that the marker type `D` itself be
// `Clone`/`Debug`, which it has no reason to be.
impl<D: AddressDefaults + Send + Sync + 'static> Clone for AddressArgs<D> {
    fn clone(&self) -> Self {
        AddressArgs { host: self.host.clone(), port: self.port, defaults: PhantomData }
    }
}

impl<D: AddressDefaults + Send + Sync + 'static> fmt::Debug for AddressArgs<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressArgs").field("host", &self.host).field("port", &self.port).finish()
    }
}

/// Resolves `host` (a name, an IPv4 or an IPv6 address, with or without `[...]`) and `port`
/// to one socket address, preferring IPv4 as [`AddressArgs::resolve`] explains.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    // `[::1]` is how IPv6 addresses are written next to a port; accept it on its own too.
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(Error::msg(
            "the host is empty: give a name or an address, e.g. --host 127.0.0.1",
        ));
    }
    let candidates = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::io(format!("cannot resolve host '{host}'"), e))?;
    prefer_ipv4(candidates).ok_or_else(|| Error::msg(format!("host '{host}' has no addresses")))
}

/// The first IPv4 address among `candidates` if there is one, else the first address (see
/// [`AddressArgs::resolve`] for why IPv4 comes first).
pub fn prefer_ipv4(candidates: impl IntoIterator<Item = SocketAddr>) -> Option<SocketAddr> {
    let candidates: Vec<SocketAddr> = candidates.into_iter().collect();
    candidates.iter().find(|addr| addr.is_ipv4()).or_else(|| candidates.first()).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    struct Course;
    impl AddressDefaults for Course {
        const HOST: &'static str = "127.0.0.1";
        const PORT: u16 = 12354;
    }

    #[derive(Parser)]
    struct Args {
        #[command(flatten)]
        address: AddressArgs<Course>,
    }

    #[test]
    fn defaults_come_from_the_module() {
        let args = Args::try_parse_from(["server"]).unwrap();
        assert_eq!(args.address.resolve().unwrap(), "127.0.0.1:12354".parse().unwrap());
    }

    #[test]
    fn help_shows_the_module_defaults() {
        let help = Args::command().render_long_help().to_string();
        assert!(help.contains("[default: 127.0.0.1]"), "{help}");
        assert!(help.contains("[default: 12354]"), "{help}");
    }

    #[test]
    fn flags_override_the_defaults() {
        let args = Args::try_parse_from(["client", "--host", "127.0.0.2", "--port", "9"]).unwrap();
        assert_eq!(args.address.resolve().unwrap(), "127.0.0.2:9".parse().unwrap());
    }

    #[test]
    fn an_address_is_written_with_brackets_around_ipv6() {
        let shown = |host: &str| {
            let args = Args::try_parse_from(["client", "--host", host, "--port", "6532"]).unwrap();
            args.address.to_string()
        };
        assert_eq!(shown("::1"), "[::1]:6532");
        assert_eq!(shown("[::1]"), "[::1]:6532");
        assert_eq!(shown("localhost"), "localhost:6532");
        assert_eq!(shown("127.0.0.1"), "127.0.0.1:6532");
    }

    #[test]
    fn ipv6_addresses_resolve_with_or_without_brackets() {
        assert_eq!(resolve("::1", 80).unwrap(), "[::1]:80".parse().unwrap());
        assert_eq!(resolve("[::1]", 80).unwrap(), "[::1]:80".parse().unwrap());
    }

    #[test]
    fn localhost_resolves_to_loopback() {
        assert!(resolve("localhost", 80).unwrap().ip().is_loopback());
    }

    #[test]
    fn an_unknown_host_is_a_clear_error() {
        let error = resolve("no-such-host.invalid", 80).unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("cannot resolve host 'no-such-host.invalid': "), "{text}");
    }

    #[test]
    fn an_empty_host_is_a_clear_error() {
        assert!(resolve("", 80).unwrap_err().to_string().contains("the host is empty"));
    }

    #[test]
    fn a_port_out_of_range_is_a_usage_error() {
        let error = Args::try_parse_from(["server", "--port", "70000"]).err().unwrap();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(error.to_string().contains("70000"), "{error}");
    }
}
