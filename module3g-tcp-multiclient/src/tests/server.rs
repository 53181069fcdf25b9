//! The server's lesson: it echoes every line, counts lines by their `\n` however TCP cuts
//! them, logs what the notebook logs, serves clients at once, and stops cleanly.

use super::*;

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
    let address = args.address.resolve().unwrap();
    let error = Server::bind(address, args.config(), Log::capture(false).0)
        .err()
        .expect("bind should fail");
    assert!(
        error.to_string().starts_with(&format!("cannot bind 127.0.0.1:{port}: ")),
        "the error should name the address it could not bind: {error}"
    );
}
