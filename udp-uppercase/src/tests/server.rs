//! The server: the uppercase reply, whole datagrams, Unicode and bytes that are not UTF-8,
//! many clients at once, its log, `--quiet`, the summary and stopping, a port in use.

use std::io;
use std::thread;
use std::time::Duration;

use clap::Parser;
use shared::log::Log;
use shared::testing::{udp_client, udp_exchange};
use shared::udp::{MAX_UDP_PAYLOAD, bind_udp};

use super::{ask, bind_server, start_server};
use crate::args::ServerArgs;

#[test]
fn replies_with_the_message_in_uppercase() {
    let running = start_server(&[]);
    assert_eq!(
        ask(running.addr, b"hello, world"),
        b"HELLO, WORLD",
        "the server should reply with the message in uppercase"
    );
    running.stop();
}

#[test]
fn uppercases_unicode_letters_not_just_ascii() {
    let running = start_server(&[]);
    assert_eq!(
        String::from_utf8(ask(running.addr, "straße".as_bytes())).unwrap(),
        "STRASSE",
        "the server should uppercase ß as SS"
    );
    assert_eq!(
        String::from_utf8(ask(running.addr, "café αβγ".as_bytes())).unwrap(),
        "CAFÉ ΑΒΓ",
        "the server should uppercase accented and Greek letters too"
    );
    running.stop();
}

#[test]
fn replaces_invalid_utf8_and_keeps_serving() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(
        String::from_utf8(udp_exchange(&socket, b"abc\xff\xfedef")).unwrap(),
        "ABC\u{FFFD}\u{FFFD}DEF",
        "the server should replace each invalid byte with U+FFFD and uppercase the rest"
    );
    assert_eq!(
        udp_exchange(&socket, b"still here"),
        b"STILL HERE",
        "after invalid UTF-8 the server should still answer"
    );
    running.stop();
}

#[test]
fn answers_an_empty_datagram_with_an_empty_reply() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    assert_eq!(udp_exchange(&socket, b""), b"", "an empty datagram should get an empty reply");
    assert_eq!(
        udp_exchange(&socket, b"next"),
        b"NEXT",
        "the empty datagram must not upset the server"
    );
    running.stop();
}

#[test]
fn returns_a_maximum_size_datagram_whole() {
    let running = start_server(&[]);
    let message = vec![b'a'; MAX_UDP_PAYLOAD];
    let reply = ask(running.addr, &message);
    assert_eq!(reply.len(), MAX_UDP_PAYLOAD, "the reply was cut: the server's buffer is too small");
    assert!(reply.iter().all(|&b| b == b'A'), "the reply is not all uppercase");
    running.stop();
}

#[test]
fn survives_a_reply_too_large_for_one_datagram() {
    // 'ɐ' is 2 bytes and its uppercase 'Ɐ' is 3: 30,000 of them make a legal 60,000-byte
    // datagram whose uppercase (90,000 bytes) no datagram can carry.
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    socket.send("ɐ".repeat(30_000).as_bytes()).unwrap();
    running.expect_log("could not reply");
    assert_eq!(udp_exchange(&socket, b"after"), b"AFTER", "the server must go on serving");
    let summary = running.stop();
    assert_eq!(
        summary.failed_replies, 1,
        "the summary should count the reply that could not be sent"
    );
}

#[test]
fn gives_each_of_several_concurrent_clients_its_own_reply() {
    let running = start_server(&["--quiet"]);
    let addr = running.addr;
    let clients: Vec<_> = (0..8)
        .map(|client| {
            thread::spawn(move || {
                let socket = udp_client(addr);
                for request in 0..25 {
                    let message = format!("client {client} request {request}");
                    let reply = udp_exchange(&socket, message.as_bytes());
                    assert_eq!(
                        String::from_utf8(reply).unwrap(),
                        message.to_uppercase(),
                        "client {client} should get its own request back in uppercase"
                    );
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client got a wrong reply or none");
    }
    let summary = running.stop();
    assert_eq!(summary.datagrams, 8 * 25, "the summary should count every client's datagrams");
}

#[test]
fn announces_that_it_is_ready_with_its_address() {
    let running = start_server(&[]);
    let ready = running.expect_log("The server is ready to receive.");
    assert!(
        ready.contains(&running.addr.to_string()),
        "the ready line should show the address: {ready}"
    );
    running.stop();
}

#[test]
fn logs_each_datagram_with_its_sender_and_reply() {
    let running = start_server(&[]);
    let socket = udp_client(running.addr);
    udp_exchange(&socket, b"log me");
    let sender = socket.local_addr().unwrap().port().to_string();
    let line = running.expect_log("'log me'");
    assert!(line.contains(&sender), "the line should name the sender's port {sender}: {line}");
    assert!(line.contains("'LOG ME'"), "the line should show the reply: {line}");
    running.stop();
}

#[test]
fn quiet_logs_no_datagrams_but_still_the_summary() {
    let running = start_server(&["--quiet"]);
    let log = running.log.clone();
    ask(running.addr, b"shh");
    running.stop();
    assert!(!log.text().contains("shh"), "--quiet should not log datagrams:\n{}", log.text());
    assert!(log.text().contains("Served 1 datagram."), "the summary is missing:\n{}", log.text());
}

#[test]
fn stops_within_a_second_on_shutdown_and_summarises() {
    let running = start_server(&[]);
    ask(running.addr, b"one");
    ask(running.addr, b"two");
    let log = running.log.clone();
    let (summary, took) = running.stop_timed();
    assert!(
        took < Duration::from_secs(1),
        "the server should stop within a second of the shutdown; it took {took:?}"
    );
    assert_eq!(summary.datagrams, 2, "the summary should count both datagrams");
    assert!(
        log.text().contains("Served 2 datagrams."),
        "the summary should say it served 2 datagrams; log:\n{}",
        log.text()
    );
}

#[test]
fn refuses_to_start_on_a_port_already_in_use() {
    let taken = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let args = ServerArgs::try_parse_from(["server", "--port", &port]).unwrap();
    let error = bind_server(&args, Log::capture(false).0).err().expect("bind should fail");
    assert_eq!(
        error.io_kind(),
        Some(io::ErrorKind::AddrInUse),
        "the server should fail because the address is in use"
    );
    assert!(
        error.to_string().starts_with(&format!("cannot bind 127.0.0.1:{port}: ")),
        "the error should name the address it could not bind: {error}"
    );
}
