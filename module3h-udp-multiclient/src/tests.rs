//! The grading suite for module 3h.
//!
//! Every test starts the real server in this process on a free port (`--port 0`) and talks
//! to it over real loopback sockets. Every wait has a deadline, so an unfinished server
//! fails a test instead of hanging the run.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::datagram::{MAX_UDP_PAYLOAD, bind_udp};
use shared::error::Result;
use shared::report::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, patience, udp_client, udp_exchange};

use crate::client::{self, ClientArgs};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

fn run_client(args: &[&str]) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    let mut out = Vec::new();
    let outcome = client::run(&args, &Shutdown::new(), &mut out);
    (outcome, String::from_utf8(out).unwrap())
}

#[test]
fn echoes_each_datagram_to_its_sender() {
    let running = start_server(&[]);
    let (alice, bob) = (udp_client(running.addr), udp_client(running.addr));
    assert_eq!(udp_exchange(&alice, b"from alice"), b"from alice");
    assert_eq!(udp_exchange(&bob, b"from bob"), b"from bob");
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
    assert_eq!(summary.datagrams, 6);
    let alice_entry = summary.clients.iter().find(|(addr, ..)| *addr == alice_addr);
    assert_eq!(
        alice_entry,
        Some(&(alice_addr, 3, 6)),
        "alice: 3 datagrams, 6 bytes; all: {:?}",
        summary.clients
    );
    assert_eq!(summary.clients.len(), 2);
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
        )
    );
    running.stop();
}

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
    assert!(line.contains(&format!("forgot {evicted}")), "{line}");
    let summary = running.stop();
    assert_eq!(summary.evictions, 1);
    let remaining: Vec<SocketAddr> = summary.clients.iter().map(|(addr, ..)| *addr).collect();
    assert_eq!(remaining, [clients[0].local_addr().unwrap(), clients[2].local_addr().unwrap()]);
}

#[test]
fn a_flood_of_new_addresses_keeps_the_table_bounded_and_the_server_answering() {
    let running = start_server(&["--quiet", "--max-clients", "50"]);
    // 1,000 different source addresses: each socket binds its own loopback IP (on Linux all
    // of 127.0.0.0/8 is loopback; this test needs Linux), so no two share an address even if
    // the OS reuses a port.
    // Each waits for its echo, so none is lost to a full receive buffer.
    for i in 0..1_000u16 {
        let [high, low] = i.to_be_bytes();
        let socket = UdpSocket::bind((Ipv4Addr::new(127, 1, high, low), 0)).unwrap();
        socket.connect(running.addr).unwrap();
        socket.set_read_timeout(Some(patience())).unwrap();
        assert_eq!(
            udp_exchange(&socket, format!("flood {i}").as_bytes()),
            format!("flood {i}").as_bytes()
        );
    }
    let regular = udp_client(running.addr);
    assert_eq!(udp_exchange(&regular, b"still there?"), b"still there?");
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 50, "the table must stay at --max-clients");
    assert_eq!(summary.evictions, 1_001 - 50);
    assert_eq!(summary.datagrams, 1_001);
}

#[test]
fn survives_invalid_utf8_empty_and_maximum_size_datagrams() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(udp_exchange(&socket, b"\xff\xfe\x00bytes"), b"\xff\xfe\x00bytes");
    assert_eq!(udp_exchange(&socket, b""), b"");
    let biggest = vec![b'x'; MAX_UDP_PAYLOAD];
    assert_eq!(udp_exchange(&socket, &biggest).len(), MAX_UDP_PAYLOAD, "the echo was cut short");
    assert_eq!(udp_exchange(&socket, b"after"), b"after");
    let log = running.log.clone();
    let summary = running.stop();
    assert_eq!(
        summary.clients,
        [(socket.local_addr().unwrap(), 4, 8 + MAX_UDP_PAYLOAD as u64 + 5)]
    );
    assert!(log.text().contains(r"data: b'\xff\xfe\x00bytes'"), "log:\n{}", log.text());
}

#[test]
fn stops_within_a_second_and_lists_the_clients() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    udp_exchange(&socket, b"12345");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert_eq!(summary.datagrams, 1);
    assert!(took < Duration::from_secs(1), "took {took:?}");
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
    assert!(!log.text().contains("data:"), "{}", log.text());
    assert!(log.text().contains("Echoed 1 datagram"), "{}", log.text());
}

#[test]
fn listens_on_the_notebook_address_by_default() {
    let server = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(server.address.resolve().unwrap(), "127.0.0.1:12354".parse().unwrap());
    assert_eq!(server.max_clients, 1024);
    let client = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(client.address.resolve().unwrap(), "127.0.0.1:12354".parse().unwrap());
}

#[test]
fn client_sends_hello_with_its_pid_count_times_and_checks_each_echo() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--count", "3", "--interval", "0"]);
    outcome.unwrap();
    let hello = format!("Received b'Hello, world ({})'", std::process::id());
    assert_eq!(out.matches(&hello).count(), 3, "{out}");
    assert!(out.ends_with("3 of 3 echoes came back.\n"), "{out}");
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 1);
    assert_eq!(summary.clients[0].1, 3);
}

#[test]
fn client_counts_a_missing_echo_and_fails() {
    // A server that answers the first datagram and then falls silent.
    let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    server.set_read_timeout(Some(patience())).unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let answer_once = thread::spawn(move || {
        let mut buf = [0; 256];
        let (len, from) = server.recv_from(&mut buf).unwrap();
        server.send_to(&buf[..len], from).unwrap();
        server // keep it open (and silent) until the client is done
    });
    let (outcome, out) =
        run_client(&["--port", &port, "--count", "2", "--interval", "0", "--timeout", "1"]);
    let error = outcome.expect_err("one echo was missing").to_string();
    assert!(out.contains("No echo within 1 s (2 of 2): lost"), "{out}");
    assert!(out.ends_with("1 of 2 echoes came back.\n"), "{out}");
    assert_eq!(error, "of 2 echoes, 1 did not come back and 0 came back changed");
    drop(answer_once.join().unwrap());
}

#[test]
fn client_reports_a_wrong_echo() {
    let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    server.set_read_timeout(Some(patience())).unwrap();
    let port = server.local_addr().unwrap().port().to_string();
    let garble = thread::spawn(move || {
        let mut buf = [0; 256];
        let (_, from) = server.recv_from(&mut buf).unwrap();
        server.send_to(b"not your message", from).unwrap();
    });
    let (outcome, out) = run_client(&["--port", &port, "--count", "1"]);
    garble.join().unwrap();
    assert!(outcome.is_err());
    assert!(out.contains("Wrong echo (1 of 1): got b'not your message'"), "{out}");
}

#[test]
fn client_load_mode_checks_every_echo() {
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--clients", "4", "--count", "25", "--timeout", "2"]);
    outcome.unwrap();
    assert!(
        out.contains("4 clients, ") && out.contains("100 requests, 100 replies, 0 lost, 0 wrong"),
        "{out}"
    );
    let summary = running.stop();
    assert_eq!((summary.datagrams, summary.clients.len()), (100, 4));
}

// HIDDEN TESTS
/// Instructors' tests: kept in the reference and graded, left out of starters (see the
/// root README, "Hidden tests"). Keep this module last in the file.
mod hidden {
    use super::*;

    #[test]
    fn echoes_a_binary_datagram_unchanged() {
        let running = start_server(&["--quiet"]);
        let client = udp_client(running.addr);
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(udp_exchange(&client, &data), data, "every byte value must come back");
        running.stop();
    }
}
