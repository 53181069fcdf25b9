//! Load mode, `--clients N --duration SECS`: N members join the hub, each with its own
//! socket, and for the whole run each says a line and waits for the hub to relay it back,
//! again and again. Every member also counts the lines it receives from the others, so the
//! summary shows the hub's fan-out: with N members, every line is N deliveries.
//!
//! This is not the lesson (that is the hub's client, `src/client/hub.rs`, whose join and
//! session it uses): it is how a student sees what one hub can carry, and what its limits
//! (members per address, replies per second) do. `src/bin/client.rs` runs it instead of the
//! chat when `--clients` is given. Each member says its next line as soon as the last one
//! came back, faster than the hub's default `--reply-rate` lets one network go on for long:
//! for a load run, start the hub with `--reply-rate 10000000 --max-members-per-ip N`.

use std::io::{self, Write};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use shared::console::output_line;
use shared::error::{Context, Result};
use shared::io_errors::is_timeout_or_interrupt;
use shared::load::{Exchange, Outcome};
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::udp::{RECV_BUFFER_SIZE, connect_udp};

use crate::args::ClientArgs;
use crate::client::sealed::SealedChat;
use crate::client::{Session, join_session};
use crate::protocol::{ClientMessage, ServerMessage};

/// The receive queue each load member asks for.
const RECEIVE_QUEUE_BYTES: usize = 1 << 20;

/// How long a member keeps counting deliveries after its last line, before it leaves.
const DRAIN: Duration = Duration::from_millis(300);

/// Runs load mode against the hub `args` name and prints one summary line to `out`; `Ok`
/// only if every line came back. An error without the hub (`--broadcast`).
pub fn run(args: &ClientArgs, shutdown: &Shutdown, out: &mut impl Write) -> Result<()> {
    let server = args.address.resolve()?;
    if args.broadcast {
        return Err(shared::Error::msg(
            "load mode (--clients, --duration) needs the hub: drop --broadcast",
        ));
    }
    let plan = args.load.plan(None, args.timeout);
    let deliveries = AtomicU64::new(0);
    // Sealed (--passphrase-file): the key is derived once for all members; each member
    // still has its own sender id and replay windows, and opens every line it receives.
    let key = args.seal.key()?;
    if let Some((_, took)) = &key {
        output_line(
            out,
            format_args!("(sealed load run: key derived in {:.2} s)", took.as_secs_f64()),
        )?;
    }
    let key = key.map(|(key, _)| key);
    let summary = shared::load::run(&plan, shutdown, |number| {
        let sealed = match &key {
            Some(key) => Some(SealedChat::new(key.clone(), args.seal.max_senders)?),
            None => None,
        };
        let mut member =
            LoadMember::join(server, number, plan.timeout, shutdown, &deliveries, sealed)?;
        member.open_only_own = args.seal.open_only_own;
        Ok(member)
    })?;
    let delivered = deliveries.load(Ordering::Relaxed);
    output_line(
        out,
        format_args!(
            "{summary}; {delivered} lines delivered to members ({:.1} per line relayed)",
            if summary.replies == 0 { 0.0 } else { delivered as f64 / summary.replies as f64 }
        ),
    )?;
    if shutdown.is_requested() {
        return Err(shared::Error::stopped()); // Ctrl-C: the summary so far, exit 130
    }
    summary.check().map_err(|error| {
        if summary.lost > 0 {
            shared::Error::msg(format!(
                "{error} (a hub ignores what one network sends beyond its --reply-rate, \
                 250000 a second by default: for a load run, start it with --reply-rate \
                 10000000)"
            ))
        } else {
            error
        }
    })
}

/// One member of a load run: its own socket, joined as `load<pid>-<number>`.
struct LoadMember<'a> {
    socket: UdpSocket,
    session: Session,
    name: String,
    timeout: Duration,
    shutdown: Shutdown,
    deliveries: &'a AtomicU64,
    buffer: Vec<u8>,
    sealed: Option<SealedChat>,
    /// `--open-only-own`: lines of other members are counted, not opened.
    open_only_own: bool,
}

impl<'a> LoadMember<'a> {
    fn join(
        server: SocketAddr,
        number: u32,
        timeout: Duration,
        shutdown: &Shutdown,
        deliveries: &'a AtomicU64,
        sealed: Option<SealedChat>,
    ) -> Result<Self> {
        let socket = connect_udp(server)?;
        // Every member receives every member's lines: a roomier receive queue than the
        // default rides out a moment off the CPU without dropping them (bounded: 1 MiB).
        let _ = socket2::SockRef::from(&socket).set_recv_buffer_size(RECEIVE_QUEUE_BYTES);
        let name = format!("load{}-{number}", std::process::id() % 100_000);
        let session = join_session(&socket, server, &name, timeout, shutdown)?;
        // Wait in slices, so that Ctrl-C is noticed even with a long --timeout.
        socket
            .set_read_timeout(Some(timeout.min(POLL_INTERVAL)))
            .context(|| "cannot set the read timeout")?;
        Ok(LoadMember {
            socket,
            session,
            name,
            timeout,
            shutdown: shutdown.clone(),
            deliveries,
            buffer: vec![0; RECV_BUFFER_SIZE],
            sealed,
            open_only_own: false,
        })
    }

    /// The next message from the hub, if one comes within one wait slice.
    fn receive(&mut self) -> io::Result<Option<ServerMessage>> {
        match self.socket.recv(&mut self.buffer) {
            Ok(len) => Ok(self.session.open(&self.buffer[..len])),
            Err(error) if is_timeout_or_interrupt(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

impl LoadMember<'_> {
    /// Whether a delivered line is `line`, said by this member. Sealed, every line is opened
    /// (and goes through the replay window), as a member of a sealed chat would.
    fn is_ours(&mut self, from: &str, text: &str, line: &str) -> io::Result<bool> {
        let Some(sealed) = &mut self.sealed else {
            return Ok(from == self.name && text == line);
        };
        if self.open_only_own && from != self.name {
            return Ok(false);
        }
        let opened = sealed
            .open_fresh(text, &mut io::sink())
            .map_err(|error| io::Error::other(error.to_string()))?;
        Ok(from == self.name
            && opened.is_some_and(|opened| {
                opened
                    .text
                    .strip_prefix(self.name.as_str())
                    .and_then(|rest| rest.strip_prefix(": "))
                    == Some(line)
            }))
    }
}

impl Exchange for LoadMember<'_> {
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
        let line = format!("load line {sequence}");
        let said = match &mut self.sealed {
            Some(sealed) => sealed
                .seal(&self.name, &line)
                .map_err(|error| io::Error::other(error.to_string()))?,
            None => line.clone(),
        };
        self.socket.send(ClientMessage::Say(&said).to_string().as_bytes())?;
        let give_up_at = Instant::now() + self.timeout;
        while Instant::now() < give_up_at && !self.shutdown.is_requested() {
            match self.receive()? {
                Some(ServerMessage::Chat { from, text }) => {
                    self.deliveries.fetch_add(1, Ordering::Relaxed);
                    if self.is_ours(&from, &text, &line)? {
                        return Ok(Outcome::Correct);
                    }
                    // Another member's line, or a late one of ours: keep waiting.
                }
                Some(ServerMessage::Error(_)) => return Ok(Outcome::Wrong), // refused
                Some(ServerMessage::Closing) => {
                    return Err(io::Error::other("the server closed the chat"));
                }
                _ => {}
            }
        }
        if self.shutdown.is_requested() {
            // Ctrl-C while this line was on its way: not a loss, and not counted at all.
            return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped by Ctrl-C"));
        }
        Ok(Outcome::Lost)
    }
}

impl Drop for LoadMember<'_> {
    /// Counts what is still on its way, then leaves, so the hub's table is clean again.
    fn drop(&mut self) {
        let until = Instant::now() + DRAIN;
        while Instant::now() < until {
            match self.receive() {
                Ok(Some(ServerMessage::Chat { .. })) => {
                    self.deliveries.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = self.socket.send(ClientMessage::Leave.to_string().as_bytes());
    }
}
