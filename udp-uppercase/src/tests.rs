//! The grading suite for udp-uppercase.
//!
//! Every test starts the real server in this process on a free port (`--port 0`), talks to
//! it over real loopback sockets, and checks what came back. Every wait has a deadline, so
//! an unfinished server fails a test instead of hanging the run.

use std::io::{self, Cursor};
use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::testing::{
    TestServer, bounce_for, client_deadline, patience, returns_within, service_port_socket,
    udp_client, udp_exchange,
};
use shared::udp::{MAX_UDP_PAYLOAD, bind_udp};

use crate::client::{self, ClientArgs, PROMPT};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

fn ask(server: SocketAddr, message: &[u8]) -> Vec<u8> {
    udp_exchange(&udp_client(server), message)
}

/// Runs the client through its library entry point with these arguments and input.
/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

fn run_client(args: &[&str], input: &str) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    let input = input.to_string();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let deadline = client_deadline(args.timeout, args.count, Duration::ZERO, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = client::run(
            &args,
            &shared::shutdown::Shutdown::new(),
            Cursor::new(input),
            false,
            &mut out,
        );
        (outcome, String::from_utf8(out).unwrap())
    })
}

#[test]
fn replies_with_the_message_in_uppercase() {
    let running = start_server(&[]);
    assert_eq!(
        ask(running.addr, b"hello, world"),
        b"HELLO, WORLD",
        "the server should reply with the message in uppercase"
    );
    running.stop();
}

#[test]
fn uppercases_unicode_letters_not_just_ascii() {
    let running = start_server(&[]);
    assert_eq!(
        String::from_utf8(ask(running.addr, "straße".as_bytes())).unwrap(),
        "STRASSE",
        "the server should uppercase ß as SS"
    );
    assert_eq!(
        String::from_utf8(ask(running.addr, "café αβγ".as_bytes())).unwrap(),
        "CAFÉ ΑΒΓ",
        "the server should uppercase accented and Greek letters too"
    );
    running.stop();
}

#[test]
fn replaces_invalid_utf8_and_keeps_serving() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(
        String::from_utf8(udp_exchange(&socket, b"abc\xff\xfedef")).unwrap(),
        "ABC\u{FFFD}\u{FFFD}DEF",
        "the server should replace each invalid byte with U+FFFD and uppercase the rest"
    );
    assert_eq!(
        udp_exchange(&socket, b"still here"),
        b"STILL HERE",
        "after invalid UTF-8 the server should still answer"
    );
    running.stop();
}

#[test]
fn answers_an_empty_datagram_with_an_empty_reply() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(udp_exchange(&socket, b""), b"", "an empty datagram should get an empty reply");
    assert_eq!(
        udp_exchange(&socket, b"next"),
        b"NEXT",
        "the empty datagram must not upset the server"
    );
    running.stop();
}

#[test]
fn returns_a_maximum_size_datagram_whole() {
    let running = start_server(&[]);
    let message = vec![b'a'; MAX_UDP_PAYLOAD];
    let reply = ask(running.addr, &message);
    assert_eq!(reply.len(), MAX_UDP_PAYLOAD, "the reply was cut: the server's buffer is too small");
    assert!(reply.iter().all(|&b| b == b'A'), "the reply is not all uppercase");
    running.stop();
}

#[test]
fn survives_a_reply_too_large_for_one_datagram() {
    // 'ɐ' is 2 bytes and its uppercase 'Ɐ' is 3: 30,000 of them make a legal 60,000-byte
    // datagram whose uppercase (90,000 bytes) no datagram can carry.
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    socket.send("ɐ".repeat(30_000).as_bytes()).unwrap();
    running.expect_log("could not reply");
    assert_eq!(udp_exchange(&socket, b"after"), b"AFTER", "the server must go on serving");
    let summary = running.stop();
    assert_eq!(
        summary.failed_replies, 1,
        "the summary should count the reply that could not be sent"
    );
}

#[test]
fn gives_each_of_several_concurrent_clients_its_own_reply() {
    let running = start_server(&["--quiet"]);
    let addr = running.addr;
    let clients: Vec<_> = (0..8)
        .map(|client| {
            thread::spawn(move || {
                let socket = udp_client(addr);
                for request in 0..25 {
                    let message = format!("client {client} request {request}");
                    let reply = udp_exchange(&socket, message.as_bytes());
                    assert_eq!(
                        String::from_utf8(reply).unwrap(),
                        message.to_uppercase(),
                        "client {client} should get its own request back in uppercase"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client got a wrong reply or none");
    }
    let summary = running.stop();
    assert_eq!(summary.datagrams, 8 * 25, "the summary should count every client's datagrams");
}

#[test]
fn announces_that_it_is_ready_with_its_address() {
    let running = start_server(&[]);
    let ready = running.expect_log("The server is ready to receive.");
    assert!(
        ready.contains(&running.addr.to_string()),
        "the ready line should show the address: {ready}"
    );
    running.stop();
}

#[test]
fn logs_each_datagram_with_its_sender_and_reply() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    udp_exchange(&socket, b"log me");
    let sender = socket.local_addr().unwrap().port().to_string();
    let line = running.expect_log("'log me'");
    assert!(line.contains(&sender), "the line should name the sender's port {sender}: {line}");
    assert!(line.contains("'LOG ME'"), "the line should show the reply: {line}");
    running.stop();
}

#[test]
fn the_log_shows_escape_sequences_and_invisible_characters_as_escapes() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    // An escape sequence would clear the server's screen; U+202E would show the rest of the
    // line reversed ("gol" for "log"); U+200B would hide a character's end.
    udp_exchange(&socket, "sneaky \x1b[2J\u{202E}log\u{200B}".as_bytes());
    let line = running.expect_log("'sneaky ");
    assert!(
        line.contains(r"'sneaky \u{1b}[2J\u{202e}log\u{200b}'"),
        "the log should show the escape and the invisible characters as escapes: {line}"
    );
    assert!(
        !line.contains(['\x1b', '\u{202E}', '\u{200B}']),
        "none of them should reach the terminal: {line:?}"
    );
    running.stop();
}

#[test]
fn quiet_logs_no_datagrams_but_still_the_summary() {
    let running = start_server(&["--quiet"]);
    let log = running.log.clone();
    ask(running.addr, b"shh");
    running.stop();
    assert!(!log.text().contains("shh"), "--quiet should not log datagrams:\n{}", log.text());
    assert!(log.text().contains("Served 1 datagram."), "the summary is missing:\n{}", log.text());
}

#[test]
fn stops_within_a_second_on_shutdown_and_summarises() {
    let running = start_server(&[]);
    ask(running.addr, b"one");
    ask(running.addr, b"two");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert!(
        took < Duration::from_secs(1),
        "the server should stop within a second of the shutdown; it took {took:?}"
    );
    assert_eq!(summary.datagrams, 2, "the summary should count both datagrams");
    assert!(
        log.text().contains("Served 2 datagrams."),
        "the summary should say it served 2 datagrams; log:\n{}",
        log.text()
    );
}

#[test]
fn refuses_to_start_on_a_port_already_in_use() {
    let taken = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let args = ServerArgs::try_parse_from(["server", "--port", &port]).unwrap();
    let error = Server::bind(&args, Log::capture(false).0).err().expect("bind should fail");
    assert_eq!(
        error.io_kind(),
        Some(io::ErrorKind::AddrInUse),
        "the server should fail because the address is in use"
    );
    assert!(
        error.to_string().starts_with(&format!("cannot bind 127.0.0.1:{port}: ")),
        "the error should name the address it could not bind: {error}"
    );
}

#[test]
fn listens_on_the_textbook_address_by_default() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12000".parse().unwrap(),
        "the server should listen on 127.0.0.1:12000 by default"
    );
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12000".parse().unwrap(),
        "the client should send to 127.0.0.1:12000 by default"
    );
}

#[test]
fn client_message_prints_the_uppercase_reply() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--message", "hello from a test"], "");
    outcome.unwrap();
    assert_eq!(out, "HELLO FROM A TEST\n", "the client should print the server's uppercase reply");
    running.stop();
}

#[test]
fn client_sends_each_input_line_and_prints_each_reply() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port], "first line\nsecond line\n");
    outcome.unwrap();
    assert_eq!(
        out, "FIRST LINE\nSECOND LINE\n",
        "the client should print one uppercase reply per input line"
    );
    assert_eq!(running.stop().datagrams, 2, "the client should send one datagram per input line");
}

#[test]
fn client_prompts_like_the_notebook_when_asked_to() {
    let running = start_server(&[]);
    let args =
        ClientArgs::try_parse_from(["client", "--port", &running.addr.port().to_string()]).unwrap();
    let mut out = Vec::new();
    client::run(&args, &shared::shutdown::Shutdown::new(), Cursor::new("hi\n"), true, &mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("{PROMPT}HI\n{PROMPT}\n"),
        "the client should prompt before each line and print the reply after it"
    );
    running.stop();
}

#[test]
fn client_refuses_a_message_too_big_for_one_datagram() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let too_big = "a".repeat(MAX_UDP_PAYLOAD + 1);
    let (outcome, out) = run_client(&["--port", &port, "--message", &too_big], "");
    let error = outcome.expect_err("65,508 bytes cannot be one datagram").to_string();
    assert!(
        error.contains("does not fit in one UDP datagram"),
        "the client should say the message does not fit in one datagram: {error}"
    );
    assert!(out.is_empty(), "the client should print nothing when it refuses the message: {out:?}");
    assert_eq!(running.stop().datagrams, 0, "nothing should have been sent");
}

#[test]
fn client_gives_up_after_its_timeout_when_the_server_is_silent() {
    // A socket that receives but never answers: the client must not wait forever.
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--timeout", "0.3", "--message", "anyone?"], "");
    let error = outcome.expect_err("a client with no reply must fail").to_string();
    assert!(
        error.contains("no reply from 127.0.0.1:"),
        "the client should say no reply came: {error}"
    );
    assert!(out.is_empty(), "nothing should be printed as a reply: {out:?}");
}

#[test]
fn client_says_so_when_no_server_is_listening() {
    let closed_port =
        bind_udp("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap().port().to_string();
    let (outcome, _) =
        run_client(&["--port", &closed_port, "--timeout", "5", "--message", "hello?"], "");
    let error = outcome.expect_err("there is no server").to_string();
    assert!(
        error.contains("no server is listening at 127.0.0.1:") || error.contains("no reply from"),
        "the client should say no server is listening (or no reply came): {error}"
    );
}

#[test]
fn client_load_mode_checks_every_reply() {
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--clients", "4", "--count", "50", "--timeout", "2"], "");
    outcome.unwrap();
    assert!(
        out.starts_with("4 clients"),
        "the load summary should start with the number of clients: {out}"
    );
    assert!(
        out.contains("200 requests, 200 replies, 0 lost, 0 wrong"),
        "all 200 requests should get a correct reply: {out}"
    );
    assert_eq!(running.stop().datagrams, 200, "the server should count all 200 requests");
}

#[test]
fn client_load_mode_fails_when_replies_are_wrong() {
    // An "echo" server answers, but not in uppercase: every reply is wrong.
    let echo = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    echo.set_read_timeout(Some(patience())).unwrap();
    let port = echo.local_addr().unwrap().port().to_string();
    let echoer = thread::spawn(move || {
        let mut buf = [0; 2048];
        for _ in 0..5 {
            let (len, from) = echo.recv_from(&mut buf).unwrap();
            echo.send_to(&buf[..len], from).unwrap();
        }
    });
    let (outcome, out) = run_client(&["--port", &port, "--count", "5", "--timeout", "2"], "");
    echoer.join().unwrap();
    assert!(
        out.contains("5 requests, 0 replies, 0 lost, 5 wrong"),
        "the client should count all 5 echoed replies as wrong: {out}"
    );
    assert!(outcome.is_err(), "wrong replies must fail the client; it returned {outcome:?}");
}

#[test]
fn a_loop_with_another_server_is_held_to_the_reply_rate() {
    // One forged datagram between two servers makes them answer each other forever (Loop
    // DoS). Here the test plays the other server: it sends back every reply it gets.
    let running = start_server(&["--quiet", "--reply-rate", "10"]);
    let arrived = bounce_for(running.addr, b"ping", Duration::from_secs(3));
    assert!(
        (10..=45).contains(&arrived),
        "with --reply-rate 10, at least 10 and at most about 10 + 3 x 10 replies should come in 3 s; {arrived} came"
    );
    running.expect_log("its --reply-rate of replies");
    let summary = running.stop();
    assert!(
        summary.refused.rate_limited > 0,
        "the summary should count the replies refused by the rate; it counted {} (summary: {summary})",
        summary.refused.rate_limited
    );
}

#[test]
fn does_not_answer_a_well_known_service_port() {
    // A datagram "from" port 53 (DNS) or 123 (NTP) may be forged to set two services
    // talking to each other. Binding a port below 1024 needs root (or Windows): skipped
    // with a note where the system refuses it.
    let running = start_server(&[]);
    let Some(low) = service_port_socket() else { return };
    low.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    low.send_to(b"from a service port", running.addr).unwrap();
    running.expect_log("its source port is below 1024");
    assert!(low.recv_from(&mut [0; 64]).is_err(), "no reply may go to a port below 1024");
    assert_eq!(udp_exchange(&udp_client(running.addr), b"ok"), b"OK", "others are still served");
    running.stop();
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-uppercase");
}

#[test]
fn at_a_terminal_the_client_says_no_server_is_listening_and_keeps_the_prompt() {
    // A port where nothing listens (taken, then freed: another program could take it in
    // between, which is unlikely within a test).
    let port = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap().port();
    let args =
        ClientArgs::try_parse_from(["client", "--port", &port.to_string(), "--timeout", "1"])
            .unwrap();
    let mut out = Vec::new();
    let input = Cursor::new("first try\nsecond try\n");
    let outcome = client::run(&args, &shared::shutdown::Shutdown::new(), input, true, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(outcome.is_ok(), "at a terminal a missing server must not end the client: {outcome:?}");
    assert_eq!(
        out.matches("type a line to try again").count(),
        2,
        "each line should say what went wrong and keep the prompt:\n{out}"
    );
    assert_eq!(
        out.matches(PROMPT).count(),
        3,
        "the prompt should come back after each line:\n{out}"
    );
}

#[test]
fn through_a_lossy_link_the_client_times_out_and_load_mode_counts_the_losses() {
    // UDP does not promise delivery. Through a relay that loses everything, the client must
    // give up after --timeout and say so, not hang as the textbook's client would.
    let running = start_server(&["--quiet"]);
    let black_hole = lossy_link::testing::start_relay(running.addr, &["--loss", "100%"]);
    let port = black_hole.addr.port().to_string();
    let (outcome, _) = run_client(&["--port", &port, "--message", "lost", "--timeout", "0.3"], "");
    let error = outcome.expect_err("with every datagram lost, the client must fail");
    assert!(
        error.to_string().contains("no reply from") && error.to_string().contains("within 0.3 s"),
        "the client should say it got no reply within its timeout: {error}"
    );
    black_hole.stop();

    // Through a link that loses one datagram in five, some requests come back and some not.
    let lossy = lossy_link::testing::start_relay(running.addr, &["--loss", "20%", "--seed", "7"]);
    let port = lossy.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--count", "40", "--timeout", "0.3"], "");
    let summary = lossy.stop();
    assert!(
        outcome.is_err(),
        "lost replies must fail the load run; it returned {outcome:?}: {out}"
    );
    assert!(summary.up.lost + summary.down.lost > 0, "the relay should have lost some: {out}");
    assert!(!out.contains(" 0 lost"), "the load summary should count the lost requests: {out}");
    assert!(!out.contains(" 0 replies"), "and the ones that came back: {out}");
    running.stop();
}

#[test]
fn a_loop_with_a_second_copy_of_itself_dies_by_itself() {
    // Issue 18: one datagram set two uppercase servers answering each other for ever (the
    // reply rate never bit: the loop ran below it). Each must see its replies coming back
    // and stop; the wire between them then goes quiet long before the test's 10 s.
    let first = start_server(&["--quiet"]);
    let second = start_server(&["--quiet"]);
    let crossed =
        shared::testing::wire_between(first.addr, second.addr, b"ping", Duration::from_secs(10));
    assert!(
        crossed <= 2 * 1000 + 100,
        "the loop should die after about --loop-after (1000) datagrams each way; {crossed} crossed"
    );
    let looped = first.stop().refused.looped + second.stop().refused.looped;
    assert!(looped >= 1, "a server should count the datagram it did not answer as a loop");
}

#[test]
fn a_loop_with_an_echo_server_dies_and_the_server_says_why() {
    // The course's Python echo server plays the same part: it sends back every reply.
    let running = start_server(&["--quiet", "--loop-after", "50"]);
    let arrived = bounce_for(running.addr, b"ping", Duration::from_secs(10));
    assert!(
        (50..=60).contains(&arrived),
        "with --loop-after 50, about 50 replies should come back, then none; {arrived} came"
    );
    running.expect_log("a loop between two servers");
    assert!(running.stop().refused.looped >= 1, "the summary should count the loop");
}

#[test]
fn a_person_typing_the_same_line_again_and_again_is_answered_every_time() {
    // The loop rule keys on repeats arriving right after the reply: a person (or a client
    // that pauses) is never one.
    let running = start_server(&["--quiet", "--loop-after", "3"]);
    let socket = udp_client(running.addr);
    for n in 0..6 {
        thread::sleep(shared::reply::LOOP_GAP + Duration::from_millis(20));
        assert_eq!(udp_exchange(&socket, b"same line"), b"SAME LINE", "line {n}");
    }
    assert_eq!(running.stop().refused.total(), 0, "nothing should have been refused");
}
