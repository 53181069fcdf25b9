//! Load mode: many clients, every echo checked.

use super::{run_client, start_server};

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
