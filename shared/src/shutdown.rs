//! Stopping a server cleanly: a shared stop signal, and Ctrl-C wired to it.
//!
//! A server spends its life blocked in `recv_from` or `accept`, and std offers no way to
//! cancel a blocked call from another thread. The servers here therefore never block for
//! long: they set a read timeout of [`POLL_INTERVAL`] on their socket, and every time the
//! call returns (with a datagram or with a timeout) they check [`Shutdown::is_requested`].
//! That costs one wake-up per interval when idle and nothing when busy (the timeout is set
//! once, not per call), and it bounds how long a stop takes: well under a second.
//!
//! The alternative is to wake the blocked call: a TCP server blocked in `accept` can connect
//! to itself. [`Shutdown::on_request`] runs such a "waker" the moment a stop is requested.
//! UDP servers here poll (simpler to read, and a datagram to oneself is easily lost among
//! a flood); the TCP server wakes its `accept`, because a connection in the middle of a
//! burst must not wait for the next poll.
//!
//! [`Shutdown`] is a cheap, cloneable handle: give a clone to every thread that must stop.
//! The binaries connect it to Ctrl-C with [`install_ctrl_c`]; tests call
//! [`Shutdown::request`] directly (a process may install only one Ctrl-C handler).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How often a blocked server looks up to see whether it should stop.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Exit status after a second Ctrl-C: 128 + SIGINT, what a shell reports for a process
/// killed by Ctrl-C.
pub const FORCED_EXIT_CODE: i32 = crate::error::INTERRUPTED_EXIT_CODE as i32;

/// How long a client may take to stop after Ctrl-C before it is ended anyway (see
/// [`install_ctrl_c_for_client`]).
pub const CLIENT_STOP_LIMIT: Duration = Duration::from_millis(500);

type Waker = Box<dyn FnOnce() + Send>;

/// A stop signal shared by every thread of a program. Cloning shares the same signal.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<Signal>,
}

#[derive(Default)]
struct Signal {
    requested: AtomicBool,
    /// Run once, when the stop is requested (see [`Shutdown::on_request`]).
    wakers: Mutex<Vec<Waker>>,
    /// Wakes threads sleeping in [`Shutdown::sleep`]; the mutex guards nothing but the wait.
    lock: Mutex<()>,
    wake: Condvar,
}

impl Shutdown {
    /// A new signal, not yet requested.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every holder of this signal to stop. Safe to call many times, from any thread.
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        {
            // Take the lock so that a thread between "checked the flag" and "started
            // waiting" cannot miss the notification.
            let _guard = self.inner.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.inner.wake.notify_all();
        }
        let wakers =
            std::mem::take(&mut *self.inner.wakers.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers {
            waker();
        }
    }

    /// Runs `waker` when a stop is requested (at once, if it already was): for a thread
    /// blocked in a call that only an outside event can end, such as `accept`.
    pub fn on_request(&self, waker: impl FnOnce() + Send + 'static) {
        let mut wakers = self.inner.wakers.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock: `request` sets the flag before taking the wakers, so a
        // waker is either taken by `request` or run here, never lost.
        if self.is_requested() {
            drop(wakers);
            waker();
        } else {
            wakers.push(Box::new(waker));
        }
    }

    /// Whether a stop has been requested.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// Sleeps for `duration`, or less if a stop is requested meanwhile. Returns `true` if
    /// the full time passed, `false` if the sleep was cut short by a stop request.
    /// (Clients pause between messages with this, so Ctrl-C does not wait for the pause.)
    pub fn sleep(&self, duration: Duration) -> bool {
        let deadline = Instant::now() + duration;
        let mut guard = self.inner.lock.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if self.is_requested() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            guard = match self.inner.wake.wait_timeout(guard, deadline - now) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }
}

/// Makes Ctrl-C request `shutdown`, for a server. A second Ctrl-C, for when a stop takes
/// too long, ends the process at once with status [`FORCED_EXIT_CODE`].
pub fn install_ctrl_c(shutdown: &Shutdown) -> Result<()> {
    install(shutdown, None)
}

/// Makes Ctrl-C request `shutdown`, for a client: like [`install_ctrl_c`], and a client still
/// running [`CLIENT_STOP_LIMIT`] after the first Ctrl-C is ended with [`FORCED_EXIT_CODE`]
/// (a client blocked in a wait that the signal did not cut short, as on Windows, must not
/// make the student wait for its `--timeout`).
pub fn install_ctrl_c_for_client(shutdown: &Shutdown) -> Result<()> {
    install(shutdown, Some(CLIENT_STOP_LIMIT))
}

fn install(shutdown: &Shutdown, stop_limit: Option<Duration>) -> Result<()> {
    let shutdown = shutdown.clone();
    ctrlc::set_handler(move || {
        if on_ctrl_c(&shutdown, stop_limit) == Press::Again {
            std::process::exit(FORCED_EXIT_CODE);
        }
    })
    .map_err(|e| Error::msg(format!("cannot install the Ctrl-C handler: {e}")))
}

/// Which Ctrl-C this was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Press {
    First,
    Again,
}

/// What a Ctrl-C does, on the thread that the `ctrlc` crate runs handlers on.
///
/// It must never wait for anything the program's own threads may hold: a program holding
/// the stdout lock (a client writing its output, a server whose log reader has stopped
/// reading) would keep the stop from ever being requested, and every later Ctrl-C would
/// queue up behind the first. So the "Stopping" notice is printed by a thread of its own,
/// which may wait for stdout as long as it likes; the stop is requested once the notice is
/// out (so that it comes before the summary the stop prints), or after [`NOTICE_PATIENCE`]
/// whatever stdout does.
fn on_ctrl_c(shutdown: &Shutdown, stop_limit: Option<Duration>) -> Press {
    on_ctrl_c_with_notice(shutdown, stop_limit, NOTICE_PATIENCE, || {
        // Start a fresh line: the terminal has just echoed "^C" after the last output.
        crate::report::print_line(format_args!("\nStopping (press Ctrl-C again to force)..."));
    })
}

/// How long a Ctrl-C waits for its notice to be printed before requesting the stop anyway
/// (printing takes microseconds; a stdout that nobody reads takes forever).
const NOTICE_PATIENCE: Duration = Duration::from_millis(250);

/// [`on_ctrl_c`], printing the notice with `print_notice` and waiting at most `patience`.
fn on_ctrl_c_with_notice(
    shutdown: &Shutdown,
    stop_limit: Option<Duration>,
    patience: Duration,
    print_notice: impl FnOnce() + Send + 'static,
) -> Press {
    if shutdown.is_requested() {
        return Press::Again;
    }
    let (printed, notice_is_out) = std::sync::mpsc::channel();
    let notice = std::thread::Builder::new().name("ctrl-c-notice".into()).spawn(move || {
        print_notice();
        let _ = printed.send(());
    });
    // If the thread cannot be started, the notice is skipped: the stop matters, not the words.
    if notice.is_ok() {
        let _ = notice_is_out.recv_timeout(patience);
    }
    shutdown.request();
    if let Some(limit) = stop_limit {
        let _ = std::thread::Builder::new().name("ctrl-c-deadline".into()).spawn(move || {
            std::thread::sleep(limit);
            std::process::exit(FORCED_EXIT_CODE);
        });
    }
    Press::First
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn a_new_signal_is_not_requested() {
        assert!(!Shutdown::new().is_requested());
    }

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let shutdown = Shutdown::new();
        let clone = shutdown.clone();
        shutdown.request();
        assert!(clone.is_requested());
        shutdown.request(); // twice is fine
        assert!(clone.is_requested());
    }

    #[test]
    fn sleep_runs_its_full_time_when_nothing_happens() {
        let started = Instant::now();
        assert!(Shutdown::new().sleep(Duration::from_millis(30)));
        assert!(started.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn a_request_cuts_a_sleep_short() {
        let shutdown = Shutdown::new();
        let sleeper = {
            let shutdown = shutdown.clone();
            thread::spawn(move || shutdown.sleep(Duration::from_secs(60)))
        };
        thread::sleep(Duration::from_millis(20));
        shutdown.request();
        // If the request did not wake the sleeper, this join would take a minute and the
        // assertion below would see `true`.
        assert!(!sleeper.join().unwrap(), "the sleep should report it was interrupted");
    }

    #[test]
    fn wakers_run_once_when_the_stop_is_requested() {
        use std::sync::atomic::AtomicU32;
        let shutdown = Shutdown::new();
        let woken = Arc::new(AtomicU32::new(0));
        let counter = Arc::clone(&woken);
        shutdown.on_request(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 0);
        shutdown.request();
        shutdown.request();
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        // Registered after the request: runs at once.
        let counter = Arc::clone(&woken);
        shutdown.on_request(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn ctrl_c_requests_the_stop_even_while_another_thread_holds_stdout() {
        use std::io::Write;
        let shutdown = Shutdown::new();
        let (locked, holding) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let mut stdout = std::io::stdout().lock();
            locked.send(()).unwrap();
            let _ = released.recv_timeout(Duration::from_secs(30));
            let _ = stdout.flush();
        });
        holding.recv().unwrap();
        let started = Instant::now();
        let press = on_ctrl_c(&shutdown, None);
        let took = started.elapsed();
        release.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the first Ctrl-C must request the stop");
        assert!(
            took < Duration::from_millis(500),
            "the handler waited {took:?} for the stdout lock: it must never wait for it"
        );
        assert_eq!(on_ctrl_c(&shutdown, None), Press::Again, "the second Ctrl-C forces the exit");
    }

    #[test]
    fn the_notice_is_out_before_the_stop_is_requested() {
        let shutdown = Shutdown::new();
        let seen_by_the_notice = shutdown.clone();
        let (told, requested_when_printed) = std::sync::mpsc::channel();
        // A patience far longer than any scheduling delay: the order is what is tested.
        let press = on_ctrl_c_with_notice(&shutdown, None, Duration::from_secs(30), move || {
            let _ = told.send(seen_by_the_notice.is_requested());
        });
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the first Ctrl-C must request the stop");
        assert_eq!(
            requested_when_printed.recv_timeout(Duration::from_secs(5)),
            Ok(false),
            "the notice must be printed before the stop is requested, or the summary the \
             stop prints could come first"
        );
    }

    #[test]
    fn a_notice_that_cannot_be_printed_delays_the_stop_only_a_little() {
        let shutdown = Shutdown::new();
        let (_never, stuck) = std::sync::mpsc::channel::<()>();
        let started = Instant::now();
        let press = on_ctrl_c_with_notice(&shutdown, None, NOTICE_PATIENCE, move || {
            let _ = stuck.recv_timeout(Duration::from_secs(30));
        });
        let took = started.elapsed();
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the stop must be requested without the notice");
        assert!(
            took >= NOTICE_PATIENCE && took < Duration::from_secs(5),
            "the stop should wait {NOTICE_PATIENCE:?} for a stuck notice, not {took:?}"
        );
    }

    #[test]
    fn sleeping_after_a_request_returns_at_once() {
        let shutdown = Shutdown::new();
        shutdown.request();
        assert!(!shutdown.sleep(Duration::from_secs(60)));
    }
}
