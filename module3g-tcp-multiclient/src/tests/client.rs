//! The client: the notebook's hello lines, `--interactive`, and what it says when the server
//! is busy, missing, or silent.

use super::*;

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
    let outcome =
        crate::client::run(&args, &Shutdown::new(), Cursor::new("one\ntwo\n"), true, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert!(outcome.is_ok(), "at a terminal a missing server must not end the client: {outcome:?}");
    assert_eq!(
        out.matches("no server is listening").count(),
        3,
        "the start and each line should try to connect and say why it could not:\n{out}"
    );
}
