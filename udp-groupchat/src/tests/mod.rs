//! The grading suite for udp-groupchat, by subject: [`hub`] (the hub's protocol),
//! [`client`] (the real client), [`names_and_lines`] (what names and lines may hold),
//! [`hostile`] (a hostile network), [`broadcast`] (the seed's broadcast mode), [`load`]
//! (load mode) and [`sealed`] (the sealed chat). The helpers they share are here.
//!
//! The hub tests speak the protocol over real loopback sockets (each socket is a member or
//! a stranger), so they can also do what a real client never would: forge, impersonate,
//! skip the challenge. The client tests drive the real client through its library entry
//! point with in-memory input and output. The broadcast tests use only 127.255.255.255.

use crate::args::{ClientArgs, ServerArgs};
use crate::client::{Session, join};
use crate::protocol::{ClientMessage, MIN_JOIN_BYTES, ServerMessage};
use crate::server::{Server, Summary};
use clap::Parser;
use crossbeam_channel::{Receiver, Sender, unbounded};
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, patience, returns_within};
use shared::udp::{RECV_BUFFER_SIZE, bind_udp, connect_udp};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

mod broadcast;
mod client;
mod hostile;
mod hub;
mod load;
mod names_and_lines;
mod sealed;

// ---------------------------------------------------------------------------------------
// The hub, and members that speak its protocol over raw sockets.
// ---------------------------------------------------------------------------------------

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    // Port 0 (the OS picks a free one) unless the test names a port.
    let port_0: &[&str] = if extra_args.contains(&"--port") { &[] } else { &["--port", "0"] };
    let args =
        ServerArgs::try_parse_from(["server"].iter().chain(port_0).chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(args.address.resolve().unwrap(), &args.config, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// A socket that has joined the hub as `name`.
struct Member {
    socket: UdpSocket,
    online: Vec<String>,
    session: Session,
}

impl Member {
    fn join(server: SocketAddr, name: &str) -> Member {
        let socket = connect_udp(server).unwrap();
        let session = join(&socket, server, name, patience())
            .unwrap_or_else(|e| panic!("{name} could not join: {e}"));
        socket.set_read_timeout(Some(patience())).unwrap();
        Member { socket, online: session.online.clone(), session }
    }

    fn send(&self, message: &ClientMessage<'_>) {
        self.socket.send(message.to_string().as_bytes()).unwrap();
    }

    fn say(&self, text: &str) {
        self.send(&ClientMessage::Say(text));
    }

    /// The next message from the server (failing the test if none comes).
    fn next(&self) -> ServerMessage {
        let mut buffer = vec![0; RECV_BUFFER_SIZE];
        let len = self
            .socket
            .recv(&mut buffer)
            .unwrap_or_else(|e| panic!("no message from the server: {e}"));
        self.session.open(&buffer[..len]).unwrap_or_else(|| {
            panic!(
                "expected a message from the hub, got {:?}",
                String::from_utf8_lossy(&buffer[..len])
            )
        })
    }

    /// Skips messages until one matches, and returns it (failing the test if none has
    /// come within [`patience`], however many others came).
    fn next_matching(&self, wanted: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        let deadline = Instant::now() + patience();
        let mut skipped = 0;
        loop {
            let message = self.next();
            if wanted(&message) {
                return message;
            }
            skipped += 1;
            assert!(
                Instant::now() < deadline,
                "expected the hub to send the message wanted within {:?}; it sent {skipped} \
                 others, the last: {message:?}",
                patience()
            );
        }
    }
}

fn chat(from: &str, text: &str) -> ServerMessage {
    ServerMessage::Chat { from: from.into(), text: text.into() }
}

fn notice(text: &str) -> ServerMessage {
    ServerMessage::Notice(text.into())
}

/// A stranger's socket, with a short patience: it should get little or nothing.
fn stranger(server: SocketAddr) -> UdpSocket {
    let socket = connect_udp(server).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    socket
}

// ---------------------------------------------------------------------------------------
// The real client, run with fed input and captured output.
// ---------------------------------------------------------------------------------------

/// An input for the client that stays open until the test closes it: lines are fed through
/// a channel.
struct FedInput {
    lines: Receiver<Vec<u8>>,
    pending: io::Cursor<Vec<u8>>,
}

impl Read for FedInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pending.position() == self.pending.get_ref().len() as u64 {
            match self.lines.recv() {
                Ok(line) => self.pending = io::Cursor::new(line),
                Err(_) => return Ok(0), // the test closed the input: end of file
            }
        }
        self.pending.read(buf)
    }
}

fn fed_input() -> (Sender<Vec<u8>>, BufReader<FedInput>) {
    let (feed, lines) = unbounded();
    (feed, BufReader::new(FedInput { lines, pending: io::Cursor::new(Vec::new()) }))
}

/// Output shared between the client's thread and the test.
#[derive(Clone, Default)]
struct SharedOutput(Arc<Mutex<Vec<u8>>>);

impl Write for SharedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl SharedOutput {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + patience();
        while !self.text().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "expected {needle:?} in the client's output:\n{}",
                self.text()
            );
            thread::sleep(Duration::from_millis(10));
        }
        self.text()
    }
}

fn client_args(server: SocketAddr, extra: &[&str]) -> ClientArgs {
    let port = server.port().to_string();
    ClientArgs::try_parse_from(["client", "--port", &port].iter().chain(extra)).unwrap()
}

/// What a chat client that does not end most likely lacks (the `Chat::run` exercise).
const CHAT_LOOP_NEVER_ENDS: &str = "the chat loop (`Chat::run`) must end by itself: once the \
     input has ended, it stops when every line sent came back or `--timeout` has passed (step \
     2), checked on every turn (`default(POLL_INTERVAL)` in `select!`); and every wait on the \
     socket needs a read timeout (`set_read_timeout`), or one lost reply hangs it for ever";

/// Runs the client as `src/bin/client.rs` does: load mode with `--clients`, else the chat.
fn run_the_client(
    args: &ClientArgs,
    shutdown: &Shutdown,
    input: impl BufRead + Send + 'static,
    terminal: bool,
    out: &mut impl Write,
) -> shared::Result<()> {
    if args.load.is_requested() {
        return crate::load::run(args, shutdown, out);
    }
    crate::client::run(args, shutdown, input, terminal, out)
}

/// Runs the real client to its end with this input (a terminal if `terminal`), returning
/// its result and what it printed; fails the test if the client is still running well past
/// its own bounds (its `--timeout` and `--duration`) instead of hanging the suite.
#[track_caller]
fn run_client(
    args: ClientArgs,
    input: impl BufRead + Send + 'static,
    terminal: bool,
) -> (shared::Result<()>, String) {
    let deadline = client_deadline(args.timeout, None, Duration::ZERO, args.load.duration);
    returns_within(deadline, "the client", CHAT_LOOP_NEVER_ENDS, move || {
        let mut out = Vec::new();
        let outcome = run_the_client(&args, &Shutdown::new(), input, terminal, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
}

/// Runs the real client on a thread with fed input; returns the feed, its output, its
/// shutdown handle and the thread.
fn start_client(
    server: SocketAddr,
    extra: &[&str],
    terminal: bool,
) -> (Sender<Vec<u8>>, SharedOutput, Shutdown, thread::JoinHandle<shared::Result<()>>) {
    let (feed, input) = fed_input();
    let out = SharedOutput::default();
    let shutdown = Shutdown::new();
    let client = {
        let (args, mut out, shutdown) = (client_args(server, extra), out.clone(), shutdown.clone());
        thread::spawn(move || run_the_client(&args, &shutdown, input, terminal, &mut out))
    };
    (feed, out, shutdown, client)
}

/// What a client that does not stop on Ctrl-C most likely lacks.
const CTRL_C_IGNORED: &str = "Ctrl-C (the `Shutdown`) must end the client at once: in the \
     chat, `shutdown.on_request` wakes a channel that `select!` waits on, and `on_stop` ends \
     the loop (`Chat::run`, steps 1 and 3)";

/// Waits up to `limit` for the client thread to end; returns its result and how long it
/// took. A client still running then fails the test with `hint` (what it most likely
/// lacks); a client that panicked fails it with its panic.
#[track_caller]
fn finish_within(
    client: thread::JoinHandle<shared::Result<()>>,
    limit: Duration,
    hint: &str,
) -> (shared::Result<()>, Duration) {
    let asked = Instant::now();
    while !client.is_finished() {
        assert!(
            asked.elapsed() < limit,
            "expected the client to stop within {limit:?}; it was still running: {hint}"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let result = client.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    (result, asked.elapsed())
}

// ---------------------------------------------------------------------------------------
// A hostile peer: another server, a replayer.
// ---------------------------------------------------------------------------------------

/// Plays a peer that answers every datagram from the hub with `answer(datagram)` for
/// `duration`, as another server tricked into talking to the hub would; returns how many
/// datagrams the hub sent it. The first datagram is `opening`.
fn play_a_server_against_the_hub(
    hub: SocketAddr,
    opening: &[u8],
    duration: Duration,
    answer: impl Fn(&[u8]) -> Vec<u8>,
) -> u64 {
    let peer = connect_udp(hub).unwrap();
    peer.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    peer.send(opening).unwrap();
    let mut received = 0;
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let until = Instant::now() + duration;
    while Instant::now() < until {
        if let Ok(len) = peer.recv(&mut buffer) {
            received += 1;
            let _ = peer.send(&answer(&buffer[..len]));
        }
    }
    received
}

/// A raw JOIN and HELLO from `socket` as `name`: the HELLO datagram, to replay.
fn raw_hello(socket: &UdpSocket, name: &str) -> Vec<u8> {
    socket.send(ClientMessage::Join(name).to_string().as_bytes()).unwrap();
    let mut reply = vec![0u8; RECV_BUFFER_SIZE];
    let len = socket.recv(&mut reply).expect("a challenge");
    let Some(ServerMessage::Challenge(cookie)) = ServerMessage::parse(&reply[..len]) else {
        panic!("expected a challenge, got {:?}", String::from_utf8_lossy(&reply[..len]))
    };
    ClientMessage::Hello { cookie, name }.to_string().into_bytes()
}

/// What comes back to `socket` until it has been quiet for 300 ms (or for at most
/// [`patience`], should the hub never stop sending): (welcomes, errors).
fn count_welcomes_and_errors(socket: &UdpSocket) -> (usize, Vec<String>) {
    socket.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let (mut welcomes, mut errors) = (0, Vec::new());
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let deadline = Instant::now() + patience();
    while let Ok(len) = socket.recv(&mut buffer) {
        assert!(
            Instant::now() < deadline,
            "expected the hub to fall silent within {:?}; it was still sending ({welcomes} \
             welcomes, {} errors so far)",
            patience(),
            errors.len()
        );
        match ServerMessage::parse(&buffer[..len]) {
            Some(ServerMessage::Welcome { .. }) => welcomes += 1,
            Some(ServerMessage::Error(why)) => errors.push(why),
            _ => {}
        }
    }
    (welcomes, errors)
}
