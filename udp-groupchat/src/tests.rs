//! The grading suite for udp-groupchat.
//!
//! The hub tests speak the protocol over real loopback sockets (each socket is a member or
//! a stranger), so they can also do what a real client never would: forge, impersonate,
//! skip the challenge. The client tests drive the real client through its library entry
//! point with in-memory input and output. The broadcast test uses only 127.255.255.255.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_channel::{Receiver, Sender, unbounded};
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, patience, returns_within};
use shared::udp::{RECV_BUFFER_SIZE, bind_udp, connect_udp};

use crate::client::{self, ClientArgs, Session, join};
use crate::protocol::{ClientMessage, MIN_JOIN_BYTES, ServerMessage};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    // Port 0 (the OS picks a free one) unless the test names a port.
    let port_0: &[&str] = if extra_args.contains(&"--port") { &[] } else { &["--port", "0"] };
    let args =
        ServerArgs::try_parse_from(["server"].iter().chain(port_0).chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
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

#[test]
fn a_join_is_welcomed_with_who_is_online() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    assert_eq!(alice.online, ["alice"], "the hub should welcome alice as the only member online");
    let bob = Member::join(running.addr, "bob");
    assert_eq!(
        bob.online,
        ["alice", "bob"],
        "the hub should welcome bob with alice and bob online"
    );
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
            chat("alice", "hello, everyone"),
            "every member, alice included, should get alice's line under her name"
        );
    }
    assert_eq!(running.stop().messages, 1, "the hub should count one line relayed");
}

#[test]
fn joins_and_leaves_are_announced() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    assert_eq!(alice.next(), notice("alice joined"), "alice should be told of her own join");
    let bob = Member::join(running.addr, "bob");
    assert_eq!(alice.next(), notice("bob joined"), "alice should be told that bob joined");
    bob.send(&ClientMessage::Leave);
    assert_eq!(alice.next(), notice("bob left"), "alice should be told that bob left");
    running.stop();
}

#[test]
fn a_taken_name_is_refused() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "alice", patience()).unwrap_err().to_string();
    assert!(
        error.contains("that name is taken"),
        "the hub should refuse a second alice as a taken name: {error}"
    );
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
    assert!(
        reply[..len].starts_with(b"ERROR"),
        "the hub should answer a non-member's SAY with an ERROR, got {:?}",
        String::from_utf8_lossy(&reply[..len])
    );
    // The next chat line anyone gets is alice's, not the outsider's.
    alice.say("marker");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat("alice", "marker"),
        "the next chat line bob gets should be alice's, not the outsider's"
    );
    assert_eq!(
        running.stop().messages,
        1,
        "the hub should relay only alice's line, not the outsider's"
    );
}

#[test]
fn nobody_can_speak_as_someone_else() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    bob.say("alice: I am alice, trust me");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    // The server names the sender from bob's address: the text cannot change that.
    assert_eq!(
        alice.next_matching(is_chat),
        chat("bob", "alice: I am alice, trust me"),
        "the hub should name bob as the sender, whatever his text says"
    );
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
    assert!(
        reply[..len].starts_with(b"ERROR"),
        "the hub should refuse a HELLO with a guessed cookie with an ERROR"
    );

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
    assert_eq!(
        running.stop().members_seen,
        1,
        "only alice should have become a member, not the forger or the accomplice"
    );
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
    assert!(
        len <= join.len(),
        "the hub's challenge ({len} bytes) should be no longer than the JOIN ({} bytes)",
        join.len()
    );
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
            if awake.session.open(&buffer[..len]) == Some(notice("sleepy timed out")) {
                break true;
            }
        }
    };
    assert!(dropped, "the hub should drop sleepy and announce it");
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
    assert!(
        full.contains("the chat is full"),
        "the hub should refuse a third member with --max-members 2: {full}"
    );
    let long_name =
        join(&socket, running.addr, &"n".repeat(33), patience()).unwrap_err().to_string();
    assert!(
        long_name.contains("longer than 32"),
        "the hub should refuse a 33-character name: {long_name}"
    );
    let bad_name = join(&socket, running.addr, "esc\x1b", patience()).unwrap_err().to_string();
    assert!(
        bad_name.contains("names are letters, digits"),
        "the hub should refuse a name with an escape character: {bad_name}"
    );
    alice.say("this line is longer than ten bytes");
    let refusal = alice.next_matching(|m| matches!(m, ServerMessage::Error(_)));
    assert_eq!(
        refusal,
        ServerMessage::Error("message too long".into()),
        "the hub should refuse a line over --max-message as too long"
    );
    running.stop();
}

#[test]
fn control_characters_never_reach_other_terminals() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    alice.say("\x1b[2Jcleared your screen\x07");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat("alice", "\u{FFFD}[2Jcleared your screen\u{FFFD}"),
        "the hub should replace control characters with U+FFFD before relaying"
    );
    running.stop();
}

#[test]
fn shutdown_tells_every_member_the_chat_is_closing() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert!(took < Duration::from_secs(1), "the hub should stop within a second; it took {took:?}");
    assert_eq!(
        alice.next_matching(|m| *m == ServerMessage::Closing),
        ServerMessage::Closing,
        "the hub should tell alice the chat is closing"
    );
    assert_eq!(
        bob.next_matching(|m| *m == ServerMessage::Closing),
        ServerMessage::Closing,
        "the hub should tell bob the chat is closing"
    );
    assert_eq!(summary.members_seen, 2, "the summary should count the two members");
    assert!(
        log.text().contains("Chat closed: 2 members seen"),
        "the hub should log its summary when it stops; its log:\n{}",
        log.text()
    );
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

/// What a chat client that does not end most likely lacks (the `Chat::run` exercise).
const CHAT_LOOP_NEVER_ENDS: &str = "the chat loop (`Chat::run`) must end by itself: once the \
     input has ended, it stops when every line sent came back or `--timeout` has passed (step \
     2), checked on every turn (`default(POLL_INTERVAL)` in `select!`); and every wait on the \
     socket needs a read timeout (`set_read_timeout`), or one lost reply hangs it for ever";

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
        let outcome = client::run(&args, &Shutdown::new(), input, terminal, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
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
    let alice_input = io::Cursor::new(b"alice\nhello, bob\n".to_vec());
    let (alice_result, alice_out) = run_client(client_args(running.addr, &[]), alice_input, false);
    alice_result.unwrap();
    assert!(
        alice_out.contains("Online: alice, bob"),
        "alice's client should show who is online when she joins:\n{alice_out}"
    );
    assert!(alice_out.contains("alice: hello, bob"), "alice sees her own line: {alice_out}");

    let seen = bob_out.wait_for("* alice left");
    assert!(
        seen.contains("* alice joined\nalice: hello, bob\n* alice left"),
        "bob's client should show alice joining, her line, then her leaving:\n{seen}"
    );
    feed_bob.send(b"/quit\n".to_vec()).unwrap();
    finish_within(bob, patience(), CHAT_LOOP_NEVER_ENDS).0.unwrap();
    running.stop();
}

#[test]
fn the_client_prompts_for_a_name_like_the_seed_on_a_terminal() {
    let running = start_server(&[]);
    let input = io::Cursor::new(b"dora\n".to_vec());
    let (result, out) = run_client(client_args(running.addr, &[]), input, true);
    result.unwrap();
    assert!(
        out.starts_with("Input username: Welcome to WhatsUDP Messenger, dora!"),
        "on a terminal the client should prompt for the name, then welcome dora"
    );
    running.stop();
}

#[test]
fn the_client_gives_up_when_the_server_does_not_answer_the_join() {
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let args =
        client_args(silent.local_addr().unwrap(), &["--username", "eve", "--timeout", "0.3"]);
    let error = run_client(args, io::empty(), false).0.unwrap_err();
    assert!(
        error.to_string().contains("no reply from 127.0.0.1:"),
        "the client should give up saying the server did not reply: {error}"
    );
}

#[test]
fn a_join_flooded_with_chatter_that_is_not_the_answer_still_gives_up_at_its_timeout() {
    // A fake hub that never answers the join but keeps sending datagrams to the client: the
    // client must give up at its --timeout, not wait as long as the chatter goes on.
    let fake_hub = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let args =
        client_args(fake_hub.local_addr().unwrap(), &["--username", "eve", "--timeout", "0.5"]);
    let client = thread::spawn(move || {
        let mut out = Vec::new();
        (client::run(&args, &Shutdown::new(), io::empty(), false, &mut out), out)
    });
    fake_hub.set_read_timeout(Some(patience())).unwrap();
    let (_, member) = fake_hub.recv_from(&mut [0u8; 256]).expect("the client should send a JOIN");
    // Bounded in count and time: for at most twice the patience (the client's timeout is
    // half a second), one datagram a millisecond.
    let until = Instant::now() + patience() * 2;
    let mut sent = 0u64;
    while !client.is_finished() && Instant::now() < until {
        let _ = fake_hub.send_to(b"CHAT mallory: not your challenge", member);
        sent += 1;
        thread::sleep(Duration::from_millis(1));
    }
    assert!(
        client.is_finished(),
        "expected the client to give up at its 0.5 s timeout while the chatter went on; it \
         was still joining after {sent} datagrams of chatter"
    );
    let (result, out) = client.join().unwrap();
    let error = result.expect_err("a join that was never answered should fail");
    assert!(
        error.to_string().contains("no reply from 127.0.0.1:"),
        "expected the client to give up saying the server did not reply; it said: {error}; \
         printed: {}",
        String::from_utf8_lossy(&out)
    );
}

#[test]
// Loopback broadcast (127.255.255.255 reaching sockets on 0.0.0.0) is Linux's: macOS and
// Windows do not broadcast on loopback (see the README).
#[cfg(target_os = "linux")]
fn broadcast_mode_reaches_three_clients_on_one_port() {
    // The server binds a free port first (port 0); three listeners then share that port
    // on 0.0.0.0, as the seed's clients share theirs. Only the loopback broadcast address
    // is used.
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    let port = running.addr.port();
    let listeners: Vec<UdpSocket> = (0..3)
        .map(|_| {
            let socket = crate::bind_shared_port((Ipv4Addr::UNSPECIFIED, port).into()).unwrap();
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
        assert_eq!(
            &buffer[..len],
            b"RELAY alice: hello, everyone",
            "listener {i} should get the line, relayed by the server"
        );
    }
    assert_eq!(running.stop().messages, 1, "the server should count one line relayed");
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
    assert!(
        error.contains("already joined as alice"),
        "the hub should refuse a member joining again under another name: {error}"
    );
    assert_eq!(
        running.stop().members_seen,
        1,
        "the renaming attempt should not count as a new member"
    );
}

#[test]
fn names_differing_only_in_case_are_the_same_name() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "ALICE", patience()).unwrap_err().to_string();
    assert!(
        error.contains("that name is taken"),
        "the hub should refuse ALICE as the taken name alice: {error}"
    );
    running.stop();
}

#[test]
fn a_member_dropped_for_silence_is_told_why() {
    let running = start_server(&["--idle-timeout", "0.3"]);
    let sleepy = Member::join(running.addr, "sleepy");
    let told = sleepy.next_matching(|m| matches!(m, ServerMessage::Error(_)));
    assert!(
        matches!(&told, ServerMessage::Error(why) if why.starts_with("timed out")),
        "the hub should tell the dropped member it timed out, got {told:?}"
    );
    running.stop();
}

#[test]
fn the_client_skips_a_line_too_long_and_goes_on() {
    let running = start_server(&[]);
    let mut input = b"frank\n".to_vec();
    input.extend(vec![b'y'; 5000]);
    input.extend_from_slice(b"\nstill here\n");
    let (result, out) = run_client(client_args(running.addr, &[]), io::Cursor::new(input), false);
    result.unwrap();
    assert!(
        out.contains("(that line is too long for the chat: not sent)"),
        "the client should say the long line was not sent:\n{out}"
    );
    assert!(
        out.contains("frank: still here"),
        "the client should go on and send the next line:\n{out}"
    );
    running.stop();
}

#[test]
fn a_refused_line_does_not_end_the_chat() {
    let running = start_server(&["--max-message", "10"]);
    let input = io::Cursor::new(b"gina\nthis line is far too long\nshort\n".to_vec());
    let (result, out) = run_client(client_args(running.addr, &[]), input, false);
    result.unwrap();
    assert!(
        out.contains(
            "(refused by the server: message too long; your line: \"this line is far too long\")"
        ),
        "the client should say the server refused the line, and show which; it printed:\n{out}"
    );
    assert!(out.contains("gina: short"), "the chat should go on after the refusal:\n{out}");
    running.stop();
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
        thread::spawn(move || client::run(&args, &shutdown, input, terminal, &mut out))
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

#[test]
fn ctrl_c_in_the_chat_leaves_politely_within_half_a_second() {
    let running = start_server(&[]);
    let bob = Member::join(running.addr, "bob");
    let (feed, out, shutdown, client) = start_client(running.addr, &["--username", "alice"], false);
    out.wait_for("Welcome to WhatsUDP Messenger, alice!");
    assert_eq!(bob.next(), notice("bob joined"), "bob should be told of his own join");
    assert_eq!(bob.next(), notice("alice joined"), "bob should be told that alice joined");
    shutdown.request(); // what the binary's Ctrl-C handler does
    let (result, took) = finish_within(client, Duration::from_millis(500), CTRL_C_IGNORED);
    assert!(
        result.as_ref().is_err_and(shared::Error::is_stopped),
        "leaving by Ctrl-C ends as stopped (exit 130, no error message): {result:?}"
    );
    assert!(took < Duration::from_millis(500), "the client took {took:?} to stop after Ctrl-C");
    assert_eq!(bob.next(), notice("alice left"), "the others should see alice leave");
    assert!(
        out.text().contains("(you left the chat)"),
        "the client should tell alice she left the chat:\n{}",
        out.text()
    );
    drop(feed);
    running.stop();
}

#[test]
fn ctrl_c_at_the_name_prompt_ends_the_client_at_once() {
    let running = start_server(&[]);
    let (feed, out, shutdown, client) = start_client(running.addr, &[], true);
    out.wait_for(client::PROMPT);
    shutdown.request();
    let (result, took) = finish_within(client, Duration::from_millis(500), CTRL_C_IGNORED);
    assert!(
        result.as_ref().is_err_and(shared::Error::is_stopped),
        "Ctrl-C at the prompt ends as stopped, not as an error: {result:?}"
    );
    assert!(
        took < Duration::from_millis(500),
        "Ctrl-C at the name prompt should end the client within half a second; it took {took:?}"
    );
    drop(feed);
    running.stop();
}

#[test]
fn ctrl_c_while_joining_ends_the_client_at_once_without_an_error() {
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = silent.local_addr().unwrap();
    let (feed, _out, shutdown, client) =
        start_client(addr, &["--username", "eve", "--timeout", "30"], false);
    // The JOIN reaching the silent server shows the client is waiting for the answer.
    silent.set_read_timeout(Some(patience())).unwrap();
    silent.recv_from(&mut [0u8; 256]).expect("the client should send a JOIN");
    shutdown.request();
    let (result, took) = finish_within(client, Duration::from_millis(500), CTRL_C_IGNORED);
    assert!(
        result.as_ref().is_err_and(shared::Error::is_stopped),
        "an interrupted join ends as stopped, never as an error: {result:?}"
    );
    assert!(
        took < Duration::from_millis(500),
        "Ctrl-C while joining should end the client within half a second; it took {took:?}"
    );
    drop(feed);
}

#[test]
fn a_hub_client_against_a_broadcast_server_says_the_modes_differ() {
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    let args = client_args(running.addr, &["--username", "hal", "--timeout", "0.5"]);
    let error = run_client(args, io::empty(), false).0.unwrap_err();
    assert!(
        error.to_string().contains("start the client with --broadcast too"),
        "the error should hint that the server may be in broadcast mode: {error}"
    );
    running.stop();
}

// Linux refuses a shared bind over a port held alone; Windows, and the BSDs for a wildcard
// address, let SO_REUSEADDR through.
#[cfg(target_os = "linux")]
#[test]
fn a_broadcast_client_against_a_hub_says_the_modes_differ() {
    let running = start_server(&[]);
    let args = client_args(running.addr, &["--username", "bea", "--broadcast"]);
    let error = run_client(args, io::empty(), false).0.unwrap_err();
    assert!(
        error.to_string().contains("start the client without --broadcast"),
        "the error should hint that the server may be a hub: {error}"
    );
    running.stop();
}

#[test]
fn a_refused_long_line_is_shown_again_and_never_half_erased() {
    let running = start_server(&["--max-message", "100"]);
    let long = "z".repeat(150); // wraps on an 80-column terminal
    let input = format!("ida\n{long}\nshort\n");
    let (result, out) =
        run_client(client_args(running.addr, &[]), io::Cursor::new(input.into_bytes()), true);
    result.unwrap();
    assert_eq!(
        out.matches("\x1b[F").count(),
        1,
        "only the short line (one terminal row) should be erased, not a wrapped one:\n{out:?}"
    );
    assert!(
        out.contains(&format!(
            "(refused by the server: message too long; your line: \"{}...\")",
            &long[..40]
        )),
        "the refusal should show which line was refused:\n{out}"
    );
    assert!(out.contains("ida: short"), "the chat should go on:\n{out}");
    running.stop();
}

#[test]
fn a_stranger_gets_the_errors_the_readme_shows() {
    let running = start_server(&[]);
    let outsider = stranger(running.addr);
    let mut reply = [0u8; 256];
    // The README's forged line, sent without any client.
    outsider.send(b"alice: I never said this").unwrap();
    let len = outsider.recv(&mut reply).expect("a refusal of a line that is not the protocol");
    assert_eq!(&reply[..len], b"ERROR unknown message", "the reply to a bare line");
    outsider.send(ClientMessage::Say("hi").to_string().as_bytes()).unwrap();
    let len = outsider.recv(&mut reply).expect("a refusal of a SAY from a non-member");
    assert_eq!(&reply[..len], b"ERROR not joined", "the reply to a non-member's SAY");
    running.stop();
}

#[test]
fn load_mode_members_post_and_the_summary_counts_deliveries() {
    let running = start_server(&["--reply-rate", "10000000"]);
    let args =
        client_args(running.addr, &["--clients", "3", "--duration", "0.5", "--timeout", "1"]);
    let (result, out) = run_client(args, io::empty(), false);
    // On a loaded machine a member's socket may overflow now and then (UDP drops what does
    // not fit): the run then reports its loss, which is what load mode is for.
    if let Err(error) = &result {
        assert!(error.to_string().contains("lost"), "load mode failed: {error}; printed {out}");
    }
    assert!(out.starts_with("3 clients, "), "one summary line for 3 members: {out}");
    assert_eq!(out.lines().count(), 1, "exactly one summary line: {out}");
    let delivered: u64 = out
        .rsplit_once("; ")
        .and_then(|(_, tail)| tail.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("expected '; N lines delivered' in the summary: {out}"));
    let summary = running.stop();
    assert!(summary.messages > 0, "the hub should have relayed the members' lines");
    assert!(
        delivered >= summary.messages,
        "every relayed line reaches at least its sender: {delivered} deliveries, {} lines",
        summary.messages
    );
    assert_eq!(summary.members_seen, 3, "three members joined");
}

// ---------------------------------------------------------------------------------------
// A hostile network (issue 13): loops, one address filling the table, forged hub datagrams,
// look-alike names, broadcast storms.
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

#[test]
fn the_hub_never_answers_another_servers_replies_so_no_loop_starts() {
    // An echo server (module 3h's) forged into talking to the hub: the hub's refusal comes
    // back to it as it was, and must not be answered again.
    let running = start_server(&[]);
    let padded_ping = ClientMessage::Ping.to_string();
    let echoes = play_a_server_against_the_hub(
        running.addr,
        padded_ping.as_bytes(),
        Duration::from_secs(1),
        <[u8]>::to_vec,
    );
    assert_eq!(echoes, 1, "the hub should answer the stranger's PING once, then never its echo");
    let summary = running.stop();
    assert!(summary.ignored >= 1, "the echoed refusal should be counted as ignored: {summary:?}");
}

#[test]
fn replies_to_one_source_are_rate_limited_so_a_loop_is_held_to_a_small_rate() {
    // A server that answers anything with "Message received" (udp-threaded's): no rule
    // catches it, so the rate limit must hold the exchange to --reply-rate.
    let running = start_server(&["--reply-rate", "20"]);
    let duration = Duration::from_millis(1500);
    let replies =
        play_a_server_against_the_hub(running.addr, b"Message received", duration, |_| {
            b"Message received".to_vec()
        });
    // One second's worth at once, then 20 a second.
    assert!(replies >= 10, "the hub should still answer some: {replies}");
    assert!(
        replies <= 20 + 30 + 5,
        "expected at most about 50 replies at 20 a second, got {replies}"
    );
    running.expect_log("--reply-rate");
    running.stop();
}

#[test]
fn the_hub_never_answers_a_well_known_service_port() {
    // A datagram "from" DNS or an echo server's port could start a loop with that service.
    let Some(service) = shared::testing::service_port_socket() else { return };
    let running = start_server(&[]);
    service.connect(running.addr).unwrap();
    service.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    service.send(ClientMessage::Ping.to_string().as_bytes()).unwrap();
    assert!(service.recv(&mut [0u8; 256]).is_err(), "the hub answered a port below 1024");
    running.expect_log("below 1024");
    assert_eq!(running.stop().not_answered, 1, "the summary counts what was not answered");
}

#[test]
fn one_address_cannot_take_every_member_slot() {
    let running = start_server(&["--max-members", "3", "--max-members-per-ip", "2"]);
    let _alice = Member::join(running.addr, "alice");
    let _bob = Member::join(running.addr, "bob");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "carol", patience()).unwrap_err().to_string();
    assert!(
        error.contains("too many members from 127.0.0.1 (at most 2)"),
        "a third member from one address should be refused, saying why: {error}"
    );
    running.expect_log("--max-members-per-ip");
    running.stop();
}

/// On Linux every 127.x.y.z is this host, so other source addresses can be tried.
#[cfg(target_os = "linux")]
#[test]
fn another_address_still_gets_in_and_a_full_table_says_so() {
    let running = start_server(&["--max-members", "3", "--max-members-per-ip", "2"]);
    let _alice = Member::join(running.addr, "alice");
    let _bob = Member::join(running.addr, "bob");
    let from = |ip: [u8; 4]| {
        let socket = bind_udp(SocketAddr::from((ip, 0))).unwrap();
        socket.connect(running.addr).unwrap();
        socket
    };
    let dave = from([127, 0, 0, 2]);
    join(&dave, running.addr, "dave", patience()).expect("dave, from another address, gets in");
    let erin = from([127, 0, 0, 3]);
    let error = join(&erin, running.addr, "erin", patience()).unwrap_err().to_string();
    assert!(error.contains("the chat is full"), "a full table should say so: {error}");
    running.stop();
}

#[test]
fn every_message_to_a_member_carries_its_own_session_secret() {
    let running = start_server(&["--max-message", "10"]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    assert_ne!(alice.session.secret, bob.session.secret, "each member has a secret of its own");
    alice.say("hi");
    alice.send(&ClientMessage::Ping);
    alice.say("far too long for ten bytes");
    let mut raw = Vec::new();
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    // alice joined, bob joined (NOTICEs), hi (CHAT), PONG, the refusal (ERROR), then the
    // CLOSING below.
    for _ in 0..5 {
        let len = alice.socket.recv(&mut buffer).expect("a message from the hub");
        raw.push(buffer[..len].to_vec());
    }
    running.stop();
    let len = alice.socket.recv(&mut buffer).expect("the CLOSING");
    raw.push(buffer[..len].to_vec());
    let prefix = format!("{:016x} ", alice.session.secret);
    for datagram in &raw {
        let text = String::from_utf8_lossy(datagram);
        assert!(text.starts_with(&prefix), "{text:?} should start with alice's secret {prefix:?}");
    }
    let opened: Vec<ServerMessage> =
        raw.iter().map(|d| alice.session.open(d).expect("a message")).collect();
    let expected = [
        notice("alice joined"),
        notice("bob joined"),
        chat("alice", "hi"),
        ServerMessage::Pong,
        ServerMessage::Error("message too long".into()),
        ServerMessage::Closing,
    ];
    assert_eq!(opened, expected, "alice's messages, each opened with her secret");
}

#[test]
fn the_client_ignores_datagrams_without_its_session_secret_and_says_how_many() {
    // A fake hub: the test answers the client's join itself, then sends what a forger who
    // knows only the hub's address (not the secret) could send, then real lines.
    let hub = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    hub.set_read_timeout(Some(patience())).unwrap();
    let (feed, out, _shutdown, client) =
        start_client(hub.local_addr().unwrap(), &["--username", "vic"], false);
    let mut buffer = vec![0u8; RECV_BUFFER_SIZE];
    let (_, member) = hub.recv_from(&mut buffer).expect("a JOIN");
    hub.send_to(ServerMessage::Challenge(7).to_string().as_bytes(), member).unwrap();
    hub.recv_from(&mut buffer).expect("a HELLO");
    let secret = 0x5ec2_e7aa_bbcc_ddee;
    let welcome = ServerMessage::Welcome { secret, name: "vic".into(), online: vec!["vic".into()] };
    hub.send_to(welcome.to_string().as_bytes(), member).unwrap();
    out.wait_for("Welcome to WhatsUDP Messenger, vic!");
    // Forged: right source address, no secret (and a wrong one).
    let fake = ServerMessage::Chat { from: "admin".into(), text: "obey me".into() };
    hub.send_to(fake.to_string().as_bytes(), member).unwrap();
    hub.send_to(ServerMessage::Closing.to_string().as_bytes(), member).unwrap();
    hub.send_to(crate::protocol::seal(secret ^ 1, &ServerMessage::Closing).as_bytes(), member)
        .unwrap();
    // Real: sealed with vic's secret.
    hub.send_to(crate::protocol::seal(secret, &notice("real notice")).as_bytes(), member).unwrap();
    out.wait_for("* real notice");
    hub.send_to(crate::protocol::seal(secret, &ServerMessage::Closing).as_bytes(), member).unwrap();
    let (result, _) = finish_within(client, patience(), CHAT_LOOP_NEVER_ENDS);
    result.expect("the real CLOSING ends the client normally");
    let text = out.text();
    assert!(!text.contains("obey me"), "a forged line was printed:\n{text}");
    assert!(
        text.find("* real notice") < text.find("closing the chat"),
        "a forged CLOSING must not end the chat:\n{text}"
    );
    assert!(
        text.contains("(ignored 3 datagrams without our session secret"),
        "the client should say how many it ignored:\n{text}"
    );
    drop(feed);
}

#[test]
fn look_alike_invisible_and_mixed_script_names_are_refused() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    for bad in [
        "\u{0430}lice",        // Cyrillic а, then Latin: mixed scripts
        "\u{FF41}\u{FF4C}ice", // fullwidth ａｌ
        "\u{1D41A}lice",       // mathematical bold 𝐚
        "alice\u{3164}",       // Hangul filler, invisible
        "\u{3164}",            // a name made of nothing visible
        "x\u{115F}",           // Hangul choseong filler
        "x\u{FFA0}",           // halfwidth Hangul filler
        "x\u{0345}",           // combining ypogegrammeni
        "ali\u{00AD}ce",       // soft hyphen
    ] {
        let error = join(&socket, running.addr, bad, patience()).map(|_| ()).unwrap_err();
        let error = error.to_string();
        assert!(
            error.contains("the server refused: names are") || error.contains("one script"),
            "{bad:?} should be refused as a name, got: {error}"
        );
    }
    // Each letter fine, one script, but it looks like alice: taken.
    let error = join(&socket, running.addr, "\u{0430}\u{04CF}\u{0456}\u{0441}\u{0435}", patience())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("it looks like alice"),
        "an all-Cyrillic alice should be taken: {error}"
    );
    let error =
        join(&socket, running.addr, "a1ice", patience()).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("it looks like alice"), "a1ice looks like alice: {error}");
    join(&socket, running.addr, "Zo\u{00EB}", patience()).expect("Zoë is a fine name");
    running.stop();
}

#[test]
fn invisible_characters_and_runs_of_spaces_are_neutralised_in_lines() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let spaces = " ".repeat(80);
    let line = format!(
        "a\u{061C}b\u{2028}c\u{2029}d\u{E0041}e\u{00AD}f\u{2060}g\u{3164}h{spaces}bob: fake\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}end \u{2764}\u{FE0F}"
    );
    alice.say(&line);
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat(
            "alice",
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f\u{FFFD}g\u{FFFD}h    bob: fake    end \u{2764}\u{FE0F}"
        ),
        "invisible characters should become \u{FFFD}, space runs at most 4, emoji intact"
    );
    running.stop();
}

#[cfg(target_os = "linux")] // loopback broadcast reaching 0.0.0.0 sockets: Linux (see README)
#[test]
fn two_broadcast_servers_on_one_port_do_not_storm() {
    // Both listen on 0.0.0.0 at the same port, so each hears the other's broadcasts.
    let first = start_server(&["--host", "0.0.0.0", "--broadcast", "127.255.255.255"]);
    let port = first.addr.port().to_string();
    let second =
        start_server(&["--host", "0.0.0.0", "--port", &port, "--broadcast", "127.255.255.255"]);
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"bob: once", (Ipv4Addr::LOCALHOST, first.addr.port())).unwrap();
    let deadline = Instant::now() + patience();
    while !(first.log.text().contains("bob: once") || second.log.text().contains("bob: once")) {
        assert!(Instant::now() < deadline, "neither server relayed the line");
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(500)); // a storm would relay thousands by now
    let (a, b) = (first.stop(), second.stop());
    assert_eq!(a.messages + b.messages, 1, "one line, one relay: {a:?} {b:?}");
    assert!(a.ignored + b.ignored >= 1, "each server heard a relay and ignored it: {a:?} {b:?}");
}

#[cfg(target_os = "linux")] // the socket-sharing rules tested are Linux's
#[test]
fn no_other_program_can_share_the_broadcast_servers_own_socket_with_so_reuseaddr() {
    use socket2::{Domain, Protocol, Socket, Type};
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    // What the attacker of issue 13 did (as another user): SO_REUSEADDR on the server's address.
    let thief = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    thief.set_reuse_address(true).unwrap();
    let result = thief.bind(&running.addr.into());
    assert!(result.is_err(), "a socket with SO_REUSEADDR could bind the server's {}", running.addr);
    // The clients, on 0.0.0.0 with SO_REUSEPORT as the seed's, still can.
    crate::bind_shared_port((Ipv4Addr::UNSPECIFIED, running.addr.port()).into())
        .expect("a chat client binds the shared port");
    running.stop();
}

#[test]
fn ctrl_c_in_load_mode_stops_at_once_with_the_summary_so_far() {
    let running = start_server(&["--reply-rate", "10000000"]);
    let out = SharedOutput::default();
    let shutdown = Shutdown::new();
    let client = {
        let args = client_args(running.addr, &["--clients", "2", "--duration", "30"]);
        let (mut out, shutdown) = (out.clone(), shutdown.clone());
        thread::spawn(move || client::run(&args, &shutdown, io::empty(), false, &mut out))
    };
    running.expect_log("load"); // the members have joined
    thread::sleep(Duration::from_millis(200));
    shutdown.request();
    let (result, took) = finish_within(client, Duration::from_secs(2), CTRL_C_IGNORED);
    assert!(
        result.as_ref().is_err_and(shared::Error::is_stopped),
        "a load run stopped by Ctrl-C ends as stopped, not as an error: {result:?}"
    );
    assert!(took < Duration::from_secs(1), "the run took {took:?} to stop");
    let text = out.text();
    assert!(
        text.starts_with("2 clients, ") && text.contains(" 0 lost"),
        "the summary so far: {text}"
    );
    running.stop();
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-groupchat");
}

#[test]
fn through_a_link_that_loses_the_join_the_client_gives_up_with_no_reply() {
    // The README's bad network: the client does not retry its JOIN, so a lost one (or a lost
    // CHALLENGE) ends it after --timeout with "no reply", never a hang.
    let running = start_server(&[]);
    let relay = lossy_link::testing::start_relay(running.addr, &["--loss-up", "100%"]);
    let args = client_args(relay.addr, &["--username", "carol", "--timeout", "0.3"]);
    let error = run_client(args, io::empty(), false).0.unwrap_err();
    assert!(
        error.to_string().contains("no reply from 127.0.0.1:"),
        "through a link that loses everything the join should end with no reply: {error}"
    );
    assert!(relay.stop().up.lost >= 1, "the relay should have lost the JOIN");
    assert_eq!(running.stop().members_seen, 0, "no member should have joined");
}

// Issue 18, row 8: text that cannot fake a line.

#[test]
fn braille_blanks_cannot_push_a_fake_line_onto_the_next_row() {
    // What the issue measured: 70 U+2800 instead of spaces put `bob: ...` at the start of
    // the second row of an 80-column terminal.
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let blanks = "\u{2800}".repeat(70);
    alice.say(&format!("hi{blanks}bob: my new password is hunter2{}", "\u{1D159}".repeat(9)));
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat("alice", "hi    bob: my new password is hunter2    "),
        "blank-looking characters should count as spaces, so their runs are cut to 4"
    );
    running.stop();
}

#[test]
fn stacked_combining_marks_are_cut_to_four_per_character_in_lines_and_names() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    alice.say(&format!("Zalgo z{}! Vie\u{0302}\u{0301}t", "\u{0301}\u{0316}".repeat(200)));
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    let ServerMessage::Chat { text, .. } = bob.next_matching(is_chat) else { unreachable!() };
    assert_eq!(
        text, "Zalgo z\u{0301}\u{0316}\u{0301}\u{0316}! Vie\u{0302}\u{0301}t",
        "400 marks on z should be cut to 4; Vietnamese's two stay"
    );
    // A name: Devanagari vowel signs are letters (Alphabetic) and combining marks at once.
    let socket = connect_udp(running.addr).unwrap();
    let stacked = format!("क{}", "\u{093E}".repeat(8));
    let error = join(&socket, running.addr, &stacked, patience()).unwrap_err().to_string();
    assert!(error.contains("at most 4 marks"), "a name with 8 stacked marks is refused: {error}");
    running.stop();
}

// Issue 18, row 7: the hub's work per datagram is small, joins are throttled per host, and
// member limits count per host (an IPv4 address, an IPv6 /64).

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

#[test]
fn a_replayed_hello_is_welcomed_only_as_often_as_the_host_may_join() {
    let running = start_server(&["--max-members-per-ip", "4", "--joins-per-minute", "1"]);
    let socket = connect_udp(running.addr).unwrap();
    socket.set_read_timeout(Some(patience())).unwrap();
    let hello = raw_hello(&socket, "alice");
    for _ in 0..50 {
        socket.send(&hello).unwrap();
        thread::sleep(Duration::from_millis(2)); // well within the hub's --reply-rate
    }
    let (welcomes, errors) = count_welcomes_and_errors(&socket);
    assert_eq!(welcomes, 4, "50 HELLOs: a WELCOME for each join of the burst of 4, no more");
    assert!(
        errors.iter().any(|why| why.contains("joining too often")),
        "the HELLOs past the burst should be refused as too frequent: {errors:?}"
    );
    running.expect_log("--joins-per-minute");
    running.stop();
}

#[test]
fn join_and_leave_churn_from_one_host_is_throttled() {
    let running = start_server(&["--max-members-per-ip", "3", "--joins-per-minute", "1"]);
    let watcher = Member::join(running.addr, "watcher"); // join 1 of the host's 3
    let churner = connect_udp(running.addr).unwrap();
    for round in 0..2 {
        join(&churner, running.addr, "churn", patience())
            .unwrap_or_else(|e| panic!("join {round} within the burst should pass: {e}"));
        churner.send(ClientMessage::Leave.to_string().as_bytes()).unwrap();
        watcher.next_matching(|m| *m == notice("churn left"));
    }
    let error = join(&churner, running.addr, "churn", patience()).unwrap_err().to_string();
    assert!(
        error.contains("joining too often"),
        "a fourth join from the host within a minute should be refused: {error}"
    );
    let summary = running.stop();
    assert_eq!(summary.members_seen, 3, "watcher and two churns joined, no more: {summary:?}");
}

/// On Linux every 127.x.y.z is this host, so other source addresses can be tried.
#[cfg(target_os = "linux")]
#[test]
fn a_host_out_of_joins_does_not_keep_another_host_out() {
    let running = start_server(&["--max-members-per-ip", "1", "--joins-per-minute", "1"]);
    let attacker = connect_udp(running.addr).unwrap();
    attacker.set_read_timeout(Some(patience())).unwrap();
    let hello = raw_hello(&attacker, "mallory");
    for _ in 0..20 {
        attacker.send(&hello).unwrap();
    }
    let _ = count_welcomes_and_errors(&attacker);
    let real = bind_udp(SocketAddr::from(([127, 0, 0, 2], 0))).unwrap();
    real.connect(running.addr).unwrap();
    join(&real, running.addr, "alice", patience()).expect("a user from another host joins");
    running.stop();
}

/// On Linux every 127.x.y.z is this host: with `--ipv4-prefix 24` the hub counts
/// 127.0.0.2 and 127.0.0.3 as one host, as it counts one IPv6 /64 by default (loopback has
/// only ::1, so the /64 itself is checked on the index: `member_index`'s tests).
#[cfg(target_os = "linux")]
#[test]
fn member_limits_count_per_network_prefix() {
    let running = start_server(&["--max-members-per-ip", "2", "--ipv4-prefix", "24"]);
    let from = |last: u8| {
        let socket = bind_udp(SocketAddr::from(([127, 0, 0, last], 0))).unwrap();
        socket.connect(running.addr).unwrap();
        socket
    };
    let (two, three, four) = (from(2), from(3), from(4));
    join(&two, running.addr, "alice", patience()).expect("the /24's first member");
    join(&three, running.addr, "bob", patience()).expect("the /24's second member");
    let error = join(&four, running.addr, "carol", patience()).unwrap_err().to_string();
    assert!(
        error.contains("too many members from 127.0.0.0/24 (at most 2)"),
        "a third member from one /24 should be refused, naming the network: {error}"
    );
    running.stop();
}

#[test]
fn a_name_is_free_again_once_its_member_has_left() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "ALICE", patience()).unwrap_err().to_string();
    assert!(error.contains("that name is taken"), "alice is there: {error}");
    alice.send(&ClientMessage::Leave);
    let deadline = Instant::now() + patience();
    while !running.log.text().contains("alice left") {
        assert!(Instant::now() < deadline, "the hub never logged alice leaving");
        thread::sleep(Duration::from_millis(10));
    }
    join(&socket, running.addr, "ALICE", patience()).expect("alice left: the name is free");
    running.stop();
}

/// On Linux every 127.x.y.z is this host, so other source addresses can be tried.
#[cfg(target_os = "linux")]
#[test]
fn a_full_join_table_makes_a_new_host_wait_and_says_so() {
    // One host tracked at most: 127.0.0.1 has joined (and may not join its full burst
    // again yet), so 127.0.0.2 must wait rather than have 127.0.0.1's debt forgotten.
    let running = start_server(&["--max-join-hosts", "1"]);
    let _alice = Member::join(running.addr, "alice");
    let other = bind_udp(SocketAddr::from(([127, 0, 0, 2], 0))).unwrap();
    other.connect(running.addr).unwrap();
    let error = join(&other, running.addr, "bob", patience()).unwrap_err().to_string();
    assert!(error.contains("joining too often"), "the new host is told to wait: {error}");
    running.expect_log("--max-join-hosts");
    running.stop();
}

#[test]
fn a_loop_with_an_echo_server_dies_with_the_default_limits() {
    // Issue 18: the hub and module 3h's echo server answered each other 41,673 times: the
    // hub's refusal, cut to the request's length, is no server message, so the hub answered
    // its own echoed refusal. The reply rule sees the same datagram coming back and stops.
    let running = start_server(&[]);
    let arrived =
        shared::testing::bounce_for(running.addr, b"hello there", Duration::from_secs(10));
    assert!(arrived <= 1100, "the loop should die after about 1000 exchanges; {arrived} came");
    running.stop();
}

// The sealed chat (issue 20): its own file, src/tests/sealed.rs.
mod sealed;
