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
//! a limit of members per source address, and no answer at all to what looks like another
//! server's reply, so that two servers tricked into talking to each other do not ping-pong
//! forever.
//!
//! Read [`run`] first: the loop, `recv_from` → [`Hub::handle`] → `send_to`, as the seed's.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use shared::error::{Context, Result, describe_io_error};
use shared::io_errors::is_harmless_receive_error;
use shared::log::Log;
use shared::reply::{ReplyGuard, warn_refusal};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::{PREVIEW_CHARS, preview};
use shared::throttle::Throttle;
use shared::udp::RECV_BUFFER_SIZE;

use super::join_throttle::{JoinThrottle, Verdict};
use super::member_index::MemberIndex;
use super::{Server, ServerArgs, Summary};
use crate::protocol::{
    BadMessage, ClientMessage, MIN_JOIN_BYTES, NOT_JOINED, ServerMessage, check_name, clean_text,
    name_skeleton,
};

/// How often a warning of one kind may be printed; the ones held back are counted.
const WARN_EVERY: Duration = Duration::from_secs(10);

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
    // Whom the hub never answers (its own address, port 0, ports below 1024), and how
    // often one source may make it answer: shared by every UDP server of the course.
    let mut reply_guard = ReplyGuard::new(addr, &server.args.replies);
    // std cannot interrupt a blocked recv_from, so it wakes every POLL_INTERVAL to check for Ctrl-C.
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    // Big enough for any datagram, so none is ever cut short.
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    while !shutdown.is_requested() {
        match socket.recv_from(&mut buffer) {
            // Replies to non-members are no bigger than what came in (`send_at_most`), so
            // the hub needs the check only, not `ReplyGuard::spend`.
            Ok((len, from)) => match reply_guard.check(from, &buffer[..len]) {
                Ok(()) => hub.handle(&buffer[..len], from),
                // The log rate-limits this warning itself.
                Err(refusal) => warn_refusal(log, from, refusal),
            },
            // Nothing this interval, or Ctrl-C interrupted the wait: fall through.
            Err(error) if is_harmless_receive_error(&error) => {}
            Err(error) => log.warn(format_args!("receive failed: {}", describe_io_error(&error))),
        }
        // Quiet or busy, silent members must go (checked at most once a second).
        hub.drop_idle_members();
    }
    hub.close();
    hub.summary.not_answered = reply_guard.refused().total();
    Ok(hub.summary)
}

/// One member of the chat.
struct Member {
    name: String,
    last_heard: Instant,
    /// Starts everything the hub sends this member (see the module's docs).
    secret: u64,
}

/// The hub's state: its members, the cookie key, what it has done.
struct Hub<'a> {
    socket: &'a UdpSocket,
    log: &'a Log,
    args: &'a ServerArgs,
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
    /// Warnings about the member limits, at most one every [`WARN_EVERY`].
    limit_warning: Throttled,
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
            index: MemberIndex::default(),
            join_throttle: JoinThrottle::new(
                server.args.max_members_per_ip,
                server.args.joins_per_minute,
                server.args.max_join_hosts as usize,
            ),
            cookie_key: RandomState::new(),
            secret_key: RandomState::new(),
            limit_warning: Throttled::default(),
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
    fn handle(&mut self, datagram: &[u8], from: SocketAddr) {
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
        let host = self.args.hosts.host_of(from.ip());
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
        let limit = self.args.max_members_per_ip as usize;
        if self.index.members_of(host, |addr| self.members.contains_key(addr)) >= limit {
            let host = self.args.hosts.describe_host(from.ip());
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
        if self.members.len() >= self.args.max_members as usize {
            let max = self.args.max_members;
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
                let per_minute = self.args.joins_per_minute;
                self.limit_warning.warn(
                    self.log,
                    format_args!(
                        "refused a join from {from}: over --joins-per-minute {per_minute}"
                    ),
                );
            }
            Verdict::TableFull => {
                let max = self.args.max_join_hosts;
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
    fn drop_idle_members(&mut self) {
        if self.last_idle_check.elapsed() < IDLE_CHECK {
            return;
        }
        self.last_idle_check = Instant::now();
        // Whatever removed a member (a LEAVE, say), the index forgets it too.
        let members = &self.members;
        self.index.retain(|addr| members.contains_key(addr));
        let timeout = self.args.idle_timeout;
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

    /// Tells every member the server is closing.
    fn close(&mut self) {
        self.tell_everyone(&ServerMessage::Closing);
        self.members.clear();
        self.index.clear();
    }
}

/// Writes `secret` as 16 hex digits over the first 16 bytes of `datagram`.
fn put_secret(datagram: &mut [u8], secret: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in datagram.iter_mut().take(16).enumerate() {
        *byte = HEX[((secret >> (60 - 4 * i)) & 0xf) as usize];
    }
}

/// A warning of one kind, printed at most once every [`WARN_EVERY`] (`shared`'s
/// [`Throttle`]); the next one printed says how many were held back in between.
struct Throttled(Throttle);

impl Default for Throttled {
    fn default() -> Self {
        Throttled(Throttle::new(1, WARN_EVERY))
    }
}

impl Throttled {
    fn warn(&mut self, log: &Log, line: fmt::Arguments<'_>) {
        match self.0.admit(Instant::now()) {
            None => {}
            Some(0) => log.warn(line),
            Some(held_back) => log.warn(format_args!("{line} (and {held_back} more like it)")),
        }
    }
}
