//! `--csv FILE` and `--chart FILE.svg`: what a load run measured, over time.
//!
//! The summary line says how a run went on average; a picture says how it went over time
//! and how latency was spread. Every request is counted in a tenth of a second's slot
//! ([`Timeline`]): requests, correct replies, lost, wrong, and the latency sum and maximum.
//! The slots are shared atomics, so the clients never wait for each other to count, and
//! there is a fixed number of them (at most [`MAX_SLOTS`]: an hour), whatever the run.
//!
//! - The CSV has one line per slot, for a spreadsheet or a script.
//! - The chart (SVG, drawn by `plotters` with only its SVG backend: no system library)
//!   has two panels: the latency distribution of the correct replies (from the run's
//!   [`Histogram`]), and requests, replies and losses per second over time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use plotters::prelude::*;

use super::{Histogram, LoadSummary, Outcome};
use crate::error::{Context, Error, Result};

/// The width of one slot of the timeline.
pub const SLOT: Duration = Duration::from_millis(100);

/// The most slots a timeline keeps (an hour, [`super::MAX_DURATION`]); later requests are
/// counted in the last one.
pub const MAX_SLOTS: usize = 36_000;

/// `--csv` and `--chart`, as given.
#[derive(Debug, Clone, Default)]
pub struct Pictures {
    /// Where the per-slot CSV goes.
    pub csv: Option<PathBuf>,
    /// Where the SVG chart goes.
    pub chart: Option<PathBuf>,
}

impl Pictures {
    /// Whether any picture was asked for (then the clients count per slot).
    pub fn is_requested(&self) -> bool {
        self.csv.is_some() || self.chart.is_some()
    }

    /// Writes the pictures of `summary` (whose `timeline` the run filled).
    pub fn write(&self, summary: &LoadSummary) -> Result<()> {
        if let Some(path) = &self.csv {
            write_whole(path, &csv(&summary.timeline))?;
        }
        if let Some(path) = &self.chart {
            write_whole(path, &chart(summary)?)?;
        }
        Ok(())
    }
}

/// Writes `text` to `path.part`, then renames it: a half-written file never has the name.
fn write_whole(path: &Path, text: &str) -> Result<()> {
    let mut part = path.as_os_str().to_os_string();
    part.push(".part");
    let part = PathBuf::from(part);
    std::fs::write(&part, text).context(|| format!("cannot write {}", part.display()))?;
    std::fs::rename(&part, path)
        .context(|| format!("cannot rename {} to {}", part.display(), path.display()))
}

/// What happened in one slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlotCounts {
    /// Requests whose outcome was known in this slot (by when they were sent).
    pub requests: u64,
    /// Correct replies.
    pub replies: u64,
    /// Lost requests.
    pub lost: u64,
    /// Wrong replies.
    pub wrong: u64,
    /// Sum of the correct replies' latencies, in microseconds.
    pub latency_sum_micros: u64,
    /// The largest latency, in microseconds.
    pub latency_max_micros: u64,
}

#[derive(Default)]
struct Slot {
    requests: AtomicU64,
    replies: AtomicU64,
    lost: AtomicU64,
    wrong: AtomicU64,
    latency_sum_micros: AtomicU64,
    latency_max_micros: AtomicU64,
}

/// The run's slots, shared by all clients.
pub struct Timeline {
    slots: Vec<Slot>,
}

impl Timeline {
    /// Slots enough for `duration` (at most an hour's worth).
    pub fn new(duration: Duration) -> Self {
        let wanted = duration.as_millis().div_ceil(SLOT.as_millis()) + 1;
        let len = usize::try_from(wanted).unwrap_or(MAX_SLOTS).min(MAX_SLOTS);
        Timeline { slots: (0..len).map(|_| Slot::default()).collect() }
    }

    /// Counts a request sent `since_start` after the run began.
    pub fn record(&self, since_start: Duration, outcome: Outcome, latency: Duration) {
        let index = usize::try_from(since_start.as_millis() / SLOT.as_millis()).unwrap_or(0);
        let Some(slot) = self.slots.get(index).or(self.slots.last()) else { return };
        slot.requests.fetch_add(1, Ordering::Relaxed);
        match outcome {
            Outcome::Correct => {
                let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                slot.replies.fetch_add(1, Ordering::Relaxed);
                slot.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
                slot.latency_max_micros.fetch_max(micros, Ordering::Relaxed);
            }
            Outcome::Lost => {
                slot.lost.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Wrong => {
                slot.wrong.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The slots up to the last one used.
    pub fn counts(&self) -> Vec<SlotCounts> {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut counts: Vec<SlotCounts> = self
            .slots
            .iter()
            .map(|slot| SlotCounts {
                requests: read(&slot.requests),
                replies: read(&slot.replies),
                lost: read(&slot.lost),
                wrong: read(&slot.wrong),
                latency_sum_micros: read(&slot.latency_sum_micros),
                latency_max_micros: read(&slot.latency_max_micros),
            })
            .collect();
        while counts.last().is_some_and(|slot| slot.requests == 0) {
            counts.pop();
        }
        counts
    }
}

/// One line per slot: `start_s,requests,replies,lost,wrong,latency_mean_ms,latency_max_ms`.
pub fn csv(slots: &[SlotCounts]) -> String {
    let mut text =
        String::from("start_s,requests,replies,lost,wrong,latency_mean_ms,latency_max_ms\n");
    for (index, slot) in slots.iter().enumerate() {
        let start = index as f64 * SLOT.as_secs_f64();
        let mean = if slot.replies > 0 {
            format!("{:.3}", slot.latency_sum_micros as f64 / slot.replies as f64 / 1000.0)
        } else {
            String::new()
        };
        let max = if slot.replies > 0 {
            format!("{:.3}", slot.latency_max_micros as f64 / 1000.0)
        } else {
            String::new()
        };
        let _ = writeln!(
            text,
            "{start:.1},{},{},{},{},{mean},{max}",
            slot.requests, slot.replies, slot.lost, slot.wrong
        );
    }
    text
}

/// The chart: latency distribution above, requests/replies/losses per second below.
pub fn chart(summary: &LoadSummary) -> Result<String> {
    let mut svg = String::new();
    draw(&mut svg, summary)
        .map_err(|error| Error::msg(format!("cannot draw the chart: {error}")))?;
    Ok(svg)
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw(svg: &mut String, summary: &LoadSummary) -> DrawResult {
    let root = SVGBackend::with_string(svg, (900, 720)).into_drawing_area();
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(360);
    latency_panel(&top, &summary.latency)?;
    timeline_panel(&bottom, &summary.timeline)?;
    root.present()?;
    Ok(())
}

fn latency_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    latency: &Histogram,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let buckets: Vec<(f64, f64, u64)> = latency
        .buckets()
        .map(|(low, high, count)| (low as f64 / 1000.0, (high + 1) as f64 / 1000.0, count))
        .collect();
    // Up to the 99.9th percentile: one outlier would squash the rest into a line.
    let right = latency.quantile(0.999).map_or(1.0, |q| q.as_secs_f64() * 1000.0 * 1.1).max(0.01);
    let highest = buckets.iter().map(|b| b.2).max().unwrap_or(1).max(1);
    let caption = match (latency.quantile(0.5), latency.quantile(0.99), latency.max()) {
        (Some(p50), Some(p99), Some(max)) => format!(
            "Latency of {} replies: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            latency.count(),
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        ),
        _ => "Latency: no replies".to_string(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..right, 0u64..highest + highest / 10 + 1)?;
    chart.configure_mesh().x_desc("latency (ms)").y_desc("replies").disable_x_mesh().draw()?;
    chart.draw_series(buckets.iter().filter(|(low, _, _)| *low < right).map(
        |&(low, high, count)| {
            Rectangle::new([(low, 0), (high.min(right), count)], BLUE.mix(0.6).filled())
        },
    ))?;
    Ok(())
}

fn timeline_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    slots: &[SlotCounts],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let per_second = 1.0 / SLOT.as_secs_f64();
    let end = (slots.len().max(1)) as f64 * SLOT.as_secs_f64();
    let highest = slots.iter().map(|s| s.requests).max().unwrap_or(0) as f64 * per_second;
    let mut chart = ChartBuilder::on(area)
        .caption("Requests, replies and losses per second", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..end, 0.0..(highest * 1.1).max(1.0))?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("per second")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let at = |index: usize| (index as f64 + 0.5) * SLOT.as_secs_f64();
    for (name, colour, value) in [
        ("requests", BLUE, (|s: &SlotCounts| s.requests) as fn(&SlotCounts) -> u64),
        ("replies", GREEN, |s: &SlotCounts| s.replies),
        ("lost", RED, |s: &SlotCounts| s.lost + s.wrong),
    ] {
        chart
            .draw_series(LineSeries::new(
                slots.iter().enumerate().map(|(i, s)| (at(i), value(s) as f64 * per_second)),
                colour.stroke_width(2),
            ))?
            .label(if name == "lost" { "lost or wrong" } else { name })
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

/// One server configuration measured at several settings (a benchmark's sweep): for each
/// setting `x`, the requests per second and the latency p50 and p99 (ms) of its run.
#[derive(Debug, Clone, Default)]
pub struct Sweep {
    /// What was measured (a server mode).
    pub name: String,
    /// `(x, requests/s, p50 ms, p99 ms)`, in order of `x`.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// Two panels over the same x axis: requests per second, and latency (p50 solid, p99
/// dashed-looking thin line), both on log scales, one colour per sweep.
pub fn sweep_chart(title: &str, x_label: &str, sweeps: &[Sweep]) -> Result<String> {
    let mut svg = String::new();
    draw_sweeps(&mut svg, title, x_label, sweeps)
        .map_err(|error| Error::msg(format!("cannot draw the chart: {error}")))?;
    Ok(svg)
}

fn draw_sweeps(svg: &mut String, title: &str, x_label: &str, sweeps: &[Sweep]) -> DrawResult {
    let all = || sweeps.iter().flat_map(|s| s.points.iter());
    let x_end = all().map(|p| p.0).fold(0.0, f64::max).max(1.0);
    let rate_top = all().map(|p| p.1).fold(1.0, f64::max) * 2.0;
    let rate_bottom = all().map(|p| p.1).fold(f64::MAX, f64::min).clamp(0.1, rate_top / 10.0) / 2.0;
    let latency_top = all().map(|p| p.3).fold(0.01, f64::max) * 2.0;
    let latency_bottom =
        all().map(|p| p.2).fold(f64::MAX, f64::min).clamp(0.001, latency_top / 10.0) / 2.0;
    let root = SVGBackend::with_string(svg, (900, 760)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 20))?;
    let (top, bottom) = root.split_vertically(360);
    let colours = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];

    let mut rates = ChartBuilder::on(&top)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_end, (rate_bottom..rate_top).log_scale())?;
    rates
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("requests/s (log scale)")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (sweep, colour) in sweeps.iter().zip(colours.iter().cycle()) {
        let colour = *colour;
        rates
            .draw_series(LineSeries::new(
                sweep.points.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(2),
            ))?
            .label(sweep.name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        rates.draw_series(
            sweep.points.iter().map(|p| Circle::new((p.0, p.1), 3, colour.filled())),
        )?;
    }
    rates
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;

    let mut latency = ChartBuilder::on(&bottom)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..x_end, (latency_bottom..latency_top).log_scale())?;
    latency
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("latency ms, p50 (thick) and p99 (thin)")
        .y_label_formatter(&|v| format!("{v}"))
        .draw()?;
    for (sweep, colour) in sweeps.iter().zip(colours.iter().cycle()) {
        latency.draw_series(LineSeries::new(
            sweep.points.iter().map(|p| (p.0, p.2)),
            colour.stroke_width(2),
        ))?;
        latency.draw_series(LineSeries::new(
            sweep.points.iter().map(|p| (p.0, p.3)),
            colour.mix(0.6).stroke_width(1),
        ))?;
        latency.draw_series(
            sweep.points.iter().map(|p| Circle::new((p.0, p.2), 3, colour.filled())),
        )?;
    }
    root.present()?;
    Ok(())
}
