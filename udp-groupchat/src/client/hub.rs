//! The hub's client: join with a challenge, then merge the keyboard and the network.
//!
//! Two threads feed channels: the keyboard thread (see [`super::keyboard`])
//! sends each typed line, the network thread ([`Chat::listen_on_a_thread`]) each datagram.
//! The main thread waits on both at once, plus a ticker for keep-alives, with
//! crossbeam-channel's `select!` ([`Chat::run`]), and each arm calls one method:
//! [`Chat::on_input`], [`Chat::on_datagram`], [`Chat::on_keepalive`]. All decisions are made
//! in one place, the main loop, so the client's state (are we joined? is the server still
//! there?) needs no lock.

use std::collections::VecDeque;
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvError, bounded, never, select, tick};
use shared::client_errors::udp_client_error;
use shared::console::output_line;
use shared::error::{Context, Error, Result};
use shared::io_errors::is_timeout_or_interrupt;
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;
use shared::udp::{RECV_BUFFER_SIZE, connect_udp};

use super::keyboard::{ERASE_TYPED_LINE, Input};
use super::sealed::SealedChat;
use crate::args::ClientArgs;
use crate::protocol::{ClientMessage, NOT_JOINED, ServerMessage};
use crate::text::clean_text;

/// Keep-alives missed before the server counts as gone.
const MISSED_KEEPALIVES: u32 = 3;

/// Lines remembered until the server relays them back (see `Chat::unconfirmed`).
const MAX_UNCONFIRMED: usize = 64;

/// A typed line is erased (it comes back from the server) only if it surely took one row of
/// the terminal: 79 columns, the narrowest common terminal being 80. The client cannot
/// know the real width without taking over the terminal, and erasing one row of a line
/// that wrapped onto several would leave the rest of it on screen, garbled.
const ONE_ROW: usize = 79;

/// How much of a refused line is shown again, in characters.
const REFUSED_PREVIEW_CHARS: usize = 40;

/// Joins the hub as `name`, then chats until `/quit`, the end of input, `shutdown` or the
/// server closing.
pub(super) fn chat(
    args: &ClientArgs,
    server: SocketAddr,
    name: &str,
    lines: &Receiver<Input>,
    terminal: bool,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    // The key first: its derivation takes a moment, better spent before joining.
    let sealed = SealedChat::start(&args.seal, out)?;
    let socket = connect_udp(server)?;
    let Some(session) = join_unless_stopped(&socket, server, name, args.timeout, shutdown)? else {
        return Err(Error::stopped()); // Ctrl-C before we were in: nothing to leave
    };
    // Names come from the server: cleaned like any text before they reach the terminal.
    let online: Vec<String> = session.online.iter().map(|name| clean_text(name)).collect();
    output_line(
        out,
        format_args!("Welcome to WhatsUDP Messenger, {name}! Online: {}", online.join(", ")),
    )?;
    let mut chat = Chat {
        socket: &socket,
        server,
        name,
        args,
        terminal,
        session,
        sealed,
        ignored: 0,
        last_heard: Instant::now(),
        unconfirmed: VecDeque::new(),
        input_ended: None,
    };
    let outcome = chat.run(lines, shutdown, out);
    if let Some(summary) = chat.sealed.as_ref().and_then(SealedChat::summary) {
        output_line(out, format_args!("{summary}"))?;
    }
    if chat.ignored > 0 {
        output_line(
            out,
            format_args!(
                "(ignored {} without our session secret: forged, or from an earlier session)",
                plural(chat.ignored, "datagram")
            ),
        )?;
    }
    outcome
}

/// What a member knows once it has joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who was online when we joined (us included), as the hub listed them.
    pub online: Vec<String>,
    /// Our session secret, from `WELCOME`: everything the hub sends us starts with it.
    pub secret: u64,
}

impl Session {
    /// Reads a datagram from the hub: `None` unless it starts with our secret (see
    /// [`crate::protocol::open`]).
    pub fn open(&self, datagram: &[u8]) -> Option<ServerMessage> {
        crate::protocol::open(self.secret, datagram)
    }
}

/// Joins the hub: `JOIN`, answer the `CHALLENGE` with `HELLO`, wait for `WELCOME`.
pub fn join(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    timeout: Duration,
) -> Result<Session> {
    join_session(socket, server, name, timeout, &Shutdown::new())
}

/// [`join`], giving up with an error when `shutdown` is requested.
pub(crate) fn join_session(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<Session> {
    join_unless_stopped(socket, server, name, timeout, shutdown)?.ok_or_else(Error::stopped)
}

/// [`join`], giving up at once (with `None`) when `shutdown` is requested: Ctrl-C must not
/// wait for the join's timeout.
fn join_unless_stopped(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    timeout: Duration,
    shutdown: &Shutdown,
) -> Result<Option<Session>> {
    // std cannot interrupt a blocked recv, so it wakes every POLL_INTERVAL to check for Ctrl-C.
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    // `wanted` picks the answer to wait for: a duplicated CHALLENGE (a network may deliver
    // a datagram twice) arriving after our HELLO is not the WELCOME we wait for.
    let mut ask = |request: &ClientMessage<'_>,
                   wanted: fn(&ServerMessage) -> bool|
     -> Result<Option<ServerMessage>> {
        socket.send(request.to_string().as_bytes()).map_err(|e| udp_client_error(server, e))?;
        let give_up_at = Instant::now() + timeout;
        loop {
            // Checked on every datagram too: a stream of chatter that is not the answer must
            // not keep us waiting past the timeout.
            if Instant::now() >= give_up_at {
                return Err(no_answer_to_join(server, timeout));
            }
            let len = match socket.recv(&mut buffer) {
                Ok(len) => len,
                // A timeout slice is over, or Ctrl-C interrupted the wait (never an error).
                Err(error) if is_timeout_or_interrupt(&error) => {
                    if shutdown.is_requested() {
                        return Ok(None);
                    }
                    continue;
                }
                Err(error) => return Err(udp_client_error(server, error)),
            };
            match ServerMessage::parse(&buffer[..len]) {
                Some(ServerMessage::Error(why)) => {
                    return Err(Error::msg(format!("the server refused: {}", clean_text(&why))));
                }
                Some(reply) if wanted(&reply) => return Ok(Some(reply)),
                // Chat traffic from an earlier membership, or a duplicate: not the answer.
                _ => {}
            }
        }
    };
    let is_challenge = |reply: &ServerMessage| matches!(reply, ServerMessage::Challenge(_));
    let is_welcome = |reply: &ServerMessage| matches!(reply, ServerMessage::Welcome { .. });
    let cookie = match ask(&ClientMessage::Join(name), is_challenge)? {
        Some(ServerMessage::Challenge(cookie)) => cookie,
        Some(_) => return Err(Error::msg("the server did not send a challenge")),
        None => return Ok(None),
    };
    match ask(&ClientMessage::Hello { cookie, name }, is_welcome)? {
        Some(ServerMessage::Welcome { secret, online, .. }) => Ok(Some(Session { online, secret })),
        Some(_) => Err(Error::msg("the server did not welcome us")),
        None => Ok(None),
    }
}

/// The error for a join that got no answer. The likeliest causes: no server, or a server in
/// the other mode (the seed's broadcaster relays a `JOIN` to the broadcast address and
/// never answers it).
fn no_answer_to_join(server: SocketAddr, timeout: Duration) -> Error {
    Error::msg(format!(
        "no reply from {server} within {} s: is the chat server running there, in hub mode? \
         (a server started with --broadcast never answers a join: start the client with \
         --broadcast too)",
        timeout.as_secs_f64()
    ))
}

/// Whether the main loop goes on.
enum Flow {
    Continue,
    Stop(Result<()>),
}

/// A joined member's session, and what the main loop remembers between events.
struct Chat<'a> {
    socket: &'a UdpSocket,
    server: SocketAddr,
    name: &'a str,
    args: &'a ClientArgs,
    terminal: bool,
    session: Session,
    /// The sealed chat's state, with `--passphrase-file`.
    sealed: Option<SealedChat>,
    /// Datagrams ignored because they did not start with our session secret.
    ignored: u64,
    /// When the server was last heard from (any datagram counts).
    last_heard: Instant,
    /// Lines sent but not yet relayed back to us, oldest first (at most
    /// [`MAX_UNCONFIRMED`]): at the end of input, we wait for them, so that nothing we said
    /// is cut off by our leaving; and a line the server refuses is shown again from here.
    unconfirmed: VecDeque<String>,
    /// When the input ended, if it has.
    input_ended: Option<Instant>,
}

impl Chat<'_> {
    /// The main loop: whatever comes first, a typed line, a datagram or a keep-alive tick.
    /// The steps:
    ///
    /// 1. Start the network thread (`self.listen_on_a_thread`, with a `Shutdown` of its own
    ///    to stop it) and a keep-alive ticker (`crossbeam_channel::tick(self.args.keepalive)`).
    ///    Make a channel that Ctrl-C wakes: `crossbeam_channel::bounded(1)`, and
    ///    `shutdown.on_request(move || { let _ = stop.try_send(()); })`.
    /// 2. Loop: stop when the input has ended (`self.input_ended`) and every line we sent
    ///    came back (`self.unconfirmed` is empty) or `self.args.timeout` has passed since.
    /// 3. Otherwise `select!` over the keyboard's `lines` (once the input has ended, a
    ///    `never()` channel instead: a closed channel is always ready, and the loop would
    ///    spin), the network thread's datagrams, the ticker and the Ctrl-C channel, calling
    ///    `self.on_input`, `self.on_datagram`, `self.on_keepalive` and `self.on_stop`, with
    ///    `default(POLL_INTERVAL)` so that step 2 is checked even when nothing happens. Each
    ///    returns a `Flow`.
    /// 4. After the loop: send `LEAVE` (ignore an error: the server may be gone), stop the
    ///    network thread, return the loop's outcome.
    fn run(
        &mut self,
        lines: &Receiver<Input>,
        shutdown: &Shutdown,
        out: &mut impl Write,
    ) -> Result<()> {
        // BEGIN SOLUTION: follow the numbered steps in this function's doc comment
        let stop_listening = Shutdown::new();
        let datagrams = self.listen_on_a_thread(&stop_listening)?;
        let keepalive = tick(self.args.keepalive);
        let (stop, ctrl_c) = bounded(1);
        shutdown.on_request(move || {
            let _ = stop.try_send(());
        });
        let no_more_input = never();
        let outcome = loop {
            if let Some(ended) = self.input_ended {
                // Leave once everything we said has come back (or we stop waiting for it).
                if self.unconfirmed.is_empty() || ended.elapsed() > self.args.timeout {
                    break Ok(());
                }
            }
            let keyboard = if self.input_ended.is_none() { lines } else { &no_more_input };
            let flow = select! {
                recv(keyboard) -> input => self.on_input(input, out),
                recv(datagrams) -> datagram => self.on_datagram(datagram, out),
                recv(keepalive) -> _ => self.on_keepalive(),
                recv(ctrl_c) -> _ => self.on_stop(out),
                default(POLL_INTERVAL) => Ok(Flow::Continue), // check for Ctrl-C, end of input
            };
            match flow {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop(result)) => break result,
                Err(error) => break Err(error),
            }
        };
        // Say goodbye (if the server is gone, it does not matter that nobody hears it), and
        // stop the network thread.
        let _ = self.send(&ClientMessage::Leave);
        stop_listening.request();
        outcome
        // END SOLUTION
    }

    /// A line from the keyboard (or the end of input): send it as `SAY`.
    fn on_input(&mut self, input: Result<Input, RecvError>, out: &mut impl Write) -> Result<Flow> {
        match input {
            Ok(Input::Line(line)) if line.trim() == "/quit" => return Ok(Flow::Stop(Ok(()))),
            Ok(Input::Line(line)) => {
                if self.terminal && display_width(&line) <= ONE_ROW {
                    out.write_all(ERASE_TYPED_LINE.as_bytes())
                        .context(|| "cannot write to the terminal")?;
                }
                let said = match &mut self.sealed {
                    Some(sealed) => sealed.seal(self.name, &line)?,
                    None => line.clone(),
                };
                self.send(&ClientMessage::Say(&said))?;
                if self.unconfirmed.len() == MAX_UNCONFIRMED {
                    self.unconfirmed.pop_front();
                }
                self.unconfirmed.push_back(line);
            }
            Ok(Input::Skipped) => {
                output_line(out, format_args!("(that line is too long for the chat: not sent)"))?;
            }
            Ok(Input::End) | Err(_) => {
                self.input_ended.get_or_insert_with(Instant::now);
            }
        }
        Ok(Flow::Continue)
    }

    /// A datagram from the server: print chat lines and notices, act on refusals.
    fn on_datagram(
        &mut self,
        datagram: Result<Vec<u8>, RecvError>,
        out: &mut impl Write,
    ) -> Result<Flow> {
        let Ok(datagram) = datagram else {
            return Ok(Flow::Stop(Err(Error::msg("lost the network thread"))));
        };
        match self.session.open(&datagram) {
            Some(ServerMessage::Chat { from, text }) => {
                self.last_heard = Instant::now();
                if from == self.name {
                    self.unconfirmed.pop_front();
                }
                let shown = match &mut self.sealed {
                    Some(sealed) => sealed.open(Some(&from), &text, out)?,
                    None => Some(format!("{}: {}", clean_text(&from), clean_text(&text))),
                };
                if let Some(shown) = shown {
                    output_line(out, format_args!("{shown}"))?;
                }
            }
            Some(ServerMessage::Notice(text)) => {
                self.last_heard = Instant::now();
                output_line(out, format_args!("* {}", clean_text(&text)))?;
            }
            Some(ServerMessage::Pong) => self.last_heard = Instant::now(),
            Some(ServerMessage::Error(why))
                if why == NOT_JOINED || why.starts_with("timed out") =>
            {
                let gone =
                    format!("the server no longer counts us as a member: {}", clean_text(&why));
                return Ok(Flow::Stop(Err(Error::msg(gone))));
            }
            Some(ServerMessage::Error(why)) => {
                // A refusal of one line (too long, say): the chat goes on. Show which line,
                // since it may have been erased from the screen when it was sent.
                let why = clean_text(&why);
                match self.unconfirmed.pop_front() {
                    Some(line) => output_line(
                        out,
                        format_args!(
                            "(refused by the server: {why}; your line: {:?})",
                            shorten(&line, REFUSED_PREVIEW_CHARS)
                        ),
                    )?,
                    None => output_line(out, format_args!("(refused by the server: {why})"))?,
                }
            }
            Some(ServerMessage::Closing) => {
                output_line(out, format_args!("* the server is closing the chat"))?;
                return Ok(Flow::Stop(Ok(())));
            }
            Some(_) => {} // a stray WELCOME or CHALLENGE: nothing to do
            None => {
                // Not sealed with our secret: forged with the hub's address, or left over
                // from an earlier session. Say so once; the total is printed at the end.
                self.ignored += 1;
                if self.ignored == 1 {
                    output_line(
                        out,
                        format_args!(
                            "(ignored a datagram without our session secret: forged, or from an earlier session)"
                        ),
                    )?;
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Ctrl-C: leave the chat politely (the loop's end sends `LEAVE`), then end as stopped
    /// (exit 130, as every client of the course after Ctrl-C).
    fn on_stop(&mut self, out: &mut impl Write) -> Result<Flow> {
        output_line(out, format_args!("(you left the chat)"))?;
        Ok(Flow::Stop(Err(Error::stopped())))
    }

    /// A keep-alive tick: `PING`, or give up if the server has been silent too long.
    fn on_keepalive(&mut self) -> Result<Flow> {
        if self.last_heard.elapsed() > self.args.keepalive * MISSED_KEEPALIVES {
            let gone = Error::msg(format!("the server at {} stopped answering", self.server));
            return Ok(Flow::Stop(Err(gone)));
        }
        self.send(&ClientMessage::Ping)?;
        Ok(Flow::Continue)
    }

    fn send(&self, message: &ClientMessage<'_>) -> Result<()> {
        self.socket
            .send(message.to_string().as_bytes())
            .map(drop)
            .map_err(|e| udp_client_error(self.server, e))
    }

    /// Starts the network thread: it passes every datagram into the returned channel until
    /// `stop` is requested.
    fn listen_on_a_thread(&self, stop: &Shutdown) -> Result<Receiver<Vec<u8>>> {
        let socket = self.socket.try_clone().context(|| "cannot share the socket with a thread")?;
        // std cannot interrupt a blocked recv, so it wakes every POLL_INTERVAL to check `stop`.
        socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
        let (datagrams, received) = bounded(1024);
        let stop = stop.clone();
        thread::Builder::new()
            .name("network".into())
            .spawn(move || {
                let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
                while !stop.is_requested() {
                    match socket.recv(&mut buffer) {
                        Ok(len) => {
                            if datagrams.send(buffer[..len].to_vec()).is_err() {
                                return; // the main loop is gone
                            }
                        }
                        Err(error) if is_timeout_or_interrupt(&error) => {}
                        // "Connection refused": the server is not there (any more). The
                        // keep-alive check in the main loop reports it.
                        Err(_) => thread::sleep(POLL_INTERVAL),
                    }
                }
            })
            .context(|| "cannot start the network thread")?;
        Ok(received)
    }
}

/// About how many terminal columns `text` takes: one per ASCII character, two for any
/// other (wide characters take two; counting every non-ASCII one as wide errs on the side
/// of not erasing).
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// At most `max_chars` characters of `text`, with `...` if it was longer.
fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}
