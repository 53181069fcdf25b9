//! Load mode: many clients, every reply checked, and wrong replies counted as wrong.

use std::thread;

use shared::testing::patience;
use shared::udp::bind_udp;

use super::{run_client, start_server};

#[test]
fn client_load_mode_checks_every_reply() {
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--port", &port, "--clients", "4", "--count", "50", "--timeout", "2"], "");
    outcome.unwrap();
    assert!(
        out.starts_with("4 clients"),
        "the load summary should start with the number of clients: {out}"
    );
    assert!(
        out.contains("200 requests, 200 replies, 0 lost, 0 wrong"),
        "all 200 requests should get a correct reply: {out}"
    );
    assert_eq!(running.stop().datagrams, 200, "the server should count all 200 requests");
}

#[test]
fn client_load_mode_fails_when_replies_are_wrong() {
    // An "echo" server answers, but not in uppercase: every reply is wrong.
    let echo = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    echo.set_read_timeout(Some(patience())).unwrap();
    let port = echo.local_addr().unwrap().port().to_string();
    let echoer = thread::spawn(move || {
        let mut buf = [0; 2048];
        for _ in 0..5 {
            let (len, from) = echo.recv_from(&mut buf).unwrap();
            echo.send_to(&buf[..len], from).unwrap();
        }
    });
    let (outcome, out) = run_client(&["--port", &port, "--count", "5", "--timeout", "2"], "");
    echoer.join().unwrap();
    assert!(
        out.contains("5 requests, 0 replies, 0 lost, 5 wrong"),
        "the client should count all 5 echoed replies as wrong: {out}"
    );
    assert!(outcome.is_err(), "wrong replies must fail the client; it returned {outcome:?}");
}
