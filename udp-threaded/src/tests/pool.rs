//! The worker pool's queue: bounded in datagrams and in bytes, and stale requests dropped.

use std::time::Duration;

use shared::testing::{udp_client, udp_exchange};

use super::{loop_until_quiet_then_stop, start_server};
use crate::RESPONSE;

#[test]
fn the_pool_drops_and_counts_datagrams_when_its_queue_is_full() {
    // One worker, a queue of one, half a second per request: of six datagrams sent at once,
    // one is being handled, at most one waits in the queue, and the rest must be dropped.
    let running = start_server(&[
        "--mode",
        "pool",
        "--workers",
        "1",
        "--queue",
        "1",
        "--work-ms",
        "500",
        "--quiet",
    ]);
    let socket = udp_client(running.addr);
    socket.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    for i in 0..6 {
        socket.send(format!("burst {i}").as_bytes()).unwrap();
    }
    let mut responses = 0;
    let mut buffer = [0u8; 64];
    while socket.recv(&mut buffer).is_ok() {
        responses += 1;
    }
    let summary = running.stop();
    assert_eq!(
        summary.handled, responses,
        "the summary should count as handled each response that came: {summary}"
    );
    assert!(summary.dropped >= 4, "expected at least 4 drops: {summary}");
    assert_eq!(
        summary.handled + summary.dropped + summary.discarded_at_shutdown,
        6,
        "each of the 6 datagrams should be counted as handled, dropped or discarded at shutdown: {summary}"
    );
}

#[test]
fn the_pool_drops_requests_that_waited_too_long() {
    // One worker busy for 400 ms; four more requests wait in the queue meanwhile, longer
    // than --max-queue-ms 100: they are stale, dropped unhandled, so the next client is
    // answered at once instead of after all of them.
    let running = start_server(&[
        "--mode",
        "pool",
        "--workers",
        "1",
        "--work-ms",
        "400",
        "--max-queue-ms",
        "100",
        "--quiet",
    ]);
    let socket = udp_client(running.addr);
    for i in 0..5 {
        socket.send(format!("flood {i}").as_bytes()).unwrap();
    }
    let mut buffer = [0u8; 64];
    assert!(socket.recv(&mut buffer).is_ok(), "the first request should be answered");
    assert_eq!(
        udp_exchange(&udp_client(running.addr), b"fresh"),
        RESPONSE,
        "a new client should be answered at once, not after the stale requests"
    );
    let summary = running.stop();
    assert!(
        summary.stale >= 3,
        "the requests queued past --max-queue-ms should be stale: {summary}"
    );
}

#[test]
fn the_pool_queue_is_bounded_in_bytes() {
    let running = start_server(&[
        "--mode",
        "pool",
        "--workers",
        "1",
        "--work-ms",
        "300",
        "--queue-bytes",
        "65536",
        "--quiet",
    ]);
    let socket = udp_client(running.addr);
    for _ in 0..4 {
        socket.send(&[b'x'; 40_000]).unwrap();
    }
    let summary = loop_until_quiet_then_stop(running, &socket);
    assert!(
        summary.dropped >= 2,
        "40,000-byte datagrams past 64 KiB queued must be dropped: {summary}"
    );
    assert_eq!(
        summary.handled + summary.dropped + summary.stale + summary.discarded_at_shutdown,
        4,
        "each of the 4 datagrams should be counted as handled, dropped, stale or discarded at shutdown: {summary}"
    );
}
