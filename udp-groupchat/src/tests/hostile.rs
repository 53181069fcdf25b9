//! A hostile network: no amplification, no loops with other servers, the reply rule, one
//! host cannot fill the table or churn joins, forged hub datagrams ignored by the session
//! secret.

use super::*;

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
