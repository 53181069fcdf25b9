//! The grading suite for module 3h.
//!
//! Every test starts the real server in this process on a free port (`--port 0`) and talks
//! to it over real loopback sockets. Every wait has a deadline, so an unfinished server
//! fails a test instead of hanging the run.

use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{
    TestServer, bounce_for, client_deadline, patience, returns_within, service_port_socket,
    udp_client, udp_exchange,
};
use shared::udp::{MAX_UDP_PAYLOAD, bind_udp};

use crate::client::{self, ClientArgs};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

fn run_client(args: &[&str]) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let echo = &args.echo;
    let deadline = client_deadline(echo.timeout, echo.count, echo.interval, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = client::run(&args, &Shutdown::new(), &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
}

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
fn listens_on_the_notebook_address_by_default() {
    let server = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        server.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the server should listen on 127.0.0.1:12354 by default"
    );
    assert_eq!(server.max_clients, 1024, "the client table should hold 1024 clients by default");
    let client = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        client.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the client should send to 127.0.0.1:12354 by default"
    );
}

#[test]
fn client_sends_hello_with_its_pid_count_times_and_checks_each_echo() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--count", "3", "--interval", "0"]);
    outcome.unwrap();
    let hello = format!("Received b'Hello, world ({})'", std::process::id());
    assert_eq!(
        out.matches(&hello).count(),
        3,
        "the client should print each of the 3 echoes of its hello: {out}"
    );
    assert!(
        out.ends_with("3 of 3 echoes came back.\n"),
        "the client should end with its tally: {out}"
    );
    let summary = running.stop();
    assert_eq!(summary.clients.len(), 1, "the server should see one client");
    assert_eq!(summary.clients[0].1, 3, "the server should count the client's 3 datagrams");
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
    assert!(
        out.contains("No echo within 1 s (2 of 2): lost"),
        "the client should report the missing second echo: {out}"
    );
    assert!(
        out.ends_with("1 of 2 echoes came back.\n"),
        "the tally should say 1 of 2 echoes came back: {out}"
    );
    assert_eq!(
        error, "of 2 echoes, 1 did not come back and 0 came back changed",
        "the error should say how many echoes were lost and how many changed"
    );
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
    assert!(outcome.is_err(), "a wrong echo should fail the client; it returned {outcome:?}");
    assert!(
        out.contains("Wrong echo (1 of 1): got b'not your message'"),
        "the client should show the wrong echo: {out}"
    );
}

#[test]
fn client_load_mode_checks_every_echo() {
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--clients", "4", "--count", "25", "--timeout", "2"]);
    outcome.unwrap();
    assert!(
        out.contains("4 clients") && out.contains("100 requests, 100 replies, 0 lost, 0 wrong"),
        "all 100 requests from 4 clients should get a correct echo: {out}"
    );
    let summary = running.stop();
    assert_eq!(
        (summary.datagrams, summary.clients.len()),
        (100, 4),
        "the server should count 100 datagrams from 4 clients"
    );
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
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>(
        "module3h-udp-multiclient",
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
