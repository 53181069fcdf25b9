//! Running a load: the clients' threads, the gate that starts them together, and each
//! client's loop.

use std::io;
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread;
use std::time::Instant;

use super::{Exchange, Histogram, LoadPlan, LoadSummary, Outcome, Strays, Timeline};
use crate::error::{Error, Result, describe_io_error};
use crate::shutdown::Shutdown;

/// A client gives up after this many lost replies in a row.
pub const MAX_LOST_IN_A_ROW: u32 = 5;

/// Stack size of a load client's thread: a client loop needs little, and small stacks let
/// thousands of clients run at once.
const CLIENT_STACK_SIZE: usize = 128 * 1024;

/// Runs `plan.clients` clients, each made by `connect(client_number)`, and sums up.
///
/// Every client connects first; only when all have connected (or failed to) does the clock
/// start and do they all begin sending, so the figures measure requests, not connection
/// set-up, and a TCP server really holds `plan.clients` connections at once.
/// Stops early, with the counts so far, when `shutdown` is requested.
pub fn run<E, F>(plan: &LoadPlan, shutdown: &Shutdown, connect: F) -> Result<LoadSummary>
where
    F: Fn(u32) -> Result<E> + Sync,
    E: Exchange,
{
    run_with(plan, shutdown, |number, _| connect(number), WaitsEndedBy::CtrlC)
}

/// [`run`], with `connect(client_number, stop)` given the run's own stop: requested at the
/// run's deadline as well as by `shutdown`. An exchange that waits on `stop` ends its wait
/// when the run is over, instead of overrunning `--duration` by up to `--timeout`; such a
/// request is counted as unanswered at the end, neither lost nor answered.
pub fn run_until_stopped<E, F>(
    plan: &LoadPlan,
    shutdown: &Shutdown,
    connect: F,
) -> Result<LoadSummary>
where
    F: Fn(u32, &Shutdown) -> Result<E> + Sync,
    E: Exchange,
{
    run_with(plan, shutdown, connect, WaitsEndedBy::TheRunsEnd)
}

/// What can cut an exchange's wait short, so that a loss after it is no loss.
#[derive(Clone, Copy)]
enum WaitsEndedBy {
    /// Only Ctrl-C: the exchanges do not see the run's own stop ([`run`]).
    CtrlC,
    /// The run's stop, at its deadline or on Ctrl-C ([`run_until_stopped`]).
    TheRunsEnd,
}

fn run_with<E, F>(
    plan: &LoadPlan,
    shutdown: &Shutdown,
    connect: F,
    waits_ended_by: WaitsEndedBy,
) -> Result<LoadSummary>
where
    F: Fn(u32, &Shutdown) -> Result<E> + Sync,
    E: Exchange,
{
    let connect = &connect;
    let gate = &StartGate::default();
    let stop = &Shutdown::new();
    let ctrl_c_stops_the_run = stop.clone();
    shutdown.on_request(move || ctrl_c_stops_the_run.request());
    // Counted per tenth of a second only when --csv or --chart asks for it.
    let timeline = plan.pictures.is_requested().then(|| Timeline::new(plan.duration));
    let timeline = timeline.as_ref();
    let setting_up = Instant::now();
    let (tallies, started, spawn_error) = thread::scope(|scope| {
        // The run's clock: from the moment the gate opens, the deadline requests the stop.
        // (Without this thread, if it cannot start, each client still checks the deadline
        // between requests.)
        let _ = thread::Builder::new().name("load-deadline".into()).spawn_scoped(scope, || {
            let deadline = gate.wait_until_open() + plan.duration;
            stop.sleep(deadline.saturating_duration_since(Instant::now()));
            stop.request();
        });
        let mut clients = Vec::new();
        let mut spawn_error = None;
        for number in 0..plan.clients {
            let spawned = thread::Builder::new()
                .name(format!("load-client-{number}"))
                .stack_size(CLIENT_STACK_SIZE)
                .spawn_scoped(scope, move || {
                    // The ticket counts this client as arrived even if `connect` panics, so
                    // the others are never left waiting at the gate for it.
                    let ticket = gate.ticket();
                    let client = connect(number, stop);
                    let started = ticket.arrive_and_wait();
                    let cut_short_by = match waits_ended_by {
                        WaitsEndedBy::CtrlC => shutdown,
                        WaitsEndedBy::TheRunsEnd => stop,
                    };
                    match client {
                        Ok(client) => run_client(
                            client,
                            plan,
                            (started, started + plan.duration),
                            (stop, cut_short_by),
                            timeline,
                        ),
                        Err(error) => Tally::failed(error.to_string()),
                    }
                });
            match spawned {
                Ok(handle) => clients.push(handle),
                Err(error) => {
                    // Out of threads: the clients already started will stop at once.
                    shutdown.request();
                    spawn_error =
                        Some(Error::io(format!("cannot start load client {number}"), error));
                    break;
                }
            }
        }
        // Open the gate for the clients that exist, or they would wait forever.
        let started = gate.open_when_all_arrived(clients.len());
        let tallies: Vec<Tally> = clients
            .into_iter()
            .map(|client| {
                client.join().unwrap_or_else(|_| Tally::failed("the client thread panicked".into()))
            })
            .collect();
        stop.request(); // a run that ended by its --count: the clock's thread may go too
        (tallies, started, spawn_error)
    });
    if let Some(error) = spawn_error {
        return Err(error);
    }
    let mut summary = LoadSummary {
        clients: plan.clients,
        connecting: started - setting_up,
        elapsed: started.elapsed(),
        interrupted: shutdown.is_requested(),
        ..LoadSummary::default()
    };
    for tally in tallies {
        summary.add(tally);
    }
    if let Some(timeline) = timeline {
        summary.timeline = timeline.counts();
        plan.pictures.write(&summary)?;
    }
    Ok(summary)
}

/// Holds the load clients back until all of them have connected, then lets them go at once.
#[derive(Default)]
struct StartGate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    arrived: usize,
    /// Set when the gate opens: the moment the run starts.
    opened_at: Option<Instant>,
}

/// A client's place at the gate: it arrives when it calls
/// [`arrive_and_wait`](Ticket::arrive_and_wait), or when it is dropped without doing so.
struct Ticket<'a> {
    gate: &'a StartGate,
    arrived: bool,
}

impl Ticket<'_> {
    /// The client is ready; waits for the gate to open and returns when it did.
    fn arrive_and_wait(mut self) -> Instant {
        self.arrived = true;
        self.gate.arrive_and_wait()
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if !self.arrived {
            self.gate.arrive();
        }
    }
}

impl StartGate {
    fn ticket(&self) -> Ticket<'_> {
        Ticket { gate: self, arrived: false }
    }

    /// Counts one client as arrived, without waiting.
    fn arrive(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.arrived += 1;
        self.changed.notify_all();
    }

    /// A client is ready; waits for the gate to open and returns when it did.
    fn arrive_and_wait(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.arrived += 1;
        self.changed.notify_all();
        loop {
            if let Some(opened_at) = state.opened_at {
                return opened_at;
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits, without arriving, until the gate opens; returns when it did.
    fn wait_until_open(&self) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(opened_at) = state.opened_at {
                return opened_at;
            }
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Waits until `clients` clients have arrived, then opens the gate.
    fn open_when_all_arrived(&self, clients: usize) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.arrived < clients {
            state = self.changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        let now = Instant::now();
        state.opened_at = Some(now);
        self.changed.notify_all();
        now
    }
}

/// What one client counted.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) requests: u64,
    pub(super) correct: u64,
    pub(super) wrong: u64,
    pub(super) lost: u64,
    pub(super) latency: Histogram,
    pub(super) error: Option<String>,
    pub(super) strays: Strays,
    /// Requests still waiting for their reply when the run ended (by its deadline or a stop).
    pub(super) unanswered: u64,
}

impl Tally {
    fn failed(error: String) -> Self {
        Tally { error: Some(error), ..Tally::default() }
    }
}

/// One client's loop: request, judge, repeat until the deadline, the count or a stop
/// (`stop`: the run's end or Ctrl-C). A loss once `cut_short_by` is requested is a wait it
/// cut short: counted as unanswered, not lost.
fn run_client(
    mut client: impl Exchange,
    plan: &LoadPlan,
    (started, deadline): (Instant, Instant),
    (stop, cut_short_by): (&Shutdown, &Shutdown),
    timeline: Option<&Timeline>,
) -> Tally {
    let mut tally = Tally::default();
    let mut lost_in_a_row = 0;
    while !stop.is_requested()
        && Instant::now() < deadline
        && plan.count.is_none_or(|count| tally.requests < count)
    {
        let sent = Instant::now();
        let outcome = match client.exchange(tally.requests) {
            Ok(outcome) => outcome,
            // A wait that the stop interrupted; any other error is the client's failure.
            Err(error)
                if error.kind() == io::ErrorKind::Interrupted && cut_short_by.is_requested() =>
            {
                Outcome::Lost
            }
            Err(error) => {
                tally.error = Some(describe_io_error(&error));
                break;
            }
        };
        if outcome == Outcome::Lost && cut_short_by.is_requested() {
            // The run ended while this request waited: not lost, we stopped waiting.
            tally.unanswered += 1;
            break;
        }
        tally.requests += 1;
        let latency = sent.elapsed();
        if let Some(timeline) = timeline {
            timeline.record(sent.saturating_duration_since(started), outcome, latency);
        }
        match outcome {
            Outcome::Correct => {
                tally.correct += 1;
                tally.latency.record(latency);
            }
            Outcome::Wrong => tally.wrong += 1,
            Outcome::Lost => tally.lost += 1,
        }
        lost_in_a_row = if outcome == Outcome::Lost { lost_in_a_row + 1 } else { 0 };
        if lost_in_a_row == MAX_LOST_IN_A_ROW {
            // A server that has stopped answering would otherwise cost `--timeout` per
            // request for the rest of the run.
            tally.error = Some(format!(
                "{MAX_LOST_IN_A_ROW} replies in a row were lost: is the server still running?"
            ));
            break;
        }
    }
    tally.strays = client.strays();
    tally
}
