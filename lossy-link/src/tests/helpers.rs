//! The suite's helpers: a relay on its own thread, the sockets at both ends (a client, a
//! "server" that records or echoes what arrives), and waits that always have a deadline.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use clap::Parser;
use shared::error::Result;
use shared::log::{CapturedLog, Log};
use shared::shutdown::Shutdown;

use crate::args::Args;
use crate::probe::Probe;
use crate::relay::Relay;
use crate::summary::Summary;

/// How long any single wait may take before the test fails: generous, for a loaded
/// 2-core machine (a working relay answers in microseconds).
pub(super) const PATIENCE: Duration = Duration::from_secs(10);

/// A relay running on its own thread.
pub(super) struct Running {
    pub(super) addr: SocketAddr,
    pub(super) probe: Probe,
    pub(super) log: CapturedLog,
    shutdown: Shutdown,
    finished: mpsc::Receiver<Result<Summary>>,
}

impl Running {
    /// Stops the relay and returns its summary, with how long the stop took.
    pub(super) fn stop_timed(self) -> (Summary, Duration) {
        let asked = Instant::now();
        self.shutdown.request();
        match self.finished.recv_timeout(PATIENCE) {
            Ok(Ok(summary)) => (summary, asked.elapsed()),
            Ok(Err(error)) => panic!("the relay failed: {error}; log:\n{}", self.log.text()),
            Err(_) => {
                panic!("the relay did not stop within {PATIENCE:?}; log:\n{}", self.log.text())
            }
        }
    }

    pub(super) fn stop(self) -> Summary {
        self.stop_timed().0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}

/// Starts the relay on a free loopback port in front of `server`, with these extra flags.
pub(super) fn start_relay(server: SocketAddr, flags: &[&str]) -> Running {
    start_relay_on("127.0.0.1:0", server, flags)
}

/// Starts the relay listening on `listen` in front of `server`, with these extra flags.
pub(super) fn start_relay_on(listen: &str, server: SocketAddr, flags: &[&str]) -> Running {
    let to = server.to_string();
    let mut argv = vec!["lossy-link", "--listen", listen, "--to", &to];
    argv.extend_from_slice(flags);
    let args = Args::try_parse_from(argv).unwrap();
    let (log, captured) = Log::capture(false);
    let relay = Relay::bind(&args, log).unwrap();
    let addr = relay.local_addr();
    let probe = relay.probe();
    let shutdown = Shutdown::new();
    let (done, finished) = mpsc::channel();
    let signal = shutdown.clone();
    thread::spawn(move || {
        let _ = done.send(relay.run(&signal));
    });
    Running { addr, probe, log: captured, shutdown, finished }
}

pub(super) fn bind_loopback() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    shared::udp::raise_buffers(&socket).unwrap();
    socket.set_read_timeout(Some(PATIENCE)).unwrap();
    socket
}

/// A client socket connected to the relay.
pub(super) fn client_of(relay: &Running) -> UdpSocket {
    let socket = bind_loopback();
    socket.connect(relay.addr).unwrap();
    socket
}

/// Waits until `done()` holds, or fails the test saying `what` after [`PATIENCE`].
pub(super) fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_until_else(done, || what.to_string());
}

/// [`wait_until`], with a failure message made at the time of failure (`what()` can show
/// what has arrived by then).
pub(super) fn wait_until_else(mut done: impl FnMut() -> bool, what: impl FnOnce() -> String) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {}", what());
        thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `count` datagrams (`"0"`, `"1"`, ... or `payload(i)`), in batches of 25, waiting
/// after each batch until the relay has received all of it and `sink` has received all
/// the relay has forwarded so far: no socket buffer ever holds more than a batch, so no
/// datagram is lost that the relay did not choose to lose.
pub(super) fn send_paced(
    client: &UdpSocket,
    probe: &Probe,
    sink: &Sink,
    count: u64,
    payload: impl Fn(u64) -> Vec<u8>,
) {
    let already = probe.up().received;
    for i in 0..count {
        client.send(&payload(i)).unwrap();
        if (i + 1) % 25 == 0 || i + 1 == count {
            wait_until(&format!("the relay has received {} datagrams", i + 1), || {
                probe.up().received - already > i
            });
            let forwarded = probe.up().forwarded;
            wait_until_else(
                || sink.received() >= forwarded,
                || {
                    format!(
                        "the server has received the {forwarded} datagrams forwarded (it has \
                         {}; relay: {})",
                        sink.received(),
                        probe.up()
                    )
                },
            );
        }
    }
}

pub(super) fn numbered(i: u64) -> Vec<u8> {
    i.to_string().into_bytes()
}

/// What a sink behind the relay received: each datagram, where from, and when.
pub(super) struct Arrival {
    pub(super) data: Vec<u8>,
    pub(super) from: SocketAddr,
    pub(super) at: Instant,
}

impl Arrival {
    pub(super) fn number(&self) -> u64 {
        std::str::from_utf8(&self.data).unwrap().parse().unwrap()
    }
}

/// A "server" that records every datagram; optionally echoes it back as `echo:<data>`.
pub(super) struct Sink {
    pub(super) addr: SocketAddr,
    stop: Arc<AtomicBool>,
    count: Arc<AtomicU64>,
    thread: Option<JoinHandle<Vec<Arrival>>>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

impl Sink {
    pub(super) fn start(echo: bool) -> Sink {
        let socket = bind_loopback();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let (stopping, counter) = (Arc::clone(&stop), Arc::clone(&count));
        let thread = thread::spawn(move || {
            let mut arrivals = Vec::new();
            let mut buffer = vec![0; 65_536];
            while !stopping.load(Ordering::SeqCst) {
                if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                    let data = buffer[..len].to_vec();
                    if echo {
                        let reply = [b"echo:".as_slice(), &data].concat();
                        socket.send_to(&reply, from).unwrap();
                    }
                    arrivals.push(Arrival { data, from, at: Instant::now() });
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }
            arrivals
        });
        Sink { addr, stop, count, thread: Some(thread) }
    }

    pub(super) fn received(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Waits until the sink has received `count` datagrams.
    pub(super) fn wait_for(&self, count: u64) {
        wait_until(&format!("the server has received {count} datagrams"), || {
            self.received() >= count
        });
    }

    /// Stops the sink and returns what it received.
    pub(super) fn finish(mut self) -> Vec<Arrival> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// Sends `message` and returns the reply and how long it took.
pub(super) fn exchange(client: &UdpSocket, message: &[u8]) -> (Vec<u8>, Duration) {
    let sent = Instant::now();
    client.send(message).unwrap();
    let mut buffer = vec![0; 65_536];
    let len = client.recv(&mut buffer).unwrap_or_else(|e| {
        panic!("no reply to {:?} through the relay: {e}", String::from_utf8_lossy(message))
    });
    buffer.truncate(len);
    (buffer, sent.elapsed())
}

/// Numbers that arrived after a higher number (each is one reordering).
pub(super) fn inversions(numbers: &[u64]) -> u64 {
    let mut highest = None;
    let mut count = 0;
    for &n in numbers {
        match highest {
            Some(h) if n < h => count += 1,
            _ => highest = Some(n),
        }
    }
    count
}

/// A server that answers every datagram with `reply(datagram)`, until dropped.
pub(super) struct Answering {
    pub(super) addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub(super) fn answering(reply: impl Fn(&[u8]) -> Vec<u8> + Send + 'static) -> Answering {
    let socket = bind_loopback();
    socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let addr = socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop);
    thread::spawn(move || {
        let mut buffer = vec![0; 65_536];
        while !stopping.load(Ordering::SeqCst) {
            if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                let _ = socket.send_to(&reply(&buffer[..len]), from);
            }
        }
    });
    Answering { addr, stop }
}
