//! The grading suite for module 3g.
//!
//! Every test starts the real server in this process on a free port (`--port 0`) and talks
//! to it over real loopback TCP connections. Every read has a deadline, so an unfinished
//! server fails a test instead of hanging the run.

use std::io::{self, BufRead, BufReader, Cursor, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::error::Result;
use shared::log::Log;
use shared::shutdown::Shutdown;
use shared::testing::{TestServer, client_deadline, patience, returns_within};

use crate::client::{self, ClientArgs};
use crate::server::{Server, ServerArgs, Summary};

fn start_server(extra_args: &[&str]) -> TestServer<Summary> {
    let args =
        ServerArgs::try_parse_from(["server", "--port", "0"].iter().chain(extra_args)).unwrap();
    let (log, captured) = Log::capture(args.output.quiet);
    let server = Server::bind(&args, log).unwrap();
    TestServer::start(server.local_addr().unwrap(), captured, move |shutdown| server.run(shutdown))
}

/// A client connection: write to `stream`, read lines from `lines`.
struct Client {
    stream: TcpStream,
    lines: BufReader<TcpStream>,
}

impl Client {
    fn connect(server: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&server, patience()).unwrap();
        stream.set_read_timeout(Some(patience())).unwrap();
        stream.set_nodelay(true).unwrap();
        let lines = BufReader::new(stream.try_clone().unwrap());
        Client { stream, lines }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next line from the server, without its `\n`; `None` at end of stream.
    fn read_line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.lines.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(line.trim_end_matches('\n').to_string()),
            Err(e) => panic!("no line from the server within {:?}: {e}", patience()),
        }
    }

    fn echo(&mut self, text: &str) -> String {
        self.send(format!("{text}\n").as_bytes());
        self.read_line().unwrap_or_else(|| {
            panic!("the server closed the connection instead of echoing {text:?}")
        })
    }

    /// Reads until the server closes the connection; true if it did (rather than reset).
    fn wait_for_close(&mut self) -> bool {
        let mut rest = Vec::new();
        self.lines.read_to_end(&mut rest).is_ok()
    }
}

/// What a client that does not return most likely lacks.
const NO_READ_TIMEOUT: &str = "a client that waits for a reply must bound the wait with a read timeout \
     (`set_read_timeout(Some(timeout))` before it receives), or one lost reply hangs it for ever";

fn run_client(args: &[&str], input: &str) -> (Result<()>, String) {
    let args = ClientArgs::try_parse_from(["client"].iter().chain(args)).unwrap();
    let input = input.to_string();
    // A client that forgot its read timeout would wait for ever: the test gives up on it.
    let echo = &args.echo;
    let deadline = client_deadline(echo.timeout, echo.count, echo.interval, args.load.duration);
    returns_within(deadline, "the client", NO_READ_TIMEOUT, move || {
        let mut out = Vec::new();
        let outcome = client::run(&args, &Shutdown::new(), Cursor::new(input), false, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    })
}

#[test]
fn echoes_each_line() {
    let running = start_server(&[]);
    let mut client = Client::connect(running.addr);
    assert_eq!(
        client.echo("Hello, world (1)"),
        "Hello, world (1)",
        "the server should echo the line"
    );
    assert_eq!(
        client.echo("second line"),
        "second line",
        "the server should echo the next line too"
    );
    running.stop();
}

#[test]
fn counts_lines_per_connection() {
    let running = start_server(&[]);
    let mut alice = Client::connect(running.addr);
    let mut bob = Client::connect(running.addr);
    for i in 0..3 {
        alice.echo(&format!("alice {i}"));
    }
    bob.echo("bob 0");
    let alice_port = alice.stream.local_addr().unwrap().to_string();
    drop(alice);
    let closed = running.expect_log(&format!("connection from {alice_port} closed after"));
    assert!(
        closed.ends_with("closed after 3 lines"),
        "the log should say alice's connection closed after 3 lines: {closed}"
    );
    drop(bob);
    running.expect_log("closed after 1 line");
    let summary = running.stop();
    assert_eq!(
        (summary.connections, summary.lines),
        (2, 4),
        "the summary should count 2 connections and 4 lines"
    );
}

#[test]
fn a_line_split_across_packets_is_one_line() {
    let running = start_server(&[]);
    let mut client = Client::connect(running.addr);
    client.send(b"Hello, ");
    thread::sleep(Duration::from_millis(50)); // let the first half travel on its own
    client.send(b"world\n");
    assert_eq!(
        client.read_line().as_deref(),
        Some("Hello, world"),
        "a line sent in two pieces should come back as one line"
    );
    running.expect_log("data: b'Hello, ', lines so far: 0");
    running.expect_log(r"data: b'world\n', lines so far: 1");
    drop(client);
    running.expect_log("closed after 1 line");
    running.stop();
}

#[test]
fn lines_joined_in_one_packet_are_separate_lines() {
    let running = start_server(&[]);
    let mut client = Client::connect(running.addr);
    client.send(b"one\ntwo\nthree\n");
    let echoes: Vec<_> = (0..3).map(|_| client.read_line().unwrap()).collect();
    assert_eq!(
        echoes,
        ["one", "two", "three"],
        "three lines in one packet should come back as three lines"
    );
    drop(client);
    running.expect_log("closed after 3 lines");
    running.stop();
}

#[test]
fn an_unterminated_last_line_is_still_echoed_and_counted() {
    let running = start_server(&[]);
    let mut client = Client::connect(running.addr);
    client.send(b"no newline at the end");
    client.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(
        client.read_line().as_deref(),
        Some("no newline at the end"),
        "a last line without a newline should still be echoed"
    );
    running.expect_log("closed after 1 line");
    running.stop();
}

#[test]
fn logs_like_the_notebook() {
    let running = start_server(&[]);
    running.expect_log("Main thread waiting for connections");
    let mut client = Client::connect(running.addr);
    client.echo("Hello, world (27556)");
    let peer = client.stream.local_addr().unwrap();
    let spawning = running.expect_log(&format!("connection from {peer}, spawning echo thread "));
    let thread = spawning.rsplit(' ').next().unwrap().to_string();
    let received = running.expect_log(r"data: b'Hello, world (27556)\n', lines so far: 1");
    assert_eq!(
        received,
        format!(
            "{thread}: received data from {peer}\n  data: b'Hello, world (27556)\\n', lines so far: 1"
        ),
        "the log should name the thread, the sender, the data and the line count like the notebook"
    );
    drop(client);
    running.expect_log(&format!(
        "{thread}: end of data, stopping: connection from {peer} closed after 1 line"
    ));
    running.stop();
}

#[test]
fn several_concurrent_clients_are_independent() {
    let running = start_server(&["--quiet"]);
    let addr = running.addr;
    let clients: Vec<_> = (0..8)
        .map(|id| {
            thread::spawn(move || {
                let mut client = Client::connect(addr);
                for line in 0..25 {
                    let text = format!("client {id} line {line}");
                    assert_eq!(
                        client.echo(&text),
                        text,
                        "client {id} should get its own line back"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client got a wrong echo or none");
    }
    let summary = running.stop();
    assert_eq!(
        (summary.connections, summary.lines),
        (8, 200),
        "the summary should count 8 connections and 200 lines"
    );
}

#[test]
fn a_reset_client_does_not_disturb_the_others() {
    let running = start_server(&[]);
    let mut steady = Client::connect(running.addr);
    steady.echo("before");
    // Half a line, then an abrupt reset (SO_LINGER 0 makes close send RST, not FIN).
    let mut rude = Client::connect(running.addr);
    let rude_addr = rude.stream.local_addr().unwrap();
    rude.send(b"half a li");
    socket2::SockRef::from(&rude.stream).set_linger(Some(Duration::ZERO)).unwrap();
    drop(rude);
    // The half line counts as a line only if the close came as a FIN (Wine sometimes sends
    // one despite SO_LINGER 0); either way the rude client's thread ends and says so.
    running.expect_log(&format!("connection from {rude_addr} closed after"));
    assert_eq!(
        steady.echo("after"),
        "after",
        "a reset client should not disturb the server's other clients"
    );
    let summary = running.stop();
    assert_eq!(summary.connections, 2, "the summary should count both connections");
}

#[test]
fn a_client_that_never_reads_does_not_block_the_others() {
    let running = start_server(&["--quiet"]);
    // This client sends lines but never reads the echoes: the server's write to it blocks
    // once the socket buffers are full. Only its own thread may be stuck.
    let mut hog = Client::connect(running.addr);
    hog.stream.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    // Small buffers on our side fill sooner.
    socket2::SockRef::from(&hog.stream).set_send_buffer_size(16 * 1024).unwrap();
    socket2::SockRef::from(&hog.stream).set_recv_buffer_size(16 * 1024).unwrap();
    let line = [b'x'; 1000];
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines.extend_from_slice(&line);
        lines.push(b'\n');
    }
    // Keep writing until our own send buffer is full too (the write times out).
    for _ in 0..1000 {
        if hog.stream.write_all(&lines).is_err() {
            break;
        }
    }
    let mut other = Client::connect(running.addr);
    assert_eq!(
        other.echo("am I served?"),
        "am I served?",
        "a client that never reads should not keep the server from serving others"
    );
    // And shutdown still works with the hog's thread stuck in a write.
    running.stop();
}

#[test]
fn a_client_that_never_reads_is_disconnected_after_the_idle_timeout() {
    let running = start_server(&["--idle-timeout", "1"]);
    let hog = Client::connect(running.addr);
    socket2::SockRef::from(&hog.stream).set_recv_buffer_size(16 * 1024).unwrap();
    hog.stream.set_write_timeout(Some(Duration::from_millis(200))).unwrap();
    let block = vec![b'x'; 64 * 1024];
    // Write until the buffers on both sides are full and our own write times out.
    let mut stream = &hog.stream;
    for _ in 0..1000 {
        if stream.write_all(&block).is_err() {
            break;
        }
    }
    let summary = running.log.wait_for("idle too long", patience() + Duration::from_secs(2));
    assert!(
        summary.is_some(),
        "a client that never reads its echoes should be dropped after --idle-timeout:\n{}",
        running.log.text()
    );
    assert_eq!(running.stop().idle, 1, "the summary should count the dropped client");
}

#[test]
fn a_connection_over_max_clients_is_told_the_server_is_busy() {
    let running = start_server(&["--max-clients", "2", "--max-per-ip", "2"]);
    let mut first = Client::connect(running.addr);
    let mut second = Client::connect(running.addr);
    first.echo("1");
    second.echo("2"); // both are registered now
    let mut third = Client::connect(running.addr);
    let reply = third.read_line();
    assert_eq!(
        reply.as_deref(),
        Some("error: server busy (2 clients connected); try again later"),
        "a connection over --max-clients should be told the server is busy"
    );
    assert!(third.wait_for_close(), "the busy connection should be closed");
    assert_eq!(
        first.echo("still fine"),
        "still fine",
        "the clients already connected should still be served"
    );
    drop(first);
    running.expect_log("closed after 2 lines");
    let mut fourth = Client::connect(running.addr);
    assert_eq!(
        fourth.echo("room again"),
        "room again",
        "once a place is free a new client should be served"
    );
    assert_eq!(
        running.stop().refused_busy,
        1,
        "the summary should count the one refused connection"
    );
}

#[test]
fn the_course_client_gets_its_echoes_without_newlines() {
    // TCPSimpleClient.py: connect, then five times sendall(b'Hello, world (PID)') and
    // recv(1024). No newline: the server must echo what it gets, as it gets it.
    let running = start_server(&[]);
    let mut stream = TcpStream::connect_timeout(&running.addr, patience()).unwrap();
    stream.set_read_timeout(Some(patience())).unwrap();
    let message = b"Hello, world (27556)";
    for i in 1..=5 {
        stream.write_all(message).unwrap();
        let mut echo = Vec::new();
        let mut buffer = [0u8; 1024];
        while echo.len() < message.len() {
            let len = stream.read(&mut buffer).unwrap_or_else(|e| {
                panic!("echo {i} of 5: expected {message:?} back, got {echo:?} and then {e}")
            });
            assert_ne!(len, 0, "echo {i} of 5: the server closed the connection");
            echo.extend_from_slice(&buffer[..len]);
        }
        assert_eq!(echo, message, "echo {i} of 5 should be the same bytes");
    }
    drop(stream);
    // Five messages without a newline are one line (and the notebook would say five).
    running.expect_log("end of data, stopping: connection from");
    running.expect_log("closed after 1 line");
    running.stop();
}

#[test]
fn a_long_line_is_echoed_whole_as_it_arrives() {
    let running = start_server(&[]);
    let mut client = Client::connect(running.addr);
    let long = "y".repeat(1_000_000);
    let writer = {
        let mut stream = client.stream.try_clone().unwrap();
        let line = format!("{long}\n");
        thread::spawn(move || stream.write_all(line.as_bytes()))
    };
    assert_eq!(client.read_line().map(|line| line.len()), Some(1_000_000), "the echo was cut");
    writer.join().unwrap().unwrap();
    assert_eq!(client.echo("short"), "short", "after a long line the server should still echo");
    drop(client);
    running.expect_log("closed after 2 lines");
    running.stop();
}

#[test]
fn a_client_idle_past_the_idle_timeout_is_disconnected() {
    let running = start_server(&["--idle-timeout", "0.5"]);
    let mut idle = Client::connect(running.addr);
    idle.echo("hello, then silence");
    assert!(idle.wait_for_close(), "the idle connection should be closed by the server");
    running.expect_log("idle too long: connection from");
    let mut other = Client::connect(running.addr);
    assert_eq!(
        other.echo("still serving"),
        "still serving",
        "after closing the idle connection the server should still serve others"
    );
    assert_eq!(running.stop().idle, 1, "the summary should count the idle connection");
}

#[test]
fn stops_within_a_second_with_clients_connected() {
    let running = start_server(&[]);
    let mut clients: Vec<Client> = (0..50).map(|_| Client::connect(running.addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.echo(&format!("idle {i}"));
    }
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert!(
        took < Duration::from_secs(1),
        "the server should stop within a second of the shutdown; it took {took:?}"
    );
    assert_eq!(
        (summary.connections, summary.lines),
        (50, 50),
        "the summary should count 50 connections and 50 lines"
    );
    assert!(
        log.text().contains("Served 50 connections, echoed 50 lines."),
        "the log should end with the summary:\n{}",
        log.text()
    );
    assert!(
        log.text().contains("server stopping: connection from"),
        "the log should say the shutdown closed the open connections:\n{}",
        log.text()
    );
    for client in &mut clients {
        assert!(client.wait_for_close(), "every connection must be closed by the shutdown");
    }
}

#[test]
fn refuses_to_start_on_a_port_already_in_use() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let args = ServerArgs::try_parse_from(["server", "--port", &port]).unwrap();
    let error = Server::bind(&args, Log::capture(false).0).err().expect("bind should fail");
    assert!(
        error.to_string().starts_with(&format!("cannot bind 127.0.0.1:{port}: ")),
        "the error should name the address it could not bind: {error}"
    );
}

#[test]
fn defaults_follow_the_notebook_and_the_limits() {
    let args = ServerArgs::try_parse_from(["server"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the server should listen on 127.0.0.1:12354 by default"
    );
    assert_eq!(
        (args.max_clients, args.per_host_limit(), args.idle_timeout, args.backlog),
        (10_000, 2_500, Duration::from_secs(60), 1024),
        "the defaults should be 10,000 clients, a quarter of them per host, a 60 s idle timeout and a backlog of 1024"
    );
    let args = ClientArgs::try_parse_from(["client"]).unwrap();
    assert_eq!(
        args.address.resolve().unwrap(),
        "127.0.0.1:12354".parse().unwrap(),
        "the client should connect to 127.0.0.1:12354 by default"
    );
}

#[test]
fn client_sends_hello_count_times_and_checks_each_echo() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--count", "3", "--interval", "0"], "");
    outcome.unwrap();
    let hello = format!("Received b'Hello, world ({})'", std::process::id());
    assert_eq!(
        out.matches(&hello).count(),
        3,
        "the client should print each of the 3 echoes of its hello: {out}"
    );
    assert!(
        out.ends_with("3 of 3 echoes came back.\n"),
        "the client should end with its tally: {out}"
    );
    running.expect_log("closed after 3 lines");
    running.stop();
}

#[test]
fn client_interactive_sends_each_input_line() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--port", &port, "--interactive"], "first\nsecond\n");
    outcome.unwrap();
    assert_eq!(out, "first\nsecond\n", "the client should print the echo of each input line");
    assert_eq!(running.stop().lines, 2, "the server should count one line per input line");
}

#[test]
fn client_reports_a_busy_server() {
    let running = start_server(&["--max-clients", "1"]);
    let mut holder = Client::connect(running.addr);
    holder.echo("I was here first");
    let port = running.addr.port().to_string();
    let (outcome, _) = run_client(&["--port", &port, "--count", "1"], "");
    let error = outcome.expect_err("the server is full").to_string();
    assert!(
        error.contains("the server says: server busy"),
        "the client should pass on that the server is busy: {error}"
    );
    running.stop();
}

#[test]
fn client_says_so_when_no_server_is_listening() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let (outcome, _) = run_client(&["--port", &port, "--count", "1"], "");
    let error = outcome.expect_err("there is no server").to_string();
    assert!(
        error.contains("no server is listening at 127.0.0.1:"),
        "the client should say no server is listening: {error}"
    );
}

/// A server that accepts connections and never answers: its clients wait for echoes.
fn silent_server() -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let holder = thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let mut held = Vec::new();
        let until = std::time::Instant::now() + Duration::from_secs(20);
        while std::time::Instant::now() < until {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (addr, holder)
}

/// Runs the client with `args` against a silent server, and requests its stop (as Ctrl-C
/// does) once it is waiting; returns how it ended, what it printed and how long the stop
/// took.
fn stop_a_client_waiting_for_an_echo(args: &[&str]) -> (Result<()>, String, Duration) {
    let (addr, _holder) = silent_server();
    let port = addr.port().to_string();
    let args: Vec<&str> = ["client", "--port", &port, "--timeout", "20"]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    let args = ClientArgs::try_parse_from(args).unwrap();
    let shutdown = Shutdown::new();
    let stopper = shutdown.clone();
    let client = thread::spawn(move || {
        let mut out = Vec::new();
        let outcome = client::run(&args, &stopper, Cursor::new(""), false, &mut out);
        (outcome, String::from_utf8(out).unwrap())
    });
    thread::sleep(Duration::from_millis(500));
    let asked = std::time::Instant::now();
    shutdown.request();
    let (outcome, out) = client.join().unwrap();
    (outcome, out, asked.elapsed())
}

#[test]
fn client_stopped_while_waiting_for_an_echo_still_prints_its_tally() {
    let (outcome, out, took) = stop_a_client_waiting_for_an_echo(&["--count", "5"]);
    assert!(
        outcome.as_ref().is_err_and(shared::Error::is_stopped),
        "a client stopped by Ctrl-C should end as stopped (exit 130): {outcome:?}"
    );
    assert_eq!(
        out, "0 of 5 echoes came back (stopped after sending 1).\n",
        "the client should print its tally"
    );
    assert!(
        took < Duration::from_secs(5),
        "the stop should not wait for the 20 s --timeout: it took {took:?}"
    );
}

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

/// A connection from `ip` (another loopback address: the "attacker" of a test).
#[cfg(not(target_os = "macos"))] // used only where a second loopback address exists
fn connect_from(ip: &str, server: SocketAddr) -> Client {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::new(ip.parse().unwrap(), 0).into()).unwrap();
    socket.connect_timeout(&server.into(), patience()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(patience())).unwrap();
    let lines = BufReader::new(stream.try_clone().unwrap());
    Client { stream, lines }
}

#[test]
// macOS answers only 127.0.0.1 on loopback (other 127.x addresses need an alias), so the
// test cannot play a second address there.
#[cfg(not(target_os = "macos"))]
fn one_address_cannot_take_every_place() {
    // Slowloris: one address opens connections and keeps them idle (a byte now and then
    // would defeat any idle timeout). --max-per-ip keeps it from taking every place.
    let running = start_server(&["--max-per-ip", "3", "--max-clients", "10"]);
    let mut hogs: Vec<Client> = (0..3).map(|_| connect_from("127.0.0.2", running.addr)).collect();
    for hog in &mut hogs {
        assert_eq!(hog.echo("x"), "x", "the first three connections from one address are served");
    }
    let mut fourth = connect_from("127.0.0.2", running.addr);
    assert_eq!(
        fourth.read_line().as_deref(),
        Some("error: too many connections from your address (3 connections); try again later"),
        "a fourth connection from the same address should be refused, saying why"
    );
    let mut someone_else = Client::connect(running.addr);
    assert_eq!(
        someone_else.echo("still room for me"),
        "still room for me",
        "another address should still be served while one is at --max-per-ip"
    );
    running.expect_log("refused: 3 connections from 127.0.0.2 already");
    drop(hogs);
    let closed =
        |log: &str| log.matches("end of data, stopping: connection from 127.0.0.2").count();
    let deadline = std::time::Instant::now() + patience();
    while closed(&running.log.text()) < 3 && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    let mut again = connect_from("127.0.0.2", running.addr);
    assert_eq!(
        again.echo("back"),
        "back",
        "once its connections close, the address may connect again"
    );
    assert_eq!(
        running.stop().refused_busy,
        1,
        "the summary should count the one refused connection"
    );
}

#[test]
fn version_names_the_module() {
    shared::testing::assert_version_names_the_module::<ServerArgs, ClientArgs>(
        "module3g-tcp-multiclient",
    );
}

#[test]
fn interactive_at_a_terminal_says_no_server_is_listening_and_tries_again() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let args = ClientArgs::try_parse_from([
        "client",
        "--port",
        &port.to_string(),
        "--interactive",
        "--timeout",
        "1",
    ])
    .unwrap();
    let mut out = Vec::new();
    let outcome = client::run(&args, &Shutdown::new(), Cursor::new("one\ntwo\n"), true, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(outcome.is_ok(), "at a terminal a missing server must not end the client: {outcome:?}");
    assert_eq!(
        out.matches("no server is listening").count(),
        3,
        "the start and each line should try to connect and say why it could not:\n{out}"
    );
}

// Issue 18, row 6: limits per host, a minimum pace, bounded socket buffers.

/// Several connections from 127.0.0.2 (another loopback address: the "attacker").
#[cfg(not(target_os = "macos"))] // macOS answers only 127.0.0.1 on loopback
#[test]
fn by_default_one_host_gets_a_quarter_of_the_places() {
    let running = start_server(&["--max-clients", "8"]);
    let mut hogs: Vec<Client> = (0..2).map(|_| connect_from("127.0.0.2", running.addr)).collect();
    for hog in &mut hogs {
        assert_eq!(hog.echo("x"), "x", "a host's first two connections (8 / 4) are served");
    }
    let mut third = connect_from("127.0.0.2", running.addr);
    assert_eq!(
        third.read_line().as_deref(),
        Some("error: too many connections from your address (2 connections); try again later"),
        "with --max-clients 8 and no --max-per-ip, one host may hold 2 places, not 8"
    );
    let mut other_host = connect_from("127.0.0.3", running.addr);
    assert_eq!(other_host.echo("mine"), "mine", "another host is still served");
    running.stop();
}

/// Writes one byte every `every` until the server closes the connection; how long that took.
fn drip_until_closed(client: &mut Client, every: Duration, give_up: Duration) -> Option<Duration> {
    let start = std::time::Instant::now();
    client.stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    let mut buffer = [0u8; 64];
    while start.elapsed() < give_up {
        if client.stream.write_all(b"x").is_err() {
            return Some(start.elapsed()); // reset: closed
        }
        thread::sleep(every);
        match client.stream.read(&mut buffer) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

#[test]
fn a_slow_drip_is_disconnected_though_it_is_never_idle() {
    // One byte every 200 ms, no newline: never idle for --idle-timeout, but a line that
    // takes for ever. With --line-timeout 1 and 16 bytes a second earning a second each,
    // the deadline comes after about 1.3 s.
    let running = start_server(&["--line-timeout", "1", "--min-rate", "16"]);
    let mut dripper = Client::connect(running.addr);
    let mut chatter = Client::connect(running.addr);
    let chatting = thread::spawn(move || {
        // Whole lines at the same slow pace are a person typing: they stay.
        for i in 0..15 {
            assert_eq!(chatter.echo(&format!("line {i}")), format!("line {i}"));
            thread::sleep(Duration::from_millis(200));
        }
    });
    let closed = drip_until_closed(&mut dripper, Duration::from_millis(200), patience() * 4);
    assert!(closed.is_some(), "a drip of a byte every 200 ms should be disconnected");
    chatting.join().expect("whole lines at the same pace should all be echoed");
    running.expect_log("too slow");
    let summary = running.stop();
    assert_eq!(summary.too_slow, 1, "one connection closed as too slow: {summary:?}");
    assert_eq!(summary.idle, 0, "none for being idle: {summary:?}");
}

/// Linux: the kernel grows a socket's buffers to megabytes unless they are set (its
/// autotuning), and counts what they hold; the other platforms size them differently.
#[cfg(target_os = "linux")]
#[test]
fn a_client_that_sends_and_never_reads_is_held_to_small_buffers_then_dropped() {
    // --min-rate 1000000: an echo must be read within --line-timeout (1 s), so the drop
    // comes quickly; the buffers are the default 64 KiB each way.
    let running = start_server(&["--line-timeout", "1", "--min-rate", "1000000"]);
    let hog = Client::connect(running.addr);
    let sock = socket2::SockRef::from(&hog.stream);
    sock.set_send_buffer_size(4096).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    hog.stream.set_nonblocking(true).unwrap();
    // Write until nothing more is taken for half a second: what the kernels (ours and the
    // server's) hold for this connection.
    let block = vec![b'x'; 16 * 1024];
    let (mut taken, mut last_progress) = (0usize, std::time::Instant::now());
    let mut stream = &hog.stream;
    while last_progress.elapsed() < Duration::from_millis(500) && taken < 64 << 20 {
        match stream.write(&block) {
            Ok(n) => {
                taken += n;
                last_progress = std::time::Instant::now();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break, // the server already dropped us
        }
    }
    assert!(
        taken < 1 << 20,
        "a client that never reads should get at most ~0.5 MiB into the buffers, got {taken} bytes"
    );
    let dropped = running.log.wait_for("too slow", patience() + Duration::from_secs(2));
    assert!(dropped.is_some(), "the client that never reads should be dropped as too slow");
    running.stop();
}
