//! One direction of the bad link: the dice, the rate queue, the delay queue, and the thread
//! that sends each datagram when it is due.
//!
//! A datagram that arrives at the relay goes through these steps, in this order (the order
//! of a real path: lost on the wire, queued at a slow router, then carried across):
//!
//! 1. **The dice** ([`Flow::roll`], in [`crate::flow`]): lost? duplicated? picked for reordering? how much
//!    jitter? Four numbers are drawn for every datagram, whatever the answers, so the same
//!    `--seed` gives the same fate to the same datagram even when other flags change.
//! 2. **Loss**: a lost datagram is counted and forgotten. Nobody is told; UDP has no
//!    acknowledgements. That is why the clients need `--timeout`.
//! 3. **The rate queue** (`--rate`, [`crate::queue`]): a link of R bytes/s needs `len / R` seconds per
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

use std::cmp::Reverse;
use std::io;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use shared::error::describe_io_error;
use shared::log::Log;
use shared::reply::ReplyGuard;
use shared::shutdown::{POLL_INTERVAL, Shutdown};

use crate::args::Impairment;
use crate::budget::ReplyBudget;
use crate::client::Client;
use crate::direction::Direction;
use crate::flow::{Fate, Flow};
use crate::queue::{Bounds, Packet, Queue};
use crate::summary::{Counters, DirectionSummary, bump};
use crate::throttle::Throttle;
use crate::verdict::{Copy, Leaving, Verdict, Way};
use crate::wire::Wire;

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
    budget: Option<ReplyBudget>,
}

impl Pipe {
    /// Sends nothing to a client beyond what `guard` allows (the byte budget: no more than
    /// 3x what the client's network sent), so the relay amplifies no more than a server
    /// may, duplicates included.
    pub fn with_reply_guard(mut self, guard: Arc<Mutex<ReplyGuard>>) -> Self {
        self.budget = Some(ReplyBudget::new(guard));
        self
    }

    /// Whether the reply rule lets `len` bytes go to `client` (always, without a guard).
    fn may_send(&self, client: &Client, len: usize) -> bool {
        self.budget.as_ref().is_none_or(|budget| budget.may_send(&self.log, client, len))
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
            budget: None,
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
