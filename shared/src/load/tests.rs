//! Tests of the load mode.

use std::io;
use std::net::SocketAddr;
use std::thread;
use std::time::{Duration, Instant};

use super::histogram::{bucket_of, highest_in_bucket};
use super::*;
use crate::error::Error;
use crate::shutdown::Shutdown;
use crate::udp::bind_udp;

#[test]
fn load_mode_is_off_unless_asked_for() {
    assert!(!LoadArgs::default().is_requested());
    assert!(LoadArgs { clients: Some(2), ..LoadArgs::default() }.is_requested());
    assert!(
        LoadArgs { duration: Some(Duration::from_secs(1)), ..LoadArgs::default() }.is_requested()
    );
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
        pictures: Default::default(),
    }
}

#[test]
fn the_runner_counts_each_outcome_of_each_client() {
    let rule = |n| {
        Ok([Outcome::Correct, Outcome::Correct, Outcome::Wrong, Outcome::Lost][(n % 4) as usize])
    };
    let summary = run(&plan(3, 8), &Shutdown::new(), |_| Ok(Scripted(rule))).unwrap();
    assert_eq!((summary.requests, summary.replies, summary.wrong, summary.lost), (24, 12, 6, 6));
    assert_eq!(summary.latency.count(), 12);
    assert_eq!(summary.fewest_replies, Some(4));
    assert!(summary.to_string().contains("(fewest replies to one client: 4)"), "{summary}");
    let error = summary.check().unwrap_err().to_string();
    assert!(
        error.starts_with("6 of 24 requests lost, 6 wrong (a lost reply:"),
        "the error should count the lost and wrong requests and say why replies get lost: {error}"
    );
}

#[test]
fn a_client_that_fails_stops_and_is_reported() {
    let rule = |n| {
        if n < 2 { Ok(Outcome::Correct) } else { Err(io::ErrorKind::ConnectionRefused.into()) }
    };
    let summary = run(&plan(2, 100), &Shutdown::new(), |_| Ok(Scripted(rule))).unwrap();
    assert_eq!((summary.requests, summary.failed_clients), (4, 2));
    assert!(summary.check().unwrap_err().to_string().starts_with("2 of 2 clients stopped early"));
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
    let summary = run(&plan, &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Correct)))).unwrap();
    assert!(summary.requests > 0);
    assert!(started.elapsed() < Duration::from_secs(30), "the run did not stop at its deadline");
    summary.check().unwrap();
}

#[test]
fn the_runner_stops_on_shutdown() {
    let shutdown = Shutdown::new();
    shutdown.request();
    let summary =
        run(&plan(4, 1_000_000), &shutdown, |_| Ok(Scripted(|_| Ok(Outcome::Correct)))).unwrap();
    assert_eq!(summary.requests, 0);
    assert!(summary.to_string().contains("(stopped by Ctrl-C)"), "{summary}");
    assert!(summary.check().unwrap_err().is_stopped(), "a stopped run ends as stopped, exit 130");
}

#[test]
fn the_summary_line_names_every_figure() {
    let summary =
        run(&plan(1, 3), &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Correct)))).unwrap();
    let line = summary.to_string();
    // (On a loaded machine starting the client thread can take long enough for the line to
    // say "1 client (connected in 0.2 s)", so the comma is not part of the check.)
    for part in [
        "1 client",
        "3 requests",
        "3 replies",
        "0 lost",
        "0 wrong",
        "requests/s",
        "p50",
        "p99",
        "max",
    ] {
        assert!(line.contains(part), "the summary line should name {part:?}: {line:?}");
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
    let mut client =
        UdpExchange::connect(server, Duration::from_secs(10), &Shutdown::new(), 0, echo_request)
            .unwrap();
    assert_eq!(client.exchange(0).unwrap(), Outcome::Correct);
    echo.join().unwrap();

    let (server, garble) = reply_server(1, |_| b"garbage".to_vec());
    let mut client =
        UdpExchange::connect(server, Duration::from_secs(10), &Shutdown::new(), 0, echo_request)
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
    assert_eq!(client.strays(), Strays { duplicates: 0, late: 1 }, "the late reply is counted");
}

#[test]
fn udp_exchange_counts_a_duplicated_reply_and_is_not_fooled_by_it() {
    // A "server" that answers each request twice, as a duplicating network would.
    let server = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    server.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let addr = server.local_addr().unwrap();
    let twice = thread::spawn(move || {
        let mut buf = [0; 64];
        for _ in 0..3 {
            let (len, from) = server.recv_from(&mut buf).unwrap();
            server.send_to(&buf[..len], from).unwrap();
            server.send_to(&buf[..len], from).unwrap();
        }
    });
    let mut client =
        UdpExchange::connect(addr, Duration::from_secs(10), &Shutdown::new(), 0, echo_request)
            .unwrap();
    for sequence in 0..3 {
        assert_eq!(client.exchange(sequence).unwrap(), Outcome::Correct, "request {sequence}");
    }
    twice.join().unwrap();
    assert_eq!(
        client.strays().duplicates,
        2,
        "the second copies of replies 0 and 1 arrive while waiting for the next: duplicates"
    );
}

#[test]
fn the_summary_shows_duplicated_and_late_replies_when_there_are_some() {
    let mut summary = LoadSummary { clients: 1, ..LoadSummary::default() };
    assert!(!summary.to_string().contains("duplicated"), "{summary}");
    summary.strays = Strays { duplicates: 3, late: 2 };
    assert!(summary.to_string().contains("(3 duplicated, 2 late)"), "{summary}");
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
fn a_run_ends_at_its_duration_even_while_replies_are_awaited() {
    // A server that never answers, and a --timeout far longer than the --duration: the
    // run must end at the duration, counting the awaited replies as still waiting.
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let plan = LoadPlan {
        clients: 3,
        duration: Duration::from_millis(500),
        count: None,
        timeout: Duration::from_secs(60),
        pictures: Default::default(),
    };
    let mut out = Vec::new();
    let started = Instant::now();
    let outcome =
        run_udp(&plan, silent.local_addr().unwrap(), &Shutdown::new(), echo_request, &mut out);
    let took = started.elapsed();
    let line = String::from_utf8(out).unwrap();
    assert!(took < Duration::from_secs(20), "the run should end at its 0.5 s, not after {took:?}");
    assert!(
        line.contains("0 requests, 0 replies, 0 lost")
            && line.contains("(3 still waiting at the end)"),
        "the awaited replies are neither lost nor answered: {line}"
    );
    assert!(!line.contains("Ctrl-C"), "the run was not stopped by Ctrl-C: {line}");
    let error = outcome.unwrap_err().to_string();
    assert!(
        error.starts_with("no reply came before the run ended (3 requests still waiting)"),
        "a run without a single reply is an error that says why: {error}"
    );
}

#[test]
fn with_exchanges_that_do_not_see_the_stop_a_loss_after_the_deadline_is_still_a_loss() {
    // The chat's load mode: its exchanges wait their whole timeout, whatever the deadline.
    let plan = LoadPlan { count: None, duration: Duration::from_millis(300), ..plan(2, 0) };
    let summary = run(&plan, &Shutdown::new(), |_| {
        Ok(Scripted(|_| {
            thread::sleep(Duration::from_millis(500));
            Ok(Outcome::Lost)
        }))
    })
    .unwrap();
    assert_eq!(
        (summary.requests, summary.lost, summary.unanswered),
        (2, 2, 0),
        "a reply that did not come within the timeout is lost: {summary}"
    );
}

#[test]
fn an_error_after_the_run_ends_is_still_an_error() {
    let plan = LoadPlan { count: None, duration: Duration::from_millis(100), ..plan(1, 0) };
    let summary = run_until_stopped(&plan, &Shutdown::new(), |_, _| {
        Ok(Scripted(|_| {
            thread::sleep(Duration::from_millis(300));
            Err(io::Error::from(io::ErrorKind::ConnectionRefused))
        }))
    })
    .unwrap();
    assert_eq!(summary.failed_clients, 1, "a refused connection is a failure: {summary}");
    assert_eq!(summary.unanswered, 0, "and not a wait cut short: {summary}");
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
    // unreachable" reaches our connected socket: as ConnectionRefused on Linux and macOS,
    // as ConnectionReset (WSAECONNRESET) on Windows.
    let addr = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap().local_addr().unwrap();
    let mut client =
        UdpExchange::connect(addr, Duration::from_secs(10), &Shutdown::new(), 0, echo_request)
            .unwrap();
    let error = client.exchange(0).unwrap_err();
    assert!(
        crate::io_errors::is_port_unreachable(&error),
        "expected the port-unreachable error, got {:?}: {error}",
        error.kind()
    );
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("shared-load-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn csv_and_chart_hold_what_the_run_counted() {
    let dir = scratch("pictures");
    let (csv, chart) = (dir.join("run.csv"), dir.join("run.svg"));
    let rule = |n| {
        thread::sleep(Duration::from_millis(1));
        Ok([Outcome::Correct, Outcome::Correct, Outcome::Wrong, Outcome::Lost][(n % 4) as usize])
    };
    let plan = LoadPlan {
        pictures: Pictures { csv: Some(csv.clone()), chart: Some(chart.clone()) },
        ..plan(3, 200)
    };
    let summary = run(&plan, &Shutdown::new(), |_| Ok(Scripted(rule))).unwrap();

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("start_s,requests,replies,lost,wrong,latency_mean_ms,latency_max_ms"),
        "the CSV's header"
    );
    let mut sums = [0u64; 4];
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 7, "seven columns: {line}");
        for (sum, field) in sums.iter_mut().zip(&fields[1..5]) {
            *sum += field.parse::<u64>().unwrap();
        }
    }
    assert_eq!(
        sums,
        [summary.requests, summary.replies, summary.lost, summary.wrong],
        "the CSV's columns add up to the summary: {summary}"
    );
    assert_eq!(summary.requests, 600, "3 clients, 200 requests each: {summary}");

    let svg = std::fs::read_to_string(&chart).unwrap();
    let document = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("not XML: {e}"));
    let texts: String = document.descendants().filter_map(|n| n.text()).collect();
    for needle in ["Latency of 300 replies", "latency (ms)", "per second", "lost or wrong"] {
        assert!(texts.contains(needle), "the chart says {needle:?}: {texts}");
    }
    let bars = document.descendants().filter(|n| n.has_tag_name("rect")).count();
    assert!(bars > 2, "the latency histogram has bars: {bars} rectangles");
    assert!(!dir.join("run.svg.part").exists() && !dir.join("run.csv.part").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unwritable_csv_is_a_one_line_error() {
    let dir = scratch("unwritable");
    let plan = LoadPlan {
        pictures: Pictures { csv: Some(dir.join("missing").join("x.csv")), chart: None },
        ..plan(1, 3)
    };
    let error = run(&plan, &Shutdown::new(), |_| Ok(Scripted(|_| Ok(Outcome::Correct))))
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("cannot write ") && error.contains("x.csv.part"), "{error}");
    assert!(!error.contains('\n'), "one line: {error}");
    let _ = std::fs::remove_dir_all(dir);
}
