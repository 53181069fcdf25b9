//! The reply rule's byte budget on the way down: the relay sends a client's network no more
//! than a server may (3x what that network sent, plus `--reply-allowance`), duplicates
//! included, so that `--duplicate` cannot make it an amplifier.
//!
//! The budget lives in the relay's [`ReplyGuard`], behind a lock shared with the thread that
//! checks what the clients send. Locking it for every reply would put that lock on every
//! datagram's path, so whoever sends a client's replies (its reply thread, or the sending
//! thread of the way down when replies are delayed) takes [`PREPAID_BYTES`] of the client's
//! budget at a time (never more than the budget has) and spends them without the lock.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use shared::log::Log;
use shared::reply::ReplyGuard;

use crate::client::Client;
use crate::throttle::Throttle;

/// How many bytes of a client's reply budget are taken at a time: small next to what a host
/// may be sent, large next to one reply.
pub const PREPAID_BYTES: usize = 4096;

/// What may still go back to each client, and the warning when nothing may.
#[derive(Debug)]
pub struct ReplyBudget {
    guard: Arc<Mutex<ReplyGuard>>,
    refused: Throttle,
}

impl ReplyBudget {
    /// Spends from `guard`'s byte budgets.
    pub fn new(guard: Arc<Mutex<ReplyGuard>>) -> Self {
        ReplyBudget { guard, refused: Throttle::new() }
    }

    /// Whether the reply rule lets `len` bytes go to `client`. The bytes come from what was
    /// taken of the client's budget ahead of time ([`PREPAID_BYTES`] at a time, never more
    /// than the budget has), so the guard is locked about once per [`PREPAID_BYTES`], not
    /// once per datagram. A refusal is warned about on `log` (rate-limited).
    #[inline] // on every reply's path, as when this was part of link.rs
    pub fn may_send(&self, log: &Log, client: &Client, len: usize) -> bool {
        let len64 = u64::try_from(len).unwrap_or(u64::MAX);
        let paid = client.prepaid.fetch_update(Ordering::AcqRel, Ordering::Acquire, |prepaid| {
            prepaid.checked_sub(len64)
        });
        if paid.is_ok() {
            return true;
        }
        let to = client.addr;
        let verdict = self.guard.lock().unwrap_or_else(PoisonError::into_inner).spend_ahead(
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
                self.refused.warn(log, || format!("not relaying to {to}: {refusal}"));
                false
            }
        }
    }
}
