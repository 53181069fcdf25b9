//! The seed's broadcast mode: it reaches every listener on the port, never relays a relay
//! (no storm, even with two servers), and its server's socket cannot be shared by another
//! program with `SO_REUSEADDR`. Loopback broadcast is Linux's: most of these run there only.

use super::*;

#[test]
// Loopback broadcast (127.255.255.255 reaching sockets on 0.0.0.0) is Linux's: macOS and
// Windows do not broadcast on loopback (see the README).
#[cfg(target_os = "linux")]
fn broadcast_mode_reaches_three_clients_on_one_port() {
    // The server binds a free port first (port 0); three listeners then share that port
    // on 0.0.0.0, as the seed's clients share theirs. Only the loopback broadcast address
    // is used.
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    let port = running.addr.port();
    let listeners: Vec<UdpSocket> = (0..3)
        .map(|_| {
            let socket =
                crate::port_sharing::bind_shared_port((Ipv4Addr::UNSPECIFIED, port).into())
                    .unwrap();
            socket.set_read_timeout(Some(patience())).unwrap();
            socket
        })
        .collect();
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"alice: hello, everyone", running.addr).unwrap();
    for (i, listener) in listeners.iter().enumerate() {
        let mut buffer = [0u8; 256];
        let (len, _) = listener
            .recv_from(&mut buffer)
            .unwrap_or_else(|e| panic!("listener {i} got nothing: {e}"));
        assert_eq!(
            &buffer[..len],
            b"RELAY alice: hello, everyone",
            "listener {i} should get the line, relayed by the server"
        );
    }
    assert_eq!(running.stop().messages, 1, "the server should count one line relayed");
}

#[test]
fn broadcast_mode_does_not_relay_its_own_broadcasts() {
    // Listening on 0.0.0.0, the server hears its own broadcasts; it must not relay them again.
    // (No listener shares the port here: with SO_REUSEPORT, a listener on 0.0.0.0 could be
    // handed the datagram meant for the server, one more flaw of the seed's design.)
    let running = start_server(&["--host", "0.0.0.0", "--broadcast", "127.255.255.255"]);
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"bob: once", (Ipv4Addr::LOCALHOST, running.addr.port())).unwrap();
    running.expect_log("bob: once");
    thread::sleep(Duration::from_millis(300)); // a storm would relay thousands by now
    assert_eq!(running.stop().messages, 1, "the server relayed its own broadcast");
}

#[cfg(target_os = "linux")] // loopback broadcast reaching 0.0.0.0 sockets: Linux (see README)
#[test]
fn two_broadcast_servers_on_one_port_do_not_storm() {
    // Both listen on 0.0.0.0 at the same port, so each hears the other's broadcasts.
    let first = start_server(&["--host", "0.0.0.0", "--broadcast", "127.255.255.255"]);
    let port = first.addr.port().to_string();
    let second =
        start_server(&["--host", "0.0.0.0", "--port", &port, "--broadcast", "127.255.255.255"]);
    let sender = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    sender.send_to(b"bob: once", (Ipv4Addr::LOCALHOST, first.addr.port())).unwrap();
    let deadline = Instant::now() + patience();
    while !(first.log.text().contains("bob: once") || second.log.text().contains("bob: once")) {
        assert!(Instant::now() < deadline, "neither server relayed the line");
        thread::sleep(Duration::from_millis(10));
    }
    thread::sleep(Duration::from_millis(500)); // a storm would relay thousands by now
    let (a, b) = (first.stop(), second.stop());
    assert_eq!(a.messages + b.messages, 1, "one line, one relay: {a:?} {b:?}");
    assert!(a.ignored + b.ignored >= 1, "each server heard a relay and ignored it: {a:?} {b:?}");
}

#[cfg(target_os = "linux")] // the socket-sharing rules tested are Linux's
#[test]
fn no_other_program_can_share_the_broadcast_servers_own_socket_with_so_reuseaddr() {
    use socket2::{Domain, Protocol, Socket, Type};
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    // What the attacker of issue 13 did (as another user): SO_REUSEADDR on the server's address.
    let thief = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    thief.set_reuse_address(true).unwrap();
    let result = thief.bind(&running.addr.into());
    assert!(result.is_err(), "a socket with SO_REUSEADDR could bind the server's {}", running.addr);
    // The clients, on 0.0.0.0 with SO_REUSEPORT as the seed's, still can.
    crate::port_sharing::bind_shared_port((Ipv4Addr::UNSPECIFIED, running.addr.port()).into())
        .expect("a chat client binds the shared port");
    running.stop();
}
