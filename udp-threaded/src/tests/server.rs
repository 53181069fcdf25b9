//! The three modes: each answers every client, `single` one at a time, the threaded modes
//! side by side, the thread cap, the seed's log lines, and stopping within a second.

use std::time::Duration;

use shared::testing::{udp_client, udp_exchange};
use shared::udp::MAX_UDP_PAYLOAD;

use super::{MODES, concurrent_clients, start_server};
use crate::RESPONSE;

#[test]
fn every_mode_answers_message_received_to_several_concurrent_clients() {
    for mode in MODES {
        let running = start_server(&["--mode", mode, "--quiet"]);
        concurrent_clients(running.addr, 6, 5);
        let summary = running.stop();
        assert_eq!(
            summary.handled, 30,
            "{mode}: the summary should count all 30 requests as handled: {summary}"
        );
        assert_eq!(summary.dropped, 0, "{mode}: no request should be dropped: {summary}");
    }
}

#[test]
fn single_mode_handles_one_request_at_a_time() {
    let running = start_server(&["--mode", "single", "--work-ms", "200", "--quiet"]);
    concurrent_clients(running.addr, 8, 1);
    let summary = running.stop();
    assert_eq!(
        (summary.handled, summary.peak_in_flight),
        (8, 1),
        "single mode should handle all 8 requests, one at a time: {summary}"
    );
}

#[test]
fn threaded_modes_overlap_long_requests() {
    for mode in ["thread-per-datagram", "pool"] {
        let running =
            start_server(&["--mode", mode, "--work-ms", "200", "--workers", "8", "--quiet"]);
        concurrent_clients(running.addr, 8, 1);
        let summary = running.stop();
        assert_eq!(summary.handled, 8, "{mode}: all 8 requests should be handled: {summary}");
        // Eight requests of 200 ms each: in a threaded mode they run side by side. (How many
        // overlap depends on how fast the clients start; one at a time would mean no threads.)
        assert!(
            summary.peak_in_flight >= 2,
            "{mode} handled only one request at a time: {summary}"
        );
    }
}

#[test]
fn the_thread_cap_holds() {
    let running = start_server(&[
        "--mode",
        "thread-per-datagram",
        "--max-threads",
        "2",
        "--work-ms",
        "100",
        "--quiet",
    ]);
    concurrent_clients(running.addr, 8, 1);
    let summary = running.stop();
    assert_eq!(summary.handled, 8, "all 8 requests should be handled: {summary}");
    assert!(summary.peak_in_flight <= 2, "more than --max-threads handlers ran at once: {summary}");
    assert!(
        summary.waits_for_a_thread >= 1,
        "the loop should have waited for a free thread: {summary}"
    );
}

#[test]
fn logs_like_the_seed_and_answers_any_datagram() {
    for mode in MODES {
        let running = start_server(&["--mode", mode]);
        running.expect_log("Server started, listening on 127.0.0.1:");
        let socket = udp_client(running.addr);
        let me = socket.local_addr().unwrap();
        assert_eq!(
            udp_exchange(&socket, b"Hello, Server!"),
            RESPONSE,
            "{mode}: the server should answer Message received"
        );
        running.expect_log(&format!("Received data from {me}: Hello, Server!"));
        assert_eq!(
            udp_exchange(&socket, b"caf\xff"),
            RESPONSE,
            "{mode}: a datagram with invalid UTF-8 should be answered too"
        );
        running.expect_log(&format!("Received data from {me}: caf\u{FFFD}"));
        assert_eq!(
            udp_exchange(&socket, b""),
            RESPONSE,
            "{mode}: an empty datagram should be answered too"
        );
        assert_eq!(
            udp_exchange(&socket, &vec![b'x'; MAX_UDP_PAYLOAD]),
            RESPONSE,
            "{mode}: a maximum-size datagram should be answered too"
        );
        running.expect_log("... (65507 bytes)");
        assert_eq!(
            running.stop().handled,
            4,
            "{mode}: the summary should count the 4 datagrams as handled"
        );
    }
}

#[test]
fn stops_within_a_second_in_every_mode_cutting_long_work_short() {
    for mode in MODES {
        let running = start_server(&["--mode", mode, "--work-ms", "10000"]);
        let socket = udp_client(running.addr);
        socket.send(b"slow request").unwrap();
        running.expect_log("Received data from"); // the handler has started its 10 s
        let log = running.log.clone();
        let (summary, took) = running.stop_timed();
        assert!(
            took < Duration::from_secs(1),
            "{mode}: a stop took {took:?}: it must not wait for --work-ms"
        );
        assert_eq!(
            (summary.handled, summary.cut_short),
            (0, 1),
            "{mode}: the request in flight should be cut short and counted: {summary}"
        );
        assert!(
            log.text().contains("cut 1 short at shutdown"),
            "{mode}: the summary should say 1 was cut short at shutdown:\n{}",
            log.text()
        );
    }
}

#[test]
fn no_handler_starts_after_shutdown_at_the_thread_cap() {
    // One place, a long request in it, two more datagrams waiting for the place: the stop
    // must not start them (the handler already working is cut short).
    let running =
        start_server(&["--mode", "thread-per-datagram", "--max-threads", "1", "--work-ms", "5000"]);
    let socket = udp_client(running.addr);
    for i in 0..3 {
        socket.send(format!("request {i}").as_bytes()).unwrap();
    }
    running.expect_log("Received data from"); // the first handler is working
    let (summary, took) = running.stop_timed();
    assert_eq!(
        (summary.handled, summary.cut_short),
        (0, 1),
        "only one handler may have started: {summary}"
    );
    assert!(
        took < Duration::from_secs(1),
        "the server should stop within a second of the shutdown; it took {took:?}"
    );
}
