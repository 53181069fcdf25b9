//! A fixed pool of worker threads, fed through a bounded queue.
//!
//! This is the thread pool of the Rust Book's web server chapter, with two changes for a
//! server on a network:
//!
//! - **The queue is bounded.** `crossbeam_channel::bounded(n)` holds at most `n` jobs. When
//!   datagrams arrive faster than the workers handle them, [`WorkerPool::submit`] does not
//!   wait and does not grow the queue: it hands the job back, and the server drops the
//!   datagram and counts it. (That is what the kernel does with a full socket buffer too:
//!   UDP promises nothing.)
//! - **The receiving side can be shared.** A crossbeam receiver can be cloned, so every worker
//!   takes jobs from the same queue without the `Mutex` the Book wraps around std's receiver.
//!
//! Shutdown works as in the Book, through `Drop`: dropping the pool drops the sending side
//! of the queue; each worker's `for job in receiver` loop ends once the queue is empty and
//! closed; and `Drop` joins every worker. Jobs still queued when a stop is requested are
//! discarded (counted), not handled, so that stopping never waits for a full queue of work:
//! only a job a worker has already started is finished.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use shared::error::{Error, Result};
use shared::shutdown::Shutdown;

use crate::handler::Handler;

/// Stack size of a worker: handling a datagram needs little.
const WORKER_STACK: usize = 128 * 1024;

/// One datagram to handle.
pub struct Job {
    /// The datagram's bytes (copied out of the receive buffer).
    pub data: Vec<u8>,
    /// Who sent it.
    pub client: SocketAddr,
}

/// Worker threads and the queue that feeds them. Dropping it stops and joins the workers.
pub struct WorkerPool {
    /// The sending side of the queue; `None` once `Drop` has closed it.
    queue: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `size` workers (named `worker-0`, `worker-1`, ...) that handle jobs with
    /// `handler`, fed by a queue of at most `capacity` jobs.
    pub fn new(
        size: usize,
        capacity: usize,
        handler: &Arc<Handler>,
        shutdown: &Shutdown,
    ) -> Result<WorkerPool> {
        let (sender, receiver) = crossbeam_channel::bounded::<Job>(capacity);
        // Built up one worker at a time, so that if one cannot start, dropping `pool` on
        // the way out still closes the queue and joins the ones that did.
        let mut pool = WorkerPool { queue: Some(sender), workers: Vec::with_capacity(size) };
        for id in 0..size {
            let receiver = receiver.clone();
            let handler = Arc::clone(handler);
            let shutdown = shutdown.clone();
            let worker = thread::Builder::new()
                .name(format!("worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn(move || work(&receiver, &handler, &shutdown));
            match worker {
                Ok(worker) => pool.workers.push(worker),
                Err(error) => return Err(Error::io(format!("cannot start worker {id}"), error)),
            }
        }
        Ok(pool)
    }

    /// Queues `job` for a worker. If the queue is full, gives the job back at once instead
    /// of waiting: the caller decides (the server drops the datagram).
    pub fn submit(&self, job: Job) -> std::result::Result<(), Job> {
        let Some(queue) = &self.queue else { return Err(job) };
        queue.try_send(job).map_err(|error| match error {
            TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
        })
    }
}

/// A worker's life: take jobs from the queue and handle them, until the queue is closed and
/// empty. Jobs taken after a stop was requested are counted as discarded, not handled.
fn work(queue: &Receiver<Job>, handler: &Handler, shutdown: &Shutdown) {
    // BEGIN SOLUTION: take jobs from the queue until it is closed (a for loop over the receiver ends then); after a stop request count them in handler.stats.discarded_at_shutdown instead of handling them
    for job in queue {
        if shutdown.is_requested() {
            handler.stats.discarded_at_shutdown.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        handler.handle(&job.data, job.client);
    }
    // END SOLUTION
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        // Closing the queue tells each worker to finish once it is empty.
        drop(self.queue.take());
        for worker in self.workers.drain(..) {
            // A worker that panicked has nothing left to clean up; the others are joined.
            let _ = worker.join();
        }
    }
}
