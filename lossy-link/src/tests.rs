//! The relay's own suite: the real relay, in this process, between real loopback sockets.
//!
//! The test plays both ends: a client socket that sends through the relay, and a "server"
//! socket behind it (a sink that records what arrives, or an echo). Every wait has a
//! deadline, and timing is only ever checked from below ("at least the delay"), so a loaded
//! machine makes a test slower, never wrong.
//!
//! Sending thousands of datagrams at once could overflow a socket's receive buffer and lose
//! datagrams the relay never chose to lose, so the bulk tests send in batches and wait for
//! the relay to have received each batch ([`send_paced`]), and check that the sink got
//! exactly what the relay says it forwarded.

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use clap::Parser;
use clap::error::ErrorKind;
use shared::error::Result;
use shared::report::{CapturedLog, Log};
use shared::shutdown::Shutdown;

use crate::args::{Args, Impairment};
use crate::relay::{Probe, Relay};
use crate::summary::Summary;
use crate::units::{Rate, parse_duration, parse_percent, parse_rate};

/// How long any single wait may take before the test fails: generous, for a loaded
/// 2-core machine (a working relay answers in microseconds).
const PATIENCE: Duration = Duration::from_secs(10);

/// A relay running on its own thread.
struct Running {
    addr: SocketAddr,
    probe: Probe,
    log: CapturedLog,
    shutdown: Shutdown,
    finished: mpsc::Receiver<Result<Summary>>,
}

impl Running {
    /// Stops the relay and returns its summary, with how long the stop took.
    fn stop_timed(self) -> (Summary, Duration) {
        let asked = Instant::now();
        self.shutdown.request();
        match self.finished.recv_timeout(PATIENCE) {
            Ok(Ok(summary)) => (summary, asked.elapsed()),
            Ok(Err(error)) => panic!("the relay failed: {error}; log:\n{}", self.log.text()),
            Err(_) => {
                panic!("the relay did not stop within {PATIENCE:?}; log:\n{}", self.log.text())
            }
        }
    }

    fn stop(self) -> Summary {
        self.stop_timed().0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}

/// Starts the relay on a free port in front of `server`, with these extra flags.
fn start_relay(server: SocketAddr, flags: &[&str]) -> Running {
    let to = server.to_string();
    let mut argv = vec!["lossy-link", "--listen", "127.0.0.1:0", "--to", &to];
    argv.extend_from_slice(flags);
    let args = Args::try_parse_from(argv).unwrap();
    let (log, captured) = Log::capture(false);
    let relay = Relay::bind(&args, log).unwrap();
    let addr = relay.local_addr();
    let probe = relay.probe();
    let shutdown = Shutdown::new();
    let (done, finished) = mpsc::channel();
    let signal = shutdown.clone();
    thread::spawn(move || {
        let _ = done.send(relay.run(&signal));
    });
    Running { addr, probe, log: captured, shutdown, finished }
}

fn bind_loopback() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    shared::datagram::raise_buffers(&socket).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    socket
}

/// A client socket connected to the relay.
fn client_of(relay: &Running) -> UdpSocket {
    let socket = bind_loopback();
    socket.connect(relay.addr).unwrap();
    socket
}

/// Waits until `done()` holds, or fails the test saying `what` after [`PATIENCE`].
fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_until_else(done, || what.to_string());
}

/// [`wait_until`], with a failure message made at the time of failure (`what()` can show
/// what has arrived by then).
fn wait_until_else(mut done: impl FnMut() -> bool, what: impl FnOnce() -> String) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {}", what());
        thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `count` datagrams (`"0"`, `"1"`, ... or `payload(i)`), in batches of 25, waiting
/// after each batch until the relay has received all of it and `sink` has received all
/// the relay has forwarded so far: no socket buffer ever holds more than a batch, so no
/// datagram is lost that the relay did not choose to lose.
fn send_paced(
    client: &UdpSocket,
    probe: &Probe,
    sink: &Sink,
    count: u64,
    payload: impl Fn(u64) -> Vec<u8>,
) {
    let already = probe.up().received;
    for i in 0..count {
        client.send(&payload(i)).unwrap();
        if (i + 1) % 25 == 0 || i + 1 == count {
            wait_until(&format!("the relay has received {} datagrams", i + 1), || {
                probe.up().received - already > i
            });
            let forwarded = probe.up().forwarded;
            wait_until_else(
                || sink.received() >= forwarded,
                || {
                    format!(
                        "the server has received the {forwarded} datagrams forwarded (it has \
                         {}; relay: {})",
                        sink.received(),
                        probe.up()
                    )
                },
            );
        }
    }
}

fn numbered(i: u64) -> Vec<u8> {
    i.to_string().into_bytes()
}

/// What a sink behind the relay received: each datagram, where from, and when.
struct Arrival {
    data: Vec<u8>,
    from: SocketAddr,
    at: Instant,
}

impl Arrival {
    fn number(&self) -> u64 {
        std::str::from_utf8(&self.data).unwrap().parse().unwrap()
    }
}

/// A "server" that records every datagram; optionally echoes it back as `echo:<data>`.
struct Sink {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    count: Arc<std::sync::atomic::AtomicU64>,
    thread: Option<JoinHandle<Vec<Arrival>>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Sink {
    fn start(echo: bool) -> Sink {
        let socket = bind_loopback();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (stopping, counter) = (Arc::clone(&stop), Arc::clone(&count));
        let thread = thread::spawn(move || {
            let mut arrivals = Vec::new();
            let mut buffer = vec![0; 65_536];
            while !stopping.load(Ordering::SeqCst) {
                if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                    let data = buffer[..len].to_vec();
                    if echo {
                        let reply = [b"echo:".as_slice(), &data].concat();
                        socket.send_to(&reply, from).unwrap();
                    }
                    arrivals.push(Arrival { data, from, at: Instant::now() });
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            arrivals
        });
        Sink { addr, stop, count, thread: Some(thread) }
    }

    fn received(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until the sink has received `count` datagrams.
    fn wait_for(&self, count: u64) {
        wait_until(&format!("the server has received {count} datagrams"), || {
            self.received() >= count
        });
    }

    /// Stops the sink and returns what it received.
    fn finish(mut self) -> Vec<Arrival> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Sends `message` and returns the reply and how long it took.
fn exchange(client: &UdpSocket, message: &[u8]) -> (Vec<u8>, Duration) {
    let sent = Instant::now();
    client.send(message).unwrap();
    let mut buffer = vec![0; 65_536];
    let len = client.recv(&mut buffer).unwrap_or_else(|e| {
        panic!("no reply to {:?} through the relay: {e}", String::from_utf8_lossy(message))
    });
    buffer.truncate(len);
    (buffer, sent.elapsed())
}

/// Numbers that arrived after a higher number (each is one reordering).
fn inversions(numbers: &[u64]) -> u64 {
    let mut highest = None;
    let mut count = 0;
    for &n in numbers {
        match highest {
            Some(h) if n < h => count += 1,
            _ => highest = Some(n),
        }
    }
    count
}

// ---------------------------------------------------------------------------------------
// Loss, duplication, reordering, delay
// ---------------------------------------------------------------------------------------

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

#[test]
fn help_names_the_defaults_and_the_directions() {
    use clap::CommandFactory;
    let help = Args::command().render_long_help().to_string();
    for expected in
        ["127.0.0.1:12001", "127.0.0.1:12000", "--loss-up", "--loss-down", "client -> server"]
    {
        assert!(help.contains(expected), "--help should mention {expected:?}:\n{help}");
    }
}

#[test]
fn relays_the_largest_datagram_whole() {
    for flags in [&[][..], &["--delay", "1ms"]] {
        let sink = Sink::start(false);
        let relay = start_relay(sink.addr, flags);
        let client = client_of(&relay);
        let largest = vec![b'z'; shared::datagram::MAX_UDP_PAYLOAD];
        client.send(&largest).unwrap();
        sink.wait_for(1);
        relay.stop();
        let arrivals = sink.finish();
        assert_eq!(arrivals[0].data.len(), largest.len(), "with {flags:?} it must arrive whole");
    }
}

// ---------------------------------------------------------------------------------------
// Clients: their own upstream sockets, replies to the right one, bounded table
// ---------------------------------------------------------------------------------------

#[test]
fn gives_each_client_its_own_upstream_socket() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &[]);
    let (alice, bob) = (client_of(&relay), client_of(&relay));
    for round in 0..2 {
        alice.send(format!("alice {round}").as_bytes()).unwrap();
        bob.send(format!("bob {round}").as_bytes()).unwrap();
    }
    sink.wait_for(4);
    let relay_addr = relay.addr;
    let summary = relay.stop();
    let arrivals = sink.finish();
    let source = |who: &str| -> HashSet<SocketAddr> {
        arrivals.iter().filter(|a| a.data.starts_with(who.as_bytes())).map(|a| a.from).collect()
    };
    let (from_alice, from_bob) = (source("alice"), source("bob"));
    assert_eq!(from_alice.len(), 1, "one client, one source address: {from_alice:?}");
    assert_eq!(from_bob.len(), 1, "one client, one source address: {from_bob:?}");
    assert_ne!(from_alice, from_bob, "the server must see two clients, not one relay");
    for addr in from_alice.iter().chain(&from_bob) {
        assert_ne!(*addr, relay_addr, "not the relay's listening socket");
        assert!(addr.ip().is_loopback(), "upstream sockets stay on loopback: {addr}");
    }
    assert_eq!(summary.clients, 2, "the relay should count two clients");
}

#[test]
fn replies_find_their_way_back_to_the_client_that_asked() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    let clients: Vec<UdpSocket> = (0..3).map(|_| client_of(&relay)).collect();
    for round in 0..5 {
        for (who, client) in clients.iter().enumerate() {
            let message = format!("client {who} round {round}");
            let (reply, _) = exchange(client, message.as_bytes());
            assert_eq!(
                String::from_utf8_lossy(&reply),
                format!("echo:{message}"),
                "client {who} got someone else's reply"
            );
        }
    }
    // Nothing else is waiting for any of them.
    for client in &clients {
        client.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        assert!(client.recv(&mut [0; 64]).is_err(), "a client got a reply it did not ask for");
    }
    let summary = relay.stop();
    assert_eq!(
        (summary.up.forwarded, summary.down.forwarded, summary.clients),
        (15, 15, 3),
        "the relay should forward 15 requests and 15 replies for 3 clients"
    );
}

#[test]
fn the_client_table_is_bounded_and_evicts_the_least_recent() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--max-clients", "2"]);
    let clients: Vec<UdpSocket> = (0..3).map(|_| client_of(&relay)).collect();
    for (who, client) in clients.iter().enumerate() {
        client.send(format!("{who}").as_bytes()).unwrap();
        sink.wait_for(who as u64 + 1);
    }
    // Client 0 was heard from least recently and made room for client 2; it comes back
    // with a new upstream socket, so the server sees a fourth source.
    clients[0].send(b"0").unwrap();
    sink.wait_for(4);
    let log = relay.log.clone();
    let summary = relay.stop();
    let sources: HashSet<SocketAddr> = sink.finish().iter().map(|a| a.from).collect();
    assert_eq!(sources.len(), 4, "client 0 came back through a new socket: {sources:?}");
    assert_eq!(
        (summary.clients, summary.evicted),
        (4, 2),
        "the relay should count 4 client entries and 2 evictions"
    );
    let text = log.text();
    assert!(
        text.contains("client table full (--max-clients 2)"),
        "the relay should log that the client table was full:\n{text}"
    );
}

#[test]
fn drops_idle_clients_and_gives_them_a_new_socket_when_they_return() {
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--idle-timeout", "200ms"]);
    let client = client_of(&relay);
    client.send(b"1").unwrap();
    sink.wait_for(1);
    relay.log.wait_for("silent for 0.2 s", PATIENCE).expect("the idle client is dropped");
    client.send(b"2").unwrap();
    sink.wait_for(2);
    let summary = relay.stop();
    let arrivals = sink.finish();
    assert_ne!(arrivals[0].from, arrivals[1].from, "a new upstream socket after the idle drop");
    assert_eq!(summary.clients, 2, "the client came back as a new one");
    // The second entry may go idle too before the stop, on a slow machine.
    assert!(summary.idle_dropped >= 1, "the first entry was dropped when idle: {summary}");
}

// ---------------------------------------------------------------------------------------
// Rate limit, summary, stopping
// ---------------------------------------------------------------------------------------

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
fn the_summary_counts_each_direction() {
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    let log = relay.log.clone();
    let client = client_of(&relay);
    for i in 0..50 {
        exchange(&client, format!("{i}").as_bytes());
    }
    let summary = relay.stop();
    for direction in [summary.up, summary.down] {
        assert_eq!(
            (direction.received, direction.forwarded, direction.dropped()),
            (50, 50, 0),
            "the relay should receive and forward all 50 each way, dropping none"
        );
    }
    assert_eq!(summary.clients, 1, "the relay should count one client");
    let text = log.text();
    assert!(
        text.contains("client -> server: received 50, forwarded 50, dropped 0"),
        "the summary should give the client -> server counts:\n{text}"
    );
    assert!(
        text.contains("server -> client: received 50, forwarded 50, dropped 0"),
        "the summary should give the server -> client counts:\n{text}"
    );
    assert!(text.contains("Relay stopped after"), "the relay should log that it stopped:\n{text}");
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
fn ignores_datagrams_from_the_server_itself() {
    // The sink plays the server; a datagram from it to the relay's listening port must
    // not be relayed back to it (a forged source could otherwise start a loop).
    let server = bind_loopback();
    let relay = start_relay(server.local_addr().unwrap(), &[]);
    server.send_to(b"loop?", relay.addr).unwrap();
    wait_until("the relay refuses it", || relay.log.text().contains("ignored a datagram"));
    let summary = relay.stop();
    assert_eq!(
        (summary.refused, summary.clients, summary.up.received),
        (1, 0, 0),
        "the relay should refuse the server's own datagram, making no client and relaying nothing"
    );
}

#[test]
fn refuses_to_start_when_the_server_address_leads_back_to_the_relay() {
    // --listen 0.0.0.0:P --to 127.0.0.1:P: the upstream socket would send to the relay
    // itself, and every datagram would go round for ever. A socket on 0.0.0.0 is reached at
    // every local address with its port, so the relay says so at once.
    let listen = UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = listen.local_addr().unwrap().port();
    let to = format!("127.0.0.1:{port}");
    let args = Args::try_parse_from(["lossy-link", "--to", &to]).unwrap();
    let (log, _captured) = Log::capture(false);
    let error = Relay::with_socket(&args, listen, log).err().expect("the relay should not start");
    assert!(
        error.to_string().contains("is the relay's own address"),
        "the error should say --to is the relay's own address: {error}"
    );
}

// ---------------------------------------------------------------------------------------
// Flags
// ---------------------------------------------------------------------------------------

#[test]
fn flags_parse_percentages_durations_and_rates() {
    assert_eq!(parse_percent("20%").unwrap().fraction(), 0.2, "20% should be a fraction of 0.2");
    assert_eq!(parse_percent("20").unwrap().fraction(), 0.2, "a bare 20 should mean 20%");
    assert_eq!(
        parse_percent("0.5%").unwrap().fraction(),
        0.005,
        "0.5% should be a fraction of 0.005"
    );
    for bad in ["101%", "-1", "abc", "", "NaN"] {
        assert!(parse_percent(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(
        parse_duration("50ms").unwrap(),
        Duration::from_millis(50),
        "50ms should be 50 milliseconds"
    );
    assert_eq!(
        parse_duration("1.5s").unwrap(),
        Duration::from_millis(1500),
        "1.5s should be one and a half seconds"
    );
    assert_eq!(
        parse_duration("200us").unwrap(),
        Duration::from_micros(200),
        "200us should be 200 microseconds"
    );
    assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120), "2m should be two minutes");
    assert_eq!(parse_duration("0").unwrap(), Duration::ZERO, "a bare 0 should be no delay");
    for bad in ["50", "ms", "-5ms", "2h", "61m", "1e400s"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
    }
    assert_eq!(
        parse_rate("64k").unwrap().bytes_per_second(),
        Some(64_000),
        "64k should be 64,000 bytes a second"
    );
    assert_eq!(
        parse_rate("1.5M").unwrap().bytes_per_second(),
        Some(1_500_000),
        "1.5M should be 1,500,000 bytes a second"
    );
    assert_eq!(
        parse_rate("64kB/s").unwrap().bytes_per_second(),
        Some(64_000),
        "64kB/s should be 64,000 bytes a second"
    );
    assert_eq!(parse_rate("unlimited").unwrap(), Rate::UNLIMITED, "unlimited should be no limit");
    assert!(parse_rate("fast").is_err(), "\"fast\" should be refused as a rate");
}

#[test]
fn per_direction_flags_override_the_shared_one() {
    let args = Args::try_parse_from([
        "lossy-link",
        "--loss",
        "20%",
        "--loss-down",
        "50%",
        "--delay",
        "10ms",
        "--delay-up",
        "0",
    ])
    .unwrap();
    assert_eq!(args.up().loss.fraction(), 0.2, "--loss should apply to client -> server");
    assert_eq!(
        args.down().loss.fraction(),
        0.5,
        "--loss-down should override --loss for server -> client"
    );
    assert_eq!(
        args.up().delay,
        Duration::ZERO,
        "--delay-up 0 should override --delay for client -> server"
    );
    assert_eq!(
        args.down().delay,
        Duration::from_millis(10),
        "--delay should apply to server -> client"
    );
    let plain = Args::try_parse_from(["lossy-link"]).unwrap();
    assert_eq!(
        (plain.up(), plain.down()),
        (Impairment::NONE, Impairment::NONE),
        "without flags the relay should impair neither direction"
    );
    assert_eq!(
        (plain.listen.as_str(), plain.to.as_str()),
        ("127.0.0.1:12001", "127.0.0.1:12000"),
        "by default the relay should listen on 127.0.0.1:12001 and relay to 127.0.0.1:12000"
    );
}

#[test]
fn bad_flag_values_are_usage_errors() {
    for argv in [
        &["lossy-link", "--loss", "120%"][..],
        &["lossy-link", "--delay", "50"],
        &["lossy-link", "--max-clients", "0"],
        &["lossy-link", "--rate", "quick"],
        &["lossy-link", "--listen", "127.0.0.1"],
        &["lossy-link", "--to", "localhost:port"],
    ] {
        let error = Args::try_parse_from(argv).err().unwrap();
        assert_eq!(
            error.kind(),
            ErrorKind::ValueValidation,
            "{argv:?} should be refused as a bad value: {error}"
        );
    }
}

#[test]
fn a_taken_port_is_a_one_line_error() {
    let taken = bind_loopback();
    let addr = taken.local_addr().unwrap().to_string();
    let args = Args::try_parse_from(["lossy-link", "--listen", &addr]).unwrap();
    let error = Relay::bind(&args, Log::capture(true).0).err().unwrap().to_string();
    assert!(
        error.starts_with(&format!("cannot bind {addr}: ")),
        "a taken port should say it cannot bind the address: {error}"
    );
    assert!(!error.contains('\n'), "the error should be one line: {error}");
}

// ---------------------------------------------------------------------------------------
// --tamper (issue 20): a datagram changed on the way arrives as if genuine.
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// No open relay (issue 18): the servers' reply rule, the byte budget, bounded sockets
// ---------------------------------------------------------------------------------------

/// A server that answers every datagram with `reply(datagram)`, until dropped.
struct Answering {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn answering(reply: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> Answering {
    let socket = bind_loopback();
    socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    thread::spawn(move || {
        let mut buffer = vec![0; 65_536];
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                let _ = socket.send_to(&reply(&buffer[..len]), from);
            }
        }
    });
    Answering { addr, stop }
}

#[test]
fn a_loop_through_the_relay_dies_even_when_both_ends_echo_everything() {
    // Issue 18: a datagram forged from an echo server to the relay in front of another echo
    // made 63,903 round trips in 6.4 s. Here neither end has a rule: the relay's must end it.
    let echo = answering(<[u8]>::to_vec);
    let relay = start_relay(echo.addr, &[]);
    let arrived = shared::testing::bounce_for(relay.addr, b"ping", Duration::from_secs(10));
    assert!(arrived <= 1100, "the loop should die after about --loop-after (1000); {arrived} came");
    assert!(
        relay.log.text().contains("a loop between two servers"),
        "the relay should say why it stopped relaying; its log:\n{}",
        relay.log.text()
    );
    assert!(relay.stop().refused >= 1, "the refused datagram should be counted");
}

#[test]
fn duplicating_an_amplifying_server_sends_a_host_no_more_than_three_times_what_it_sent() {
    // Issue 18: with --duplicate 100%, 12x the bytes reached a forged victim. A server that
    // answers four times what it gets, doubled by the relay: 8x without the byte budget.
    let amplifier = answering(|datagram| datagram.repeat(4));
    let relay =
        start_relay(amplifier.addr, &["--duplicate-down", "100%", "--reply-allowance", "100"]);
    let client = client_of(&relay);
    client.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let started = Instant::now();
    let (mut sent, mut received) = (0usize, 0usize);
    let mut buffer = vec![0; 65_536];
    for _ in 0..100 {
        client.send(&[7u8; 10]).unwrap();
        sent += 10;
        while let Ok(len) = client.recv(&mut buffer) {
            received += len;
        }
    }
    // The allowance (100 bytes) comes back at 100 bytes a second.
    let allowance = 100 * (2 + usize::try_from(started.elapsed().as_secs()).unwrap());
    assert!(
        received <= 3 * sent + allowance,
        "{sent} bytes sent brought back {received} through the relay: more than 3x plus {allowance}"
    );
    assert!(received >= sent, "the budget should still let replies through: {received}");
    assert!(relay.stop().refused > 0, "the replies held back should be counted");
}

#[test]
fn a_datagram_from_a_well_known_service_port_is_not_relayed() {
    // Issue 18: through the relay, port 53 received 1,000 of 1,000 replies that the servers
    // refuse to send directly.
    let Some(service) = shared::testing::service_port_socket() else { return };
    let sink = Sink::start(true);
    let relay = start_relay(sink.addr, &[]);
    service.send_to(b"from port 53?", relay.addr).unwrap();
    wait_until("the relay refuses it", || relay.log.text().contains("below 1024"));
    let summary = relay.stop();
    assert_eq!(
        (summary.clients, summary.up.received, sink.received()),
        (0, 0, 0),
        "nothing from a port below 1024 should reach the server: {summary}"
    );
}

#[test]
fn sockets_and_threads_stay_bounded_while_datagrams_for_replaced_clients_are_queued() {
    // Issue 18: 18,000 new sources a second made 1,336 threads and sockets with
    // --max-clients 256: datagrams queued for a replaced client kept its socket. Here every
    // client's datagram waits a second upstream, so every replaced client is still queued.
    let sink = Sink::start(false);
    let relay = start_relay(sink.addr, &["--max-clients", "4", "--delay-up", "1s"]);
    let mut most = 0;
    for n in 0..200u32 {
        let client = client_of(&relay);
        client.send(&n.to_be_bytes()).unwrap();
        most = most.max(relay.probe.live_clients());
    }
    // The queued datagrams leave after their second: the bound held while they waited.
    sink.wait_for(1);
    most = most.max(relay.probe.live_clients());
    assert!(most <= 8, "at most twice --max-clients (4) sockets and threads; {most} existed");
    let summary = relay.stop();
    assert!(summary.refused > 0, "the clients beyond the bound should be refused and counted");
}
