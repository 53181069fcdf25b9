//! A benchmark's figure: one server configuration measured at several settings, drawn as
//! requests per second and latency against the setting (SVG, by `plotters`).
//!
//! Not part of a load run: the benchmark scripts run the load mode once per setting and
//! draw the sweep with [`sweep_chart`] (udp-threaded's figure example does).

use plotters::prelude::*;

use super::pictures::DrawResult;
use crate::error::{Error, Result};

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
