//! The clients' load mode: many clients at once, and one line that says how it went.
//!
//! `client --clients 16 --duration 5` starts 16 clients, each on its own thread with its
//! own socket. Each one sends a request, waits for the reply, checks it, and sends the next,
//! until the time is up (or `--count` requests are sent, or Ctrl-C). Then one line sums up:
//!
//! ```text
//! 16 clients, 5.0 s: 204113 requests, 204113 replies, 0 lost, 0 wrong, 40822 requests/s (fewest replies to one client: 12391), latency p50 0.361 ms, p99 0.812 ms, max 3.954 ms
//! ```
//!
//! - **replies** are correct replies; **wrong** ones came back but were not what the request
//!   should get; **lost** ones never came back within `--timeout` (UDP may drop datagrams).
//! - The run's time starts when every client has connected; when that took a while (thousands
//!   of TCP connections), the line says how long, e.g. `10000 clients (connected in 3.2 s)`.
//! - **requests/s** counts every request sent, over the whole run; the **fewest replies**
//!   any one client got shows whether the server was fair (a starved client would have
//!   far fewer than the average).
//! - **latency** is measured from just before sending to just after the reply arrived, for
//!   correct replies: p50 is the median, p99 the value 99% of requests beat.
//!
//! Run it against a server that handles one request at a time and against one with threads,
//! and the difference shows in numbers. It is also this project's benchmark
//! (`BENCHMARKS.md`).
//!
//! A module supplies only what one request is ([`Exchange`]); for request/reply over UDP,
//! [`UdpExchange`] is ready-made.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::datagram::{RECV_BUFFER_SIZE, connect_udp, is_timeout_or_interrupt};
use crate::error::{Error, Result, describe_io_error};
use crate::report::plural;
use crate::shutdown::{POLL_INTERVAL, Shutdown};

/// The most clients one load run may start (each is a thread and a socket).
pub const MAX_CLIENTS: u32 = 20_000;

/// How long a load run lasts when neither `--duration` nor `--count` is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(5);

/// The longest a load run may last, whatever the flags say: load loops stop by themselves.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// A client gives up after this many lost replies in a row.
pub const MAX_LOST_IN_A_ROW: u32 = 5;

/// Stack size of a load client's thread: a client loop needs little, and small stacks let
/// thousands of clients run at once.
const CLIENT_STACK_SIZE: usize = 128 * 1024;

/// `--clients` and `--duration`, flattened into every client's arguments.
///
/// `--count` and `--timeout` are not here, though load mode uses them: every client has them
/// in its normal mode too, with its own meaning and default (module 3h's `--count` is how
/// many messages to send), so each client declares them and hands them to [`LoadArgs::plan`].
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LoadArgs {
    /// Load mode: run N clients at once, each with its own socket, and print one summary line
    /// (requests, replies, lost, wrong, requests/s, latency). Default 1 when only --duration
    /// (or --count) is given.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_CLIENTS)))]
    pub clients: Option<u32>,

    /// Load mode: run for SECS seconds (default 5; at most 3600). Fractions are fine: 0.5.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub duration: Option<Duration>,
}

impl LoadArgs {
    /// Whether `--clients` or `--duration` asked for load mode.
    pub fn is_requested(&self) -> bool {
        self.clients.is_some() || self.duration.is_some()
    }

    /// The run these flags describe. `count` caps the requests of each client; `timeout`
    /// is how long a client waits for each reply.
    pub fn plan(&self, count: Option<u64>, timeout: Duration) -> LoadPlan {
        let duration = match (self.duration, count) {
            (Some(duration), _) => duration,
            // A count alone decides when the run ends; the ceiling only guards against a
            // run that would otherwise never stop.
            (None, Some(_)) => MAX_DURATION,
            (None, None) => DEFAULT_DURATION,
        };
        LoadPlan { clients: self.clients.unwrap_or(1), duration, count, timeout }
    }
}

/// Parses a number of seconds such as `5` or `0.25` (more than 0, at most an hour).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 =
        text.trim().parse().map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !(seconds > 0.0 && seconds <= MAX_DURATION.as_secs_f64()) {
        return Err(format!("{text} s is out of range: give more than 0 and at most 3600"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Parses a number of seconds like [`parse_seconds`], but also accepts 0 (for pauses).
pub fn parse_seconds_or_zero(text: &str) -> Result<Duration, String> {
    if text.trim().parse::<f64>() == Ok(0.0) { Ok(Duration::ZERO) } else { parse_seconds(text) }
}

/// One load run: how many clients, for how long, how many requests each, how patiently.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// Clients running at once.
    pub clients: u32,
    /// The run stops after this long.
    pub duration: Duration,
    /// Each client stops after this many requests, if given.
    pub count: Option<u64>,
    /// How long a client waits for one reply before counting it lost.
    pub timeout: Duration,
}

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The expected reply came back.
    Correct,
    /// A reply came back, but not the expected one.
    Wrong,
    /// No reply within the timeout.
    Lost,
}

/// One client's side of a request/reply protocol: send request number `sequence`, wait
/// for its reply, and judge it. An `Err` stops this client (the server is gone, say).
pub trait Exchange {
    /// Performs one request and reports its outcome.
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome>;
}

/// Runs `plan.clients` clients, each made by `connect(client_number)`, and sums up.
///
/// Every client connects first; only when all have connected (or failed to) does the clock
/// start and do they all begin sending, so the figures measure requests, not connection
/// set-up, and a TCP server really holds `plan.clients` connections at once.
/// Stops early, with the counts so far, when `shutdown` is requested.
pub fn run<E, F>(plan: &LoadPlan, shutdown: &Shutdown, connect: F) -> Result<LoadSummary>
where
    F: Fn(u32) -> Result<E> + Sync,
    E: Exchange,
{
    let connect = &connect;
    let gate = &StartGate::default();
    let setting_up = Instant::now();
    let (tallies, started, spawn_error) = thread::scope(|scope| {
        let mut clients = Vec::new();
        let mut spawn_error = None;
        for number in 0..plan.clients {
            let spawned = thread::Builder::new()
                .name(format!("load-client-{number}"))
                .stack_size(CLIENT_STACK_SIZE)
                .spawn_scoped(scope, move || {
                    // The ticket counts this client as arrived even if `connect` panics, so
                    // the others are never left waiting at the gate for it.
                    let ticket = gate.ticket();
                    let client = connect(number);
                    let started = ticket.arrive_and_wait();
                    match client {
                        Ok(client) => run_client(client, plan, started + plan.duration, shutdown),
                        Err(error) => Tally::failed(error.to_string()),
                    }
                });
            match spawned {
                Ok(handle) => clients.push(handle),
                Err(error) => {
                    // Out of threads: the clients already started will stop at once.
                    shutdown.request();
                    spawn_error =
                        Some(Error::io(format!("cannot start load client {number}"), error));
                    break;
                }
            }
        }
        // Open the gate for the clients that exist, or they would wait forever.
        let started = gate.open_when_all_arrived(clients.len());
        let tallies: Vec<Tally> = clients
            .into_iter()
            .map(|client| {
                client.join().unwrap_or_else(|_| Tally::failed("the client thread panicked".into()))
            })
            .collect();
        (tallies, started, spawn_error)
    });
    if let Some(error) = spawn_error {
        return Err(error);
    }
    let mut summary = LoadSummary {
        clients: plan.clients,
        connecting: started - setting_up,
        elapsed: started.elapsed(),
        ..LoadSummary::default()
    };
    for tally in tallies {
        summary.add(tally);
    }
    Ok(summary)
}

/// Holds the load clients back until all of them have connected, then lets them go at once.
#[derive(Default)]
struct StartGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    arrived: usize,
    /// Set when the gate opens: the moment the run starts.
    opened_at: Option<Instant>,
}

/// A client's place at the gate: it arrives when it calls
/// [`arrive_and_wait`](Ticket::arrive_and_wait), or when it is dropped without doing so.
struct Ticket<'a> {
    gate: &'a StartGate,
    arrived: bool,
}

impl Ticket<'_> {
    /// The client is ready; waits for the gate to open and returns when it did.
    fn arrive_and_wait(mut self) -> Instant {
        self.arrived = true;
        self.gate.arrive_and_wait()
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.arrived {
            self.gate.arrive();
        }
    }
}

impl StartGate {
    fn ticket(&self) -> Ticket<'_> {
        Ticket { gate: self, arrived: false }
    }

    /// Counts one client as arrived, without waiting.
    fn arrive(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.arrived += 1;
        self.changed.notify_all();
    }

    /// A client is ready; waits for the gate to open and returns when it did.
    fn arrive_and_wait(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.arrived += 1;
        self.changed.notify_all();
        loop {
            if let Some(opened_at) = state.opened_at {
                return opened_at;
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until `clients` clients have arrived, then opens the gate.
    fn open_when_all_arrived(&self, clients: usize) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.arrived < clients {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        let now = Instant::now();
        state.opened_at = Some(now);
        self.changed.notify_all();
        now
    }
}

/// What one client counted.
#[derive(Default)]
struct Tally {
    requests: u64,
    correct: u64,
    wrong: u64,
    lost: u64,
    latency: Histogram,
    error: Option<String>,
}

impl Tally {
    fn failed(error: String) -> Self {
        Tally { error: Some(error), ..Tally::default() }
    }
}

/// One client's loop: request, judge, repeat until the deadline, the count or a stop.
fn run_client(
    mut client: impl Exchange,
    plan: &LoadPlan,
    deadline: Instant,
    shutdown: &Shutdown,
) -> Tally {
    let mut tally = Tally::default();
    let mut lost_in_a_row = 0;
    while !shutdown.is_requested()
        && Instant::now() < deadline
        && plan.count.is_none_or(|count| tally.requests < count)
    {
        let sent = Instant::now();
        let outcome = match client.exchange(tally.requests) {
            Ok(outcome) => outcome,
            Err(error) => {
                tally.error = Some(describe_io_error(&error));
                break;
            }
        };
        tally.requests += 1;
        match outcome {
            Outcome::Correct => {
                tally.correct += 1;
                tally.latency.record(sent.elapsed());
            }
            Outcome::Wrong => tally.wrong += 1,
            Outcome::Lost => tally.lost += 1,
        }
        lost_in_a_row = if outcome == Outcome::Lost { lost_in_a_row + 1 } else { 0 };
        if lost_in_a_row == MAX_LOST_IN_A_ROW {
            // A server that has stopped answering would otherwise cost `--timeout` per
            // request for the rest of the run.
            tally.error = Some(format!(
                "{MAX_LOST_IN_A_ROW} replies in a row were lost: is the server still running?"
            ));
            break;
        }
    }
    tally
}

/// The result of a load run; its `Display` is the one summary line.
#[derive(Debug, Default, Clone)]
pub struct LoadSummary {
    /// Clients that ran.
    pub clients: u32,
    /// Time to start the clients and connect them all, before the run's clock started.
    pub connecting: Duration,
    /// Wall-clock time of the run, from the moment every client was connected.
    pub elapsed: Duration,
    /// Requests sent.
    pub requests: u64,
    /// Correct replies received.
    pub replies: u64,
    /// Requests whose reply did not come within the timeout.
    pub lost: u64,
    /// Replies that were not the expected ones.
    pub wrong: u64,
    /// Clients that stopped on an error.
    pub failed_clients: u32,
    /// The first such error, to show the user.
    pub first_error: Option<String>,
    /// Latencies of the correct replies.
    pub latency: Histogram,
    /// The fewest correct replies any one client got: far below the average means some
    /// clients were starved while others were served.
    pub fewest_replies: Option<u64>,
}

impl LoadSummary {
    fn add(&mut self, tally: Tally) {
        self.requests += tally.requests;
        self.replies += tally.correct;
        self.lost += tally.lost;
        self.wrong += tally.wrong;
        self.latency.merge(&tally.latency);
        self.fewest_replies =
            Some(self.fewest_replies.map_or(tally.correct, |fewest| fewest.min(tally.correct)));
        if let Some(error) = tally.error {
            self.failed_clients += 1;
            self.first_error.get_or_insert(error);
        }
    }

    /// Requests sent per second, over the whole run.
    pub fn requests_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 { self.requests as f64 / seconds } else { 0.0 }
    }

    /// `Ok` if every request got its correct reply; otherwise an error that says what
    /// went wrong (a client's exit status follows from it).
    pub fn check(&self) -> Result<()> {
        if let Some(error) = &self.first_error {
            return Err(Error::msg(format!(
                "{} of {} clients stopped early; the first because: {error}",
                self.failed_clients, self.clients
            )));
        }
        if self.requests == 0 {
            return Err(Error::msg("no request was sent"));
        }
        if self.lost > 0 || self.wrong > 0 {
            return Err(Error::msg(format!(
                "{} of {} requests lost, {} wrong",
                self.lost, self.requests, self.wrong
            )));
        }
        Ok(())
    }
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", plural(self.clients, "client"))?;
        // Worth mentioning only when connecting took a noticeable time (thousands of TCP
        // connections), so that the run's seconds are not mistaken for the whole wait.
        if self.connecting >= Duration::from_millis(100) {
            write!(f, " (connected in {:.1} s)", self.connecting.as_secs_f64())?;
        }
        write!(
            f,
            ", {:.1} s: {} requests, {} replies, {} lost, {} wrong, {:.0} requests/s",
            self.elapsed.as_secs_f64(),
            self.requests,
            self.replies,
            self.lost,
            self.wrong,
            self.requests_per_second(),
        )?;
        if let (Some(fewest), true) = (self.fewest_replies, self.clients > 1) {
            write!(f, " (fewest replies to one client: {fewest})")?;
        }
        match (self.latency.quantile(0.5), self.latency.quantile(0.99), self.latency.max()) {
            (Some(p50), Some(p99), Some(max)) => {
                write!(
                    f,
                    ", latency p50 {} ms, p99 {} ms, max {} ms",
                    millis(p50),
                    millis(p99),
                    millis(max)
                )
            }
            _ => f.write_str(", latency: no replies"),
        }
    }
}

fn millis(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64() * 1000.0)
}

/// Latencies, counted in buckets so that memory stays small however long the run.
///
/// Values are microseconds. Below 32 µs each value has its own bucket; above, every power
/// of two (32–63, 64–127, ...) is split into 32 equal buckets, so a value is known to
/// within about 3%: plenty for "p99 is 0.8 ms". (This is the idea of HdrHistogram.)
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_micros: u64,
}

/// log2 of the number of buckets per power of two.
const SUB_BUCKET_BITS: u32 = 5;
const SUB_BUCKETS: u64 = 1 << SUB_BUCKET_BITS;

impl Histogram {
    /// Counts one latency.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let index = bucket_of(micros);
        if index >= self.counts.len() {
            // Grow only as far as the largest latency seen: a few hundred buckets at most.
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
        self.total += 1;
        self.max_micros = self.max_micros.max(micros);
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &Histogram) {
        if other.counts.len() > self.counts.len() {
            self.counts.resize(other.counts.len(), 0);
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.max_micros = self.max_micros.max(other.max_micros);
    }

    /// How many latencies were recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latency that a fraction `q` (0.5 for the median) of the values do not exceed,
    /// to within a bucket; `None` if nothing was recorded.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        // The value we want is the first one with at least a fraction `q` of all values at
        // or below it (and at least one value).
        let wanted = (q.clamp(0.0, 1.0) * self.total as f64).max(1.0);
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen as f64 >= wanted {
                // Report the bucket's highest value, but never more than the true maximum.
                let micros = highest_in_bucket(index).min(self.max_micros);
                return Some(Duration::from_micros(micros));
            }
        }
        self.max()
    }

    /// The largest latency recorded, exactly.
    pub fn max(&self) -> Option<Duration> {
        (self.total > 0).then(|| Duration::from_micros(self.max_micros))
    }
}

/// The bucket that counts `micros`.
#[allow(clippy::cast_possible_truncation, reason = "bucket numbers are below 2,000")]
fn bucket_of(micros: u64) -> usize {
    if micros < SUB_BUCKETS {
        return micros as usize;
    }
    // `magnitude` is the position of the highest set bit (≥ 5 here); dropping `shift` low
    // bits leaves a number in 32..64, whose offset from 32 picks the sub-bucket.
    let magnitude = 63 - micros.leading_zeros();
    let shift = magnitude - SUB_BUCKET_BITS;
    let sub_bucket = (micros >> shift) - SUB_BUCKETS;
    ((u64::from(shift) + 1) * SUB_BUCKETS + sub_bucket) as usize
}

/// The largest value that falls in bucket `index` (the inverse of [`bucket_of`]).
fn highest_in_bucket(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB_BUCKETS {
        return index;
    }
    let shift = index / SUB_BUCKETS - 1;
    let sub_bucket = index % SUB_BUCKETS;
    ((SUB_BUCKETS + sub_bucket + 1) << shift) - 1
}

/// The whole load mode of a UDP request/reply client: runs `plan` with one [`UdpExchange`]
/// per client against `server`, writes the summary line to `out`, and is `Ok` only if every
/// request got its correct reply.
pub fn run_udp(
    plan: &LoadPlan,
    server: SocketAddr,
    shutdown: &Shutdown,
    make_request: fn(u32, u64) -> Request,
    out: &mut impl io::Write,
) -> Result<()> {
    let summary = run(plan, shutdown, |client| {
        UdpExchange::connect(server, plan.timeout, shutdown, client, make_request)
    })?;
    crate::report::output_line(out, format_args!("{summary}"))?;
    summary.check()
}

/// Request/reply over UDP, ready for any module whose server answers each datagram with
/// one datagram: the module says what request `n` of client `c` is and what reply it
/// expects.
pub struct UdpExchange<F> {
    socket: UdpSocket,
    client: u32,
    make_request: F,
    timeout: Duration,
    shutdown: Shutdown,
    buffer: Vec<u8>,
    /// Replies we gave up on. One may still arrive, late, while we wait for the next reply;
    /// it is recognised here and skipped rather than counted as wrong. Bounded.
    overdue: VecDeque<Vec<u8>>,
}

/// How many overdue replies a client remembers.
const MAX_OVERDUE: usize = 16;

/// A request and the reply it should get.
pub struct Request {
    /// The datagram to send.
    pub datagram: Vec<u8>,
    /// The reply the server should send back.
    pub expected_reply: Vec<u8>,
}

impl<F: FnMut(u32, u64) -> Request> UdpExchange<F> {
    /// A client numbered `client` with its own socket connected to `server`; it waits
    /// `timeout` for each reply, but gives up sooner when `shutdown` is requested.
    /// `make_request(client, sequence)` builds each request.
    pub fn connect(
        server: SocketAddr,
        timeout: Duration,
        shutdown: &Shutdown,
        client: u32,
        make_request: F,
    ) -> Result<Self> {
        let socket = connect_udp(server)?;
        // Wait in slices of at most POLL_INTERVAL, so that Ctrl-C is noticed even when
        // `--timeout` is long. The timeout is set once here, not per request.
        socket
            .set_read_timeout(Some(timeout.min(POLL_INTERVAL)))
            .map_err(|e| Error::io("cannot set the reply timeout", e))?;
        Ok(UdpExchange {
            socket,
            client,
            make_request,
            timeout,
            shutdown: shutdown.clone(),
            buffer: vec![0; RECV_BUFFER_SIZE],
            overdue: VecDeque::new(),
        })
    }
}

impl<F: FnMut(u32, u64) -> Request> Exchange for UdpExchange<F> {
    fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
        let request = (self.make_request)(self.client, sequence);
        self.socket.send(&request.datagram).map_err(explain_refused)?;
        let give_up_at = Instant::now() + self.timeout;
        loop {
            let len = match self.socket.recv(&mut self.buffer) {
                Ok(len) => len,
                Err(error) if is_timeout_or_interrupt(&error) => {
                    if Instant::now() < give_up_at && !self.shutdown.is_requested() {
                        continue; // one slice of the wait is over; the reply may still come
                    }
                    if self.overdue.len() == MAX_OVERDUE {
                        self.overdue.pop_front();
                    }
                    self.overdue.push_back(request.expected_reply);
                    return Ok(Outcome::Lost);
                }
                Err(error) => return Err(explain_refused(error)),
            };
            let reply = &self.buffer[..len];
            if reply == request.expected_reply {
                return Ok(Outcome::Correct);
            }
            // A late answer to an earlier request: skip it and keep waiting for ours.
            if let Some(at) = self.overdue.iter().position(|old| old.as_slice() == reply) {
                self.overdue.remove(at);
                continue;
            }
            return Ok(Outcome::Wrong);
        }
    }
}

/// "Connection refused" on a UDP socket means the server's port is unreachable: nothing
/// listens there (see [`crate::datagram::udp_client_error`]). Say so in UDP's words.
fn explain_refused(error: io::Error) -> io::Error {
    if crate::datagram::is_port_unreachable(&error) {
        io::Error::new(error.kind(), "no server is listening (its port is unreachable)")
    } else {
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datagram::bind_udp;

    #[test]
    fn seconds_parse_whole_and_fractional() {
        assert_eq!(parse_seconds("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn seconds_must_be_positive_finite_and_at_most_an_hour() {
        for bad in ["0", "-1", "NaN", "inf", "3601", "five", ""] {
            assert!(parse_seconds(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn pauses_may_be_zero_seconds() {
        assert_eq!(parse_seconds_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seconds_or_zero("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_seconds_or_zero("-1").is_err());
    }

    #[test]
    fn load_mode_is_off_unless_asked_for() {
        assert!(!LoadArgs::default().is_requested());
        assert!(LoadArgs { clients: Some(2), duration: None }.is_requested());
        assert!(LoadArgs { clients: None, duration: Some(Duration::from_secs(1)) }.is_requested());
    }

    #[test]
    fn a_plan_defaults_to_one_client_for_five_seconds() {
        let plan = LoadArgs::default().plan(None, Duration::from_secs(1));
        assert_eq!((plan.clients, plan.duration, plan.count), (1, DEFAULT_DURATION, None));
        let counted = LoadArgs::default().plan(Some(10), Duration::from_secs(1));
        assert_eq!((counted.duration, counted.count), (MAX_DURATION, Some(10)));
    }

    #[test]
    fn histogram_buckets_are_exact_below_32_and_within_3_percent_above() {
        for micros in [0, 1, 31, 32, 33, 63, 64, 100, 1_000, 12_345, 1_000_000, u64::MAX / 2] {
            let highest = highest_in_bucket(bucket_of(micros));
            assert!(highest >= micros, "{micros} µs landed in a bucket ending at {highest}");
            assert!(
                (highest - micros) as f64 <= micros as f64 / 32.0,
                "{micros} µs: bucket too wide ({highest})"
            );
        }
        assert_eq!(bucket_of(31) + 1, bucket_of(32));
    }

    #[test]
    fn histogram_quantiles_and_max() {
        let mut histogram = Histogram::default();
        assert_eq!(histogram.quantile(0.5), None);
        for micros in 1..=100 {
            histogram.record(Duration::from_micros(micros * 10));
        }
        let p50 = histogram.quantile(0.5).unwrap().as_micros();
        let p99 = histogram.quantile(0.99).unwrap().as_micros();
        assert!((500..=520).contains(&p50), "p50 {p50}");
        assert!((990..=1000).contains(&p99), "p99 {p99}");
        assert_eq!(histogram.max(), Some(Duration::from_micros(1000)));
        assert_eq!(histogram.count(), 100);
    }

    #[test]
    fn merged_histograms_count_both() {
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        a.record(Duration::from_micros(10));
        b.record(Duration::from_millis(20));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.max(), Some(Duration::from_millis(20)));
        assert_eq!(a.quantile(0.5), Some(Duration::from_micros(10)));
    }

    /// A fake exchange that answers by a rule, so the runner's counting can be checked
    /// without a network.
    struct Scripted(fn(u64) -> io::Result<Outcome>);
    impl Exchange for Scripted {
        fn exchange(&mut self, sequence: u64) -> io::Result<Outcome> {
            (self.0)(sequence)
        }
    }

    fn plan(clients: u32, count: u64) -> LoadPlan {
        LoadPlan {
            clients,
            duration: Duration::from_secs(60),
            count: Some(count),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_runner_counts_each_outcome_of_each_client() {
        let rule = |n| {
            Ok([Outcome::Correct, Outcome::Correct, Outcome::Wrong, Outcome::Lost]
                [(n % 4) as usize])
        };
        let summary = run(&plan(3, 8), &Shutdown::new(), |_| Ok(Scripted(rule))).unwrap();
        assert_eq!(
            (summary.requests, summary.replies, summary.wrong, summary.lost),
            (24, 12, 6, 6)
        );
        assert_eq!(summary.latency.count(), 12);
        assert_eq!(summary.fewest_replies, Some(4));
        assert!(summary.to_string().contains("(fewest replies to one client: 4)"), "{summary}");
        let error = summary.check().unwrap_err().to_string();
        assert_eq!(error, "6 of 24 requests lost, 6 wrong");
    }

    #[test]
    fn a_client_that_fails_stops_and_is_reported() {
        let rule = |n| {
            if n < 2 { Ok(Outcome::Correct) } else { Err(io::ErrorKind::ConnectionRefused.into()) }
        };
        let summary = run(&plan(2, 100), &Shutdown::new(), |_| Ok(Scripted(rule))).unwrap();
        assert_eq!((summary.requests, summary.failed_clients), (4, 2));
        assert!(
            summary.check().unwrap_err().to_string().starts_with("2 of 2 clients stopped early")
        );
    }

    #[test]
    fn every_client_connects_before_any_sends() {
        use std::sync::atomic::{AtomicU32, Ordering};
        static CONNECTED: AtomicU32 = AtomicU32::new(0);
        struct CountsConnected;
        impl Exchange for CountsConnected {
            fn exchange(&mut self, _: u64) -> io::Result<Outcome> {
                // If any client were still connecting, fewer than 8 would be counted here.
                Ok(if CONNECTED.load(Ordering::SeqCst) == 8 {
                    Outcome::Correct
                } else {
                    Outcome::Wrong
                })
            }
        }
        let summary = run(&plan(8, 3), &Shutdown::new(), |number| {
            thread::sleep(Duration::from_millis(u64::from(number) * 5)); // stagger the connects
            CONNECTED.fetch_add(1, Ordering::SeqCst);
            Ok(CountsConnected)
        })
        .unwrap();
        assert_eq!((summary.replies, summary.wrong), (24, 0));
    }

    #[test]
    fn a_client_that_cannot_connect_is_reported_and_the_others_run() {
        let summary = run(&plan(3, 2), &Shutdown::new(), |number| {
            if number == 1 {
                Err(Error::msg("refused"))
            } else {
                Ok(Scripted(|_| Ok(Outcome::Correct)))
            }
        })
        .unwrap();
        assert_eq!((summary.requests, summary.failed_clients), (4, 1));
        assert_eq!(summary.first_error.as_deref(), Some("refused"));
    }

    #[test]
    fn the_runner_stops_at_the_deadline() {
        let plan = LoadPlan { count: None, duration: Duration::from_millis(200), ..plan(2, 0) };
        let started = Instant::now();
        let summary =
            run(&plan, &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Correct)))).unwrap();
        assert!(summary.requests > 0);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the run did not stop at its deadline"
        );
        summary.check().unwrap();
    }

    #[test]
    fn the_runner_stops_on_shutdown() {
        let shutdown = Shutdown::new();
        shutdown.request();
        let summary =
            run(&plan(4, 1_000_000), &shutdown, |_| Ok(Scripted(|_| Ok(Outcome::Correct))))
                .unwrap();
        assert_eq!(summary.requests, 0);
        assert_eq!(summary.check().unwrap_err().to_string(), "no request was sent");
    }

    #[test]
    fn the_summary_line_names_every_figure() {
        let summary =
            run(&plan(1, 3), &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Correct)))).unwrap();
        let line = summary.to_string();
        for part in [
            "1 client,",
            "3 requests",
            "3 replies",
            "0 lost",
            "0 wrong",
            "requests/s",
            "p50",
            "p99",
            "max",
        ] {
            assert!(line.contains(part), "{part:?} missing from {line:?}");
        }
    }

    /// A tiny echo server on a thread for the UDP exchange tests: replies with `transform`
    /// of each datagram, `rounds` times.
    fn reply_server(
        rounds: usize,
        transform: fn(&[u8]) -> Vec<u8>,
    ) -> (SocketAddr, thread::JoinHandle<()>) {
        let socket = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let addr = socket.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let mut buf = [0; 2048];
            for _ in 0..rounds {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    return;
                };
                socket.send_to(&transform(&buf[..len]), from).unwrap();
            }
        });
        (addr, handle)
    }

    fn echo_request(_client: u32, sequence: u64) -> Request {
        let datagram = format!("request {sequence}").into_bytes();
        Request { expected_reply: datagram.clone(), datagram }
    }

    #[test]
    fn udp_exchange_judges_correct_and_wrong_replies() {
        let (server, echo) = reply_server(1, <[u8]>::to_vec);
        let mut client = UdpExchange::connect(
            server,
            Duration::from_secs(10),
            &Shutdown::new(),
            0,
            echo_request,
        )
        .unwrap();
        assert_eq!(client.exchange(0).unwrap(), Outcome::Correct);
        echo.join().unwrap();

        let (server, garble) = reply_server(1, |_| b"garbage".to_vec());
        let mut client = UdpExchange::connect(
            server,
            Duration::from_secs(10),
            &Shutdown::new(),
            0,
            echo_request,
        )
        .unwrap();
        assert_eq!(client.exchange(0).unwrap(), Outcome::Wrong);
        garble.join().unwrap();
    }

    #[test]
    fn udp_exchange_counts_silence_as_lost_and_skips_the_late_reply() {
        // A "server" that reads nothing until we have given up on request 0.
        let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let mut client = UdpExchange::connect(
            server.local_addr().unwrap(),
            Duration::from_millis(100),
            &Shutdown::new(),
            0,
            echo_request,
        )
        .unwrap();
        assert_eq!(client.exchange(0).unwrap(), Outcome::Lost);
        // Now answer request 0 (late) and then request 1: the late reply must be skipped.
        let answerer = thread::spawn(move || {
            let mut buf = [0; 64];
            server.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            for _ in 0..2 {
                let (len, from) = server.recv_from(&mut buf).unwrap();
                server.send_to(&buf[..len], from).unwrap();
            }
        });
        client.timeout = Duration::from_secs(10);
        assert_eq!(client.exchange(1).unwrap(), Outcome::Correct);
        answerer.join().unwrap();
    }

    #[test]
    fn udp_exchange_stops_waiting_when_shutdown_is_requested() {
        let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
        let shutdown = Shutdown::new();
        let mut client = UdpExchange::connect(
            silent.local_addr().unwrap(),
            Duration::from_secs(3600),
            &shutdown,
            0,
            echo_request,
        )
        .unwrap();
        let stopper = {
            let shutdown = shutdown.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(50));
                shutdown.request();
            })
        };
        // Without the shutdown this would wait an hour.
        assert_eq!(client.exchange(0).unwrap(), Outcome::Lost);
        stopper.join().unwrap();
    }

    #[test]
    fn a_client_gives_up_after_five_losses_in_a_row() {
        let summary =
            run(&plan(1, 100), &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Lost)))).unwrap();
        assert_eq!((summary.requests, summary.lost, summary.failed_clients), (5, 5, 1));
        assert!(summary.first_error.unwrap().contains("5 replies in a row were lost"));
    }

    #[test]
    fn udp_exchange_reports_a_missing_server_as_an_error() {
        // Bind then drop: nothing listens on that port any more, and the kernel's "port
        // unreachable" reaches our connected socket as ConnectionRefused.
        let addr = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap();
        let mut client =
            UdpExchange::connect(addr, Duration::from_secs(10), &Shutdown::new(), 0, echo_request)
                .unwrap();
        let error = client.exchange(0).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }
}
