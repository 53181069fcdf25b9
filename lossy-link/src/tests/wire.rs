//! `--capture` and `--diagram`, read back by real readers: the pcapng file by `pcap-file`
//! (and each packet's headers by `etherparse`, checksums included), the SVG by an XML
//! parser. Every count is checked against the relay's own summary.
//!
//! (Its helpers that read a capture, or answer on a given address, stay with it: no other
//! subject needs them.)

use std::fs::File;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use clap::error::ErrorKind;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use shared::log::Log;
use shared::shutdown::Shutdown;

use crate::args::Args;
use crate::capture::part_path;
use crate::relay::Relay;

use super::helpers::start_relay_on;

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lossy-link-wire-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An echo server on `ip` that answers every datagram with `ECHO:<data>`, until dropped.
struct Echo {
    addr: SocketAddr,
    shutdown: Shutdown,
}

impl Echo {
    fn start(ip: &str) -> Echo {
        let socket = UdpSocket::bind((ip, 0)).unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let addr = socket.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let stop = shutdown.clone();
        thread::spawn(move || {
            let mut buffer = vec![0; 65_536];
            while !stop.is_requested() {
                if let Ok((len, from)) = socket.recv_from(&mut buffer) {
                    let reply = [b"ECHO:".as_slice(), &buffer[..len]].concat();
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        Echo { addr, shutdown }
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.shutdown.request();
    }
}

/// Sends `count` messages `m0`, `m1`, ... in bursts of three (so that one can overtake
/// another), after each burst reading replies until none comes for `wait` (a lost one is
/// simply not waited for any longer). Returns the client's address.
fn converse(relay: SocketAddr, count: usize, wait: Duration) -> SocketAddr {
    let ip = if relay.is_ipv4() { "127.0.0.1" } else { "::1" };
    let client = UdpSocket::bind((ip, 0)).unwrap();
    client.connect(relay).unwrap();
    client.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = [0; 2048];
    for i in 0..count {
        client.send(format!("m{i}").as_bytes()).unwrap();
        if i % 3 == 2 || i + 1 == count {
            while client.recv(&mut buffer).is_ok() {}
        }
    }
    client.local_addr().unwrap()
}

/// One packet of the capture, decoded.
#[derive(Debug)]
struct Seen {
    interface: u32,
    at: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    payload: Vec<u8>,
    comment: String,
}

/// Reads the capture back with pcap-file; checks each packet's IP and UDP headers
/// (lengths, checksums) with etherparse.
fn read_capture(path: &Path) -> (Vec<String>, Vec<Seen>) {
    let mut reader = PcapNgReader::new(File::open(path).unwrap()).unwrap();
    let mut interfaces = Vec::new();
    let mut packets = Vec::new();
    while let Some(block) = reader.next_block() {
        match block.unwrap_or_else(|e| panic!("{} has a broken block: {e}", path.display())) {
            Block::InterfaceDescription(interface) => {
                assert_eq!(interface.linktype, pcap_file::DataLink::RAW, "raw IP interfaces");
                interfaces.push(format!("{:?}", interface.options));
            }
            Block::EnhancedPacket(packet) => {
                let data = packet.data.to_vec();
                assert_eq!(packet.original_len as usize, data.len(), "captured whole");
                let sliced = SlicedPacket::from_ip(&data)
                    .unwrap_or_else(|e| panic!("packet {data:?} is not IP: {e}"));
                let Some(TransportSlice::Udp(udp)) = &sliced.transport else {
                    panic!("packet {data:?} is not UDP")
                };
                let payload = udp.payload().to_vec();
                assert_eq!(udp.length() as usize, 8 + payload.len(), "UDP length of {data:?}");
                let (src_ip, dst_ip, checksum): (IpAddr, IpAddr, u16) = match &sliced.net {
                    Some(NetSlice::Ipv4(ip)) => {
                        let header = ip.header().to_header();
                        assert_eq!(header.total_len as usize, data.len(), "IPv4 total length");
                        assert_eq!(header.header_checksum, header.calc_header_checksum());
                        let sum = udp.to_header().calc_checksum_ipv4(&header, &payload).unwrap();
                        (header.source.into(), header.destination.into(), sum)
                    }
                    Some(NetSlice::Ipv6(ip)) => {
                        let header = ip.header().to_header();
                        assert_eq!(header.payload_length as usize, data.len() - 40, "IPv6 length");
                        let sum = udp.to_header().calc_checksum_ipv6(&header, &payload).unwrap();
                        (header.source.into(), header.destination.into(), sum)
                    }
                    other => panic!("no IP header: {other:?}"),
                };
                assert_eq!(udp.checksum(), checksum, "UDP checksum of {data:?}");
                let comments: Vec<String> = packet
                    .options
                    .iter()
                    .filter_map(|option| match option {
                        EnhancedPacketOption::Comment(text) => Some(text.to_string()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(comments.len(), 1, "one comment per packet, got {comments:?}");
                packets.push(Seen {
                    interface: packet.interface_id,
                    at: packet.timestamp,
                    src: SocketAddr::new(src_ip, udp.source_port()),
                    dst: SocketAddr::new(dst_ip, udp.destination_port()),
                    payload,
                    comment: comments[0].clone(),
                });
            }
            _ => {}
        }
    }
    (interfaces, packets)
}

fn count(packets: &[Seen], what: impl Fn(&Seen) -> bool) -> u64 {
    packets.iter().filter(|p| what(p)).count() as u64
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

const IMPAIRED: [&str; 12] = [
    "--loss",
    "25%",
    "--duplicate",
    "20%",
    "--reorder",
    "25%",
    "--delay",
    "3ms",
    "--jitter",
    "2ms",
    "--seed",
    "11",
];

#[test]
fn the_capture_holds_both_legs_of_every_datagram_with_its_fate_as_a_comment() {
    let dir = scratch("both-legs");
    let capture = dir.join("run.pcapng");
    let server = Echo::start("127.0.0.1");
    let mut flags = IMPAIRED.to_vec();
    let path = capture.to_str().unwrap();
    flags.extend(["--capture", path, "--reorder-hold", "50ms"]);
    let before = now();
    let relay = start_relay_on("127.0.0.1:0", server.addr, &flags);
    let relay_addr = relay.addr;
    let client = converse(relay_addr, 60, Duration::from_millis(100));
    assert!(!capture.exists(), "the capture keeps its .part name while the relay runs");
    assert!(part_path(&capture).exists(), "the capture is written as FILE.part");
    let summary = relay.stop();
    let after = now();
    assert!(!part_path(&capture).exists(), "FILE.part is renamed when the relay stops");

    let (interfaces, packets) = read_capture(&capture);
    assert_eq!(interfaces.len(), 2, "two interfaces (client side, server side): {interfaces:?}");
    assert!(interfaces[0].contains("client side") && interfaces[1].contains("server side"));
    let client_side = |p: &Seen| p.interface == 0;
    let server_side = |p: &Seen| p.interface == 1;
    let (up, down) = (summary.up, summary.down);
    assert_eq!(
        count(&packets, |p| client_side(p) && p.src == client && p.dst == relay_addr),
        up.received,
        "client -> relay packets, as the summary's received: {up}"
    );
    assert_eq!(
        count(&packets, |p| server_side(p) && p.dst == server.addr),
        up.forwarded,
        "relay -> server packets, as the summary's forwarded: {up}"
    );
    assert_eq!(
        count(&packets, |p| server_side(p) && p.src == server.addr),
        down.received,
        "server -> relay packets: {down}"
    );
    assert_eq!(
        count(&packets, |p| client_side(p) && p.src == relay_addr && p.dst == client),
        down.forwarded,
        "relay -> client packets: {down}"
    );
    assert_eq!(
        packets.len() as u64,
        up.received + up.forwarded + down.received + down.forwarded,
        "nothing else in the capture"
    );
    // The fates, as comments.
    let with = |text: &str| count(&packets, |p| p.comment.contains(text));
    assert_eq!(with("lost (--loss)"), up.lost + down.lost, "lost comments");
    assert_eq!(with("duplicate copy"), up.duplicated + down.duplicated, "duplicate comments");
    assert_eq!(with("reordered (overtaken)"), up.reordered + down.reordered, "reordered comments");
    assert!(up.lost > 0 && up.duplicated > 0 && up.reordered > 0, "seed 11 does all: {up}");
    // The payloads: the client's messages in the order sent, the echoes of them.
    let sent: Vec<String> = packets
        .iter()
        .filter(|p| p.src == client)
        .map(|p| String::from_utf8(p.payload.clone()).unwrap())
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("m{i}")).collect();
    assert_eq!(sent, expected, "the client's datagrams as sent");
    assert!(
        packets.iter().filter(|p| p.src == server.addr).all(|p| p.payload.starts_with(b"ECHO:m"))
    );
    // Real timestamps, in this run.
    for packet in &packets {
        assert!(
            before <= packet.at && packet.at <= after,
            "timestamp {:?} outside the run",
            packet.at
        );
    }
    // Each datagram leaves after it arrived: its copies' times are not before its arrival.
    let number = |p: &Seen| p.comment.split_whitespace().next().unwrap().to_string();
    for arrival in packets.iter().filter(|p| p.comment.contains("passed on")) {
        for copy in packets.iter().filter(|p| p.comment.contains("forwarded after")) {
            if number(copy) == number(arrival) {
                assert!(copy.at >= arrival.at, "{} left before it arrived", copy.comment);
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_diagram_has_an_arrow_per_datagram_and_a_cross_per_loss() {
    let dir = scratch("diagram");
    let diagram = dir.join("run.svg");
    let server = Echo::start("127.0.0.1");
    let mut flags = IMPAIRED.to_vec();
    flags.extend(["--diagram", diagram.to_str().unwrap(), "--reorder-hold", "50ms"]);
    flags.extend(["--diagram-max", "500"]);
    let relay = start_relay_on("127.0.0.1:0", server.addr, &flags);
    converse(relay.addr, 30, Duration::from_millis(100));
    let summary = relay.stop();
    let (up, down) = (summary.up, summary.down);

    let text = std::fs::read_to_string(&diagram).unwrap();
    let svg = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("not XML: {e}\n{text}"));
    let arrows = |kind: &str| {
        svg.descendants().filter(|n| n.attribute("data-kind") == Some(kind)).count() as u64
    };
    let crosses = svg.descendants().filter(|n| n.attribute("class") == Some("cross")).count();
    assert_eq!(arrows("in"), up.received + down.received, "an arrow onto the link per datagram");
    assert_eq!(crosses as u64, up.dropped() + down.dropped(), "a cross per lost datagram");
    assert_eq!(arrows("dropped"), up.dropped() + down.dropped(), "a stopped arrow per loss");
    assert_eq!(arrows("duplicate"), up.duplicated + down.duplicated, "duplicates");
    assert_eq!(arrows("reordered"), up.reordered + down.reordered, "reordered");
    assert_eq!(
        arrows("out") + arrows("duplicate") + arrows("reordered"),
        up.forwarded + down.forwarded,
        "an arrow per copy forwarded"
    );
    assert!(crosses > 0 && arrows("duplicate") > 0 && arrows("reordered") > 0, "{up} / {down}");
    let texts: String = svg.descendants().filter_map(|n| n.text()).collect();
    for needle in ["Legend", "client", "lossy-link", "server", "seed 11", "ms"] {
        assert!(texts.contains(needle), "the diagram says {needle:?}: {texts}");
    }
    assert!(!texts.contains("Cut:"), "a short run is not cut");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_long_run_is_cut_to_the_first_datagrams_with_a_note() {
    let dir = scratch("cut");
    let diagram = dir.join("cut.svg");
    let server = Echo::start("127.0.0.1");
    let relay = start_relay_on(
        "127.0.0.1:0",
        server.addr,
        &["--diagram", diagram.to_str().unwrap(), "--diagram-max", "6"],
    );
    converse(relay.addr, 10, Duration::from_millis(200));
    let summary = relay.stop();
    assert_eq!(summary.up.received + summary.down.received, 20, "10 requests, 10 echoes");
    let text = std::fs::read_to_string(&diagram).unwrap();
    let svg = roxmltree::Document::parse(&text).unwrap();
    let shown = svg.descendants().filter(|n| n.attribute("data-kind") == Some("in")).count();
    assert_eq!(shown, 6, "only the first --diagram-max datagrams are drawn");
    let note = svg.descendants().find(|n| n.attribute("class") == Some("cut")).map(|n| n.text());
    assert_eq!(
        note.flatten(),
        Some(
            "Cut: showing the first 6 of 20 datagrams (--diagram-max 6); the capture has them all."
        ),
        "the note says what was cut"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_capture_stops_at_its_limit_once_and_the_relay_goes_on() {
    let dir = scratch("limit");
    let capture = dir.join("small.pcapng");
    let server = Echo::start("127.0.0.1");
    let relay = start_relay_on(
        "127.0.0.1:0",
        server.addr,
        &["--capture", capture.to_str().unwrap(), "--capture-limit", "2k"],
    );
    converse(relay.addr, 40, Duration::from_millis(200));
    let log = relay.log.clone();
    let summary = relay.stop();
    assert_eq!(summary.down.forwarded, 40, "every echo still came back: {}", summary.down);
    let stops =
        log.lines().iter().filter(|l| l.contains("capture stopped at --capture-limit")).count();
    assert_eq!(stops, 1, "one log line when the limit is reached:\n{}", log.text());
    let size = std::fs::metadata(&capture).unwrap().len();
    assert!(size <= 2048, "the file stays within --capture-limit: {size} bytes");
    let (_, packets) = read_capture(&capture);
    assert!(
        !packets.is_empty() && (packets.len() as u64) < 160,
        "the first packets, whole and readable: {}",
        packets.len()
    );
    assert!(log.text().contains("(stopped at --capture-limit)"), "{}", log.text());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_capture_writes_ipv6_headers_for_an_ipv6_path() {
    // Some CI containers have no IPv6 loopback: then there is nothing to capture.
    if UdpSocket::bind("[::1]:0").is_err() {
        return;
    }
    let dir = scratch("ipv6");
    let capture = dir.join("v6.pcapng");
    let server = Echo::start("::1");
    let relay = start_relay_on("[::1]:0", server.addr, &["--capture", capture.to_str().unwrap()]);
    let client = converse(relay.addr, 3, Duration::from_millis(500));
    let summary = relay.stop();
    let (_, packets) = read_capture(&capture);
    assert_eq!(packets.len(), 12, "3 requests and 3 echoes, each on two legs: {summary}");
    assert!(packets.iter().all(|p| p.src.is_ipv6() && p.dst.is_ipv6()), "{packets:?}");
    assert_eq!(packets[0].src, client, "the client's real address");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_unwritable_capture_or_diagram_file_is_a_one_line_error() {
    let dir = scratch("unwritable");
    let missing = dir.join("no-such-folder").join("x.pcapng");
    let server = Echo::start("127.0.0.1");
    let to = server.addr.to_string();
    for flag in ["--capture", "--diagram"] {
        let argv =
            ["lossy-link", "--listen", "127.0.0.1:0", "--to", &to, flag, missing.to_str().unwrap()];
        let args = Args::try_parse_from(argv).unwrap();
        let (log, _) = Log::capture(false);
        let error = match Relay::bind(&args, log) {
            Ok(_) => panic!("{flag} into a missing folder was accepted"),
            Err(error) => error.to_string(),
        };
        assert!(error.starts_with("cannot create the "), "{flag}: {error}");
        assert!(error.contains("x.pcapng.part") && !error.contains('\n'), "{flag}: {error}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_capture_and_diagram_flags_are_usage_errors() {
    for (flag, value) in [
        ("--capture-limit", "lots"),
        ("--capture-limit", "12Q"),
        ("--diagram-max", "0"),
        ("--diagram-max", "1000000"),
    ] {
        let error = Args::try_parse_from(["lossy-link", flag, value]).unwrap_err();
        assert!(
            matches!(error.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue),
            "{flag} {value}: {:?}",
            error.kind()
        );
    }
    let help = Args::try_parse_from(["lossy-link", "--help"]).unwrap_err().to_string();
    for needle in ["--capture <FILE>", "--capture-limit", "[default: 100M]", "--diagram <FILE.svg>"]
    {
        assert!(help.contains(needle), "--help shows {needle}:\n{help}");
    }
}
