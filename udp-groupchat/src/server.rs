//! The chat server: a hub that knows its members (default), or the seed's broadcaster.
//!
//! **The seed's server** receives every datagram and sends it, as it is, to the broadcast
//! address: every host on the network gets it, member or not, and whatever name a sender
//! writes in front of the text is believed. `--broadcast ADDR` runs that design (see
//! [`run_broadcast`]).
//!
//! **The hub** keeps a member table keyed by address, like module 3h's client table, and
//! relays each line to the members only. It decides who is speaking from the sender's
//! address, never from the text, so no member can speak as another just by writing a name.
//! (Someone who can forge a member's source address, on a shared LAN, still could: a real
//! protocol would add a secret per session, or encryption.) And it admits an
//! address only after the address has answered a challenge: a `JOIN` whose source address
//! was forged gets its `CHALLENGE` sent to the forged address, which cannot answer, so the
//! forger cannot make the server send the chat to a victim. Replies to anyone who is not a
//! member are never larger than what they sent, so a forged datagram cannot be amplified.
//!
//! The challenge's cookie is computed, not stored: a keyed hash of the address, the name and
//! the current half-minute, made with std's `RandomState` (a hasher with a random key;
//! fine for a lesson, while real code would use a cryptographic MAC such as HMAC-SHA256). To check a `HELLO` the server
//! computes it again. So forged `JOIN`s cost the server no memory at all (the idea of TCP's
//! SYN cookies).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use shared::address::AddressArgs;
use shared::datagram::{
    PREVIEW_CHARS, bind_udp, preview, serve_datagrams, serve_datagrams_with_ticks,
};
use shared::error::{Context, Result, describe_io_error};
use shared::report::{Log, QuietArg, plural};
use shared::shutdown::Shutdown;

use crate::protocol::{
    BadMessage, ClientMessage, NOT_JOINED, ServerMessage, check_name, clean_text, same_name,
};
use crate::{Course, bind_shared_port};

/// How long a challenge's cookie stays valid: it is accepted in its own half-minute and the
/// next one.
const COOKIE_PERIOD: Duration = Duration::from_secs(30);

/// The most names a `WELCOME` lists (it must fit in one datagram).
const MAX_NAMES_LISTED: usize = 50;

/// How often the hub looks for members who have gone silent.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Command-line arguments of `server`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "server",
    version,
    about = "Group chat server over UDP: relays every member's lines to all members.",
    long_about = "Group chat server over UDP: relays every member's lines to all members.\n\n\
                  By default it is a hub: it keeps the member list, checks each new member's \
                  address with a challenge, and stamps every line with the sender's name. With \
                  --broadcast ADDR it is the seed's server instead: it sends every datagram it \
                  receives to the broadcast address, for anyone listening on the port."
)]
pub struct ServerArgs {
    /// Where to listen.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// `--quiet`.
    #[command(flatten)]
    pub output: QuietArg,

    /// Broadcast mode (the seed's design): relay every datagram to this broadcast address
    /// at the chat port. Try 127.255.255.255 on one machine; on a LAN it would be
    /// 255.255.255.255 or the subnet's broadcast address, and everyone on the LAN could read
    /// and forge the chat.
    #[arg(long, value_name = "ADDR")]
    pub broadcast: Option<IpAddr>,

    /// Hub: most members at once; a join beyond it is refused.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_members: u32,

    /// Hub: seconds without a word (clients send keep-alives) after which a member is dropped.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = shared::load::parse_seconds,
          allow_negative_numbers = true)]
    pub idle_timeout: Duration,

    /// Longest chat line relayed, in bytes; a longer one is refused.
    #[arg(long, value_name = "BYTES", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..=16_384))]
    pub max_message: u32,
}

/// A bound chat server, ready to [`run`](Server::run).
pub struct Server {
    socket: UdpSocket,
    log: Log,
    args: ServerArgs,
}

impl Server {
    /// Binds the socket `args` name. In broadcast mode the port is shared (the clients bind
    /// it too, as in the seed) and may send broadcasts.
    pub fn bind(args: &ServerArgs, log: Log) -> Result<Server> {
        let addr = args.address.resolve()?;
        let socket = match args.broadcast {
            Some(_) => bind_shared_port(addr)?,
            None => bind_udp(addr)?,
        };
        Ok(Server { socket, log, args: args.clone() })
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.socket.local_addr().context(|| "cannot read the server's address")
    }

    /// Serves until `shutdown` is requested; then tells the members, prints the summary and
    /// returns it.
    pub fn run(self, shutdown: &Shutdown) -> Result<Summary> {
        let addr = self.local_addr()?;
        if let Some(broadcast) = self.args.broadcast {
            return run_broadcast(&self, shutdown, SocketAddr::new(broadcast, addr.port()));
        }
        self.log.info(format_args!("Chat hub ready on {addr}; press Ctrl-C to stop."));
        // The hub's state is shared by the two closures below, one at a time: a RefCell
        // says so to the borrow checker (the loop never runs them at once).
        let hub = RefCell::new(Hub::new(&self));
        serve_datagrams_with_ticks(
            &self.socket,
            shutdown,
            &self.log,
            |datagram, from| hub.borrow_mut().handle(datagram, from),
            || hub.borrow_mut().drop_idle_members(),
        )?;
        let mut hub = hub.into_inner();
        hub.close();
        self.log.info(format_args!("{}", hub.summary));
        Ok(hub.summary)
    }
}

/// One member of the chat.
struct Member {
    name: String,
    last_heard: Instant,
}

/// The hub's state: its members, the cookie key, what it has done.
struct Hub<'a> {
    socket: &'a UdpSocket,
    log: &'a Log,
    args: &'a ServerArgs,
    members: HashMap<SocketAddr, Member>,
    cookie_key: RandomState,
    started: Instant,
    last_idle_check: Instant,
    summary: Summary,
}

impl<'a> Hub<'a> {
    fn new(server: &'a Server) -> Self {
        Hub {
            socket: &server.socket,
            log: &server.log,
            args: &server.args,
            members: HashMap::new(),
            cookie_key: RandomState::new(),
            started: Instant::now(),
            last_idle_check: Instant::now(),
            summary: Summary::default(),
        }
    }

    /// Handles one datagram from `from`.
    fn handle(&mut self, datagram: &[u8], from: SocketAddr) {
        // BEGIN SOLUTION: note that a member was heard from, parse the datagram (refuse what does not parse), and act on JOIN, HELLO, SAY (members only, stamped with the member's name), PING and LEAVE
        if let Some(member) = self.members.get_mut(&from) {
            member.last_heard = Instant::now();
        }
        let message = match ClientMessage::parse(datagram) {
            Ok(message) => message,
            Err(BadMessage(why)) => return self.refuse(from, datagram.len(), why),
        };
        match message {
            ClientMessage::Join(name) => self.challenge(from, name, datagram.len()),
            ClientMessage::Hello { cookie, name } => self.admit(from, name, cookie, datagram.len()),
            ClientMessage::Say(text) => match self.members.get(&from) {
                Some(member) if text.len() <= self.args.max_message as usize => {
                    let chat =
                        ServerMessage::Chat { from: member.name.clone(), text: clean_text(text) };
                    self.log.message(format_args!(
                        "{}: {}",
                        member.name,
                        preview(text.as_bytes(), PREVIEW_CHARS)
                    ));
                    self.summary.messages += 1;
                    self.tell_everyone(&chat);
                }
                Some(_) => self.refuse(from, datagram.len(), "message too long"),
                None => self.refuse(from, datagram.len(), NOT_JOINED),
            },
            ClientMessage::Ping if self.members.contains_key(&from) => {
                self.send(from, &ServerMessage::Pong);
            }
            ClientMessage::Ping => self.refuse(from, datagram.len(), NOT_JOINED),
            ClientMessage::Leave => {
                if let Some(member) = self.members.remove(&from) {
                    self.announce(&format!("{} left", member.name));
                }
            }
        }
        // END SOLUTION
    }

    /// Step one of joining: send a cookie that only the real owner of `from` will receive.
    fn challenge(&mut self, from: SocketAddr, name: &str, request_len: usize) {
        if request_len < crate::protocol::MIN_JOIN_BYTES {
            return; // too short to answer without amplifying: a real client pads its JOIN
        }
        if let Err(why) = check_name(name) {
            return self.refuse(from, request_len, why);
        }
        self.summary.challenges += 1;
        let cookie = self.cookie(from, name, self.period());
        self.send_at_most(from, &ServerMessage::Challenge(cookie), request_len);
    }

    /// Step two: the address answered the challenge, so it is real. Admit it.
    fn admit(&mut self, from: SocketAddr, name: &str, cookie: u64, request_len: usize) {
        let period = self.period();
        let valid = cookie == self.cookie(from, name, period)
            || (period > 0 && cookie == self.cookie(from, name, period - 1));
        if !valid {
            return self.refuse(from, request_len, "wrong or expired challenge: join again");
        }
        if let Err(why) = check_name(name) {
            return self.refuse(from, request_len, why);
        }
        if let Some(member) = self.members.get(&from) {
            if member.name == name {
                return self.welcome(from, name); // a repeated HELLO (the first WELCOME was lost)
            }
            let why = format!("already joined as {}", member.name);
            return self.refuse(from, request_len, &why);
        }
        if self.members.values().any(|member| same_name(&member.name, name)) {
            return self.refuse(from, request_len, "that name is taken");
        }
        if self.members.len() >= self.args.max_members as usize && !self.members.contains_key(&from)
        {
            return self.refuse(from, request_len, "the chat is full");
        }
        self.members.insert(from, Member { name: name.to_string(), last_heard: Instant::now() });
        self.summary.members_seen += 1;
        self.log.message(format_args!("{name} joined from {from}"));
        self.welcome(from, name);
        self.announce(&format!("{name} joined"));
    }

    fn welcome(&self, to: SocketAddr, name: &str) {
        let mut online: Vec<String> =
            self.members.values().map(|member| member.name.clone()).collect();
        online.sort();
        if online.len() > MAX_NAMES_LISTED {
            let more = online.len() - MAX_NAMES_LISTED;
            online.truncate(MAX_NAMES_LISTED);
            online.push(format!("...({more}-more)"));
        }
        self.send(to, &ServerMessage::Welcome { name: name.to_string(), online });
    }

    /// Drops members who have been silent longer than `--idle-timeout` (checked once a
    /// second; keep-alives keep a quiet member in).
    fn drop_idle_members(&mut self) {
        if self.last_idle_check.elapsed() < IDLE_CHECK {
            return;
        }
        self.last_idle_check = Instant::now();
        let timeout = self.args.idle_timeout;
        let gone: Vec<SocketAddr> = self
            .members
            .iter()
            .filter(|(_, m)| m.last_heard.elapsed() > timeout)
            .map(|(addr, _)| *addr)
            .collect();
        for addr in gone {
            if let Some(member) = self.members.remove(&addr) {
                // It was a member, so its address is proven: it may be told in full.
                let why = format!("timed out: silent for more than {} s", timeout.as_secs_f64());
                self.send(addr, &ServerMessage::Error(why));
                self.summary.timeouts += 1;
                self.announce(&format!("{} timed out", member.name));
            }
        }
    }

    /// The cookie for `addr` joining as `name` during `period`.
    fn cookie(&self, addr: SocketAddr, name: &str, period: u64) -> u64 {
        self.cookie_key.hash_one((addr, name, period))
    }

    /// Which half-minute of the server's life it is.
    fn period(&self) -> u64 {
        self.started.elapsed().as_secs() / COOKIE_PERIOD.as_secs()
    }

    fn announce(&mut self, text: &str) {
        self.log.message(format_args!("* {text}"));
        self.tell_everyone(&ServerMessage::Notice(text.to_string()));
    }

    /// Sends one message to every member.
    fn tell_everyone(&mut self, message: &ServerMessage) {
        let datagram = message.to_string();
        for addr in self.members.keys() {
            match self.socket.send_to(datagram.as_bytes(), addr) {
                Ok(_) => self.summary.deliveries += 1,
                Err(error) => self
                    .log
                    .warn(format_args!("could not send to {addr}: {}", describe_io_error(&error))),
            }
        }
    }

    /// Refuses a request with an error (no larger than the request, if the sender is not a
    /// member: see [`send_at_most`](Self::send_at_most)).
    fn refuse(&mut self, to: SocketAddr, request_len: usize, why: &str) {
        self.summary.refused += 1;
        self.log.message(format_args!("refused {to}: {why}"));
        let error = ServerMessage::Error(why.to_string());
        if self.members.contains_key(&to) {
            self.send(to, &error);
        } else {
            self.send_at_most(to, &error, request_len);
        }
    }

    fn send(&self, to: SocketAddr, message: &ServerMessage) {
        self.send_at_most(to, message, usize::MAX);
    }

    /// Sends `message`, cut to `limit` bytes. A reply to an address that has not proven
    /// itself is never larger than what that address sent: otherwise a forged source address
    /// would let anyone use the server to flood a victim with more than they send.
    fn send_at_most(&self, to: SocketAddr, message: &ServerMessage, limit: usize) {
        let datagram = message.to_string();
        let bytes = &datagram.as_bytes()[..datagram.len().min(limit)];
        if let Err(error) = self.socket.send_to(bytes, to) {
            self.log.warn(format_args!("could not send to {to}: {}", describe_io_error(&error)));
        }
    }

    /// Tells every member the server is closing.
    fn close(&mut self) {
        self.tell_everyone(&ServerMessage::Closing);
        self.members.clear();
    }
}

/// The seed's server: every datagram goes to the broadcast address, for whoever listens.
/// Only the size is checked and control characters removed; who sent it is not checked at
/// all. That is the design's flaw, kept here so it can be seen.
fn run_broadcast(server: &Server, shutdown: &Shutdown, broadcast: SocketAddr) -> Result<Summary> {
    let log = &server.log;
    // Relays go out from a second socket, on a port of its own: the server's own socket may
    // receive its broadcasts (when it listens on 0.0.0.0), and must be able to tell them from
    // clients' messages, or it would relay its relays forever, a broadcast storm.
    let listening = server.local_addr()?;
    let relay = bind_udp(SocketAddr::new(listening.ip(), 0))?;
    relay.set_broadcast(true).context(|| "cannot set SO_BROADCAST")?;
    let relay_port =
        relay.local_addr().context(|| "cannot read the relay socket's address")?.port();
    log.info(format_args!(
        "!!!Server is ready!!! Relaying every datagram to the broadcast address {broadcast}; press Ctrl-C to stop."
    ));
    let mut summary = Summary::default();
    serve_datagrams(&server.socket, shutdown, log, |datagram, from| {
        if from.port() == relay_port {
            return; // one of our own relays, heard back
        }
        if datagram.len() > server.args.max_message as usize {
            log.warn(format_args!("dropped {} bytes from {from}: too long", datagram.len()));
            return;
        }
        let text = clean_text(&String::from_utf8_lossy(datagram));
        log.message(format_args!("{text}"));
        match relay.send_to(text.as_bytes(), broadcast) {
            Ok(_) => summary.messages += 1,
            Err(error) => {
                log.warn(format_args!("could not broadcast: {}", describe_io_error(&error)));
            }
        }
    })?;
    log.info(format_args!("Broadcast {} to {broadcast}.", plural(summary.messages, "message")));
    Ok(summary)
}

/// What the server did, printed when it stops.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Members admitted (after answering the challenge).
    pub members_seen: u64,
    /// Chat lines relayed.
    pub messages: u64,
    /// Datagrams sent to members (each line and notice, once per member).
    pub deliveries: u64,
    /// Challenges sent.
    pub challenges: u64,
    /// Requests refused.
    pub refused: u64,
    /// Members dropped for silence.
    pub timeouts: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Chat closed: {} seen, {} relayed ({}); {} refused, {} timed out.",
            plural(self.members_seen, "member"),
            plural(self.messages, "message"),
            if self.deliveries == 1 {
                "1 delivery".to_string()
            } else {
                format!("{} deliveries", self.deliveries)
            },
            self.refused,
            self.timeouts,
        )
    }
}
