//! Relaying itself: datagrams arrive whole, each client gets its own upstream socket and
//! its own replies, the client table is bounded and forgets idle clients, and the summary
//! counts each direction.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use super::helpers::{PATIENCE, Sink, client_of, exchange, start_relay};

#[test]
fn relays_the_largest_datagram_whole() {
    for flags in [&[][..], &["--delay", "1ms"]] {
        let sink = Sink::start(false);
        let relay = start_relay(sink.addr, flags);
        let client = client_of(&relay);
        let largest = vec![b'z'; shared::udp::MAX_UDP_PAYLOAD];
        client.send(&largest).unwrap();
        sink.wait_for(1);
        relay.stop();
        let arrivals = sink.finish();
        assert_eq!(arrivals[0].data.len(), largest.len(), "with {flags:?} it must arrive whole");
    }
}

#[test]
fn gives_each_client_its_own_upstream_socket() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &[]);
    let (alice, bob) = (client_of(&relay), client_of(&relay));
    for round in 0..2 {
        alice.send(format!("alice {round}").as_bytes()).unwrap();
        bob.send(format!("bob {round}").as_bytes()).unwrap();
    }
    sink.wait_for(4);
    let relay_addr = relay.addr;
    let summary = relay.stop();
    let arrivals = sink.finish();
    let source = |who: &str| -> HashSet<SocketAddr> {
        arrivals.iter().filter(|a| a.data.starts_with(who.as_bytes())).map(|a| a.from).collect()
    };
    let (from_alice, from_bob) = (source("alice"), source("bob"));
    assert_eq!(from_alice.len(), 1, "one client, one source address: {from_alice:?}");
    assert_eq!(from_bob.len(), 1, "one client, one source address: {from_bob:?}");
    assert_ne!(from_alice, from_bob, "the server must see two clients, not one relay");
    for addr in from_alice.iter().chain(&from_bob) {
        assert_ne!(*addr, relay_addr, "not the relay's listening socket");
        assert!(addr.ip().is_loopback(), "upstream sockets stay on loopback: {addr}");
    }
    assert_eq!(summary.clients, 2, "the relay should count two clients");
}

#[test]
fn replies_find_their_way_back_to_the_client_that_asked() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    let clients: Vec<UdpSocket> = (0..3).map(|_| client_of(&relay)).collect();
    for round in 0..5 {
        for (who, client) in clients.iter().enumerate() {
            let message = format!("client {who} round {round}");
            let (reply, _) = exchange(client, message.as_bytes());
            assert_eq!(
                String::from_utf8_lossy(&reply),
                format!("echo:{message}"),
                "client {who} got someone else's reply"
            );
        }
    }
    // Nothing else is waiting for any of them.
    for client in &clients {
        client.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        assert!(client.recv(&mut [0; 64]).is_err(), "a client got a reply it did not ask for");
    }
    let summary = relay.stop();
    assert_eq!(
        (summary.up.forwarded, summary.down.forwarded, summary.clients),
        (15, 15, 3),
        "the relay should forward 15 requests and 15 replies for 3 clients"
    );
}

#[test]
fn the_client_table_is_bounded_and_evicts_the_least_recent() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--max-clients", "2"]);
    let clients: Vec<UdpSocket> = (0..3).map(|_| client_of(&relay)).collect();
    for (who, client) in clients.iter().enumerate() {
        client.send(format!("{who}").as_bytes()).unwrap();
        sink.wait_for(who as u64 + 1);
    }
    // Client 0 was heard from least recently and made room for client 2; it comes back
    // with a new upstream socket, so the server sees a fourth source.
    clients[0].send(b"0").unwrap();
    sink.wait_for(4);
    let log = relay.log.clone();
    let summary = relay.stop();
    let sources: HashSet<SocketAddr> = sink.finish().iter().map(|a| a.from).collect();
    assert_eq!(sources.len(), 4, "client 0 came back through a new socket: {sources:?}");
    assert_eq!(
        (summary.clients, summary.evicted),
        (4, 2),
        "the relay should count 4 client entries and 2 evictions"
    );
    let text = log.text();
    assert!(
        text.contains("client table full (--max-clients 2)"),
        "the relay should log that the client table was full:\n{text}"
    );
}

#[test]
fn drops_idle_clients_and_gives_them_a_new_socket_when_they_return() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--idle-timeout", "200ms"]);
    let client = client_of(&relay);
    client.send(b"1").unwrap();
    sink.wait_for(1);
    relay.log.wait_for("silent for 0.2 s", PATIENCE).expect("the idle client is dropped");
    client.send(b"2").unwrap();
    sink.wait_for(2);
    let summary = relay.stop();
    let arrivals = sink.finish();
    assert_ne!(arrivals[0].from, arrivals[1].from, "a new upstream socket after the idle drop");
    assert_eq!(summary.clients, 2, "the client came back as a new one");
    // The second entry may go idle too before the stop, on a slow machine.
    assert!(summary.idle_dropped >= 1, "the first entry was dropped when idle: {summary}");
}

#[test]
fn the_summary_counts_each_direction() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    let log = relay.log.clone();
    let client = client_of(&relay);
    for i in 0..50 {
        exchange(&client, format!("{i}").as_bytes());
    }
    let summary = relay.stop();
    for direction in [summary.up, summary.down] {
        assert_eq!(
            (direction.received, direction.forwarded, direction.dropped()),
            (50, 50, 0),
            "the relay should receive and forward all 50 each way, dropping none"
        );
    }
    assert_eq!(summary.clients, 1, "the relay should count one client");
    let text = log.text();
    assert!(
        text.contains("client -> server: received 50, forwarded 50, dropped 0"),
        "the summary should give the client -> server counts:\n{text}"
    );
    assert!(
        text.contains("server -> client: received 50, forwarded 50, dropped 0"),
        "the summary should give the server -> client counts:\n{text}"
    );
    assert!(text.contains("Relay stopped after"), "the relay should log that it stopped:\n{text}");
}
