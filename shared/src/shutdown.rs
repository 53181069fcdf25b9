//! Stopping a server cleanly: a stop signal shared by every thread of a program.
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
//! The binaries connect it to Ctrl-C with [`crate::ctrl_c`]; tests call
//! [`Shutdown::request`] directly (a process may install only one Ctrl-C handler).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often a blocked server looks up to see whether it should stop.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

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
    fn sleeping_after_a_request_returns_at_once() {
        let shutdown = Shutdown::new();
        shutdown.request();
        assert!(!shutdown.sleep(Duration::from_secs(60)));
    }
}
