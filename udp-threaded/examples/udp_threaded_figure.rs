//! Draws the README's figure from `bench/udp-threaded-figure.sh`'s measurements: requests
//! per second and latency of each server mode against `--work-ms`.
//!
//! Reads lines `MODE WORK_MS REQUESTS_PER_S P50_MS P99_MS` on standard input (what the
//! script collects from the load client's summary lines) and writes the SVG to the file
//! named by the first argument. The drawing is `shared::load::sweep_chart` (plotters, SVG
//! backend only).
//!
//! ```text
//! bench/udp-threaded-figure.sh   # runs the servers, then this example
//! ```

use std::io::Read;
use std::process::ExitCode;

use shared::error::print_error;
use shared::load::{Sweep, sweep_chart};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            print_error(&error);
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let path = std::env::args().nth(1).ok_or("usage: udp_threaded_figure OUT.svg < data")?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).map_err(|e| format!("cannot read stdin: {e}"))?;
    let mut sweeps: Vec<Sweep> = Vec::new();
    for line in input.lines().filter(|line| !line.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let numbers: Vec<f64> = fields.iter().skip(1).filter_map(|f| f.parse().ok()).collect();
        let (Some(name), [x, rate, p50, p99]) = (fields.first(), numbers.as_slice()) else {
            return Err(format!(
                "expected 'MODE WORK_MS REQUESTS_PER_S P50_MS P99_MS', got '{line}'"
            ));
        };
        let index = match sweeps.iter().position(|s| s.name == *name) {
            Some(index) => index,
            None => {
                sweeps.push(Sweep { name: (*name).to_string(), points: Vec::new() });
                sweeps.len() - 1
            }
        };
        sweeps[index].points.push((*x, *rate, *p50, *p99));
    }
    for sweep in &mut sweeps {
        sweep.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let svg = sweep_chart(
        "udp-threaded: what threads buy (64 clients, loopback, 2 cores)",
        "--work-ms (simulated work per request)",
        &sweeps,
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(&path, svg).map_err(|e| format!("cannot write {path}: {e}"))
}
