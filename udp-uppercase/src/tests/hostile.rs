//! Hostile input: text that would take over a terminal, forged service ports, and loops
//! with another server (Loop DoS) that must die by themselves.

use std::thread;
use std::time::Duration;

use shared::testing::{bounce_for, service_port_socket, udp_client, udp_exchange};

use super::start_server;

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
fn several_loops_with_a_second_copy_of_itself_die_as_soon_as_one() {
    // Three forged datagrams start three loops between the same two servers; their
    // datagrams take turns, so no one text comes back twice in a row. Each server must
    // still see its replies coming back, and all loops must stop.
    let first = start_server(&["--quiet"]);
    let second = start_server(&["--quiet"]);
    let firsts: &[&[u8]] = &[b"ping", b"pong", b"pang"];
    let crossed = shared::testing::wire_between_each(
        first.addr,
        second.addr,
        firsts,
        Duration::from_secs(10),
    );
    assert!(
        crossed <= 2 * 1000 + 100,
        "the loops should die after about --loop-after (1000) datagrams each way in all; \
         {crossed} crossed"
    );
    let looped = first.stop().refused.looped + second.stop().refused.looped;
    assert!(
        looped >= firsts.len() as u64,
        "each loop ends with one datagram not answered: {looped} counted for {} loops",
        firsts.len()
    );
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
