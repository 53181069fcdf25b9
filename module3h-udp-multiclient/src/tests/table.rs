//! The client table: bounded by `--max-clients`, the least recently seen client evicted
//! and logged, and the summary's list of clients.

use std::net::{SocketAddr, UdpSocket};

use shared::testing::{udp_client, udp_exchange};

use super::start_server;

#[test]
fn a_full_table_evicts_the_least_recently_seen_client_and_logs_it() {
    let running = start_server(&["--max-clients", "2"]);
    let clients: Vec<UdpSocket> = (0..3).map(|_| udp_client(running.addr)).collect();
    udp_exchange(&clients[0], b"first");
    udp_exchange(&clients[1], b"second");
    udp_exchange(&clients[0], b"first again"); // now clients[1] is the least recent
    udp_exchange(&clients[2], b"third"); // table full: clients[1] must go
    let evicted = clients[1].local_addr().unwrap();
    let line = running.expect_log("client table full");
    assert!(
        line.contains(&format!("forgot {evicted}")),
        "the log should name the forgotten client {evicted}: {line}"
    );
    let summary = running.stop();
    assert_eq!(summary.evictions, 1, "the summary should count one eviction");
    let remaining: Vec<SocketAddr> = summary.clients.iter().map(|(addr, ..)| *addr).collect();
    assert_eq!(
        remaining,
        [clients[0].local_addr().unwrap(), clients[2].local_addr().unwrap()],
        "the least recently seen client should be the one forgotten"
    );
}

#[test]
fn logs_an_eviction_before_the_echo_that_caused_it() {
    let running = start_server(&["--max-clients", "1"]);
    let (first, second) = (udp_client(running.addr), udp_client(running.addr));
    udp_exchange(&first, b"first");
    udp_exchange(&second, b"second");
    running.expect_log("data: b'second'");
    let lines = running.log.lines();
    let eviction = lines.iter().position(|line| line.contains("client table full"));
    let echo = lines.iter().position(|line| line.contains("data: b'second'"));
    assert!(
        matches!((eviction, echo), (Some(e), Some(d)) if e < d),
        "the eviction should be logged before the echo of the datagram that caused it:\n{}",
        lines.join("\n")
    );
    running.stop();
}

#[test]
fn the_summary_lists_at_most_twenty_clients_most_active_first() {
    let running = start_server(&["--quiet"]);
    let busy = udp_client(running.addr);
    let others: Vec<UdpSocket> = (0..24).map(|_| udp_client(running.addr)).collect();
    for socket in &others {
        udp_exchange(socket, b"once");
    }
    for _ in 0..3 {
        udp_exchange(&busy, b"again");
    }
    let log = running.log.clone();
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 25, "the summary keeps every client in the table");
    let text = log.text();
    let listed = text.lines().filter(|line| line.starts_with("  127.0.0.1:")).count();
    assert_eq!(listed, 20, "at most 20 clients should be listed one by one:\n{text}");
    let first_listed = text.lines().find(|line| line.starts_with("  127.0.0.1:"));
    assert_eq!(
        first_listed,
        Some(format!("  {}: 3 datagrams, 15 bytes", busy.local_addr().unwrap()).as_str()),
        "the most active client should come first:\n{text}"
    );
    assert!(text.contains("  ... and 5 more"), "the rest should be counted:\n{text}");
}
