//! The grading suite for udp-threaded.
//!
//! Every test starts the real server in this process on a free port (`--port 0`), in the
//! mode under test, and talks to it over real loopback sockets. The tests do not time the
//! server with a stopwatch (a loaded machine makes that flaky); they check what the server
//! itself counts, such as how many requests it handled at the same time.

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{
    TestServer, bounce_for, client_deadline, returns_within, udp_client, udp_exchange,
};
use shared::udp::{MAX_UDP_PAYLOAD, bind_udp};

use crate::RESPONSE;
use crate::client::{self, ClientArgs};
use crate::server::{Mode, Server, ServerArgs, Summary};

const MODES: [&str; 3] = ["single", "thread-per-datagram", "pool"];

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args = ServerArgs::try_parse_from(
        ["server", "--host", "127.0.0.1", "--port", "0"].iter().chain(extra_args),
    )
    .unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// `clients` clients at once, each sending `requests` datagrams and checking each response.
fn concurrent_clients(server: SocketAddr, clients: usize, requests: usize) {
    let threads: Vec<_> = (0..clients)
        .map(|id| {
            thread::spawn(move || {
                let socket = udp_client(server);
                for request in 0..requests {
                    let response =
                        udp_exchange(&socket, format!("client {id} request {request}").as_bytes());
                    assert_eq!(response, RESPONSE, "client {id} got a wrong response");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a client got no response or a wrong one");
    }
}

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

/// Reads responses until none comes for a second, then stops the server.
fn loop_until_quiet_then_stop(
    running: TestServer<Summary>,
    socket: &std::net::UdpSocket,
) -> Summary {
    socket.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let mut buffer = [0u8; 64];
    while socket.recv(&mut buffer).is_ok() {}
    running.stop()
}

#[test]
fn a_loop_with_another_server_is_held_to_the_reply_rate() {
    for mode in MODES {
        let running = start_server(&["--mode", mode, "--quiet", "--reply-rate", "10"]);
        let arrived = bounce_for(running.addr, b"ping", Duration::from_secs(3));
        assert!(
            (10..=45).contains(&arrived),
            "{mode}: with --reply-rate 10, at least 10 and at most about 10 + 3 x 10 responses should come in 3 s; {arrived} came"
        );
        let summary = running.stop();
        assert!(
            summary.refused.rate_limited > 0,
            "{mode}: the summary should count refusals: {summary}"
        );
    }
}

#[test]
fn defaults_follow_the_seed() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        (args.address.host.as_str(), args.address.port),
        ("localhost", 6532),
        "the server should listen on localhost:6532 by default"
    );
    assert_eq!(
        args.mode,
        Mode::ThreadPerDatagram,
        "the default mode should be thread-per-datagram"
    );
    assert_eq!(
        (args.max_threads, args.queue, args.work_ms),
        (256, 1024, 0),
        "the defaults should be at most 256 threads, a queue of 1024 and no extra work"
    );
    assert_eq!(
        (args.queue_bytes, args.max_queue_ms),
        (16 * 1024 * 1024, 1000),
        "the pool queue should default to 16 MiB and 1000 ms of waiting"
    );
    let cores = thread::available_parallelism().unwrap().get();
    assert_eq!(args.workers as usize, cores * 4, "the pool should default to 4 workers per core");
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        (args.message.as_str(), args.address.port),
        ("Hello, Server!", 6532),
        "the client should send Hello, Server! to port 6532 by default"
    );
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

fn run_client(args: &[&str]) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let deadline = client_deadline(args.timeout, args.count, Duration::ZERO, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = client::run(&args, &Shutdown::new(), &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
}

#[test]
fn client_prints_the_response_like_the_seed() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--host", "127.0.0.1", "--port", &port]);
    outcome.unwrap();
    assert_eq!(
        out,
        format!(
            "Sent message to 127.0.0.1:{port}\nReceived response from 127.0.0.1:{port}: Message received\n"
        ),
        "the client should print where it sent the message and the response, like the seed"
    );
    running.expect_log("Hello, Server!");
    running.stop();
}

#[test]
fn client_gives_up_when_no_response_comes() {
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let (outcome, _) = run_client(&["--host", "127.0.0.1", "--port", &port, "--timeout", "0.3"]);
    let error = outcome.expect_err("no response came").to_string();
    assert!(
        error.contains("no reply from 127.0.0.1:"),
        "the client should say no response came: {error}"
    );
}

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
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>("udp-threaded");
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

#[test]
fn a_loop_with_a_second_copy_of_itself_dies_in_every_mode() {
    // Issue 18: two of these servers answer each other's "Message received" for ever.
    for mode in MODES {
        let first = start_server(&["--mode", mode, "--quiet"]);
        let second = start_server(&["--mode", mode, "--quiet"]);
        let crossed = shared::testing::wire_between(
            first.addr,
            second.addr,
            b"hello",
            Duration::from_secs(10),
        );
        assert!(
            crossed <= 2 * 1000 + 100,
            "{mode}: the loop should die after about 1000 datagrams each way; {crossed} crossed"
        );
        let looped = first.stop().refused.looped + second.stop().refused.looped;
        assert!(looped >= 1, "{mode}: the loop should be counted");
    }
}

#[test]
fn sends_a_host_no_more_than_three_times_the_bytes_it_sent_plus_the_allowance() {
    // Issue 18: one byte in, 16 bytes out (16x), from any number of the victim's ports.
    let running = start_server(&["--quiet", "--reply-allowance", "64"]);
    let (mut sent, mut received) = (0usize, 0usize);
    let mut buffer = [0u8; 64];
    let started = std::time::Instant::now();
    for n in 0..300u32 {
        // A new source port every time, as a forger spreading over the victim's ports.
        let socket = udp_client(running.addr);
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        socket.send(&n.to_be_bytes()[3..]).unwrap();
        sent += 1;
        if let Ok(len) = socket.recv(&mut buffer) {
            received += len;
        }
    }
    // The allowance (64 bytes) comes back at 64 bytes a second.
    let allowance = 64 * (2 + usize::try_from(started.elapsed().as_secs()).unwrap());
    assert!(
        received <= 3 * sent + allowance + RESPONSE.len(),
        "{sent} bytes sent from one host brought back {received}: more than 3x plus {allowance}"
    );
    assert!(received > 0, "some responses should still come back");
    assert!(running.stop().refused.over_budget > 0, "the refused responses should be counted");
}
