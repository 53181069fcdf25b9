//! How many places there are: `--max-clients` in all, `--max-per-ip` for one host (by
//! default a quarter of them); one connection more is told why and closed.

use super::*;

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
