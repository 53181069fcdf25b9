//! The client: `--message`, lines from its input, the prompt, a message too big, a
//! silent server, no server at all, and a lossy link.

use std::io::Cursor;

use clap::Parser;
use shared::udp::{MAX_UDP_PAYLOAD, bind_udp};

use super::{run_client, start_server};
use crate::args::ClientArgs;
use crate::client::{self, PROMPT};

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
    client::run(&args, Cursor::new("hi\n"), true, &mut out).unwrap();
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
fn at_a_terminal_the_client_says_no_server_is_listening_and_keeps_the_prompt() {
    // A port where nothing listens (taken, then freed: another program could take it in
    // between, which is unlikely within a test).
    let port = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap().port();
    let args =
        ClientArgs::try_parse_from(["client", "--port", &port.to_string(), "--timeout", "1"])
            .unwrap();
    let mut out = Vec::new();
    let input = Cursor::new("first try\nsecond try\n");
    let outcome = client::run(&args, input, true, &mut out);
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
