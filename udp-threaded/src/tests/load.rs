//! Load mode: every response checked, and the losses of a lossy link counted.

use super::{run_client, start_server};

#[test]
fn client_load_mode_checks_every_response() {
    let running = start_server(&["--mode", "pool", "--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&[
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--clients",
        "4",
        "--count",
        "25",
        "--timeout",
        "2",
    ]);
    outcome.unwrap();
    assert!(
        out.contains("100 requests, 100 replies, 0 lost, 0 wrong"),
        "all 100 requests should get a correct response: {out}"
    );
    assert_eq!(running.stop().handled, 100, "the server should count 100 handled requests");
}

#[test]
fn through_a_lossy_link_load_mode_counts_lost_requests() {
    let running = start_server(&["--mode", "pool", "--quiet"]);
    let relay = lossy_link::testing::start_relay(running.addr, &["--loss", "20%", "--seed", "7"]);
    let port = relay.addr.port().to_string();
    let (outcome, out) =
        run_client(&["--host", "127.0.0.1", "--port", &port, "--count", "40", "--timeout", "0.3"]);
    let summary = relay.stop();
    assert!(outcome.is_err(), "lost responses must fail the load run: {out}");
    assert!(summary.up.lost + summary.down.lost > 0, "the relay should have lost some: {out}");
    assert!(!out.contains(" 0 lost"), "the load summary should count the lost requests: {out}");
    running.stop();
}
