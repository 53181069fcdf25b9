//! `--csv FILE` and `--chart FILE.svg`: what a load run measured, over time.
//!
//! The summary line says how a run went on average; a picture says how it went over time
//! and how latency was spread, from the run's [`Timeline`](super::Timeline) (a tenth of a
//! second per slot) and its [`Histogram`].
//!
//! - The CSV has one line per slot, for a spreadsheet or a script.
//! - The chart (SVG, drawn by `plotters` with only its SVG backend: no system library)
//!   has two panels: the latency distribution of the correct replies (from the run's
//!   [`Histogram`]), and requests, replies and losses per second over time.
//!
//! A file is written whole or not at all: to `FILE.part`, then renamed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::timeline::{SLOT, SlotCounts};
use super::{Histogram, LoadSummary};
use crate::error::{Context, Error, Result};

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

/// What drawing with plotters returns (its errors are of the backend's type).
pub(super) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

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
