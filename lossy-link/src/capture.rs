//! `--capture FILE`: every datagram the relay handles, as a pcapng file Wireshark opens.
//!
//! The relay never sees a packet on a wire: the operating system hands it a UDP payload and
//! the two addresses. This module puts back what a capture on the wire would show: an IP
//! header (IPv4 or IPv6, as the addresses are) and a UDP header, with correct lengths and
//! checksums (built by `etherparse`), so Wireshark decodes each datagram as UDP with no
//! warnings and a student can read the header fields the textbook's labs ask about.
//!
//! The file has two interfaces, one per leg of the path: "client side" (the clients and the
//! relay's listening socket) and "server side" (the relay's upstream sockets and the
//! server). Each datagram appears once as it arrives and once per copy that leaves, and
//! each packet carries a comment saying what the link did to it (Wireshark shows it under
//! "Packet comments"; `tshark -T fields -e frame.comment` prints it).
//!
//! Why raw IP (LINKTYPE_RAW) and not Ethernet: loopback has no Ethernet, and made-up MAC
//! addresses would be a lie a student might read as real. Wireshark decodes raw IPv4 and
//! IPv6 from the first byte's version field.
//!
//! Bounded and honest: the file is written as `FILE.part` and renamed to `FILE` only when
//! the relay stops (Ctrl-C, SIGTERM), so a half-written file is never presented as whole.
//! When `--capture-limit` bytes would be exceeded the capture stops, with one log line,
//! and the relay goes on; the file still ends on a whole block, so it stays readable.
//!
//! Cheap for the relay: its threads only append finished blocks to a buffer in memory; a
//! writer thread of the capture's own takes the buffer whole and writes it to the file, so
//! no relay thread ever waits for the disk (only, if the disk falls [`MAX_PENDING`] bytes
//! behind, for the writer to catch up: the capture never leaves a datagram out).

use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use byteorder_slice::LittleEndian;
use etherparse::PacketBuilder;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgWriter};
use pcap_file::{DataLink, Endianness};
use shared::error::{Context, Error, Result};
use shared::log::Log;

/// The time-to-live written in every IP header (the relay's sockets use the system's
/// default, which the relay cannot read back; 64 is Linux's and macOS's).
const TTL: u8 = 64;

/// Most bytes of blocks waiting for the writer thread; a relay thread that would pass it
/// waits for the writer (the disk is that far behind).
pub const MAX_PENDING: usize = 8 << 20;

/// The writer thread writes when this many bytes are pending (one system call for
/// thousands of packets)...
const WRITE_AT: usize = 256 << 10;

/// ...or when this long has passed with some pending, so a quiet run's file keeps up.
const WRITE_EVERY: Duration = Duration::from_millis(100);

/// pcap-file writes packet timestamps in nanoseconds: the interfaces must say so
/// (`if_tsresol` 9 means 10^-9 s), or readers take them as microseconds.
const NANOSECOND_RESOLUTION: u8 = 9;

/// Which leg of the path a datagram was seen on: the capture's two interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// Between the clients and the relay's listening socket.
    ClientSide,
    /// Between the relay's upstream sockets and the server.
    ServerSide,
}

impl Leg {
    fn interface_id(self) -> u32 {
        match self {
            Leg::ClientSide => 0,
            Leg::ServerSide => 1,
        }
    }
}

/// An open capture file, written by its own thread. Shared by the relay's threads.
pub struct Capture {
    path: PathBuf,
    part: PathBuf,
    limit: u64,
    shared: Arc<Shared>,
    /// Taken by `finish`.
    writer: Mutex<Option<JoinHandle<()>>>,
}

/// What the relay's threads and the writer thread share.
struct Shared {
    state: Mutex<State>,
    /// The writer waits on it for blocks; relay threads wait on it for room.
    changed: Condvar,
}

struct State {
    /// Whole blocks not yet taken by the writer thread.
    pending: Vec<u8>,
    /// Bytes accepted into the file so far (written or pending).
    accepted: u64,
    /// Packets accepted so far.
    packets: u64,
    /// Why the capture stopped early, if it did: nothing more is accepted.
    stopped: Option<String>,
    /// A write failed: the `.part` file may end in a partial block.
    damaged: bool,
    /// `finish` was called: the writer writes what is pending, and ends.
    closing: bool,
}

impl Capture {
    /// Creates `path.part`, writes the file's header and its two interfaces (named after
    /// the relay's listening address and the server's), and starts the writer thread. An
    /// unwritable path is an error here, before the relay starts.
    pub fn create(
        path: &Path,
        limit: u64,
        (listen, server): (SocketAddr, SocketAddr),
        log: Log,
    ) -> Result<Self> {
        let part = part_path(path);
        let file = File::create(&part)
            .context(|| format!("cannot create the capture file {}", part.display()))?;
        let failed = |error: pcap_file::PcapError| {
            Error::msg(format!("cannot write the capture file {}: {error}", part.display()))
        };
        let mut writer = PcapNgWriter::with_endianness(file, Endianness::Little).map_err(failed)?;
        let mut accepted = 28; // the section header block
        for (name, description) in [
            ("client side", format!("clients <-> lossy-link at {listen}")),
            ("server side", format!("lossy-link <-> the server at {server}")),
        ] {
            let interface = InterfaceDescriptionBlock {
                linktype: DataLink::RAW,
                snaplen: 0, // no limit: every datagram is captured whole
                options: vec![
                    InterfaceDescriptionOption::IfName(Cow::Borrowed(name)),
                    InterfaceDescriptionOption::IfDescription(Cow::Owned(description)),
                    InterfaceDescriptionOption::IfTsResol(NANOSECOND_RESOLUTION),
                ],
            };
            accepted += writer.write_pcapng_block(interface).map_err(failed)? as u64;
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: Vec::new(),
                accepted,
                packets: 0,
                stopped: None,
                damaged: false,
                closing: false,
            }),
            changed: Condvar::new(),
        });
        // From here on, whole blocks that `encode` made go straight to the file.
        let file = writer.into_inner();
        let writer = {
            let (shared, part) = (Arc::clone(&shared), part.clone());
            thread::Builder::new()
                .name("capture writer".into())
                .spawn(move || shared.write_to(file, &part, &log))
                .context(|| "cannot start the capture's writer thread")?
        };
        Ok(Capture {
            path: path.to_path_buf(),
            part,
            limit,
            shared,
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Appends one block that [`encode`] made, for the writer thread. At the size limit
    /// (or after a write error) the capture stops, with one log line, and later calls do
    /// nothing: the relay goes on either way.
    pub fn write(&self, block: &[u8], log: &Log) {
        let mut state = self.shared.lock();
        while state.stopped.is_none()
            && !state.closing
            && state.pending.len() + block.len() > MAX_PENDING
        {
            state = self.shared.wait(state);
        }
        if state.stopped.is_some() || state.closing {
            return;
        }
        if state.accepted + block.len() as u64 > self.limit {
            let reason = format!(
                "capture stopped at --capture-limit {} bytes after {} packets; the relay goes on",
                self.limit, state.packets
            );
            log.warn(format_args!("{reason}"));
            state.stopped = Some(reason);
            return;
        }
        let was_short = state.pending.len() < WRITE_AT;
        state.pending.extend_from_slice(block);
        state.accepted += block.len() as u64;
        state.packets += 1;
        // Wake the writer once per WRITE_AT bytes, not per packet (it also looks every
        // WRITE_EVERY by itself).
        if was_short && state.pending.len() >= WRITE_AT {
            self.shared.changed.notify_all();
        }
    }

    /// Lets the writer thread write what is pending, closes the file and gives it its real
    /// name; returns what to tell the user (`None` if already finished). A file that may end
    /// in a partial block (after a write error) keeps its `.part` name.
    pub fn finish(&self) -> Result<Option<String>> {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(writer) = writer else { return Ok(None) };
        self.shared.lock().closing = true;
        self.shared.changed.notify_all();
        if writer.join().is_err() {
            self.shared.lock().damaged = true;
        }
        let state = self.shared.lock();
        if state.damaged {
            return Err(Error::msg(format!(
                "the capture file {} is incomplete (a write failed) and keeps its .part name",
                self.part.display()
            )));
        }
        std::fs::rename(&self.part, &self.path).context(|| {
            format!("cannot rename {} to {}", self.part.display(), self.path.display())
        })?;
        let cut = if state.stopped.is_some() { " (stopped at --capture-limit)" } else { "" };
        Ok(Some(format!(
            "capture: {} packets written to {}{cut}",
            state.packets,
            self.path.display()
        )))
    }
}

impl Shared {
    /// The writer thread: takes the pending blocks whole (the relay's threads go on filling
    /// a fresh buffer) and writes them, until `finish` and nothing is left. A write error
    /// stops the capture, with one log line.
    fn write_to(&self, mut file: File, part: &Path, log: &Log) {
        let mut taken = Vec::new();
        loop {
            {
                let mut state = self.lock();
                while state.pending.len() < WRITE_AT && !state.closing {
                    let (next, waited) = self
                        .changed
                        .wait_timeout(state, WRITE_EVERY)
                        .unwrap_or_else(PoisonError::into_inner);
                    state = next;
                    if waited.timed_out() && !state.pending.is_empty() {
                        break;
                    }
                }
                if state.pending.is_empty() {
                    return; // closing, and everything is written
                }
                std::mem::swap(&mut state.pending, &mut taken);
                // Room again for relay threads waiting on a full buffer.
                self.changed.notify_all();
            }
            if let Err(error) = file.write_all(&taken) {
                let reason = format!("capture stopped: cannot write {}: {error}", part.display());
                log.warn(format_args!("{reason}"));
                let mut state = self.lock();
                state.damaged = true;
                state.stopped = Some(reason);
                state.pending = Vec::new();
                self.changed.notify_all();
                return;
            }
            taken.clear();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(state).unwrap_or_else(PoisonError::into_inner)
    }
}

/// `FILE.part`: where the capture is written until it is complete.
pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(".part");
    PathBuf::from(name)
}

/// The IP and UDP headers in front of `payload`, with lengths and checksums. An IPv4
/// address talking to an IPv6 one (a dual-stack socket) is written as IPv4-mapped IPv6.
/// An error only for a payload too large for one IP packet (the relay never receives one).
/// Written into `packet` (cleared first).
pub fn ip_udp_packet(
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
    packet: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    let builder = match (src.ip(), dst.ip()) {
        (IpAddr::V4(from), IpAddr::V4(to)) => PacketBuilder::ipv4(from.octets(), to.octets(), TTL),
        (from, to) => PacketBuilder::ipv6(as_v6(from), as_v6(to), TTL),
    }
    .udp(src.port(), dst.port());
    packet.clear();
    builder.write(packet, payload).map_err(|error| error.to_string())
}

fn as_v6(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// One packet as a whole pcapng block (an Enhanced Packet Block, encoded by pcap-file in
/// the file's byte order) with its comment: made by each relay thread on its own, so that
/// the file's lock is held only to append it. Written into `bytes` (cleared first).
pub fn encode(leg: Leg, timestamp: Duration, packet: &[u8], comment: &str, bytes: &mut Vec<u8>) {
    let block = EnhancedPacketBlock {
        interface_id: leg.interface_id(),
        timestamp,
        original_len: u32::try_from(packet.len()).unwrap_or(u32::MAX),
        data: Cow::Borrowed(packet),
        options: vec![EnhancedPacketOption::Comment(Cow::Borrowed(comment))],
    };
    bytes.clear();
    // Writing to a Vec cannot fail.
    let _ = Block::EnhancedPacket(block).write_to::<LittleEndian, _>(bytes);
}
