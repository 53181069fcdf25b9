//! Full queues and the stop: a full `--rate` or delay queue drops (counted, warned about
//! a few times only), and a stop discards what is still queued, counted.

use std::time::{Duration, Instant};

use super::helpers::{Sink, client_of, numbered, send_paced, start_relay};

#[test]
fn counts_rate_drops_when_the_rate_queue_is_full() {
    let sink = Sink::start(false);
    // 10,000 bytes/s: one 1,000-byte datagram every 100 ms; at most 4 on the link.
    let relay = start_relay(sink.addr, &["--rate", "10k", "--rate-queue", "4"]);
    let client = client_of(&relay);
    let first_sent = Instant::now();
    send_paced(&client, &relay.probe, &sink, 40, |_| vec![b'x'; 1_000]);
    let accepted = 40 - relay.probe.up().rate_dropped;
    sink.wait_for(accepted);
    let log = relay.log.clone();
    let summary = relay.stop();
    let arrivals = sink.finish();

    assert!(summary.up.rate_dropped >= 20, "a burst of 40 into a queue of 4: {}", summary.up);
    assert_eq!(
        summary.up.forwarded + summary.up.rate_dropped,
        40,
        "the relay should either forward or rate-drop each of the 40: {}",
        summary.up
    );
    assert_eq!(
        arrivals.len() as u64,
        summary.up.forwarded,
        "the server should get every datagram the relay forwarded"
    );
    // The link's speed shows in when the last one got through: each of the n datagrams
    // takes 100 ms on the link, so the last cannot leave before n * 100 ms after the first
    // was sent (checked from below only: a loaded machine can only make it later).
    let took = arrivals.last().unwrap().at - first_sent;
    let at_least = Duration::from_millis(100) * u32::try_from(arrivals.len()).unwrap();
    assert!(took >= at_least, "{} datagrams in {took:?}, expected >= {at_least:?}", arrivals.len());
    // Counted every time, warned about only a few times.
    let lines = log.lines();
    let warnings = lines.iter().filter(|line| line.contains("rate queue full")).count();
    assert!(
        (1..=10).contains(&warnings),
        "{} drops should give a few warnings, not {warnings}:\n{}",
        summary.up.rate_dropped,
        log.text()
    );
}

#[test]
fn counts_drops_when_the_delay_queue_is_full() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--delay", "30s", "--max-delayed", "5"]);
    let log = relay.log.clone();
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 20, numbered);
    let summary = relay.stop();
    assert_eq!(
        (summary.up.queue_dropped, summary.up.discarded_at_stop),
        (15, 5),
        "the relay should queue 5, drop the 15 that did not fit, and discard the 5 at the stop: {}",
        summary.up
    );
    let text = log.text();
    assert!(
        text.contains("delay queue full (client -> server: --max-delayed 5"),
        "the relay should log that the delay queue was full:\n{text}"
    );
}

#[test]
fn stops_within_a_second_on_shutdown_with_datagrams_still_queued() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--delay", "30s"]);
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 20, numbered);
    let (summary, took) = relay.stop_timed();
    assert!(took < Duration::from_secs(1), "the relay took {took:?} to stop");
    assert_eq!(summary.up.received, 20, "the relay should have received all 20 datagrams");
    assert_eq!(summary.up.forwarded, 0, "nothing was due yet");
    assert_eq!(summary.up.discarded_at_stop, 20, "the queued datagrams are counted, not lost");
    assert_eq!(sink.finish().len(), 0, "the server should get none of the datagrams still queued");
}
