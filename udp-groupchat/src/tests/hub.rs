//! The hub, spoken to over raw sockets: joining (challenge, welcome, who is online), relaying
//! with the sender's name, notices, refusals, time-outs, limits, the closing notice, and
//! `--version`.

use super::*;

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

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-groupchat");
}
