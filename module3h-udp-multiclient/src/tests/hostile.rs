//! Hostile input: a flood of new addresses, loops with another server (Loop DoS) and with
//! a copy of itself, forged service ports, and a client that only looks like a loop.

use std::net::UdpSocket;
use std::time::Duration;

use shared::testing::{bounce_for, service_port_socket, udp_client, udp_exchange};

use super::{run_client, start_server};

#[test]
fn a_flood_of_new_addresses_keeps_the_table_bounded_and_the_server_answering() {
    let running = start_server(&["--quiet", "--max-clients", "50"]);
    // 500 different source addresses: 500 sockets on 127.0.0.1, all kept open, so each has
    // its own port (works on every system; macOS and Windows have no 127.1.x.y). Each waits
    // for its echo, so none is lost to a full receive buffer.
    let flood: Vec<UdpSocket> = (0..500).map(|_| udp_client(running.addr)).collect();
    for (i, socket) in flood.iter().enumerate() {
        assert_eq!(
            udp_exchange(socket, format!("flood {i}").as_bytes()),
            format!("flood {i}").as_bytes(),
            "flood client {i} got a wrong echo"
        );
    }
    let regular = udp_client(running.addr);
    assert_eq!(
        udp_exchange(&regular, b"still there?"),
        b"still there?",
        "after the flood a new client should still get its echo"
    );
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 50, "the table must stay at --max-clients");
    assert_eq!(summary.evictions, 501 - 50, "every new client past 50 evicts one");
    assert_eq!(summary.datagrams, 501, "every datagram is counted");
}

#[test]
fn a_loop_with_another_server_is_held_to_the_reply_rate() {
    // The test plays a second echo server that a forged datagram has set talking to this
    // one: everything this server echoes, it echoes back.
    let running = start_server(&["--quiet", "--reply-rate", "10"]);
    let arrived = bounce_for(running.addr, b"ping", Duration::from_secs(3));
    assert!(
        (10..=45).contains(&arrived),
        "with --reply-rate 10, at least 10 and at most about 10 + 3 x 10 echoes should come in 3 s; {arrived} came"
    );
    running.expect_log("its --reply-rate of replies");
    let log = running.log.clone();
    let summary = running.stop();
    assert!(summary.refused.rate_limited > 0, "the summary should count the refused echoes");
    assert!(log.text().contains("did not answer"), "the summary should say so:\n{}", log.text());
}

#[test]
fn does_not_echo_to_a_well_known_service_port() {
    // Binding a port below 1024 needs root (or Windows): skipped with a note where refused.
    let running = start_server(&[]);
    let Some(low) = service_port_socket() else { return };
    low.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    low.send_to(b"from a service port", running.addr).unwrap();
    running.expect_log("its source port is below 1024");
    assert!(low.recv_from(&mut [0; 64]).is_err(), "no echo may go to a port below 1024");
    running.stop();
}

#[test]
fn several_loops_with_a_second_copy_of_itself_die_as_soon_as_one() {
    // Two forged datagrams start two echo loops between the same two servers; their
    // datagrams take turns, so no one text comes back twice in a row. Each server must
    // still see its echoes coming back, and all loops must stop.
    let first = start_server(&["--quiet"]);
    let second = start_server(&["--quiet"]);
    let firsts: &[&[u8]] = &[b"ping", b"pong"];
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
    // Issue 18: an echo server and an echo server answer each other for ever, each echoing
    // the other's echo. Each must see its own echo coming back and stop.
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
fn a_client_sending_the_same_text_with_no_pause_gets_every_echo_up_to_loop_after() {
    // `--count N --interval 0` with one text looks like a loop; up to --loop-after it is
    // answered in full (the README says where the rule cannot tell them apart).
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--count", "900", "--interval", "0", "--timeout", "5"]);
    assert!(out.contains("900 of 900 echoes came back."), "every echo should come back: {out}");
    outcome.unwrap();
    assert_eq!(running.stop().refused.total(), 0, "nothing should have been refused");
}
