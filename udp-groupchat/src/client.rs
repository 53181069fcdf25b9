//! The chat client: reads the keyboard and the network at the same time.
//!
//! The seed's client has two threads: one blocks in `input()` waiting for the user, the other
//! blocks in `recvfrom` waiting for the network. Neither can wait for both. Here too, each
//! source gets its own thread, but both threads only pass what they get into a channel, and
//! the main thread waits on both channels at once with crossbeam-channel's `select!`, plus a
//! ticker for keep-alives. All decisions are made in one place, the main loop, so the
//! client's state (are we joined? is the server still there?) needs no lock.
//!
//! When stdin is a terminal, the line the user typed is erased after sending (`\x1b[F`, as in
//! the seed, then "clear line"), because the server sends it back as `alice: ...` and it
//! would otherwise show twice. When stdin is a pipe, nothing is erased.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, bounded, never, select, tick};
use shared::address::AddressArgs;
use shared::datagram::{
    RECV_BUFFER_SIZE, connect_udp, is_timeout_or_interrupt, no_reply_error, udp_client_error,
};
use shared::error::{Context, Error, Result};
use shared::framing::{LineError, LineReader};
use shared::load::parse_seconds;
use shared::report::output_line;
use shared::shutdown::{POLL_INTERVAL, Shutdown};

use crate::protocol::{ClientMessage, NOT_JOINED, ServerMessage, check_name, clean_text};
use crate::{Course, bind_shared_port};

/// The prompt, as the seed's `input()` shows it.
pub const PROMPT: &str = "Input username: ";

/// Longest line read from the keyboard.
const MAX_INPUT_LINE: usize = 4096;

/// Keep-alives missed before the server counts as gone.
const MISSED_KEEPALIVES: u32 = 3;

/// Erases the line the user just typed: cursor up one line, then clear that line.
const ERASE_TYPED_LINE: &str = "\x1b[F\x1b[2K";

/// Command-line arguments of `client`.
#[derive(clap::Parser, Debug, Clone)]
#[command(
    name = "client",
    version,
    about = "Group chat client over UDP: type lines to send them to everyone; /quit or Ctrl-D leaves.",
    long_about = "Group chat client over UDP: type lines to send them to everyone; /quit or Ctrl-D leaves.\n\n\
                  It asks for a username, joins the hub (the server answers a challenge first), \
                  and prints what everyone says. With --broadcast it joins the seed's broadcast \
                  chat instead: it listens on the chat port itself, with every other client on \
                  this host, and the server broadcasts to all of them."
)]
pub struct ClientArgs {
    /// Where the server is.
    #[command(flatten)]
    pub address: AddressArgs<Course>,

    /// Your name in the chat; without it you are asked, as in the seed.
    #[arg(long, short, value_name = "NAME")]
    pub username: Option<String>,

    /// Seconds to wait for the server to answer the join.
    #[arg(long, value_name = "SECS", default_value = "3", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Seconds between keep-alives (the hub drops members that stay silent too long; three
    /// unanswered keep-alives mean the server is gone).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds,
          allow_negative_numbers = true)]
    pub keepalive: Duration,

    /// Broadcast mode (the seed's design): listen on 0.0.0.0 at the chat port, shared with
    /// the other clients on this host, and send lines as 'username: text' to the server.
    #[arg(long)]
    pub broadcast: bool,
}

/// What the main loop waits for besides the network.
enum Input {
    Line(String),
    /// A line too long for the chat was skipped.
    Skipped,
    End,
}

/// Runs the client: asks for the name (from `input`), joins, then chats until `/quit`, the
/// end of `input`, Ctrl-C (`shutdown`) or the server closing. `terminal` says whether `input`
/// is a terminal (prompt, erase typed lines). What the user would see goes to `out`.
pub fn run(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead + Send + 'static,
    terminal: bool,
    out: &mut impl Write,
) -> Result<()> {
    let server = args.address.resolve()?;
    let lines = read_lines_on_a_thread(input);
    let name = match &args.username {
        Some(name) => name.clone(),
        None => {
            if terminal {
                out.write_all(PROMPT.as_bytes())
                    .and_then(|()| out.flush())
                    .context(|| "cannot write the prompt")?;
            }
            match lines.recv() {
                Ok(Input::Line(name)) => name.trim().to_string(),
                _ => return Err(Error::msg("no username given")),
            }
        }
    };
    check_name(&name).map_err(|why| Error::msg(format!("invalid username: {why}")))?;
    if args.broadcast {
        return broadcast_chat(args, server, &name, &lines, terminal, shutdown, out);
    }
    let socket = connect_udp(server)?;
    let online = join(&socket, server, &name, args.timeout)?;
    // Names come from the server: cleaned like any text before they reach the terminal.
    let online: Vec<String> = online.iter().map(|name| clean_text(name)).collect();
    output_line(
        out,
        format_args!("Welcome to WhatsUDP Messenger, {name}! Online: {}", online.join(", ")),
    )?;
    let chat = Chat { socket: &socket, server, name: &name, args, terminal };
    chat.run(&lines, shutdown, out)
}

/// Joins the hub: `JOIN`, answer the `CHALLENGE` with `HELLO`, wait for `WELCOME`. Returns
/// who is online.
pub fn join(
    socket: &UdpSocket,
    server: SocketAddr,
    name: &str,
    timeout: Duration,
) -> Result<Vec<String>> {
    socket.set_read_timeout(Some(timeout)).context(|| "cannot set the read timeout")?;
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let mut ask = |request: &ClientMessage<'_>| -> Result<ServerMessage> {
        socket.send(request.to_string().as_bytes()).map_err(|e| udp_client_error(server, e))?;
        loop {
            let len = socket.recv(&mut buffer).map_err(|e| no_reply_error(server, timeout, e))?;
            match ServerMessage::parse(&buffer[..len]) {
                Some(ServerMessage::Error(why)) => {
                    return Err(Error::msg(format!("the server refused: {why}")));
                }
                Some(reply @ (ServerMessage::Challenge(_) | ServerMessage::Welcome { .. })) => {
                    return Ok(reply);
                }
                _ => {} // chat traffic from an earlier membership: not the answer we wait for
            }
        }
    };
    let ServerMessage::Challenge(cookie) = ask(&ClientMessage::Join(name))? else {
        return Err(Error::msg("the server did not send a challenge"));
    };
    match ask(&ClientMessage::Hello { cookie, name })? {
        ServerMessage::Welcome { online, .. } => Ok(online),
        _ => Err(Error::msg("the server did not welcome us")),
    }
}

/// What the main loop waits on.
struct Events {
    /// The keyboard thread's lines; once the input has ended, a channel that never delivers
    /// (a closed channel is always ready, and the loop would spin).
    lines: Receiver<Input>,
    datagrams: Receiver<Vec<u8>>,
    keepalive: Receiver<Instant>,
}

/// What the main loop remembers between events.
struct State {
    /// When the server was last heard from (any datagram counts).
    last_heard: Instant,
    /// Lines sent but not yet relayed back to us: at the end of input, we wait for them, so
    /// that nothing we said is cut off by our leaving.
    unconfirmed: u32,
    /// When the input ended, if it has.
    input_ended: Option<Instant>,
}

/// Whether the main loop goes on.
enum Flow {
    Continue,
    Stop(Result<()>),
}

/// A joined member's session.
struct Chat<'a> {
    socket: &'a UdpSocket,
    server: SocketAddr,
    name: &'a str,
    args: &'a ClientArgs,
    terminal: bool,
}

impl Chat<'_> {
    /// The main loop: whatever comes first, a typed line, a datagram or a keep-alive tick.
    fn run(
        &self,
        lines: &Receiver<Input>,
        shutdown: &Shutdown,
        out: &mut impl Write,
    ) -> Result<()> {
        let stop_listening = Shutdown::new();
        let mut events = Events {
            lines: lines.clone(),
            datagrams: self.listen_on_a_thread(&stop_listening)?,
            keepalive: tick(self.args.keepalive),
        };
        let mut state = State { last_heard: Instant::now(), unconfirmed: 0, input_ended: None };
        let outcome = loop {
            if shutdown.is_requested() {
                break Ok(());
            }
            if let Some(ended) = state.input_ended {
                // Leave once everything we said has come back (or we stop waiting for it).
                if state.unconfirmed == 0 || ended.elapsed() > self.args.timeout {
                    break Ok(());
                }
            }
            match self.next_event(&mut events, &mut state, out) {
                Ok(Flow::Continue) => {}
                Ok(Flow::Stop(result)) => break result,
                Err(error) => break Err(error),
            }
        };
        // Say goodbye (if the server is gone, it does not matter that nobody hears it), and
        // stop the network thread.
        let _ = self.socket.send(ClientMessage::Leave.to_string().as_bytes());
        stop_listening.request();
        outcome
    }

    /// Waits for whichever comes first (a typed line, a datagram, a keep-alive tick, or
    /// a tenth of a second passing) and deals with it.
    fn next_event(
        &self,
        events: &mut Events,
        state: &mut State,
        out: &mut impl Write,
    ) -> Result<Flow> {
        // BEGIN SOLUTION: select! over events.lines (send SAY, erasing the typed line on a terminal; /quit stops; at the end of input start leaving), events.datagrams (print CHAT as "name: text" and NOTICE as "* text", print refusals, stop on "not joined", a time-out or CLOSING) and events.keepalive (send PING, or stop if the server has been silent for MISSED_KEEPALIVES intervals), with default(POLL_INTERVAL)
        select! {
            recv(events.lines) -> input => match input {
                Ok(Input::Line(line)) if line.trim() == "/quit" => return Ok(Flow::Stop(Ok(()))),
                Ok(Input::Line(line)) => {
                    if self.terminal {
                        out.write_all(ERASE_TYPED_LINE.as_bytes()).context(|| "cannot write to the terminal")?;
                    }
                    self.send(&ClientMessage::Say(&line))?;
                    state.unconfirmed += 1;
                }
                Ok(Input::Skipped) => output_line(out, format_args!("(that line is too long for the chat: not sent)"))?,
                Ok(Input::End) | Err(_) => {
                    state.input_ended.get_or_insert_with(Instant::now);
                    events.lines = never();
                }
            },
            recv(events.datagrams) -> datagram => {
                let Ok(datagram) = datagram else {
                    return Ok(Flow::Stop(Err(Error::msg("lost the network thread"))));
                };
                match ServerMessage::parse(&datagram) {
                    Some(ServerMessage::Chat { from, text }) => {
                        state.last_heard = Instant::now();
                        if from == self.name {
                            state.unconfirmed = state.unconfirmed.saturating_sub(1);
                        }
                        output_line(out, format_args!("{}: {}", clean_text(&from), clean_text(&text)))?;
                    }
                    Some(ServerMessage::Notice(text)) => {
                        state.last_heard = Instant::now();
                        output_line(out, format_args!("* {}", clean_text(&text)))?;
                    }
                    Some(ServerMessage::Pong) => state.last_heard = Instant::now(),
                    Some(ServerMessage::Error(why)) if why == NOT_JOINED || why.starts_with("timed out") => {
                        let gone = format!("the server no longer counts us as a member: {}", clean_text(&why));
                        return Ok(Flow::Stop(Err(Error::msg(gone))));
                    }
                    Some(ServerMessage::Error(why)) => {
                        // A refusal of one line (too long, say): the chat goes on.
                        state.unconfirmed = state.unconfirmed.saturating_sub(1);
                        output_line(out, format_args!("(refused by the server: {})", clean_text(&why)))?;
                    }
                    Some(ServerMessage::Closing) => {
                        output_line(out, format_args!("* the server is closing the chat"))?;
                        return Ok(Flow::Stop(Ok(())));
                    }
                    _ => {} // noise
                }
            },
            recv(events.keepalive) -> _ => {
                if state.last_heard.elapsed() > self.args.keepalive * MISSED_KEEPALIVES {
                    let gone = Error::msg(format!("the server at {} stopped answering", self.server));
                    return Ok(Flow::Stop(Err(gone)));
                }
                self.send(&ClientMessage::Ping)?;
            },
            default(POLL_INTERVAL) => {} // go round: check for Ctrl-C and the end of input
        }
        Ok(Flow::Continue)
        // END SOLUTION
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

/// Starts the keyboard thread: it passes each line of `input` into the returned channel,
/// then `Input::End`. It may block in a read forever (a terminal), so nobody joins it: it
/// ends with the process.
fn read_lines_on_a_thread(input: impl BufRead + Send + 'static) -> Receiver<Input> {
    let (sender, lines) = bounded(64);
    // If the thread cannot start, `sender` is dropped with its closure, the channel closes,
    // and the client takes that as the end of input.
    let _ = thread::Builder::new().name("keyboard".into()).spawn(move || {
        let mut reader = LineReader::new(input, MAX_INPUT_LINE);
        loop {
            let line = match reader.read_line() {
                Ok(Some(line)) => Input::Line(String::from_utf8_lossy(line).into_owned()),
                Ok(None) | Err(LineError::Io(_)) => Input::End,
                Err(LineError::TooLong { .. }) => match reader.skip_rest_of_line() {
                    Ok(()) => Input::Skipped,
                    Err(_) => Input::End,
                },
            };
            let end = matches!(line, Input::End);
            if sender.send(line).is_err() || end {
                return;
            }
        }
    });
    lines
}

/// The seed's broadcast chat: listen on the shared chat port, send `name: text` to the
/// server, print whatever arrives (from anyone: that is the design's flaw).
fn broadcast_chat(
    args: &ClientArgs,
    server: SocketAddr,
    name: &str,
    lines: &Receiver<Input>,
    terminal: bool,
    shutdown: &Shutdown,
    out: &mut impl Write,
) -> Result<()> {
    let listen: SocketAddr = (std::net::Ipv4Addr::UNSPECIFIED, server.port()).into();
    let socket = bind_shared_port(listen)?;
    socket.set_read_timeout(Some(POLL_INTERVAL)).context(|| "cannot set the read timeout")?;
    output_line(
        out,
        format_args!("Welcome to WhatsUDP Messenger! (broadcast chat on port {})", server.port()),
    )?;
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let mut input_ended: Option<Instant> = None;
    while !shutdown.is_requested() && input_ended.is_none_or(|ended| ended.elapsed() < args.timeout)
    {
        match lines.try_recv() {
            Ok(Input::Line(line)) if line.trim() == "/quit" => break,
            Ok(Input::Line(line)) => {
                if terminal {
                    // As the seed does: the broadcast brings the line back, name and all.
                    out.write_all(ERASE_TYPED_LINE.as_bytes())
                        .context(|| "cannot write to the terminal")?;
                }
                let message = format!("{name}: {line}");
                socket
                    .send_to(message.as_bytes(), server)
                    .map_err(|e| udp_client_error(server, e))?;
            }
            Ok(Input::Skipped) => {
                output_line(out, format_args!("(that line is too long: not sent)"))?;
            }
            Ok(Input::End) => {
                input_ended.get_or_insert_with(Instant::now);
            }
            Err(_) => {}
        }
        match socket.recv_from(&mut buffer) {
            Ok((len, _)) => output_line(
                out,
                format_args!("{}", clean_text(&String::from_utf8_lossy(&buffer[..len]))),
            )?,
            Err(error) if is_timeout_or_interrupt(&error) => {}
            Err(error) => return Err(Error::io("cannot receive", error)),
        }
    }
    Ok(())
}
