//! The clients' load mode: many clients at once, and one line that says how it went.
//!
//! `client --clients 16 --duration 5` starts 16 clients, each on its own thread with its
//! own socket. Each one sends a request, waits for the reply, checks it, and sends the next,
//! until the time is up (or `--count` requests are sent, or Ctrl-C). Then one line sums up:
//!
//! ```text
//! 16 clients, 5.0 s: 204113 requests, 204113 replies, 0 lost, 0 wrong, 40822 requests/s (fewest replies to one client: 12391), latency p50 0.361 ms, p99 0.812 ms, max 3.954 ms
//! ```
//!
//! - **replies** are correct replies; **wrong** ones came back but were not what the request
//!   should get; **lost** ones never came back within `--timeout` (UDP may drop datagrams).
//!   UDP may also duplicate and reorder datagrams: a reply that comes twice, or after its
//!   request was given up as lost, is skipped and counted, `(3 duplicated, 2 late)`, when it
//!   happens (neither is an error).
//! - The run's time starts when every client has connected; when that took a while (thousands
//!   of TCP connections), the line says how long, e.g. `10000 clients (connected in 3.2 s)`.
//! - **requests/s** counts every request sent, over the whole run; the **fewest replies**
//!   any one client got shows whether the server was fair (a starved client would have
//!   far fewer than the average).
//! - **latency** is measured from just before sending to just after the reply arrived, for
//!   correct replies: p50 is the median, p99 the value 99% of requests beat.
//!
//! Run it against a server that handles one request at a time and against one with threads,
//! and the difference shows in numbers. It is also this project's benchmark
//! (`BENCHMARKS.md`).
//!
//! A module supplies only what one request is ([`Exchange`]); for request/reply over UDP,
//! [`UdpExchange`] is ready-made.
//!
//! | file | what it holds |
//! |---|---|
//! | `args.rs` | [`LoadArgs`], the flags (`--clients`, `--duration`, ...), and [`LoadPlan`], the run they describe |
//! | `exchange.rs` | [`Exchange`]: what one request is, and its [`Outcome`] |
//! | `runner.rs` | [`run`]: the clients' threads, the start gate, each client's loop (it gives up after [`MAX_LOST_IN_A_ROW`] losses) |
//! | `summary.rs` | [`LoadSummary`]: the counts and the one summary line |
//! | `histogram.rs` | [`Histogram`]: latency percentiles in little memory |
//! | `udp.rs` | [`UdpExchange`] and [`run_udp`]: request/reply over UDP |
//! | `timeline.rs` | [`Timeline`]: the run counted per tenth of a second, for the pictures |
//! | `pictures.rs` | `--csv` and `--chart`: the run over time, and its latency spread |
//! | `sweep_chart.rs` | [`sweep_chart`]: a benchmark's figure over several runs |

mod args;
mod exchange;
mod histogram;
mod pictures;
mod runner;
mod summary;
mod sweep_chart;
mod timeline;
mod udp;

#[cfg(test)]
mod tests;

pub use args::{DEFAULT_DURATION, LoadArgs, LoadPlan, MAX_CLIENTS, MAX_DURATION};
pub use exchange::{Exchange, Outcome, Strays};
pub use histogram::Histogram;
pub use pictures::Pictures;
pub use runner::{MAX_LOST_IN_A_ROW, run, run_until_stopped};
pub use summary::LoadSummary;
pub use sweep_chart::{Sweep, sweep_chart};
pub use timeline::{SlotCounts, Timeline};
pub use udp::{Request, UdpExchange, run_udp};
