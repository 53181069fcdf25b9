//! What one thread costs: starts and finishes N threads (with the same 64 KiB stack as the
//! thread-per-datagram server's handlers), one after another, and prints the average time
//! per thread. No network, no work: this is the floor under every datagram that mode
//! handles, and the reason a pool, which starts its threads once, is faster.
//!
//! ```text
//! cargo run --release -p udp-threaded --example udp_threaded_spawn_cost -- 20000
//! ```

use std::hint::black_box;
use std::thread;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let threads: u32 =
        std::env::args().nth(1).and_then(|arg| arg.parse().ok()).unwrap_or(20_000).min(1_000_000);
    let started = Instant::now();
    thread::scope(|scope| -> std::io::Result<()> {
        for i in 0..threads {
            // Joined one by one, so that only one thread is ever alive: pure start-up cost.
            let handle = thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn_scoped(scope, move || black_box(i))?;
            let _ = handle.join();
        }
        Ok(())
    })?;
    let each = started.elapsed().as_secs_f64() / f64::from(threads.max(1));
    shared::console::print_line(format_args!(
        "{threads} threads started and joined: {:.1} µs each, at most {:.0} threads/s",
        each * 1e6,
        1.0 / each
    ));
    Ok(())
}
