//! Seeing the wire: what the relay tells [`crate::capture`] and [`crate::diagram`] about
//! each datagram, as it happens.
//!
//! [`crate::link`] calls two hooks, and only when `--capture` or `--diagram` is given:
//! [`Wire::arrived`] once per datagram that reaches the relay, with what the link decided
//! (lost, dropped by a full queue, or passed on with its delay, duplicate and reordering),
//! and [`Wire::left`] once per copy that leaves. Each datagram gets a number (`#7`), so the
//! capture's comments and the diagram's arrows can be matched to each other.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use shared::error::{Context, Result};
use shared::log::Log;

use crate::capture::{Capture, Leg, encode, ip_udp_packet, part_path};
use crate::diagram::Ladder;
use crate::units::parse_bytes;
use crate::verdict::{Copy, Leaving, Verdict, Way};

const SEEING: &str = "Seeing the wire";

/// The flags that record a run (flattened into [`crate::Args`]).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WireArgs {
    /// Write every datagram (both legs, both directions, with what the link did to it as a
    /// packet comment) to FILE as pcapng, for Wireshark or tshark. Written as FILE.part
    /// and renamed when the relay stops.
    #[arg(long, value_name = "FILE", help_heading = SEEING)]
    pub capture: Option<PathBuf>,

    /// The largest the capture file may grow; then the capture stops (one log line) and
    /// the relay goes on.
    #[arg(long, value_name = "BYTES", default_value = "100M", value_parser = parse_bytes,
          help_heading = SEEING)]
    pub capture_limit: u64,

    /// Draw the run as a ladder diagram (SVG, any browser opens it) in FILE when the relay
    /// stops: a time line per client, the link and the server, an arrow per datagram.
    #[arg(long, value_name = "FILE.svg", help_heading = SEEING)]
    pub diagram: Option<PathBuf>,

    /// Datagrams the diagram shows (the first ones); a longer run is cut, with a note.
    #[arg(long, value_name = "N", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=2_000), help_heading = SEEING)]
    pub diagram_max: u64,
}

/// The recorder: the capture file and the diagram's events, behind locks (the relay's
/// receiving and sending threads all report here).
pub struct Wire {
    started: Instant,
    started_wall: Duration,
    listen: SocketAddr,
    server: SocketAddr,
    next_id: AtomicU64,
    capture: Option<Capture>,
    ladder: Option<(PathBuf, Mutex<Ladder>)>,
    log: Log,
}

impl Wire {
    /// A recorder for `args`, or `None` when neither `--capture` nor `--diagram` is given.
    /// Creates the capture file now, so an unwritable path is an error before the relay
    /// starts; checks the diagram's folder likewise.
    pub fn open(
        args: &WireArgs,
        listen: SocketAddr,
        server: SocketAddr,
        title: Vec<String>,
        log: Log,
    ) -> Result<Option<Wire>> {
        if args.capture.is_none() && args.diagram.is_none() {
            return Ok(None);
        }
        let capture = match &args.capture {
            Some(path) => {
                Some(Capture::create(path, args.capture_limit, (listen, server), log.clone())?)
            }
            None => None,
        };
        let ladder = match &args.diagram {
            Some(path) => {
                // Fail now, not after a long run: the folder must take a file.
                let part = part_path(path);
                std::fs::write(&part, b"")
                    .context(|| format!("cannot create the diagram file {}", part.display()))?;
                let limit = usize::try_from(args.diagram_max).unwrap_or(usize::MAX);
                Some((path.clone(), Mutex::new(Ladder::new(limit, listen, server, title))))
            }
            None => None,
        };
        Ok(Some(Wire {
            started: Instant::now(),
            started_wall: SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default(),
            listen,
            server,
            next_id: AtomicU64::new(1),
            capture,
            ladder,
            log,
        }))
    }

    /// A number for the next datagram to arrive.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Datagram `id` arrived at `at`, going `way`, from or to the client at `client` whose
    /// upstream socket is `upstream`; the link decided `verdict`.
    pub fn arrived(
        &self,
        (id, at): (u64, Instant),
        way: Way,
        (client, upstream): (SocketAddr, SocketAddr),
        data: &[u8],
        verdict: Verdict,
    ) {
        let since = at.saturating_duration_since(self.started);
        if let Some(capture) = &self.capture {
            let (leg, ends) = match way {
                Way::Up => (Leg::ClientSide, (client, self.listen)),
                Way::Down => (Leg::ServerSide, (self.server, upstream)),
            };
            let comment = |text: &mut String| {
                let _ = write!(text, "#{id} {}: {verdict}", way.label());
            };
            self.write(capture, leg, self.started_wall + since, ends, data, comment);
        }
        if let Some((_, ladder)) = &self.ladder {
            lock(ladder).arrived(id, since, way, client, verdict);
        }
    }

    /// A copy of a datagram left the relay at `at`, going `way`.
    pub fn left(
        &self,
        (leaving, at): (Leaving, Instant),
        way: Way,
        (client, upstream): (SocketAddr, SocketAddr),
        data: &[u8],
    ) {
        let since = at.saturating_duration_since(self.started);
        if let Some(capture) = &self.capture {
            let (leg, ends) = match way {
                Way::Up => (Leg::ServerSide, (upstream, self.server)),
                Way::Down => (Leg::ClientSide, (self.listen, client)),
            };
            let flight = at.saturating_duration_since(leaving.arrived);
            let comment = |text: &mut String| {
                let _ = write!(text, "#{} {}: ", leaving.id, way.label());
                if leaving.copy == Copy::Duplicate {
                    text.push_str("duplicate copy, ");
                }
                if leaving.reordered {
                    text.push_str("reordered (overtaken), ");
                }
                // Tenths of a millisecond in whole numbers: float formatting costs more
                // than the rest of the comment.
                let tenths = (flight.as_micros() + 50) / 100;
                let _ = write!(text, "forwarded after {}.{} ms", tenths / 10, tenths % 10);
            };
            self.write(capture, leg, self.started_wall + since, ends, data, comment);
        }
        if let Some((_, ladder)) = &self.ladder {
            lock(ladder).left(leaving.id, since, leaving.copy, leaving.reordered);
        }
    }

    /// Builds the packet's headers, its comment (written by `comment`) and its block
    /// outside the lock (the other threads keep going), in this thread's reused buffers
    /// (no allocation per packet), then appends the block.
    fn write(
        &self,
        capture: &Capture,
        leg: Leg,
        timestamp: Duration,
        (src, dst): (SocketAddr, SocketAddr),
        data: &[u8],
        comment: impl FnOnce(&mut String),
    ) {
        SCRATCH.with(|scratch| {
            // Not reentrant, so the buffers are always free; fresh ones would do otherwise.
            let mut fresh = Scratch::default();
            let mut borrowed = scratch.try_borrow_mut();
            let buffers = match borrowed.as_deref_mut() {
                Ok(buffers) => buffers,
                Err(_) => &mut fresh,
            };
            if let Err(reason) = ip_udp_packet(src, dst, data, &mut buffers.packet) {
                self.log.warn(format_args!("capture: datagram from {src} not written: {reason}"));
                return;
            }
            buffers.comment.clear();
            comment(&mut buffers.comment);
            encode(leg, timestamp, &buffers.packet, &buffers.comment, &mut buffers.block);
            capture.write(&buffers.block, &self.log);
        });
    }

    /// Closes the capture (renamed to its real name) and writes the diagram; says where.
    /// Call once, when the relay's threads have stopped (a later call writes nothing new).
    pub fn finish(&self) -> Result<()> {
        if let Some(done) = self.capture.as_ref().map(Capture::finish).transpose()?.flatten() {
            self.log.info(format_args!("{done}"));
        }
        if let Some((path, ladder)) = &self.ladder {
            let ladder = lock(ladder);
            let part = part_path(path);
            std::fs::write(&part, ladder.to_svg())
                .context(|| format!("cannot write the diagram {}", part.display()))?;
            std::fs::rename(&part, path)
                .context(|| format!("cannot rename {} to {}", part.display(), path.display()))?;
            self.log.info(format_args!(
                "diagram: {} drawn in {}",
                ladder.shown_note(),
                path.display()
            ));
        }
        Ok(())
    }
}

/// One relay thread's buffers for the packets it captures.
#[derive(Default)]
struct Scratch {
    packet: Vec<u8>,
    comment: String,
    block: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
