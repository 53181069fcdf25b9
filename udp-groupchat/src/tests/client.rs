//! The real client, through its library entry point, with in-memory input and output:
//! chatting, the prompt, joins that get no answer, long and refused lines, Ctrl-C at every
//! stage, and the hints when client and server are in different modes.

use super::*;

#[test]
fn two_clients_chat_through_the_library_entry_point() {
    let running = start_server(&[]);
    let (feed_bob, bob_input) = fed_input();
    let bob_out = SharedOutput::default();
    let bob = {
        let (args, mut out) = (client_args(running.addr, &[]), bob_out.clone());
        thread::spawn(move || {
            crate::client::run(&args, &Shutdown::new(), bob_input, false, &mut out)
        })
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
        (crate::client::run(&args, &Shutdown::new(), io::empty(), false, &mut out), out)
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
    out.wait_for(crate::client::PROMPT);
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
