//! Clients that misbehave: one that resets, goes silent, drips a byte now and then, or never
//! reads its echoes. Each costs only its own thread, and is disconnected in time.

use super::*;

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
