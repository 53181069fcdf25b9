//! Hostile input (issue 18): the relay answers only whom a server would. Forged sources
//! (the server, its own sockets, well-known ports) are refused, loops die, `--duplicate`
//! amplifies no more than the reply rule allows, and sockets and threads stay bounded.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use clap::Parser;
use shared::log::Log;

use crate::args::Args;
use crate::relay::Relay;

use super::helpers::{Sink, answering, bind_loopback, client_of, start_relay, wait_until};

#[test]
fn ignores_datagrams_from_the_server_itself() {
    // The sink plays the server; a datagram from it to the relay's listening port must
    // not be relayed back to it (a forged source could otherwise start a loop).
    let server = bind_loopback();
    let relay = start_relay(server.local_addr().unwrap(), &[]);
    server.send_to(b"loop?", relay.addr).unwrap();
    wait_until("the relay refuses it", || relay.log.text().contains("ignored a datagram"));
    let summary = relay.stop();
    assert_eq!(
        (summary.refused, summary.clients, summary.up.received),
        (1, 0, 0),
        "the relay should refuse the server's own datagram, making no client and relaying nothing"
    );
}

#[test]
fn refuses_to_start_when_the_server_address_leads_back_to_the_relay() {
    // --listen 0.0.0.0:P --to 127.0.0.1:P: the upstream socket would send to the relay
    // itself, and every datagram would go round for ever. A socket on 0.0.0.0 is reached at
    // every local address with its port, so the relay says so at once.
    let listen = UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = listen.local_addr().unwrap().port();
    let to = format!("127.0.0.1:{port}");
    let args = Args::try_parse_from(["lossy-link", "--to", &to]).unwrap();
    let (log, _captured) = Log::capture(false);
    let error = Relay::with_socket(&args, listen, log).err().expect("the relay should not start");
    assert!(
        error.to_string().contains("is the relay's own address"),
        "the error should say --to is the relay's own address: {error}"
    );
}

#[test]
fn a_loop_through_the_relay_dies_even_when_both_ends_echo_everything() {
    // Issue 18: a datagram forged from an echo server to the relay in front of another echo
    // made 63,903 round trips in 6.4 s. Here neither end has a rule: the relay's must end it.
    let echo = answering(<[u8]>::to_vec);
    let relay = start_relay(echo.addr, &[]);
    let arrived = shared::testing::bounce_for(relay.addr, b"ping", Duration::from_secs(10));
    assert!(arrived <= 1100, "the loop should die after about --loop-after (1000); {arrived} came");
    assert!(
        relay.log.text().contains("a loop between two servers"),
        "the relay should say why it stopped relaying; its log:\n{}",
        relay.log.text()
    );
    assert!(relay.stop().refused >= 1, "the refused datagram should be counted");
}

#[test]
fn duplicating_an_amplifying_server_sends_a_host_no_more_than_three_times_what_it_sent() {
    // Issue 18: with --duplicate 100%, 12x the bytes reached a forged victim. A server that
    // answers four times what it gets, doubled by the relay: 8x without the byte budget.
    let amplifier = answering(|datagram| datagram.repeat(4));
    let relay =
        start_relay(amplifier.addr, &["--duplicate-down", "100%", "--reply-allowance", "100"]);
    let client = client_of(&relay);
    client.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let (mut sent, mut received) = (0usize, 0usize);
    let mut buffer = vec![0; 65_536];
    for _ in 0..100 {
        client.send(&[7u8; 10]).unwrap();
        sent += 10;
        while let Ok(len) = client.recv(&mut buffer) {
            received += len;
        }
    }
    // The allowance (100 bytes) comes back at 100 bytes a second.
    let allowance = 100 * (2 + usize::try_from(started.elapsed().as_secs()).unwrap());
    assert!(
        received <= 3 * sent + allowance,
        "{sent} bytes sent brought back {received} through the relay: more than 3x plus {allowance}"
    );
    assert!(received >= sent, "the budget should still let replies through: {received}");
    assert!(relay.stop().refused > 0, "the replies held back should be counted");
}

#[test]
fn a_datagram_from_a_well_known_service_port_is_not_relayed() {
    // Issue 18: through the relay, port 53 received 1,000 of 1,000 replies that the servers
    // refuse to send directly.
    let Some(service) = shared::testing::service_port_socket() else { return };
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    service.send_to(b"from port 53?", relay.addr).unwrap();
    wait_until("the relay refuses it", || relay.log.text().contains("below 1024"));
    let summary = relay.stop();
    assert_eq!(
        (summary.clients, summary.up.received, sink.received()),
        (0, 0, 0),
        "nothing from a port below 1024 should reach the server: {summary}"
    );
}

#[test]
fn sockets_and_threads_stay_bounded_while_datagrams_for_replaced_clients_are_queued() {
    // Issue 18: 18,000 new sources a second made 1,336 threads and sockets with
    // --max-clients 256: datagrams queued for a replaced client kept its socket. Here every
    // client's datagram waits a second upstream, so every replaced client is still queued.
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--max-clients", "4", "--delay-up", "1s"]);
    let mut most = 0;
    for n in 0..200u32 {
        let client = client_of(&relay);
        client.send(&n.to_be_bytes()).unwrap();
        most = most.max(relay.probe.live_clients());
    }
    // The queued datagrams leave after their second: the bound held while they waited.
    sink.wait_for(1);
    most = most.max(relay.probe.live_clients());
    assert!(most <= 8, "at most twice --max-clients (4) sockets and threads; {most} existed");
    let summary = relay.stop();
    assert!(summary.refused > 0, "the clients beyond the bound should be refused and counted");
}
