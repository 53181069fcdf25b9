//! The server: the echo, each client counted apart, the notebook's log lines, datagrams of
//! every shape and size, `--quiet`, the summary and stopping, a duplicating link.

use std::time::Duration;

use shared::testing::{udp_client, udp_exchange};
use shared::udp::MAX_UDP_PAYLOAD;

use super::{run_client, start_server};

#[test]
fn echoes_each_datagram_to_its_sender() {
    let running = start_server(&[]);
    let (alice, bob) = (udp_client(running.addr), udp_client(running.addr));
    assert_eq!(
        udp_exchange(&alice, b"from alice"),
        b"from alice",
        "the server should echo alice's datagram back to her"
    );
    assert_eq!(
        udp_exchange(&bob, b"from bob"),
        b"from bob",
        "the server should echo bob's datagram back to him"
    );
    running.stop();
}

#[test]
fn counts_datagrams_per_client_with_clients_interleaved() {
    let running = start_server(&[]);
    let (alice, bob) = (udp_client(running.addr), udp_client(running.addr));
    for data in [&b"a1"[..], b"a2", b"a3"] {
        udp_exchange(&alice, data);
        udp_exchange(&bob, b"b");
    }
    let alice_addr = alice.local_addr().unwrap();
    let summary = running.stop();
    assert_eq!(summary.datagrams, 6, "the summary should count all 6 datagrams");
    let alice_entry = summary.clients.iter().find(|(addr, ..)| *addr == alice_addr);
    assert_eq!(
        alice_entry,
        Some(&(alice_addr, 3, 6)),
        "the summary should list alice with 3 datagrams and 6 bytes; all clients: {:?}",
        summary.clients
    );
    assert_eq!(summary.clients.len(), 2, "the summary should list both clients");
}

#[test]
fn logs_data_sender_bytes_and_count_like_the_notebook() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    udp_exchange(&socket, b"Hello, world (42)");
    udp_exchange(&socket, b"Hello, world (42)");
    let sender = socket.local_addr().unwrap();
    let line = running.expect_log("client count: 2");
    assert_eq!(
        line,
        format!(
            "data: b'Hello, world (42)'\nfrom {sender}\necho done, result: 17, client count: 2"
        ),
        "the log should show the data, the sender, the byte count and the client count like the notebook"
    );
    running.stop();
}

#[test]
fn survives_invalid_utf8_empty_and_maximum_size_datagrams() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(
        udp_exchange(&socket, b"\xff\xfe\x00bytes"),
        b"\xff\xfe\x00bytes",
        "invalid UTF-8 should be echoed unchanged"
    );
    assert_eq!(udp_exchange(&socket, b""), b"", "an empty datagram should get an empty echo");
    let biggest = vec![b'x'; MAX_UDP_PAYLOAD];
    assert_eq!(udp_exchange(&socket, &biggest).len(), MAX_UDP_PAYLOAD, "the echo was cut short");
    assert_eq!(
        udp_exchange(&socket, b"after"),
        b"after",
        "after a maximum-size datagram the server should still echo"
    );
    let log = running.log.clone();
    let summary = running.stop();
    assert_eq!(
        summary.clients,
        [(socket.local_addr().unwrap(), 4, 8 + MAX_UDP_PAYLOAD as u64 + 5)],
        "the summary should count this client's 4 datagrams and every byte of them"
    );
    assert!(
        log.text().contains(r"data: b'\xff\xfe\x00bytes'"),
        "the log should show invalid UTF-8 as escaped bytes:\n{}",
        log.text()
    );
}

#[test]
fn stops_within_a_second_and_lists_the_clients() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    udp_exchange(&socket, b"12345");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert_eq!(summary.datagrams, 1, "the summary should count the one datagram");
    assert!(
        took < Duration::from_secs(1),
        "the server should stop within a second of the shutdown; it took {took:?}"
    );
    let expected = format!(
        "Echoed 1 datagram for 1 client:\n  {}: 1 datagram, 5 bytes",
        socket.local_addr().unwrap()
    );
    assert!(log.text().contains(&expected), "expected {expected:?} in the log:\n{}", log.text());
}

#[test]
fn quiet_logs_no_datagrams_but_still_the_summary() {
    let running = start_server(&["--quiet"]);
    udp_exchange(&udp_client(running.addr), b"shh");
    let log = running.log.clone();
    running.stop();
    assert!(!log.text().contains("data:"), "--quiet should not log datagrams:\n{}", log.text());
    assert!(
        log.text().contains("Echoed 1 datagram"),
        "--quiet should still log the summary:\n{}",
        log.text()
    );
}

#[test]
fn through_a_duplicating_link_the_server_counts_every_copy() {
    // UDP may deliver a datagram twice. The server counts what arrives: through a relay
    // that duplicates every request, 3 messages make a client count of 6.
    let running = start_server(&[]);
    let relay = lossy_link::testing::start_relay(running.addr, &["--duplicate-up", "100%"]);
    let port = relay.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--count", "3", "--interval", "0"]);
    assert!(
        outcome.is_ok(),
        "every echo came back (some twice), yet the client said {outcome:?}: {out}"
    );
    running.expect_log("client count: 6");
    relay.stop();
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 1, "the relay is one client to the server: {summary:?}");
    assert_eq!(
        summary.clients[0].1, 6,
        "the server should count each of the 6 copies: {summary:?}"
    );
}
