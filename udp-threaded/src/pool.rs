//! A fixed pool of worker threads, fed through a bounded queue.
//!
//! This is the thread pool of the Rust Book's web server chapter, with four changes for a
//! server on a network:
//!
//! - **The queue is bounded.** `crossbeam_channel::bounded(n)` holds at most `n` jobs. When
//!   datagrams arrive faster than the workers handle them, [`WorkerPool::submit`] does not
//!   wait and does not grow the queue: it hands the job back, and the server drops the
//!   datagram and counts it. (That is what the kernel does with a full socket buffer too:
//!   UDP promises nothing.)
//! - **Old jobs are dropped.** A job that waited longer than its limit (`--max-queue-ms`)
//!   is not handled: after a flood, answering a queue full of requests whose clients gave up
//!   long ago would keep the next real client waiting for all of them.
//! - **The queue is bounded in bytes too** (`--queue-bytes`): a thousand 64 KiB datagrams
//!   are 64 MiB.
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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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
    /// When it arrived.
    pub received: Instant,
}

/// How much the queue may hold.
#[derive(Debug, Clone, Copy)]
pub struct QueueLimits {
    /// Most jobs waiting.
    pub jobs: usize,
    /// Most bytes of datagrams waiting.
    pub bytes: usize,
    /// A job that waited longer is dropped unhandled.
    pub max_age: Duration,
}

/// Worker threads and the queue that feeds them. Dropping it stops and joins the workers.
pub struct WorkerPool {
    /// The sending side of the queue; `None` once `Drop` has closed it.
    queue: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    /// Bytes of the datagrams in the queue now, shared with the workers.
    queued_bytes: Arc<AtomicUsize>,
    max_bytes: usize,
}

impl WorkerPool {
    /// Starts `size` workers (named `worker-0`, `worker-1`, ...) that handle jobs with
    /// `handler`, fed by a queue that holds what `limits` allow.
    pub fn new(
        size: usize,
        limits: QueueLimits,
        handler: &Arc<Handler>,
        shutdown: &Shutdown,
    ) -> Result<WorkerPool> {
        let (sender, receiver) = crossbeam_channel::bounded::<Job>(limits.jobs);
        // Built up one worker at a time, so that if one cannot start, dropping `pool` on
        // the way out still closes the queue and joins the ones that did.
        let mut pool = WorkerPool {
            queue: Some(sender),
            workers: Vec::with_capacity(size),
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            max_bytes: limits.bytes,
        };
        for id in 0..size {
            let worker = Worker {
                queue: receiver.clone(),
                handler: Arc::clone(handler),
                shutdown: shutdown.clone(),
                queued_bytes: Arc::clone(&pool.queued_bytes),
                max_age: limits.max_age,
            };
            let worker = thread::Builder::new()
                .name(format!("worker-{id}"))
                .stack_size(WORKER_STACK)
                .spawn(move || worker.work());
            match worker {
                Ok(worker) => pool.workers.push(worker),
                Err(error) => return Err(Error::io(format!("cannot start worker {id}"), error)),
            }
        }
        Ok(pool)
    }

    /// Queues `job` for a worker. If the queue is full, gives the job back at once instead
    /// of waiting: the caller decides (the server drops the datagram).
    /// (Also when the queue's bytes would pass the limit.)
    pub fn submit(&self, job: Job) -> std::result::Result<(), Job> {
        let Some(queue) = &self.queue else { return Err(job) };
        let len = job.data.len();
        if self.queued_bytes.fetch_add(len, Ordering::Relaxed) + len > self.max_bytes {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(job);
        }
        queue.try_send(job).map_err(|error| {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            match error {
                TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
            }
        })
    }
}

/// What each worker thread holds.
struct Worker {
    queue: Receiver<Job>,
    handler: Arc<Handler>,
    shutdown: Shutdown,
    queued_bytes: Arc<AtomicUsize>,
    max_age: Duration,
}

impl Worker {
    /// A worker's life: take jobs from the queue and handle them, until the queue is closed
    /// and empty.
    ///
    /// 1. `for job in &self.queue` (the loop ends when the queue is closed and empty); give
    ///    back the job's bytes to `self.queued_bytes` as it leaves the queue.
    /// 2. After a stop request, count each job in `stats.discarded_at_shutdown` instead of
    ///    handling it.
    /// 3. A job older than `self.max_age` is counted in `stats.stale` and skipped.
    /// 4. Otherwise `handler.handle` it.
    fn work(&self) {
        // BEGIN SOLUTION: take jobs from the queue until it is closed and handle each, skipping (and counting) those after a stop and the stale ones (the steps are in the doc comment)
        let stats = &self.handler.stats;
        for job in &self.queue {
            self.queued_bytes.fetch_sub(job.data.len(), Ordering::Relaxed);
            if self.shutdown.is_requested() {
                stats.discarded_at_shutdown.fetch_add(1, Ordering::Relaxed);
            } else if job.received.elapsed() > self.max_age {
                stats.stale.fetch_add(1, Ordering::Relaxed);
            } else {
                self.handler.handle(&job.data, job.client, &self.shutdown);
            }
        }
        // END SOLUTION
    }
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
