//! The client's load mode: many connections, every echo checked, one summary line.

use super::*;

#[test]
fn load_mode_stopped_while_waiting_for_echoes_still_prints_its_summary() {
    let (outcome, out, took) =
        stop_a_client_waiting_for_an_echo(&["--clients", "3", "--duration", "30"]);
    assert!(
        outcome.as_ref().is_err_and(shared::Error::is_stopped),
        "load mode stopped by Ctrl-C should end as stopped (exit 130): {outcome:?}"
    );
    assert!(
        out.starts_with("3 clients") && out.contains("(stopped by Ctrl-C)"),
        "load mode should print its summary so far: {out}"
    );
    assert!(
        took < Duration::from_secs(5),
        "the stop should not wait for the 20 s --timeout: it took {took:?}"
    );
}

#[test]
fn client_load_mode_checks_every_echo_over_many_connections() {
    let running = start_server(&["--quiet"]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--clients", "20", "--count", "10"], "");
    outcome.unwrap();
    assert!(
        out.contains("20 clients") && out.contains("200 requests, 200 replies, 0 lost, 0 wrong"),
        "all 200 requests over 20 connections should get a correct echo: {out}"
    );
    let summary = running.stop();
    assert_eq!(
        (summary.connections, summary.lines),
        (20, 200),
        "the summary should count 20 connections and 200 lines"
    );
}
