//! `--diagram FILE.svg`: a run through the relay as the textbook draws it, a ladder
//! (sequence) diagram.
//!
//! Time runs down the page. Each client, the link (the relay) and the server has a vertical
//! time line. A datagram is an arrow onto the link (when it arrived) and an arrow from the
//! link to the other end (when it left): the longer it was delayed, the steeper the second
//! arrow. A lost datagram's arrow stops halfway and ends in a cross; a duplicate is two
//! arrows; a reordered datagram's arrow crosses the one that overtook it.
//!
//! Hand-drawn SVG (lines, text, one arrowhead per colour), so the picture is a small text
//! file that any browser opens and a test can parse. Each arrow carries `data-id` (the
//! datagram's number, as in the capture's comments) and a `<title>` a browser shows on hover.
//!
//! Readable sizes: only the first `--diagram-max` datagrams are drawn (a note says how many
//! there were), long silences are cut out of the time axis (a dashed break says how long),
//! and events closer than a few pixels are spread apart so arrows never sit on each other.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use crate::verdict::{Copy, Verdict, Way};

/// Client time lines drawn one by one; more clients share an "other clients" line.
const CLIENT_LANES: usize = 3;
const LANE_GAP: f64 = 230.0;
const LEFT: f64 = 150.0;
const TOP: f64 = 120.0;
/// Successive moments are at least this far apart on the page.
const MIN_STEP: f64 = 9.0;
/// A silence that would take more than this is cut to [`BREAK_STEP`] with a dashed break.
const MAX_STEP: f64 = 240.0;
const BREAK_STEP: f64 = 36.0;
/// How long the longest flight (arrival to departure) is drawn, in pixels.
const LONGEST_FLIGHT: f64 = 140.0;

const FORWARDED: &str = "#1f5fa8";
const DUPLICATE: &str = "#7b3fb0";
const REORDERED: &str = "#d9730d";
const DROPPED: &str = "#c62828";
const ARRIVING: &str = "#555555";

struct Arrival {
    at: Duration,
    way: Way,
    client: SocketAddr,
    verdict: Verdict,
}

struct Departure {
    id: u64,
    at: Duration,
    copy: Copy,
    reordered: bool,
}

/// The events of the first datagrams of a run, to be drawn when it ends.
pub struct Ladder {
    limit: usize,
    seen: u64,
    arrivals: BTreeMap<u64, Arrival>,
    departures: Vec<Departure>,
    listen: SocketAddr,
    server: SocketAddr,
    title: Vec<String>,
}

impl Ladder {
    /// A diagram of at most `limit` datagrams through the relay at `listen` to `server`,
    /// headed by the `title` lines (the command's impairments and seed).
    pub fn new(limit: usize, listen: SocketAddr, server: SocketAddr, title: Vec<String>) -> Self {
        Ladder {
            limit,
            seen: 0,
            arrivals: BTreeMap::new(),
            departures: Vec::new(),
            listen,
            server,
            title,
        }
    }

    /// Datagram `id` arrived `at` (since the relay started).
    pub fn arrived(
        &mut self,
        id: u64,
        at: Duration,
        way: Way,
        client: SocketAddr,
        verdict: Verdict,
    ) {
        self.seen += 1;
        if self.arrivals.len() < self.limit {
            self.arrivals.insert(id, Arrival { at, way, client, verdict });
        }
    }

    /// A copy of datagram `id` left `at`. (It may be reported before its arrival, when the
    /// sending thread is quicker than the receiving one's report: drawing waits for the end.)
    pub fn left(&mut self, id: u64, at: Duration, copy: Copy, reordered: bool) {
        if self.departures.len() < self.limit.saturating_mul(3) {
            self.departures.push(Departure { id, at, copy, reordered });
        }
    }

    /// "12 datagrams" or "the first 60 of 523 datagrams".
    pub fn shown_note(&self) -> String {
        if self.seen > self.arrivals.len() as u64 {
            format!("the first {} of {} datagrams", self.arrivals.len(), self.seen)
        } else {
            format!("{} datagrams", self.seen)
        }
    }

    /// The diagram, as a complete SVG document.
    pub fn to_svg(&self) -> String {
        let departures: Vec<&Departure> =
            self.departures.iter().filter(|d| self.arrivals.contains_key(&d.id)).collect();
        let clients = self.client_lanes();
        let lanes = clients.len().max(1);
        let link_x = LEFT + LANE_GAP * lanes as f64;
        let server_x = link_x + LANE_GAP;
        let time = TimeAxis::new(
            self.arrivals.values().map(|a| a.at).chain(departures.iter().map(|d| d.at)),
            departures
                .iter()
                .filter_map(|d| self.arrivals.get(&d.id).map(|a| d.at.saturating_sub(a.at))),
        );
        let bottom = time.end() + 30.0;
        let width = server_x + 330.0;
        let height = bottom.max(TOP + 260.0) + 60.0;

        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
        );
        svg.push_str("<defs>\n");
        for colour in [FORWARDED, DUPLICATE, REORDERED, DROPPED, ARRIVING] {
            let _ = writeln!(
                svg,
                r#"<marker id="head{}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>"#,
                &colour[1..]
            );
        }
        svg.push_str("</defs>\n");
        let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
        for (row, line) in self.title.iter().enumerate() {
            let weight = if row == 0 { r#" font-weight="bold" font-size="15""# } else { "" };
            let _ = writeln!(
                svg,
                r#"<text x="20" y="{}"{weight}>{}</text>"#,
                24 + 18 * row,
                escape(line)
            );
        }

        // The time lines.
        let mut lane = |x: f64, name: &str, address: &str| {
            let _ = writeln!(
                svg,
                r#"<line class="lane" x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="black" stroke-width="2"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-weight="bold">{}</text><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                TOP - 10.0,
                TOP - 34.0,
                escape(name),
                TOP - 18.0,
                escape(address)
            );
        };
        for (index, client) in clients.iter().enumerate() {
            let x = LEFT + LANE_GAP * index as f64;
            match client {
                Some(addr) => lane(x, "client", &addr.to_string()),
                None => lane(x, "other clients", ""),
            }
        }
        if clients.is_empty() {
            lane(LEFT, "client", "(no datagrams)");
        }
        lane(link_x, "lossy-link", &self.listen.to_string());
        lane(server_x, "server", &self.server.to_string());

        time.draw_axis(&mut svg, LEFT - 100.0, server_x, self.arrivals.values().map(|a| a.at));

        let client_x = |addr: SocketAddr| {
            let index = clients
                .iter()
                .position(|c| *c == Some(addr))
                .unwrap_or(clients.len().saturating_sub(1));
            LEFT + LANE_GAP * index as f64
        };
        for (id, arrival) in &self.arrivals {
            let (from_x, to_x) = match arrival.way {
                Way::Up => (client_x(arrival.client), server_x),
                Way::Down => (server_x, client_x(arrival.client)),
            };
            let y = time.y(arrival.at);
            let tip = format!("#{id}: arrived at {}", show_time(arrival.at));
            arrow(&mut svg, (from_x, y), (link_x, y), ARRIVING, ("in", *id), &tip);
            let label_x = if from_x < link_x { from_x + 6.0 } else { from_x - 6.0 };
            let anchor = if from_x < link_x { "start" } else { "end" };
            let _ = writeln!(
                svg,
                r#"<text x="{label_x:.1}" y="{:.1}" text-anchor="{anchor}" font-size="10" fill="{ARRIVING}">#{id}</text>"#,
                y - 3.0
            );
            if arrival.verdict.is_dropped() {
                // Lost on the way: the arrow stops halfway, at a cross.
                let end = ((link_x + to_x) / 2.0, y + 14.0);
                let tip = format!("#{id}: {}", describe_drop(arrival.verdict));
                line(&mut svg, (link_x, y), end, DROPPED, ("dropped", *id), &tip);
                let (x, y) = end;
                let _ = writeln!(
                    svg,
                    r#"<g class="cross" data-id="{id}" stroke="{DROPPED}" stroke-width="3"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g>"#,
                    x - 7.0,
                    y - 7.0,
                    x + 7.0,
                    y + 7.0,
                    x - 7.0,
                    y + 7.0,
                    x + 7.0,
                    y - 7.0
                );
            }
        }
        for departure in &departures {
            let Some(arrival) = self.arrivals.get(&departure.id) else { continue };
            let to_x = match arrival.way {
                Way::Up => server_x,
                Way::Down => client_x(arrival.client),
            };
            let (colour, kind, what) = match (departure.copy, departure.reordered) {
                (Copy::Duplicate, _) => (DUPLICATE, "duplicate", "duplicate copy"),
                (Copy::Original, true) => (REORDERED, "reordered", "reordered (overtaken)"),
                (Copy::Original, false) => (FORWARDED, "out", "forwarded"),
            };
            let flight = departure.at.saturating_sub(arrival.at);
            let tip = format!("#{}: {what} after {}", departure.id, show_time(flight));
            let from = (link_x, time.y(arrival.at));
            arrow(&mut svg, from, (to_x, time.y(departure.at)), colour, (kind, departure.id), &tip);
        }
        self.legend(&mut svg, server_x + 40.0);
        if self.seen > self.arrivals.len() as u64 {
            let _ = writeln!(
                svg,
                r#"<text class="cut" x="20" y="{:.1}" font-style="italic">Cut: showing {} (--diagram-max {}); the capture has them all.</text>"#,
                height - 20.0,
                self.shown_note(),
                self.limit
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// The clients with a time line of their own (in order of first datagram), then `None`
    /// for the shared "other clients" line if there are more.
    fn client_lanes(&self) -> Vec<Option<SocketAddr>> {
        let mut lanes: Vec<Option<SocketAddr>> = Vec::new();
        for arrival in self.arrivals.values() {
            if lanes.contains(&Some(arrival.client)) {
                continue;
            }
            if lanes.len() < CLIENT_LANES {
                lanes.push(Some(arrival.client));
            } else {
                lanes.push(None);
                break;
            }
        }
        lanes
    }

    fn legend(&self, svg: &mut String, x: f64) {
        let mut y = TOP + 10.0;
        let _ = writeln!(
            svg,
            r#"<g class="legend"><text x="{x:.1}" y="{y:.1}" font-weight="bold">Legend</text>"#
        );
        for (colour, text) in [
            (ARRIVING, "arrives at the link"),
            (FORWARDED, "forwarded (the slope is its delay)"),
            (DUPLICATE, "second copy (--duplicate)"),
            (REORDERED, "overtaken: sent after a later one"),
        ] {
            y += 22.0;
            let _ = writeln!(
                svg,
                r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="2" marker-end="url(#head{})"/><text x="{:.1}" y="{:.1}">{text}</text>"#,
                x + 40.0,
                &colour[1..],
                x + 50.0,
                y + 4.0
            );
        }
        y += 22.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{DROPPED}" stroke-width="2"/><g stroke="{DROPPED}" stroke-width="3"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/></g><text x="{:.1}" y="{:.1}">lost, or dropped by a full queue</text>"#,
            x + 34.0,
            x + 28.0,
            y - 6.0,
            x + 40.0,
            y + 6.0,
            x + 28.0,
            y + 6.0,
            x + 40.0,
            y - 6.0,
            x + 50.0,
            y + 4.0
        );
        y += 22.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="gray" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}">a silence, cut short</text>"#,
            x + 40.0,
            x + 50.0,
            y + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{:.1}" fill="gray">#N: the datagram's number,</text><text x="{x:.1}" y="{:.1}" fill="gray">as in the capture's comments.</text><text x="{x:.1}" y="{:.1}" fill="gray">Hover an arrow for its times.</text></g>"#,
            y + 30.0,
            y + 45.0,
            y + 60.0
        );
        let _ = self.limit;
    }
}

/// Time to page height: linear within a burst, with long silences cut short.
struct TimeAxis {
    /// Each distinct moment (in tenths of a millisecond) and its height on the page.
    marks: Vec<(u64, f64)>,
    /// Heights where a silence was cut, and how long it was.
    breaks: Vec<(f64, Duration)>,
}

impl TimeAxis {
    fn new(
        moments: impl Iterator<Item = Duration>,
        flights: impl Iterator<Item = Duration>,
    ) -> Self {
        let longest = flights.max().unwrap_or_default().as_secs_f64() * 1000.0;
        // Pixels per millisecond: the longest flight gets LONGEST_FLIGHT pixels.
        let scale = if longest > 0.0 { (LONGEST_FLIGHT / longest).clamp(0.05, 8.0) } else { 2.0 };
        let mut ticks: Vec<u64> = moments.map(tenths).collect();
        ticks.sort_unstable();
        ticks.dedup();
        let mut marks = Vec::with_capacity(ticks.len());
        let mut breaks = Vec::new();
        let mut y = TOP + 20.0;
        let mut previous: Option<u64> = None;
        for tick in ticks {
            if let Some(before) = previous {
                let step = (tick - before) as f64 / 10.0 * scale;
                if step > MAX_STEP {
                    breaks
                        .push((y + BREAK_STEP / 2.0, Duration::from_micros((tick - before) * 100)));
                    y += BREAK_STEP;
                } else {
                    y += step.max(MIN_STEP);
                }
            }
            marks.push((tick, y));
            previous = Some(tick);
        }
        TimeAxis { marks, breaks }
    }

    fn y(&self, at: Duration) -> f64 {
        let tick = tenths(at);
        match self.marks.binary_search_by_key(&tick, |&(t, _)| t) {
            Ok(index) => self.marks[index].1,
            Err(index) => self.marks.get(index).or(self.marks.last()).map_or(TOP, |m| m.1),
        }
    }

    fn end(&self) -> f64 {
        self.marks.last().map_or(TOP + 40.0, |m| m.1 + 20.0)
    }

    /// The axis at `x`: a label at each arrival (where there is room), a dashed line across
    /// the page (to `right`) at each cut silence.
    fn draw_axis(
        &self,
        svg: &mut String,
        x: f64,
        right: f64,
        arrivals: impl Iterator<Item = Duration>,
    ) {
        let _ = writeln!(
            svg,
            r#"<g class="axis"><line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="gray"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="gray">time</text>"#,
            x + 70.0,
            TOP,
            x + 70.0,
            self.end(),
            x + 70.0,
            TOP - 6.0
        );
        let mut last_label = f64::MIN;
        for at in arrivals {
            let y = self.y(at);
            if y - last_label >= 13.0 {
                let _ = writeln!(
                    svg,
                    r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end" font-size="10" fill="gray">{}</text><line x1="{:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="gray"/>"#,
                    x + 64.0,
                    y + 3.0,
                    show_time(at),
                    x + 66.0,
                    x + 74.0
                );
                last_label = y;
            }
        }
        for (y, silence) in &self.breaks {
            let _ = writeln!(
                svg,
                r#"<line class="break" x1="{x:.1}" y1="{y:.1}" x2="{right:.1}" y2="{y:.1}" stroke="gray" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" font-size="10" fill="gray">{} later</text>"#,
                right + 8.0,
                y + 3.0,
                show_time(*silence)
            );
        }
        svg.push_str("</g>\n");
    }
}

fn tenths(at: Duration) -> u64 {
    u64::try_from(at.as_micros() / 100).unwrap_or(u64::MAX)
}

fn arrow(
    svg: &mut String,
    from: (f64, f64),
    to: (f64, f64),
    colour: &str,
    kind: (&str, u64),
    tip: &str,
) {
    let _ = writeln!(
        svg,
        r#"<line class="arrow" data-kind="{}" data-id="{}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2" marker-end="url(#head{})"><title>{}</title></line>"#,
        kind.0,
        kind.1,
        from.0,
        from.1,
        to.0,
        to.1,
        &colour[1..],
        escape(tip)
    );
}

fn line(
    svg: &mut String,
    from: (f64, f64),
    to: (f64, f64),
    colour: &str,
    kind: (&str, u64),
    tip: &str,
) {
    let _ = writeln!(
        svg,
        r#"<line class="arrow" data-kind="{}" data-id="{}" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"><title>{}</title></line>"#,
        kind.0,
        kind.1,
        from.0,
        from.1,
        to.0,
        to.1,
        escape(tip)
    );
}

fn describe_drop(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Lost => "lost (--loss)",
        Verdict::RateQueueFull => "dropped: rate queue full",
        Verdict::DelayQueueFull => "dropped: delay queue full",
        Verdict::Passed { .. } => "passed",
    }
}

/// `12.5 ms` below a second, `3.204 s` above.
fn show_time(at: Duration) -> String {
    if at < Duration::from_secs(1) {
        format!("{:.1} ms", at.as_secs_f64() * 1000.0)
    } else {
        format!("{:.3} s", at.as_secs_f64())
    }
}

/// Text made safe for XML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
