//! The client: the notebook's hello messages, a missing echo, a wrong echo.

use std::thread;

use shared::testing::patience;
use shared::udp::bind_udp;

use super::{run_client, start_server};

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
