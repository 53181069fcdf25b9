//! What the bad network does, and only when asked: loss, duplicates, reordering, delay and
//! jitter, per direction, repeatable with `--seed`; and `--tamper`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use clap::Parser;

use crate::args::{Args, Impairment};

use super::helpers::{
    Arrival, Sink, client_of, exchange, inversions, numbered, send_paced, start_relay, wait_until,
};

#[test]
fn loses_about_the_set_fraction_of_10000_datagrams() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--loss", "20%", "--seed", "7"]);
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 10_000, numbered);
    let forwarded = relay.probe.up().forwarded;
    sink.wait_for(forwarded);
    let summary = relay.stop();
    let arrivals = sink.finish();

    let arrived: HashSet<u64> = arrivals.iter().map(Arrival::number).collect();
    assert_eq!(arrived.len(), arrivals.len(), "no datagram may arrive twice without --duplicate");
    assert_eq!(arrivals.len() as u64, summary.up.forwarded, "the server got what was forwarded");
    let lost = 10_000 - arrived.len() as u64;
    // 20% of 10,000 is 2,000, with a standard deviation of 40: ±300 is more than 7 of them.
    assert!((1_700..=2_300).contains(&lost), "expected about 2,000 of 10,000 lost, {lost} were");
    assert_eq!(summary.up.received, 10_000, "the relay should have received all 10,000 datagrams");
    assert_eq!(summary.up.lost, lost, "the summary counts exactly the datagrams that never came");
    assert_eq!(
        summary.up.dropped(),
        lost,
        "the relay should have dropped only the datagrams it lost"
    );
}

#[test]
fn the_same_seed_loses_the_same_datagrams() {
    let run = |seed: &str| -> Vec<u64> {
        let sink = Sink::start(false);
        let relay = start_relay(sink.addr, &["--loss", "30%", "--seed", seed]);
        let client = client_of(&relay);
        send_paced(&client, &relay.probe, &sink, 500, numbered);
        sink.wait_for(relay.probe.up().forwarded);
        relay.stop();
        let mut numbers: Vec<u64> = sink.finish().iter().map(Arrival::number).collect();
        numbers.sort_unstable();
        numbers
    };
    let first = run("42");
    assert!(
        first.len() < 450 && first.len() > 250,
        "about 30% lost: {} of 500 arrived",
        first.len()
    );
    assert_eq!(run("42"), first, "the same seed must lose the same datagrams");
    assert_ne!(run("43"), first, "another seed should lose other datagrams");
}

#[test]
fn duplicates_about_the_set_fraction() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--duplicate", "10%", "--seed", "3"]);
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 2_000, numbered);
    sink.wait_for(relay.probe.up().forwarded);
    let summary = relay.stop();
    let arrivals = sink.finish();

    let mut copies: BTreeMap<u64, u32> = BTreeMap::new();
    for arrival in &arrivals {
        *copies.entry(arrival.number()).or_default() += 1;
    }
    assert_eq!(copies.len(), 2_000, "every datagram arrives (no loss was asked for)");
    assert!(copies.values().all(|&n| n <= 2), "at most one extra copy each");
    let doubled = copies.values().filter(|&&n| n == 2).count() as u64;
    // 10% of 2,000 is 200 (standard deviation 13).
    assert!((130..=270).contains(&doubled), "expected about 200 duplicates, saw {doubled}");
    assert_eq!(summary.up.duplicated, doubled, "the summary counts the duplicates seen");
    assert_eq!(
        summary.up.forwarded,
        2_000 + doubled,
        "the relay should forward each datagram once, plus each duplicate"
    );
}

#[test]
fn reorders_datagrams_when_asked() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--reorder", "10%", "--seed", "5"]);
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 1_000, numbered);
    // The last datagram may be held back for --reorder-hold (1 s) if nothing overtakes it.
    sink.wait_for(1_000);
    let summary = relay.stop();
    let numbers: Vec<u64> = sink.finish().iter().map(Arrival::number).collect();

    assert_eq!(numbers.len(), 1_000, "reordering loses nothing");
    let seen = inversions(&numbers);
    // About 10% are picked; a pick cannot follow a pick that is still held, so a few less.
    assert!((50..=150).contains(&seen), "expected about 90 datagrams out of order, saw {seen}");
    assert_eq!(summary.up.reordered, seen, "the summary counts what the server saw reordered");
}

#[test]
fn keeps_datagrams_in_order_under_jitter_without_reorder() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--delay", "5ms", "--jitter", "5ms", "--seed", "1"]);
    let client = client_of(&relay);
    send_paced(&client, &relay.probe, &sink, 300, numbered);
    sink.wait_for(300);
    let summary = relay.stop();
    let numbers: Vec<u64> = sink.finish().iter().map(Arrival::number).collect();
    assert_eq!(numbers, (0..300).collect::<Vec<_>>(), "jitter changes delays, not the order");
    assert_eq!(summary.up.reordered, 0, "without --reorder the relay should reorder nothing");
    assert!(summary.up.delayed > 250, "most datagrams were delayed: {}", summary.up.delayed);
}

#[test]
fn delays_each_datagram_by_at_least_the_set_delay() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &["--delay", "150ms"]);
    let client = client_of(&relay);
    for i in 0..3 {
        let message = format!("late {i}");
        let (reply, took) = exchange(&client, message.as_bytes());
        assert_eq!(
            reply,
            format!("echo:{message}").into_bytes(),
            "the echo should come back through the relay unchanged"
        );
        // 150 ms each way.
        assert!(took >= Duration::from_millis(300), "round trip {took:?}, expected >= 300 ms");
    }
    let summary = relay.stop();
    assert_eq!(
        (summary.up.delayed, summary.down.delayed),
        (3, 3),
        "the relay should delay all 3 requests and all 3 replies"
    );
}

#[test]
fn delays_only_the_direction_asked_for() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &["--delay-down", "300ms", "--jitter-down", "100ms"]);
    let client = client_of(&relay);
    let (reply, took) = exchange(&client, b"slow reply");
    assert_eq!(reply, b"echo:slow reply", "the echo should come back through the relay unchanged");
    assert!(took >= Duration::from_millis(200), "round trip {took:?}, expected >= 300 - 100 ms");
    let summary = relay.stop();
    let arrivals = sink.finish();
    assert_eq!(arrivals.len(), 1, "the server should get the one request");
    assert_eq!(
        (summary.up.delayed, summary.down.delayed),
        (0, 1),
        "the relay should delay only the reply, not the request"
    );
}

#[test]
fn impairs_the_replies_with_the_down_flags() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &["--loss-down", "100%"]);
    let client = client_of(&relay);
    client.send(b"are you there?").unwrap();
    sink.wait_for(1);
    wait_until("the relay has lost the reply", || relay.probe.down().lost == 1);
    client.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    assert!(client.recv(&mut [0; 64]).is_err(), "the reply should have been lost");
    let summary = relay.stop();
    assert_eq!(
        (summary.up.forwarded, summary.down.received, summary.down.lost),
        (1, 1, 1),
        "the relay should forward the request, then receive the reply and lose it"
    );
    assert_eq!(sink.finish().len(), 1, "the request itself went through");

    // And the other way round: every reply doubled, no request touched.
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &["--duplicate-down", "100%"]);
    let client = client_of(&relay);
    let (first, _) = exchange(&client, b"twice");
    let mut second = vec![0; 64];
    let len = client.recv(&mut second).expect("the duplicate reply");
    assert_eq!(
        (first.as_slice(), &second[..len]),
        (&b"echo:twice"[..], &b"echo:twice"[..]),
        "the relay should deliver the reply twice"
    );
    let summary = relay.stop();
    assert_eq!(
        (summary.up.duplicated, summary.down.duplicated),
        (0, 1),
        "the relay should duplicate only the reply, not the request"
    );
    assert_eq!(sink.finish().len(), 1, "the server got the request once");
}

// --tamper (issue 20): a datagram changed on the way arrives as if genuine.

#[test]
fn tamper_changes_the_last_letter_of_each_request_and_the_server_cannot_tell() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &["--tamper-up", "100%"]);
    let client = client_of(&relay);
    let (reply, _) = exchange(&client, b"SAY hello bob   ");
    assert_eq!(
        reply, b"echo:SAY hello boB   ",
        "the server should get the request with its last letter's case swapped (padding kept), \
         and the reply should come back untouched"
    );
    let summary = relay.stop();
    assert_eq!(
        (summary.up.tampered, summary.down.tampered),
        (1, 0),
        "only the request should be counted as tampered with"
    );
    assert!(
        summary.to_string().contains("1 datagram tampered with"),
        "the summary should say what was changed: {summary}"
    );
    assert_eq!(sink.finish().len(), 1, "one request arrived, changed");
}

#[test]
fn tamper_flips_a_bit_of_a_payload_without_letters_and_leaves_an_empty_one_alone() {
    assert_eq!(crate::tamper::tamper(b"1234"), b"1235", "no letter: the last byte's lowest bit");
    assert_eq!(crate::tamper::tamper(b""), b"", "nothing to change in an empty datagram");
    assert_eq!(crate::tamper::tamper(b"ab1"), b"aB1", "the last letter, not the last byte");
}

#[test]
fn without_tamper_the_same_seed_gives_the_same_fates_as_before() {
    // --tamper draws its dice only when it is on: every older seeded run still repeats.
    let mut with = crate::flow::Flow::new(7, 0, crate::direction::Direction::Up);
    let mut without = crate::flow::Flow::new(7, 0, crate::direction::Direction::Up);
    let lossy = Args::try_parse_from(["lossy-link", "--loss", "50%"]).unwrap().up();
    let tampering =
        Args::try_parse_from(["lossy-link", "--loss", "50%", "--tamper", "0%"]).unwrap().up();
    let fates = |flow: &mut crate::flow::Flow, imp: &Impairment| -> Vec<bool> {
        (0..200).map(|_| flow.roll(imp).lost).collect()
    };
    assert_eq!(
        fates(&mut with, &tampering),
        fates(&mut without, &lossy),
        "--tamper 0% should not change any fate"
    );
}
