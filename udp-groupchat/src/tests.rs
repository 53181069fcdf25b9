//! The grading suite for udp-groupchat.
//!
//! The hub tests speak the protocol over real loopback sockets (each socket is a member or
//! a stranger), so they can also do what a real client never would: forge, impersonate,
//! skip the challenge. The client tests drive the real client through its library entry
//! point with in-memory input and output. The broadcast test uses only 127.255.255.255.

use std::io::{self, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_channel::{Receiver, Sender, unbounded};
use shared::datagram::{RECV_BUFFER_SIZE, bind_udp, connect_udp};
use shared::report::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, patience};

use crate::bind_shared_port;
use crate::client::{self, ClientArgs, join};
use crate::protocol::{ClientMessage, MIN_JOIN_BYTES, ServerMessage};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// A socket that has joined the hub as `name`.
struct Member {
    socket: UdpSocket,
    online: Vec<String>,
}

impl Member {
    fn join(server: SocketAddr, name: &str) -> Member {
        let socket = connect_udp(server).unwrap();
        let online = join(&socket, server, name, patience())
            .unwrap_or_else(|e| panic!("{name} could not join: {e}"));
        socket.set_read_timeout(Some(patience())).unwrap();
        Member { socket, online }
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
        ServerMessage::parse(&buffer[..len])
            .unwrap_or_else(|| panic!("not a server message: {:?}", &buffer[..len]))
    }

    /// Skips messages until one matches, and returns it.
    fn next_matching(&self, wanted: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        loop {
            let message = self.next();
            if wanted(&message) {
                return message;
            }
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

#[test]
fn a_join_is_welcomed_with_who_is_online() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    assert_eq!(alice.online, ["alice"]);
    let bob = Member::join(running.addr, "bob");
    assert_eq!(bob.online, ["alice", "bob"]);
    running.stop();
}

#[test]
fn every_member_gets_each_line_with_the_senders_name_sender_included() {
    let running = start_server(&[]);
    let members: Vec<Member> =
        ["alice", "bob", "carol"].iter().map(|n| Member::join(running.addr, n)).collect();
    members[0].say("hello, everyone");
    for member in &members {
        assert_eq!(
            member.next_matching(|m| matches!(m, ServerMessage::Chat { .. })),
            chat("alice", "hello, everyone")
        );
    }
    assert_eq!(running.stop().messages, 1);
}

#[test]
fn joins_and_leaves_are_announced() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    assert_eq!(alice.next(), notice("alice joined"));
    let bob = Member::join(running.addr, "bob");
    assert_eq!(alice.next(), notice("bob joined"));
    bob.send(&ClientMessage::Leave);
    assert_eq!(alice.next(), notice("bob left"));
    running.stop();
}

#[test]
fn a_taken_name_is_refused() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "alice", patience()).unwrap_err().to_string();
    assert!(error.contains("that name is taken"), "{error}");
    running.stop();
}

#[test]
fn a_non_member_cannot_post_and_reaches_no_one() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let outsider = stranger(running.addr);
    let say = ClientMessage::Say("let me in, I have a very important message").to_string();
    outsider.send(say.as_bytes()).unwrap();
    let mut reply = [0u8; 256];
    let len = outsider.recv(&mut reply).expect("the outsider should get an error");
    assert!(reply[..len].starts_with(b"ERROR"), "{:?}", String::from_utf8_lossy(&reply[..len]));
    // The next chat line anyone gets is alice's, not the outsider's.
    alice.say("marker");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(bob.next_matching(is_chat), chat("alice", "marker"));
    assert_eq!(running.stop().messages, 1);
}

#[test]
fn nobody_can_speak_as_someone_else() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    bob.say("alice: I am alice, trust me");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    // The server names the sender from bob's address: the text cannot change that.
    assert_eq!(alice.next_matching(is_chat), chat("bob", "alice: I am alice, trust me"));
    running.stop();
}

#[test]
fn a_join_without_the_right_challenge_answer_gets_nothing_further() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    // A forger who sent JOIN with a victim's address never sees the cookie. Guessing fails,
    // and so does replaying a cookie issued to another address.
    let forger = stranger(running.addr);
    let guessed = ClientMessage::Hello { cookie: 0x1234_5678, name: "mallory" }.to_string();
    forger.send(guessed.as_bytes()).unwrap();
    let mut reply = [0u8; 256];
    let len = forger.recv(&mut reply).expect("a refusal");
    assert!(reply[..len].starts_with(b"ERROR"));

    let accomplice = stranger(running.addr);
    accomplice.send(ClientMessage::Join("mallory").to_string().as_bytes()).unwrap();
    let len = accomplice.recv(&mut reply).expect("a challenge for the accomplice");
    let Some(ServerMessage::Challenge(cookie)) = ServerMessage::parse(&reply[..len]) else {
        panic!("no challenge")
    };
    forger.send(ClientMessage::Hello { cookie, name: "mallory" }.to_string().as_bytes()).unwrap();
    let len = forger.recv(&mut reply).expect("a refusal");
    assert!(
        reply[..len].starts_with(b"ERROR"),
        "a cookie is only good for the address it was sent to"
    );

    // Neither is a member: chat does not reach them.
    alice.say("members only");
    assert!(forger.recv(&mut reply).is_err(), "the forger received chat");
    assert!(accomplice.recv(&mut reply).is_err(), "an unconfirmed joiner received chat");
    assert_eq!(running.stop().members_seen, 1);
}

#[test]
fn replies_to_strangers_are_never_larger_than_what_they_sent() {
    let running = start_server(&[]);
    let outsider = stranger(running.addr);
    let mut reply = [0u8; 256];
    // A short JOIN (a real client pads it) gets no answer at all.
    outsider.send(b"JOIN x").unwrap();
    assert!(
        outsider.recv(&mut reply).is_err(),
        "a JOIN shorter than {MIN_JOIN_BYTES} bytes must not be answered"
    );
    // Short garbage gets an error no longer than itself.
    for request in [&b"SAY x"[..], b"PING", b"??", b"\xff"] {
        outsider.send(request).unwrap();
        let len = outsider.recv(&mut reply).expect("an error");
        assert!(len <= request.len(), "{len}-byte reply to a {}-byte request", request.len());
    }
    // A proper JOIN's challenge is no longer than the JOIN.
    let join = ClientMessage::Join("zed").to_string();
    outsider.send(join.as_bytes()).unwrap();
    let len = outsider.recv(&mut reply).expect("a challenge");
    assert!(len <= join.len());
    running.stop();
}

#[test]
fn an_idle_member_is_dropped_and_announced() {
    let running = start_server(&["--idle-timeout", "0.5"]);
    // awake joins first, so that it is already pinging when sleepy's silence begins.
    let awake = Member::join(running.addr, "awake");
    let _silent = Member::join(running.addr, "sleepy");
    let deadline = Instant::now() + patience();
    awake.socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buffer = [0u8; 256];
    let dropped = loop {
        assert!(Instant::now() < deadline, "sleepy was never dropped");
        awake.send(&ClientMessage::Ping); // awake keeps itself in
        if let Ok(len) = awake.socket.recv(&mut buffer) {
            if ServerMessage::parse(&buffer[..len]) == Some(notice("sleepy timed out")) {
                break true;
            }
        }
    };
    assert!(dropped);
    let summary = running.stop();
    assert_eq!(summary.timeouts, 1, "only the silent member times out");
}

#[test]
fn limits_on_members_names_and_messages_are_enforced() {
    let running = start_server(&["--max-members", "2", "--max-message", "10"]);
    let alice = Member::join(running.addr, "alice");
    let _bob = Member::join(running.addr, "bob");
    let socket = connect_udp(running.addr).unwrap();
    let full = join(&socket, running.addr, "carol", patience()).unwrap_err().to_string();
    assert!(full.contains("the chat is full"), "{full}");
    let long_name =
        join(&socket, running.addr, &"n".repeat(33), patience()).unwrap_err().to_string();
    assert!(long_name.contains("longer than 32"), "{long_name}");
    let bad_name = join(&socket, running.addr, "esc\x1b", patience()).unwrap_err().to_string();
    assert!(bad_name.contains("names are letters, digits"), "{bad_name}");
    alice.say("this line is longer than ten bytes");
    let refusal = alice.next_matching(|m| matches!(m, ServerMessage::Error(_)));
    assert_eq!(refusal, ServerMessage::Error("message too long".into()));
    running.stop();
}

#[test]
fn control_characters_never_reach_other_terminals() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    alice.say("\x1b[2Jcleared your screen\x07");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(bob.next_matching(is_chat), chat("alice", "\u{FFFD}[2Jcleared your screen\u{FFFD}"));
    running.stop();
}

#[test]
fn shutdown_tells_every_member_the_chat_is_closing() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert!(took < Duration::from_secs(1));
    assert_eq!(alice.next_matching(|m| *m == ServerMessage::Closing), ServerMessage::Closing);
    assert_eq!(bob.next_matching(|m| *m == ServerMessage::Closing), ServerMessage::Closing);
    assert_eq!(summary.members_seen, 2);
    assert!(log.text().contains("Chat closed: 2 members seen"), "{}", log.text());
}

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

#[test]
fn two_clients_chat_through_the_library_entry_point() {
    let running = start_server(&[]);
    let (feed_bob, bob_input) = fed_input();
    let bob_out = SharedOutput::default();
    let bob = {
        let (args, mut out) = (client_args(running.addr, &[]), bob_out.clone());
        thread::spawn(move || client::run(&args, &Shutdown::new(), bob_input, false, &mut out))
    };
    feed_bob.send(b"bob\n".to_vec()).unwrap();
    bob_out.wait_for("Welcome to WhatsUDP Messenger, bob!");

    // Alice's input is piped: her name, a line, then the end of input.
    let mut alice_out = Vec::new();
    let alice_input = io::Cursor::new(b"alice\nhello, bob\n".to_vec());
    client::run(
        &client_args(running.addr, &[]),
        &Shutdown::new(),
        alice_input,
        false,
        &mut alice_out,
    )
    .unwrap();
    let alice_out = String::from_utf8(alice_out).unwrap();
    assert!(alice_out.contains("Online: alice, bob"), "{alice_out}");
    assert!(alice_out.contains("alice: hello, bob"), "alice sees her own line: {alice_out}");

    let seen = bob_out.wait_for("* alice left");
    assert!(seen.contains("* alice joined\nalice: hello, bob\n* alice left"), "{seen}");
    feed_bob.send(b"/quit\n".to_vec()).unwrap();
    bob.join().unwrap().unwrap();
    running.stop();
}

#[test]
fn the_client_prompts_for_a_name_like_the_seed_on_a_terminal() {
    let running = start_server(&[]);
    let mut out = Vec::new();
    let input = io::Cursor::new(b"dora\n".to_vec());
    client::run(&client_args(running.addr, &[]), &Shutdown::new(), input, true, &mut out).unwrap();
    assert!(
        String::from_utf8(out)
            .unwrap()
            .starts_with("Input username: Welcome to WhatsUDP Messenger, dora!")
    );
    running.stop();
}

#[test]
fn the_client_gives_up_when_the_server_does_not_answer_the_join() {
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let args =
        client_args(silent.local_addr().unwrap(), &["--username", "eve", "--timeout", "0.3"]);
    let error =
        client::run(&args, &Shutdown::new(), io::empty(), false, &mut Vec::new()).unwrap_err();
    assert!(error.to_string().contains("no reply from 127.0.0.1:"), "{error}");
}

#[test]
fn broadcast_mode_reaches_three_clients_on_one_port() {
    // The server binds a free port first (port 0); three listeners then share that port
    // on 0.0.0.0, as the seed's clients share theirs. Only the loopback broadcast address
    // is used.
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    let port = running.addr.port();
    let listeners: Vec<UdpSocket> = (0..3)
        .map(|_| {
            let socket = bind_shared_port((Ipv4Addr::UNSPECIFIED, port).into()).unwrap();
            socket.set_read_timeout(Some(patience())).unwrap();
            socket
        })
        .collect();
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"alice: hello, everyone", running.addr).unwrap();
    for (i, listener) in listeners.iter().enumerate() {
        let mut buffer = [0u8; 256];
        let (len, _) = listener
            .recv_from(&mut buffer)
            .unwrap_or_else(|e| panic!("listener {i} got nothing: {e}"));
        assert_eq!(&buffer[..len], b"alice: hello, everyone", "listener {i}");
    }
    assert_eq!(running.stop().messages, 1);
}

#[test]
fn broadcast_mode_does_not_relay_its_own_broadcasts() {
    // Listening on 0.0.0.0, the server hears its own broadcasts; it must not relay them again.
    // (No listener shares the port here: with SO_REUSEPORT, a listener on 0.0.0.0 could be
    // handed the datagram meant for the server, one more flaw of the seed's design.)
    let running = start_server(&["--host", "0.0.0.0", "--broadcast", "127.255.255.255"]);
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"bob: once", (Ipv4Addr::LOCALHOST, running.addr.port())).unwrap();
    running.expect_log("bob: once");
    thread::sleep(Duration::from_millis(300)); // a storm would relay thousands by now
    assert_eq!(running.stop().messages, 1, "the server relayed its own broadcast");
}

#[test]
fn a_member_cannot_rename_itself_silently() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let error = join(&alice.socket, running.addr, "mallory", patience()).unwrap_err().to_string();
    assert!(error.contains("already joined as alice"), "{error}");
    assert_eq!(running.stop().members_seen, 1);
}

#[test]
fn names_differing_only_in_case_are_the_same_name() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "ALICE", patience()).unwrap_err().to_string();
    assert!(error.contains("that name is taken"), "{error}");
    running.stop();
}

#[test]
fn a_member_dropped_for_silence_is_told_why() {
    let running = start_server(&["--idle-timeout", "0.3"]);
    let sleepy = Member::join(running.addr, "sleepy");
    let told = sleepy.next_matching(|m| matches!(m, ServerMessage::Error(_)));
    assert!(matches!(&told, ServerMessage::Error(why) if why.starts_with("timed out")), "{told:?}");
    running.stop();
}

#[test]
fn the_client_skips_a_line_too_long_and_goes_on() {
    let running = start_server(&[]);
    let mut input = b"frank\n".to_vec();
    input.extend(vec![b'y'; 5000]);
    input.extend_from_slice(b"\nstill here\n");
    let mut out = Vec::new();
    client::run(
        &client_args(running.addr, &[]),
        &Shutdown::new(),
        io::Cursor::new(input),
        false,
        &mut out,
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("(that line is too long for the chat: not sent)"), "{out}");
    assert!(out.contains("frank: still here"), "{out}");
    running.stop();
}

#[test]
fn a_refused_line_does_not_end_the_chat() {
    let running = start_server(&["--max-message", "10"]);
    let mut out = Vec::new();
    let input = io::Cursor::new(b"gina\nthis line is far too long\nshort\n".to_vec());
    client::run(&client_args(running.addr, &[]), &Shutdown::new(), input, false, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(
            "(refused by the server: message too long; your line: \"this line is far too long\")"
        ),
        "the client should say the server refused the line, and show which; it printed:\n{out}"
    );
    assert!(out.contains("gina: short"), "{out}");
    running.stop();
}
