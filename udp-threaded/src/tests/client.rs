//! The seed's client: its two lines, and a timeout when no response comes.

use shared::udp::bind_udp;

use super::{run_client, start_server};

#[test]
fn client_prints_the_response_like_the_seed() {
    let running = start_server(&[]);
    let port = running.addr.port().to_string();
    let (outcome, out) = run_client(&["--host", "127.0.0.1", "--port", &port]);
    outcome.unwrap();
    assert_eq!(
        out,
        format!(
            "Sent message to 127.0.0.1:{port}\nReceived response from 127.0.0.1:{port}: Message received\n"
        ),
        "the client should print where it sent the message and the response, like the seed"
    );
    running.expect_log("Hello, Server!");
    running.stop();
}

#[test]
fn client_gives_up_when_no_response_comes() {
    let silent = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = silent.local_addr().unwrap().port().to_string();
    let (outcome, _) = run_client(&["--host", "127.0.0.1", "--port", &port, "--timeout", "0.3"]);
    let error = outcome.expect_err("no response came").to_string();
    assert!(
        error.contains("no reply from 127.0.0.1:"),
        "the client should say no response came: {error}"
    );
}
