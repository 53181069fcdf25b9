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

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
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

/// Bytes gathered before each write to the file: one system call per this many, not per
/// packet.
const WRITE_BUFFER: usize = 1 << 20;

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

/// An open capture file.
pub struct Capture {
    /// `None` once the capture has stopped (at its limit, or after a write error).
    writer: Option<BufWriter<File>>,
    path: PathBuf,
    part: PathBuf,
    limit: u64,
    written: u64,
    packets: u64,
    /// Why the capture stopped early, if it did.
    stopped: Option<String>,
    /// Set after a write error: the `.part` file may end in a partial block.
    damaged: bool,
}

impl Capture {
    /// Creates `path.part` and writes the file's header and its two interfaces, named after
    /// the relay's listening address and the server's. An unwritable path is an error here,
    /// before the relay starts.
    pub fn create(path: &Path, limit: u64, listen: SocketAddr, server: SocketAddr) -> Result<Self> {
        let part = part_path(path);
        let file = File::create(&part)
            .context(|| format!("cannot create the capture file {}", part.display()))?;
        let failed = |error: pcap_file::PcapError| {
            Error::msg(format!("cannot write the capture file {}: {error}", part.display()))
        };
        let buffered = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut writer =
            PcapNgWriter::with_endianness(buffered, Endianness::Little).map_err(failed)?;
        let mut written = 28; // the section header block
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
            written += writer.write_pcapng_block(interface).map_err(failed)? as u64;
        }
        Ok(Capture {
            // From here on, whole blocks that `encode` made go straight to the file.
            writer: Some(writer.into_inner()),
            path: path.to_path_buf(),
            part,
            limit,
            written,
            packets: 0,
            stopped: None,
            damaged: false,
        })
    }

    /// Writes one block that [`encode`] made. At the size limit or on a write error the
    /// capture stops (one log line) and later calls do nothing: the relay goes on either way.
    pub fn write(&mut self, block: &[u8], log: &Log) {
        let Some(writer) = self.writer.as_mut() else { return };
        if self.written + block.len() as u64 > self.limit {
            self.stop(
                log,
                format!(
                    "capture stopped at --capture-limit {} bytes after {} packets; the relay \
                     goes on",
                    self.limit, self.packets
                ),
            );
            return;
        }
        match writer.write_all(block) {
            Ok(()) => {
                self.written += block.len() as u64;
                self.packets += 1;
            }
            Err(error) => {
                self.damaged = true;
                self.stop(
                    log,
                    format!("capture stopped: cannot write {}: {error}", self.part.display()),
                );
            }
        }
    }

    fn stop(&mut self, log: &Log, reason: String) {
        log.warn(format_args!("{reason}"));
        self.stopped = Some(reason);
        if let Some(writer) = self.writer.take() {
            // What was written so far is whole blocks: keep it for `finish`.
            let mut file = writer;
            if let Err(error) = file.flush() {
                self.damaged = true;
                log.warn(format_args!("capture: cannot write {}: {error}", self.part.display()));
            }
        }
    }

    /// Packets written so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes the file and gives it its real name; returns what to tell the user. A file
    /// that may end in a partial block (after a write error) keeps its `.part` name.
    pub fn finish(mut self) -> Result<String> {
        if let Some(mut file) = self.writer.take() {
            file.flush()
                .context(|| format!("cannot write the capture file {}", self.part.display()))?;
        }
        if self.damaged {
            return Err(Error::msg(format!(
                "the capture file {} is incomplete (a write failed) and keeps its .part name",
                self.part.display()
            )));
        }
        std::fs::rename(&self.part, &self.path).context(|| {
            format!("cannot rename {} to {}", self.part.display(), self.path.display())
        })?;
        let cut = if self.stopped.is_some() { " (stopped at --capture-limit)" } else { "" };
        Ok(format!("capture: {} packets written to {}{cut}", self.packets, self.path.display()))
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
