//! One direction of the bad link: the dice, the rate queue, the delay queue, and the thread
//! that sends each datagram when it is due.
//!
//! A datagram that arrives at the relay goes through these steps, in this order (the order
//! of a real path: lost on the wire, queued at a slow router, then carried across):
//!
//! 1. **The dice** ([`Flow::roll`]): lost? duplicated? picked for reordering? how much
//!    jitter? Four numbers are drawn for every datagram, whatever the answers, so the same
//!    `--seed` gives the same fate to the same datagram even when other flags change.
//! 2. **Loss**: a lost datagram is counted and forgotten. Nobody is told; UDP has no
//!    acknowledgements. That is why the clients need `--timeout`.
//! 3. **The rate queue** (`--rate`): a link of R bytes/s needs `len / R` seconds per
//!    datagram. Datagrams that arrive faster wait their turn; when `--rate-queue` of them
//!    wait, the next is dropped (a full router queue: "tail drop"). Congestion loss, the
//!    most common loss on the Internet, looks exactly like this.
//! 4. **The delay queue** (`--delay`, `--jitter`): each datagram leaves at its arrival (or
//!    its rate-queue departure) plus the delay plus or minus the jitter, but never before a
//!    datagram that arrived before it: jitter varies the delay, `--reorder` changes the order.
//! 5. **Reordering** (`--reorder`): a datagram picked for it is held back until the next
//!    datagram of the same client and direction has been scheduled, and then goes right
//!    after it (or after `--reorder-hold`, in order, if no other comes).
//! 6. **Duplication** (`--duplicate`): a second copy leaves right behind the first.
//! 7. **Tampering** (`--tamper`, [`crate::tamper`]): the payload is changed before it is
//!    queued; its dice are a fifth draw, made only when `--tamper` is on, so that every
//!    other seed gives the same fates as before.
//!
//! When nothing can delay a direction (no delay, jitter, reordering or rate limit), steps 3
//! to 5 cannot happen, and the receiving thread sends the datagram itself: no queue, no
//! thread hand-off, which is how the relay keeps up with the servers' full speed.

use std::cmp::{Ordering as CmpOrdering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use shared::error::describe_io_error;
use shared::log::Log;
use shared::reply::ReplyGuard;
use shared::shutdown::{POLL_INTERVAL, Shutdown};
use shared::text::plural;

use crate::args::Impairment;
use crate::relay::Client;
use crate::rng::{SplitMix64, stream_seed};
use crate::throttle::Throttle;
use crate::verdict::{Copy, Leaving, Verdict, Way};
use crate::wire::Wire;

/// Which way a datagram is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a client to the server.
    Up,
    /// From the server back to a client.
    Down,
}

impl Direction {
    /// How the log names it.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "client -> server",
            Direction::Down => "server -> client",
        }
    }

    fn index(self) -> usize {
        match self {
            Direction::Up => 0,
            Direction::Down => 1,
        }
    }
}

/// What the link did to the datagrams going one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirectionSummary {
    /// Datagrams that arrived at the relay.
    pub received: u64,
    /// Datagrams sent on (a duplicate counts twice).
    pub forwarded: u64,
    /// Dropped by `--loss`.
    pub lost: u64,
    /// Dropped because the `--rate` queue was full.
    pub rate_dropped: u64,
    /// Dropped because the delay queue was full (`--max-delayed`, `--max-delayed-bytes`).
    pub queue_dropped: u64,
    /// Extra copies sent by `--duplicate`.
    pub duplicated: u64,
    /// Datagrams sent after one that arrived later.
    pub reordered: u64,
    /// Datagrams given a delay above zero by `--delay`/`--jitter`.
    pub delayed: u64,
    /// Still waiting in the delay queue when the relay stopped: never sent.
    pub discarded_at_stop: u64,
    /// Sends that failed (e.g. the client's port has gone).
    pub send_failed: u64,
    /// Payloads changed by `--tamper`.
    pub tampered: u64,
}

impl DirectionSummary {
    /// Every datagram dropped on purpose: lost, or over a full queue.
    pub fn dropped(&self) -> u64 {
        self.lost + self.rate_dropped + self.queue_dropped
    }
}

impl fmt::Display for DirectionSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "received {}, forwarded {}, dropped {} (lost {}, rate queue full {}, delay queue \
             full {}), duplicated {}, reordered {}, delayed {}",
            self.received,
            self.forwarded,
            self.dropped(),
            self.lost,
            self.rate_dropped,
            self.queue_dropped,
            self.duplicated,
            self.reordered,
            self.delayed
        )?;
        if self.discarded_at_stop > 0 {
            write!(f, "; {} still queued at the stop", plural(self.discarded_at_stop, "datagram"))?;
        }
        if self.send_failed > 0 {
            write!(f, "; {} could not be sent", plural(self.send_failed, "datagram"))?;
        }
        if self.tampered > 0 {
            write!(f, "; {} tampered with", plural(self.tampered, "datagram"))?;
        }
        Ok(())
    }
}

/// The counters behind a [`DirectionSummary`]: relaxed atomics, since each is only a tally
/// read at the end (or by a test) and no other memory depends on it.
#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    forwarded: AtomicU64,
    lost: AtomicU64,
    rate_dropped: AtomicU64,
    queue_dropped: AtomicU64,
    duplicated: AtomicU64,
    reordered: AtomicU64,
    delayed: AtomicU64,
    discarded_at_stop: AtomicU64,
    send_failed: AtomicU64,
    tampered: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> DirectionSummary {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        DirectionSummary {
            received: read(&self.received),
            forwarded: read(&self.forwarded),
            lost: read(&self.lost),
            rate_dropped: read(&self.rate_dropped),
            queue_dropped: read(&self.queue_dropped),
            duplicated: read(&self.duplicated),
            reordered: read(&self.reordered),
            delayed: read(&self.delayed),
            discarded_at_stop: read(&self.discarded_at_stop),
            send_failed: read(&self.send_failed),
            tampered: read(&self.tampered),
        }
    }
}

/// What the dice said about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fate {
    /// Dropped by `--loss`.
    pub lost: bool,
    /// Sent twice.
    pub duplicate: bool,
    /// Held back until overtaken.
    pub reorder: bool,
    /// `--delay` plus or minus this datagram's share of `--jitter`.
    pub delay: Duration,
    /// Its payload changed by `--tamper`.
    pub tamper: bool,
}

/// One client's traffic in one direction: its own dice, and what keeps it in order. Owned
/// by the thread that receives that traffic, so it needs no lock.
#[derive(Debug)]
pub struct Flow {
    rng: SplitMix64,
    next_seq: u64,
    last_release: Option<Instant>,
    held: Option<Arc<Packet>>,
}

impl Flow {
    /// The flow of client number `client` (in order of arrival) going `direction`, with dice
    /// derived from `seed`: each flow has its own stream, so one client's traffic never
    /// changes another's fate.
    pub fn new(seed: u64, client: u64, direction: Direction) -> Self {
        let stream = client.wrapping_mul(2).wrapping_add(direction.index() as u64);
        Flow {
            rng: SplitMix64::new(stream_seed(seed, stream)),
            next_seq: 1,
            last_release: None,
            held: None,
        }
    }

    /// Rolls the dice for the next datagram: always four draws, whatever they say (and a
    /// fifth with `--tamper`).
    pub fn roll(&mut self, impairment: &Impairment) -> Fate {
        let lost = self.rng.chance(impairment.loss.fraction());
        let duplicate = self.rng.chance(impairment.duplicate.fraction());
        let reorder = self.rng.chance(impairment.reorder.fraction());
        let jitter = nanos(impairment.jitter);
        let offset = self.rng.below(jitter.saturating_mul(2).saturating_add(1));
        let delay = nanos(impairment.delay).saturating_add(offset).saturating_sub(jitter);
        let tamper = !impairment.tamper.is_zero() && self.rng.chance(impairment.tamper.fraction());
        Fate { lost, duplicate, reorder, delay: Duration::from_nanos(delay), tamper }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// How many bytes of a client's reply budget its thread takes at a time (see
/// [`Pipe::with_reply_guard`]): small next to what a host may be sent, large next to one
/// reply.
pub const PREPAID_BYTES: usize = 4096;

/// A datagram waiting in the delay queue.
#[derive(Debug)]
pub struct Packet {
    data: Box<[u8]>,
    client: Arc<Client>,
    /// Its place in its flow (1, 2, 3...): a packet sent after a higher one was reordered.
    seq: u64,
    /// Its number and arrival time, when `--capture` or `--diagram` records the run.
    seen: Option<(u64, Instant)>,
    /// The original, or the second copy `--duplicate` made.
    copy: Copy,
    /// Set by whoever sends it or discards it: a held-back packet is in the queue twice
    /// (at its deadline, and right behind the packet that overtakes it), and goes once.
    claimed: AtomicBool,
}

struct Scheduled {
    release: Instant,
    /// Ties (the same release time) go in the order they were scheduled.
    order: u64,
    packet: Arc<Packet>,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (self.release, self.order).cmp(&(other.release, other.order))
    }
}

#[derive(Default)]
struct Queue {
    /// The delay queue, earliest first.
    heap: BinaryHeap<Reverse<Scheduled>>,
    /// Bytes in `heap`.
    bytes: u64,
    next_order: u64,
    /// When the rate-limited link has finished sending what it has been given.
    link_free_at: Option<Instant>,
    /// When each datagram still on the rate-limited link will have left it.
    on_link: VecDeque<Instant>,
}

impl Queue {
    fn push(&mut self, release: Instant, packet: Arc<Packet>) {
        self.bytes += packet.data.len() as u64;
        let order = self.next_order;
        self.next_order += 1;
        self.heap.push(Reverse(Scheduled { release, order, packet }));
    }
}

/// How big the queues of one direction may grow.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// `--rate-queue`.
    pub rate_queue: usize,
    /// `--max-delayed`.
    pub max_delayed: usize,
    /// `--max-delayed-bytes`.
    pub max_delayed_bytes: u64,
    /// `--reorder-hold`.
    pub reorder_hold: Duration,
}

/// One direction of the link.
pub struct Pipe {
    direction: Direction,
    impairment: Impairment,
    bounds: Bounds,
    /// The relay's listening socket: downstream datagrams leave through it.
    listen: Arc<UdpSocket>,
    counters: Counters,
    queue: Mutex<Queue>,
    due: Condvar,
    log: Log,
    rate_full: Throttle,
    delay_full: Throttle,
    send_failed: Throttle,
    /// Where `--capture` and `--diagram` hear what happened to each datagram.
    wire: Option<Arc<Wire>>,
    /// Server -> client only: the reply rule's byte budget for each client (see
    /// [`Pipe::with_reply_guard`]).
    reply_guard: Option<Arc<Mutex<ReplyGuard>>>,
    refused: Throttle,
}

impl Pipe {
    /// Sends nothing to a client beyond what `guard` allows (the byte budget: no more than
    /// 3x what the client's network sent), so the relay amplifies no more than a server
    /// may, duplicates included.
    pub fn with_reply_guard(mut self, guard: Arc<Mutex<ReplyGuard>>) -> Self {
        self.reply_guard = Some(guard);
        self
    }

    /// Whether the reply rule lets `len` bytes go to `client` (always, without a guard).
    /// The bytes come from what the client's reply thread took of the budget ahead of time
    /// ([`PREPAID_BYTES`] at a time, never more than the budget has), so the guard, shared
    /// with the receiving thread, is locked about once per [`PREPAID_BYTES`], not once per
    /// datagram.
    fn may_send(&self, client: &Client, len: usize) -> bool {
        let Some(guard) = &self.reply_guard else { return true };
        let len64 = u64::try_from(len).unwrap_or(u64::MAX);
        let paid = client.prepaid.fetch_update(Ordering::AcqRel, Ordering::Acquire, |prepaid| {
            prepaid.checked_sub(len64)
        });
        if paid.is_ok() {
            return true;
        }
        let to = client.addr;
        let verdict = guard.lock().unwrap_or_else(PoisonError::into_inner).spend_ahead(
            to,
            len,
            PREPAID_BYTES,
        );
        match verdict {
            Ok(taken) => {
                let left = u64::try_from(taken.saturating_sub(len)).unwrap_or(0);
                client.prepaid.fetch_add(left, Ordering::AcqRel);
                true
            }
            Err(refusal) => {
                self.refused.warn(&self.log, || format!("not relaying to {to}: {refusal}"));
                false
            }
        }
    }

    /// A direction that does `impairment` within `bounds`.
    pub fn new(
        direction: Direction,
        impairment: Impairment,
        bounds: Bounds,
        listen: Arc<UdpSocket>,
        log: Log,
        wire: Option<Arc<Wire>>,
    ) -> Self {
        Pipe {
            direction,
            impairment,
            bounds,
            listen,
            counters: Counters::default(),
            queue: Mutex::new(Queue::default()),
            due: Condvar::new(),
            log,
            rate_full: Throttle::new(),
            delay_full: Throttle::new(),
            send_failed: Throttle::new(),
            wire,
            reply_guard: None,
            refused: Throttle::new(),
        }
    }

    /// Which way this pipe carries datagrams.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// What this direction does.
    pub fn impairment(&self) -> &Impairment {
        &self.impairment
    }

    /// The counts so far.
    pub fn summary(&self) -> DirectionSummary {
        self.counters.snapshot()
    }

    /// Whether this direction needs its sending thread ([`Pipe::run`]).
    pub fn needs_scheduler(&self) -> bool {
        !self.impairment.is_immediate()
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one datagram of `flow` (from or to `client`) through the link.
    pub fn carry(&self, data: &[u8], client: &Arc<Client>, flow: &mut Flow) {
        bump(&self.counters.received);
        let fate = flow.roll(&self.impairment);
        let seen = self.wire.as_ref().map(|wire| (wire.next_id(), Instant::now()));
        if fate.lost {
            bump(&self.counters.lost);
            self.report_arrival(seen, data, client, Verdict::Lost);
            return;
        }
        let changed;
        let data = if fate.tamper {
            bump(&self.counters.tampered);
            changed = crate::tamper::tamper(data);
            &changed[..]
        } else {
            data
        };
        if self.impairment.is_immediate() {
            let verdict =
                Verdict::Passed { delay: Duration::ZERO, duplicate: fate.duplicate, held: false };
            self.report_arrival(seen, data, client, verdict);
            // Nothing can delay it: send it from this thread, now.
            self.send(data, client, leaving(seen, Copy::Original, false));
            if fate.duplicate {
                bump(&self.counters.duplicated);
                self.send(data, client, leaving(seen, Copy::Duplicate, false));
            }
            return;
        }
        let verdict = self.schedule(data, client, flow, fate, seen);
        self.report_arrival(seen, data, client, verdict);
    }

    /// Tells `--capture`/`--diagram` (if given) what the link decided about a datagram.
    fn report_arrival(
        &self,
        seen: Option<(u64, Instant)>,
        data: &[u8],
        client: &Client,
        verdict: Verdict,
    ) {
        if let (Some(wire), Some(seen)) = (&self.wire, seen) {
            wire.arrived(seen, self.way(), (client.addr, client.upstream_addr), data, verdict);
        }
    }

    fn way(&self) -> Way {
        match self.direction {
            Direction::Up => Way::Up,
            Direction::Down => Way::Down,
        }
    }

    fn schedule(
        &self,
        data: &[u8],
        client: &Arc<Client>,
        flow: &mut Flow,
        fate: Fate,
        seen: Option<(u64, Instant)>,
    ) -> Verdict {
        let seq = flow.next_seq;
        flow.next_seq += 1;
        let hold = fate.reorder && flow.held.is_none();
        let copies: u64 = if fate.duplicate && !hold { 2 } else { 1 };
        let now = Instant::now();
        let mut queue = self.lock();
        let earliest = queue.heap.peek().map(|Reverse(next)| next.release);

        // The delay queue's bounds, checked first: a datagram dropped here takes no link time.
        let waiting = queue.heap.len() as u64 + copies;
        let bytes = queue.bytes + copies * data.len() as u64;
        if waiting > self.bounds.max_delayed as u64 || bytes > self.bounds.max_delayed_bytes {
            drop(queue);
            bump(&self.counters.queue_dropped);
            self.delay_full.warn(&self.log, || {
                format!(
                    "delay queue full ({}: --max-delayed {}, --max-delayed-bytes {}), datagram \
                     dropped",
                    self.direction.label(),
                    self.bounds.max_delayed,
                    self.bounds.max_delayed_bytes
                )
            });
            return Verdict::DelayQueueFull;
        }

        // The rate-limited link: the datagram leaves when the ones before it have, plus its
        // own transmission time; if too many already wait, it is dropped.
        let mut departure = now;
        if self.impairment.rate.bytes_per_second().is_some() {
            while queue.on_link.front().is_some_and(|&left| left <= now) {
                queue.on_link.pop_front();
            }
            if queue.on_link.len() >= self.bounds.rate_queue {
                drop(queue);
                bump(&self.counters.rate_dropped);
                self.rate_full.warn(&self.log, || {
                    format!(
                        "rate queue full ({}: --rate {}, --rate-queue {}), datagram dropped",
                        self.direction.label(),
                        self.impairment.rate,
                        self.bounds.rate_queue
                    )
                });
                return Verdict::RateQueueFull;
            }
            let start = queue.link_free_at.map_or(now, |free| free.max(now));
            departure = start + self.impairment.rate.transmission_time(data.len());
            queue.link_free_at = Some(departure);
            queue.on_link.push_back(departure);
        }

        if !fate.delay.is_zero() {
            bump(&self.counters.delayed);
        }
        // Never before a datagram of the same flow that arrived earlier.
        let release = flow
            .last_release
            .map_or(departure + fate.delay, |last| (departure + fate.delay).max(last));
        let packet = Arc::new(Packet {
            data: data.into(),
            client: Arc::clone(client),
            seq,
            seen,
            copy: Copy::Original,
            claimed: AtomicBool::new(false),
        });
        if hold {
            // Held back: it goes right behind the next datagram of this flow, or at its
            // deadline if none comes.
            queue.push(release + self.bounds.reorder_hold, Arc::clone(&packet));
            flow.held = Some(packet);
        } else {
            flow.last_release = Some(release);
            if copies == 2 {
                let copy = Arc::new(Packet {
                    data: packet.data.clone(),
                    client: Arc::clone(client),
                    seq,
                    seen,
                    copy: Copy::Duplicate,
                    claimed: AtomicBool::new(false),
                });
                queue.push(release, packet);
                queue.push(release, copy);
                bump(&self.counters.duplicated);
            } else {
                queue.push(release, packet);
            }
            // The held-back datagram, if any, goes right behind this one: overtaken.
            if let Some(held) = flow.held.take() {
                if !held.claimed.load(Ordering::Acquire) {
                    queue.push(release, held);
                }
            }
        }
        drop(queue);
        // Wake the sending thread only if it now has something earlier to wait for (it
        // sleeps until the earliest release): a wake-up is a system call.
        if earliest.is_none_or(|earliest| release < earliest) {
            self.due.notify_one();
        }
        Verdict::Passed { delay: fate.delay, duplicate: copies == 2, held: hold }
    }

    /// The direction's sending thread: sends each queued datagram when it is due, until
    /// `shutdown`; then counts what is left as discarded.
    pub fn run(&self, shutdown: &Shutdown) {
        let mut due = Vec::with_capacity(64);
        loop {
            {
                let mut queue = self.lock();
                loop {
                    if shutdown.is_requested() {
                        drop(queue);
                        self.discard_queued();
                        return;
                    }
                    let now = Instant::now();
                    while due.len() < 64
                        && queue.heap.peek().is_some_and(|Reverse(next)| next.release <= now)
                    {
                        if let Some(Reverse(next)) = queue.heap.pop() {
                            queue.bytes = queue.bytes.saturating_sub(next.packet.data.len() as u64);
                            due.push(next.packet);
                        }
                    }
                    if !due.is_empty() {
                        break;
                    }
                    // Sleep until the next one is due, but look up at least every
                    // POLL_INTERVAL to see whether the relay is stopping.
                    let wait = queue.heap.peek().map_or(POLL_INTERVAL, |Reverse(next)| {
                        next.release.saturating_duration_since(now).min(POLL_INTERVAL)
                    });
                    queue = match self.due.wait_timeout(queue, wait) {
                        Ok((queue, _)) => queue,
                        Err(poisoned) => poisoned.into_inner().0,
                    };
                }
            }
            for packet in due.drain(..) {
                self.deliver(&packet);
            }
        }
    }

    fn deliver(&self, packet: &Packet) {
        if packet.claimed.swap(true, Ordering::AcqRel) {
            return; // a held-back packet already sent through its other queue entry
        }
        // Only this thread writes the flow's highest sequence sent in this direction.
        let highest = &packet.client.highest_sent[self.direction.index()];
        let reordered = packet.seq < highest.load(Ordering::Relaxed);
        if reordered {
            bump(&self.counters.reordered);
        } else {
            highest.store(packet.seq, Ordering::Relaxed);
        }
        self.send(&packet.data, &packet.client, leaving(packet.seen, packet.copy, reordered));
    }

    /// Counts every datagram still queued as discarded, and empties the queue.
    pub fn discard_queued(&self) {
        let heap = {
            let mut queue = self.lock();
            queue.bytes = 0;
            std::mem::take(&mut queue.heap)
        };
        for Reverse(entry) in heap {
            if !entry.packet.claimed.swap(true, Ordering::AcqRel) {
                bump(&self.counters.discarded_at_stop);
            }
        }
    }

    fn send(&self, data: &[u8], client: &Client, leaving: Option<Leaving>) {
        // The moment it leaves is taken before the send: a reply can arrive (and be
        // recorded) before this thread gets back from the system call.
        let leaving = leaving.map(|leaving| (leaving, Instant::now()));
        let sent = match self.direction {
            Direction::Up => client.upstream.send(data),
            Direction::Down if !self.may_send(client, data.len()) => return,
            Direction::Down => self.listen.send_to(data, client.addr),
        };
        match sent {
            Ok(_) => {
                bump(&self.counters.forwarded);
                if let (Some(wire), Some((leaving, at))) = (&self.wire, leaving) {
                    let ends = (client.addr, client.upstream_addr);
                    wire.left((leaving, at), self.way(), ends, data);
                }
            }
            Err(error) => {
                bump(&self.counters.send_failed);
                self.send_failed.warn(&self.log, || self.send_failure(client, &error));
            }
        }
    }

    fn send_failure(&self, client: &Client, error: &io::Error) -> String {
        let to = match self.direction {
            Direction::Up => "the server".to_string(),
            Direction::Down => format!("client {}", client.addr),
        };
        format!(
            "could not forward a datagram ({}) to {to}: {}",
            self.direction.label(),
            describe_io_error(error)
        )
    }
}

/// How a copy leaves, for `--capture`/`--diagram` (`None` when neither records the run).
fn leaving(seen: Option<(u64, Instant)>, copy: Copy, reordered: bool) -> Option<Leaving> {
    seen.map(|(id, arrived)| Leaving { id, arrived, copy, reordered })
}
