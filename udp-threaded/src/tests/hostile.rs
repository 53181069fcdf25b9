//! Hostile input: loops with another server (Loop DoS) and with a copy of itself, in every
//! mode, and no amplification.

use std::time::Duration;

use shared::testing::{bounce_for, udp_client};

use super::{MODES, start_server};
use crate::RESPONSE;

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
