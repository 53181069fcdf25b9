//! The hub: the same chat as the seed's, made safe. The default mode.
//!
//! The hub keeps a member table keyed by address, like module 3h's client table, and relays
//! each line to the members only. It decides who is speaking from the sender's address,
//! never from the text, so no member can speak as another just by writing a name.
//! (Someone who can forge a member's source address, on a shared LAN, still could: a real
//! protocol would add a secret per session, or encryption.) And it admits an
//! address only after the address has answered a challenge: a `JOIN` whose source address
//! was forged gets its `CHALLENGE` sent to the forged address, which cannot answer, so the
//! forger cannot make the server send the chat to a victim. Replies to anyone who is not a
//! member are never larger than what they sent, so a forged datagram cannot be amplified.
//!
//! The challenge's cookie is computed, not stored: a keyed hash of the address, the name and
//! the current half-minute, made with std's `RandomState` (a hasher with a random key;
//! fine for a lesson, while real code would use a cryptographic MAC such as HMAC-SHA256). To
//! check a `HELLO` the server computes it again. So forged `JOIN`s cost the server no memory
//! at all (the idea of TCP's SYN cookies).
//!
//! Read [`run`] first: the loop, `recv_from` → [`Hub::handle`] → `send_to`, as the seed's.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use shared::datagram::{PREVIEW_CHARS, RECV_BUFFER_SIZE, is_harmless_receive_error, preview};
use shared::error::{Context, Result, describe_io_error};
use shared::report::Log;
use shared::shutdown::{POLL_INTERVAL, Shutdown};

use super::{Server, ServerArgs, Summary};
use crate::protocol::{
    BadMessage, ClientMessage, MIN_JOIN_BYTES, NOT_JOINED, ServerMessage, check_name, clean_text,
    same_name,
};

/// How long a challenge's cookie stays valid: it is accepted in its own half-minute and the
/// next one.
const COOKIE_PERIOD: Duration = Duration::from_secs(30);

/// The most names a `WELCOME` lists (it must fit in one datagram).
const MAX_NAMES_LISTED: usize = 50;

/// How often the hub looks for members who have gone silent.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The hub's loop: receive a datagram, react to it (which sends the replies), and between
/// datagrams drop the members who went silent. Returns what it did when `shutdown` comes.
pub(super) fn run(server: &Server, shutdown: &Shutdown) -> Result<Summary> {
    let (socket, log) = (&server.socket, &server.log);
    let addr = server.local_addr()?;
    log.info(format_args!("Chat hub ready on {addr}; press Ctrl-C to stop."));
    let mut hub = Hub::new(server);
    // std cannot interrupt a blocked recv_from, so it wakes every POLL_INTERVAL to check for Ctrl-C.
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    // Big enough for any datagram, so none is ever cut short.
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    while !shutdown.is_requested() {
        match socket.recv_from(&mut buffer) {
            Ok((len, from)) => hub.handle(&buffer[..len], from),
            // Nothing this interval, or Ctrl-C interrupted the wait: fall through.
            Err(error) if is_harmless_receive_error(&error) => {}
            Err(error) => log.warn(format_args!("receive failed: {}", describe_io_error(&error))),
        }
        // Quiet or busy, silent members must go (checked at most once a second).
        hub.drop_idle_members();
    }
    hub.close();
    Ok(hub.summary)
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

    /// The hub's reaction to one datagram from `from`. The steps:
    ///
    /// 1. If `from` is a member, note that it was heard from now (`last_heard`), so that
    ///    keep-alives keep it in.
    /// 2. Parse the datagram with `ClientMessage::parse`; if it does not parse, `refuse` it
    ///    with the reason and stop.
    /// 3. `JOIN name`: send a challenge (`self.challenge`). `HELLO cookie name`: check the
    ///    answer and admit (`self.admit`).
    /// 4. `SAY text` from a member, no longer than `--max-message` bytes: log it, count it
    ///    (`summary.messages`) and send `CHAT <member's name>: <clean_text(text)>` to every
    ///    member (`self.tell_everyone`): the name comes from the table, never from the text.
    ///    Too long: refuse with `message too long`. Not a member: refuse with [`NOT_JOINED`].
    /// 5. `PING` from a member: `send` a `PONG`; from anyone else: refuse with [`NOT_JOINED`].
    /// 6. `LEAVE`: remove the member, and `announce` that it left.
    fn handle(&mut self, datagram: &[u8], from: SocketAddr) {
        // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
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
        if request_len < MIN_JOIN_BYTES {
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
