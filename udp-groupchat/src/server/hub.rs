//! The hub: the same chat as the seed's, made safe. The default mode.
//!
//! The hub keeps a member table keyed by address, like module 3h's client table, and relays
//! each line to the members only. It decides who is speaking from the sender's address,
//! never from the text, so no member can speak as another just by writing a name.
//! And it admits an
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
//! The next lesson after the challenge: **a session secret**. The challenge proves to the hub
//! that a member's address is real; nothing yet proves to the member that a datagram from
//! the hub's address is the hub's. Anyone can forge that source address, and a client would
//! print a fake line or obey a fake `CLOSING`. So at `WELCOME` the hub gives each member a
//! random 64-bit secret of its own, and starts everything it sends that member with it; the
//! client ignores whatever lacks it. A forger who cannot see the traffic would have to guess
//! one in 2^64. (Someone who *can* see it, on the same LAN, reads the secret too: against
//! them only cryptography helps, such as DTLS or a MAC keyed by a key exchange.)
//!
//! And what every server here does about a hostile network: `shared::reply::ReplyGuard`
//! (never answer the hub's own address, port 0 or the well-known ports; a per-source rate),
//! checked by the loop before a datagram reaches the hub; and, here, a limit of members per
//! host, joins throttled per host, and no answer at all to what looks like another server's
//! reply, so that two servers tricked into talking to each other do not ping-pong forever.
//!
//! The loop that feeds the hub is `Server::serve_hub`, in `src/server.rs`: `recv_from` →
//! [`Hub::handle`] → `send_to`, as the seed's. This file holds the hub's reactions.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use shared::error::describe_io_error;
use shared::log::Log;
use shared::text::{PREVIEW_CHARS, preview};

use super::join_throttle::{JoinThrottle, Verdict};
use super::limit_warning::LimitWarning;
use super::member_index::MemberIndex;
use super::summary::Summary;
use crate::args::ServerConfig;
use crate::names::{check_name, name_skeleton};
use crate::protocol::{BadMessage, ClientMessage, MIN_JOIN_BYTES, NOT_JOINED, ServerMessage};
use crate::text::clean_text;

/// How long a challenge's cookie stays valid: it is accepted in its own half-minute and the
/// next one.
const COOKIE_PERIOD: Duration = Duration::from_secs(30);

/// The most names a `WELCOME` lists (it must fit in one datagram).
const MAX_NAMES_LISTED: usize = 50;

/// How often the hub looks for members who have gone silent.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// One member of the chat.
struct Member {
    name: String,
    last_heard: Instant,
    /// Starts everything the hub sends this member (see the module's docs).
    secret: u64,
}

/// The hub's state: its members, the cookie key, what it has done.
pub(super) struct Hub<'a> {
    socket: &'a UdpSocket,
    log: &'a Log,
    config: &'a ServerConfig,
    members: HashMap<SocketAddr, Member>,
    /// The members' name skeletons and their addresses per host, noted as they join (and
    /// checked against `members`), so that a join costs lookups, not a walk over every
    /// member.
    index: MemberIndex,
    /// How often each host may join.
    join_throttle: JoinThrottle,
    cookie_key: RandomState,
    /// Draws the members' session secrets (a second key: a secret must not be computable
    /// from anything a cookie reveals).
    secret_key: RandomState,
    /// Warnings about the member limits, at most one every 10 s.
    limit_warning: LimitWarning,
    started: Instant,
    last_idle_check: Instant,
    summary: Summary,
}

impl<'a> Hub<'a> {
    /// A hub with no members yet, that answers through `socket` and logs to `log`, within
    /// the limits of `config`.
    pub(super) fn new(socket: &'a UdpSocket, log: &'a Log, config: &'a ServerConfig) -> Self {
        Hub {
            socket,
            log,
            config,
            members: HashMap::new(),
            index: MemberIndex::default(),
            join_throttle: JoinThrottle::new(
                config.max_members_per_ip,
                config.joins_per_minute,
                config.max_join_hosts as usize,
            ),
            cookie_key: RandomState::new(),
            secret_key: RandomState::new(),
            limit_warning: LimitWarning::default(),
            started: Instant::now(),
            last_idle_check: Instant::now(),
            summary: Summary::default(),
        }
    }

    /// The hub's reaction to one datagram from `from`. The steps:
    ///
    /// 1. If `from` is a member, note that it was heard from now (`last_heard`), so that
    ///    keep-alives keep it in.
    /// 2. Parse the datagram with `ClientMessage::parse`; if it does not parse, stop with
    ///    `self.refuse_unreadable(from, datagram, why)` (silent to what looks like another
    ///    server's reply: answering that could start an endless loop between two servers).
    /// 3. `JOIN name`: send a challenge (`self.challenge`). `HELLO cookie name`: check the
    ///    answer and admit (`self.admit`).
    /// 4. `SAY text` from a member, no longer than `--max-message` bytes: log it, count it
    ///    (`summary.messages`) and send `CHAT <member's name>: <clean_text(text)>` to every
    ///    member (`self.tell_everyone`): the name comes from the table, never from the text.
    ///    Too long: refuse with `message too long`. Not a member: refuse with [`NOT_JOINED`].
    /// 5. `PING` from a member: send it a `PONG` (`self.tell`); from anyone else: refuse with
    ///    [`NOT_JOINED`].
    /// 6. `LEAVE`: remove the member, and `announce` that it left.
    pub(super) fn handle(&mut self, datagram: &[u8], from: SocketAddr) {
        // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
        if let Some(member) = self.members.get_mut(&from) {
            member.last_heard = Instant::now();
        }
        let message = match ClientMessage::parse(datagram) {
            Ok(message) => message,
            Err(BadMessage(why)) => return self.refuse_unreadable(from, datagram, why),
        };
        match message {
            ClientMessage::Join(name) => self.challenge(from, name, datagram.len()),
            ClientMessage::Hello { cookie, name } => self.admit(from, name, cookie, datagram.len()),
            ClientMessage::Say(text) => match self.members.get(&from) {
                Some(member) if text.len() <= self.config.max_message as usize => {
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
                self.tell(from, &ServerMessage::Pong);
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
            return self.refuse_handshake(from, request_len, why);
        }
        self.summary.challenges += 1;
        let cookie = self.cookie(from, name, self.period());
        self.send_at_most(from, &ServerMessage::Challenge(cookie), request_len);
    }

    /// Step two: the address answered the challenge, so it is real. Admit it.
    ///
    /// Cheap checks first, each a hash or a lookup: the cookie, a repeated `HELLO`, the
    /// host's member count and its join throttle; only then the name's Unicode checks and
    /// its skeleton, computed once and looked up in the index (no walk over the members).
    fn admit(&mut self, from: SocketAddr, name: &str, cookie: u64, request_len: usize) {
        let period = self.period();
        let valid = cookie == self.cookie(from, name, period)
            || (period > 0 && cookie == self.cookie(from, name, period - 1));
        if !valid {
            return self.refuse_handshake(
                from,
                request_len,
                "wrong or expired challenge: join again",
            );
        }
        // From here on the address is proven (it received the cookie): a refusal may be
        // longer than the HELLO, so it can say why in full.
        let host = self.config.hosts.host_of(from.ip());
        if let Some(member) = self.members.get(&from) {
            if member.name != name {
                let why = format!("already joined as {}", member.name);
                return self.refuse_handshake(from, usize::MAX, &why);
            }
            // A repeated HELLO (the first WELCOME was lost): the same secret again. It
            // counts as a join: replayed, it would make the hub send a WELCOME each time.
            let secret = member.secret;
            if self.join_allowed(from, host) {
                self.welcome(from, name, secret);
            }
            return;
        }
        // One host must not take the whole table: checked before "full", so that a
        // table filled from one host tells the next one there why.
        let limit = self.config.max_members_per_ip as usize;
        if self.index.members_of(host, |addr| self.members.contains_key(addr)) >= limit {
            let host = self.config.hosts.describe_host(from.ip());
            self.limit_warning.warn(
                self.log,
                format_args!("refused a member from {host}: it has {limit} (--max-members-per-ip)"),
            );
            let why = format!("too many members from {host} (at most {limit})");
            return self.refuse_handshake(from, usize::MAX, &why);
        }
        if !self.join_allowed(from, host) {
            return;
        }
        if let Err(why) = check_name(name) {
            return self.refuse_handshake(from, usize::MAX, why);
        }
        let skeleton = name_skeleton(name);
        if let Some(taken) = self.index.with_skeleton(&skeleton).and_then(|a| self.members.get(&a))
        {
            let why = if taken.name.to_lowercase() == name.to_lowercase() {
                "that name is taken".to_string()
            } else {
                format!("that name is taken: it looks like {}", taken.name)
            };
            return self.refuse_handshake(from, usize::MAX, &why);
        }
        if self.members.len() >= self.config.max_members as usize {
            let max = self.config.max_members;
            self.limit_warning.warn(
                self.log,
                format_args!("refused a member: the chat is full (--max-members {max})"),
            );
            return self.refuse_handshake(from, usize::MAX, "the chat is full");
        }
        // Random to anyone without the key: a keyed hash of the address, the name and the
        // moment (real code would draw it from the operating system's random source).
        let secret =
            self.secret_key.hash_one((from, name, Instant::now(), self.summary.members_seen));
        let member = Member { name: name.to_string(), last_heard: Instant::now(), secret };
        self.members.insert(from, member);
        self.index.insert(from, skeleton, host);
        self.summary.members_seen += 1;
        self.log.message(format_args!("{name} joined from {from}"));
        self.welcome(from, name, secret);
        self.announce(&format!("{name} joined"));
    }

    /// Whether `host` may join now (counting the join); if not, `from` is told so.
    fn join_allowed(&mut self, from: SocketAddr, host: IpAddr) -> bool {
        match self.join_throttle.check(host, Instant::now()) {
            Verdict::Allowed => return true,
            Verdict::TooOften => {
                let per_minute = self.config.joins_per_minute;
                self.limit_warning.warn(
                    self.log,
                    format_args!(
                        "refused a join from {from}: over --joins-per-minute {per_minute}"
                    ),
                );
            }
            Verdict::TableFull => {
                let max = self.config.max_join_hosts;
                self.limit_warning.warn(
                    self.log,
                    format_args!(
                        "refused a join from {from}: {max} hosts joined in the last minutes \
                         (--max-join-hosts)"
                    ),
                );
            }
        }
        self.refuse_handshake(from, usize::MAX, "joining too often: wait a minute");
        false
    }

    fn welcome(&self, to: SocketAddr, name: &str, secret: u64) {
        let mut online: Vec<String> =
            self.members.values().map(|member| member.name.clone()).collect();
        online.sort();
        if online.len() > MAX_NAMES_LISTED {
            let more = online.len() - MAX_NAMES_LISTED;
            online.truncate(MAX_NAMES_LISTED);
            online.push(format!("...({more}-more)"));
        }
        let welcome = ServerMessage::Welcome { secret, name: name.to_string(), online };
        self.send_at_most(to, &welcome, usize::MAX);
    }

    /// Drops members who have been silent longer than `--idle-timeout` (checked once a
    /// second; keep-alives keep a quiet member in).
    pub(super) fn drop_idle_members(&mut self) {
        if self.last_idle_check.elapsed() < IDLE_CHECK {
            return;
        }
        self.last_idle_check = Instant::now();
        // Whatever removed a member (a LEAVE, say), the index forgets it too.
        let members = &self.members;
        self.index.retain(|addr| members.contains_key(addr));
        let timeout = self.config.idle_timeout;
        let gone: Vec<SocketAddr> = self
            .members
            .iter()
            .filter(|(_, m)| m.last_heard.elapsed() > timeout)
            .map(|(addr, _)| *addr)
            .collect();
        for addr in gone {
            if let Some(member) = self.members.remove(&addr) {
                self.index.remove(addr);
                // It was a member, so its address is proven: it may be told in full.
                let why = format!("timed out: silent for more than {} s", timeout.as_secs_f64());
                self.send_sealed(addr, member.secret, &ServerMessage::Error(why));
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

    /// Sends one message to every member, each copy starting with that member's secret.
    fn tell_everyone(&mut self, message: &ServerMessage) {
        // Formatted once; only the secret in front changes from member to member.
        let mut datagram = format!("{:016x} {message}", 0u64).into_bytes();
        for (addr, member) in &self.members {
            put_secret(&mut datagram, member.secret);
            match self.socket.send_to(&datagram, addr) {
                Ok(_) => self.summary.deliveries += 1,
                Err(error) => self
                    .log
                    .warn(format_args!("could not send to {addr}: {}", describe_io_error(&error))),
            }
        }
    }

    /// Answers a datagram that is not a client message, unless it looks like another
    /// server's reply: then the hub stays silent, or two servers tricked into talking to
    /// each other (by one datagram forged with the other's address) would answer each
    /// other's errors forever.
    fn refuse_unreadable(&mut self, from: SocketAddr, datagram: &[u8], why: &str) {
        if ServerMessage::parse(datagram).is_some() {
            self.summary.ignored += 1;
            return;
        }
        self.refuse(from, datagram.len(), why);
    }

    /// Refuses a request with an error (no larger than the request, if the sender is not a
    /// member: see [`send_at_most`](Self::send_at_most)).
    fn refuse(&mut self, to: SocketAddr, request_len: usize, why: &str) {
        self.summary.refused += 1;
        self.log.message(format_args!("refused {to}: {why}"));
        let error = ServerMessage::Error(why.to_string());
        if self.members.contains_key(&to) {
            self.tell(to, &error);
        } else {
            self.send_at_most(to, &error, request_len);
        }
    }

    /// Refuses a `JOIN` or `HELLO`. Never sealed, even to a member (one trying to rename
    /// itself): the handshake's answers go to whoever has no secret yet, and the client's
    /// join reads them as they are.
    ///
    /// `limit` is the request's length for an address not proven yet (see
    /// [`send_at_most`](Self::send_at_most)).
    fn refuse_handshake(&mut self, to: SocketAddr, limit: usize, why: &str) {
        self.summary.refused += 1;
        self.log.message(format_args!("refused {to}: {why}"));
        let limit = if self.members.contains_key(&to) { usize::MAX } else { limit };
        self.send_at_most(to, &ServerMessage::Error(why.to_string()), limit);
    }

    /// Sends a message to a member, sealed with its secret (nothing, if `to` is no member).
    fn tell(&self, to: SocketAddr, message: &ServerMessage) {
        if let Some(member) = self.members.get(&to) {
            self.send_sealed(to, member.secret, message);
        }
    }

    /// Sends `message` to `to`, starting with `secret`.
    fn send_sealed(&self, to: SocketAddr, secret: u64, message: &ServerMessage) {
        let datagram = crate::protocol::seal(secret, message);
        if let Err(error) = self.socket.send_to(datagram.as_bytes(), to) {
            self.log.warn(format_args!("could not send to {to}: {}", describe_io_error(&error)));
        }
    }

    /// Sends `message` as it is (to someone who is not a member yet), cut to `limit` bytes.
    /// A reply to an address that has not proven itself is never larger than what that
    /// address sent: otherwise a forged source address would let anyone use the server to
    /// flood a victim with more than they send.
    fn send_at_most(&self, to: SocketAddr, message: &ServerMessage, limit: usize) {
        let datagram = message.to_string();
        let bytes = &datagram.as_bytes()[..datagram.len().min(limit)];
        if let Err(error) = self.socket.send_to(bytes, to) {
            self.log.warn(format_args!("could not send to {to}: {}", describe_io_error(&error)));
        }
    }

    /// Tells every member the server is closing, and returns what the hub did;
    /// `not_answered` is what the reply rule kept from it (counted by the loop's
    /// `ReplyGuard`).
    pub(super) fn close(mut self, not_answered: u64) -> Summary {
        self.tell_everyone(&ServerMessage::Closing);
        self.members.clear();
        self.index.clear();
        self.summary.not_answered = not_answered;
        self.summary
    }
}

/// Writes `secret` as 16 hex digits over the first 16 bytes of `datagram`.
fn put_secret(datagram: &mut [u8], secret: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in datagram.iter_mut().take(16).enumerate() {
        *byte = HEX[((secret >> (60 - 4 * i)) & 0xf) as usize];
    }
}
