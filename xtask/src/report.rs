//! The class report: `report.html`, written next to `grades.json` after a batch, from the
//! very data `grades.json` holds (so that every figure on the page is one of its figures).
//!
//! It answers an instructor's next question, "which requirement did the class miss?": the
//! score distribution, per test the share of the class that passed it and the most common
//! failure messages, per exercise how many did it, left it undone, had it refused or did not
//! compile, a row per student linking to their feedback, and the grading's limits.
//!
//! The page is self-contained (inline CSS and SVG, no script, no network) and prints.
//! Everything that comes from a submission (a student's folder name, a panic message, a
//! compiler error) is HTML-escaped: a hostile name or message is shown, never run.
//! Each figure carries a `data-figure` key, so a test can read the page back and compare it
//! with `grades.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use shared::error::{Context, Result};

/// Failure messages listed per test, and refusal reasons per exercise (the most common
/// first).
pub const MESSAGES_PER_TEST: usize = 3;

/// Characters of a failure message shown (longer ones are cut, with "...").
pub const MESSAGE_CHARS: usize = 200;

/// Writes `report.html` into `out` from a batch's `grades.json` data.
pub fn write(out: &Path, grades: &Value) -> Result<PathBuf> {
    let path = out.join("report.html");
    std::fs::write(&path, render(grades)).context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// What became of one exercise in one submission, as the report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Written, and the submission built.
    Done,
    /// Its body still calls `todo!()`.
    Undone,
    /// Refused (it reached outside its function).
    Refused,
    /// Not found (file missing, not parsing, function not there).
    NotFound,
    /// Written, but the submission did not build.
    NoBuild,
}

impl Outcome {
    /// Every outcome, in the report's column order.
    pub const ALL: [Outcome; 5] =
        [Outcome::Done, Outcome::Undone, Outcome::Refused, Outcome::NotFound, Outcome::NoBuild];

    /// Its key in `data-figure` and its column heading.
    pub fn key_and_heading(self) -> (&'static str, &'static str) {
        match self {
            Outcome::Done => ("done", "did it"),
            Outcome::Undone => ("undone", "left undone"),
            Outcome::Refused => ("refused", "refused"),
            Outcome::NotFound => ("not_found", "not found"),
            Outcome::NoBuild => ("no_build", "did not compile"),
        }
    }

    /// The outcome of `taken` (one of a grade's `exercises`) in a submission whose build is
    /// `build`.
    pub fn of(taken: &Value, build: &Value) -> Outcome {
        match taken["problem"].as_str() {
            Some(problem) if problem.starts_with("refused") => Outcome::Refused,
            Some(_) => Outcome::NotFound,
            None if taken["undone"].as_bool() == Some(true) => Outcome::Undone,
            None if build_outcome(build) != "built" => Outcome::NoBuild,
            None => Outcome::Done,
        }
    }
}

/// `built`, `does not compile` or `build took too long`, from a grade's `build`.
pub fn build_outcome(build: &Value) -> &'static str {
    if build.as_str() == Some("built") {
        "built"
    } else if build.get("took_too_long").is_some() {
        "build took too long"
    } else {
        "does not compile"
    }
}

/// The line a failure is known by: the panic message (the line after `thread ...
/// panicked at`: what the test printed before it, a forger's fake `test ... ok` lines say,
/// is not it), else the first line; cut at [`MESSAGE_CHARS`].
pub fn failure_line(failure: &str) -> String {
    let lines: Vec<&str> = failure.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let panicked = lines.iter().position(|l| l.starts_with("thread '") && l.contains("panicked"));
    let line = match panicked {
        Some(at) => lines.get(at + 1).or(lines.get(at)),
        None => lines.first(),
    };
    let line = line.copied().unwrap_or("(no message)");
    if line.chars().count() > MESSAGE_CHARS {
        format!("{} ...", line.chars().take(MESSAGE_CHARS).collect::<String>())
    } else {
        line.to_string()
    }
}

/// The refusal's reason: what a refused body reached for (the part after "function: ").
pub fn refusal_reason(problem: &str) -> String {
    let reason = problem.rsplit_once("function: ").map_or(problem, |(_, reason)| reason);
    failure_line(reason)
}

/// The median of `values` (sorted or not): the middle one, or the mean of the two middle.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The histogram's bins for scores 0..=max: one per point up to 25 points, else 20 or so
/// bins of equal width. Each bin is (lowest, highest) score, both included.
pub fn bins(max: u64) -> Vec<(u64, u64)> {
    let width = if max <= 25 { 1 } else { (max + 1).div_ceil(20) };
    let mut bins = Vec::new();
    let mut lo = 0;
    while lo <= max {
        bins.push((lo, (lo + width - 1).min(max)));
        lo += width;
    }
    bins
}

/// HTML-escapes text for an element or an attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment for an `href` (then HTML-escaped like any attribute).
fn url_segment(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A figure: its value in a span the test can find by `key`.
fn figure(key: &str, value: impl std::fmt::Display) -> String {
    format!("<span data-figure=\"{}\">{}</span>", escape(key), escape(&value.to_string()))
}

/// A number as the page shows it: whole, or with one decimal.
pub fn number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 { format!("{value:.0}") } else { format!("{value:.1}") }
}

/// The grades of `module`, in `grades.json`'s order.
fn grades_of<'a>(grades: &'a Value, module: &str) -> Vec<&'a Value> {
    grades["grades"]
        .as_array()
        .map(|all| all.iter().filter(|g| g["module"] == module).collect())
        .unwrap_or_default()
}

/// The page.
pub fn render(grades: &Value) -> String {
    let empty = Vec::new();
    let modules = grades["modules"].as_array().unwrap_or(&empty);
    let names: Vec<&str> = modules.iter().filter_map(|m| m["module"].as_str()).collect();
    let mut students: Vec<&str> = Vec::new();
    for grade in grades["grades"].as_array().unwrap_or(&empty) {
        if let Some(student) = grade["student"].as_str() {
            if !students.contains(&student) {
                students.push(student);
            }
        }
    }
    let mut page = String::new();
    let title = format!("Class report: {}", names.join(", "));
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&title),
        escape(&title)
    );
    let grading = &grades["grading"];
    let _ = writeln!(
        page,
        "<p class=\"lead\">{} graded{}. Only the bodies of the marked functions were graded, \
         each test alone in its own process, in a fresh copy of the reference.</p>",
        figure("students", students.len()),
        match (grading["finished"].as_u64(), grading["seconds"].as_f64()) {
            (Some(finished), Some(seconds)) => format!(
                " on {} UTC, in {} s",
                escape(&utc(finished)),
                figure("grading/seconds", format!("{seconds:.0}"))
            ),
            _ => String::new(),
        }
    );
    for module in modules {
        module_section(&mut page, grades, module);
    }
    students_section(&mut page, grades, &names, &students);
    limits_section(&mut page, grading);
    page.push_str("</body>\n</html>\n");
    page
}

fn module_section(page: &mut String, grades: &Value, module: &Value) {
    let name = module["module"].as_str().unwrap_or("?");
    let max = module["max"].as_u64().unwrap_or(0);
    let graded = grades_of(grades, name);
    let points: Vec<f64> = graded.iter().filter_map(|g| g["points"].as_f64()).collect();
    let middle = median(&points);
    let _ = writeln!(page, "<section class=\"module\">\n<h2>{}</h2>", escape(name));
    let _ = writeln!(
        page,
        "<p>{} graded; median {} of {} points.</p>",
        figure(&format!("{name}/graded"), graded.len()),
        figure(&format!("{name}/median"), number(middle)),
        figure(&format!("{name}/max"), max)
    );
    histogram(page, name, &points, max, middle);

    // Per test.
    let _ = writeln!(
        page,
        "<h3>Tests</h3>\n<table class=\"tests\">\n<thead><tr><th>test (least passed first)</th><th>points</th>\
         <th>passed</th><th>share passed</th><th>most common failures (students)</th></tr></thead>\n<tbody>"
    );
    let empty = Vec::new();
    // The tests the class missed most first; the checks last.
    let share_passed = |test: &Value| {
        let passed = graded
            .iter()
            .filter_map(|g| g["tests"].as_array())
            .filter_map(|tests| tests.iter().find(|t| t["name"] == test["name"]))
            .filter(|t| t["passed"] == true)
            .count();
        (test["check"] == true, passed)
    };
    let mut tests: Vec<&Value> = module["tests"].as_array().unwrap_or(&empty).iter().collect();
    tests.sort_by_key(|test| share_passed(test));
    for test in tests {
        let test_name = test["name"].as_str().unwrap_or("?");
        let key = format!("{name}/test/{test_name}");
        let results: Vec<&Value> = graded
            .iter()
            .filter_map(|g| g["tests"].as_array())
            .filter_map(|tests| tests.iter().find(|t| t["name"] == test_name))
            .collect();
        let passed = results.iter().filter(|t| t["passed"] == true).count();
        let share =
            if results.is_empty() { 0.0 } else { passed as f64 * 100.0 / results.len() as f64 };
        let mut messages: BTreeMap<String, usize> = BTreeMap::new();
        for result in results.iter().filter(|t| t["passed"] != true) {
            let line = failure_line(result["failure"].as_str().unwrap_or(""));
            *messages.entry(line).or_default() += 1;
        }
        let mut common: Vec<(String, usize)> = messages.into_iter().collect();
        common.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut failures = String::new();
        for (i, (message, count)) in common.iter().take(MESSAGES_PER_TEST).enumerate() {
            let _ = write!(
                failures,
                "<li><b>{}</b> <code>{}</code></li>",
                figure(&format!("{key}/failure/{i}/count"), count),
                figure(&format!("{key}/failure/{i}/message"), message)
            );
        }
        if common.len() > MESSAGES_PER_TEST {
            let _ = write!(
                failures,
                "<li class=\"more\">and {} other messages</li>",
                common.len() - MESSAGES_PER_TEST
            );
        }
        let kind = match (test["check"] == true, test["hidden"] == true) {
            (true, _) => " <span class=\"tag\">check</span>",
            (false, true) => " <span class=\"tag\">hidden</span>",
            _ => "",
        };
        let low = if share < 50.0 && test["check"] != true { " class=\"low\"" } else { "" };
        let _ = writeln!(
            page,
            "<tr{low}><td><code>{}</code>{kind}</td><td class=\"n\">{}</td><td class=\"n\">{} of {}</td>\
             <td class=\"share\"><span class=\"meter\"><span style=\"width:{:.0}%\"></span></span> {}%</td><td><ul>{failures}</ul></td></tr>",
            escape(test_name),
            figure(&format!("{key}/points"), test["points"].as_u64().unwrap_or(0)),
            figure(&format!("{key}/passed"), passed),
            results.len(),
            share,
            figure(&format!("{key}/share"), format!("{share:.0}"))
        );
    }
    page.push_str("</tbody>\n</table>\n");

    // Per exercise.
    let _ = write!(
        page,
        "<h3>Exercises</h3>\n<table class=\"exercises\">\n<thead><tr><th>exercise</th>"
    );
    for outcome in Outcome::ALL {
        let _ = write!(page, "<th>{}</th>", outcome.key_and_heading().1);
    }
    page.push_str("<th>refused for</th></tr></thead>\n<tbody>\n");
    for exercise in module["exercises"].as_array().unwrap_or(&empty) {
        let exercise_key = format!(
            "{}::{}",
            exercise["file"].as_str().unwrap_or("?"),
            exercise["function"].as_str().unwrap_or("?")
        );
        let key = format!("{name}/exercise/{exercise_key}");
        let mut counts: BTreeMap<Outcome, usize> = BTreeMap::new();
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        for grade in &graded {
            let Some(taken) = grade["exercises"]
                .as_array()
                .and_then(|all| all.iter().find(|t| t["exercise"] == exercise_key.as_str()))
            else {
                continue;
            };
            let outcome = Outcome::of(taken, &grade["build"]);
            *counts.entry(outcome).or_default() += 1;
            if outcome == Outcome::Refused {
                let reason = refusal_reason(taken["problem"].as_str().unwrap_or(""));
                *reasons.entry(reason).or_default() += 1;
            }
        }
        let _ = write!(page, "<tr><td><code>{}</code></td>", escape(&exercise_key));
        for outcome in Outcome::ALL {
            let count = counts.get(&outcome).copied().unwrap_or(0);
            let _ = write!(
                page,
                "<td class=\"n\">{}</td>",
                figure(&format!("{key}/{}", outcome.key_and_heading().0), count)
            );
        }
        let mut reasons: Vec<(String, usize)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        page.push_str("<td><ul>");
        for (i, (reason, count)) in reasons.iter().take(MESSAGES_PER_TEST).enumerate() {
            let _ = write!(
                page,
                "<li><b>{}</b> {}</li>",
                figure(&format!("{key}/refused/{i}/count"), count),
                figure(&format!("{key}/refused/{i}/reason"), reason)
            );
        }
        if reasons.len() > MESSAGES_PER_TEST {
            let _ = write!(
                page,
                "<li class=\"more\">and {} other reasons</li>",
                reasons.len() - MESSAGES_PER_TEST
            );
        }
        page.push_str("</ul></td></tr>\n");
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// The score distribution: a bar per bin with its count above it, and the median marked.
fn histogram(page: &mut String, module: &str, points: &[f64], max: u64, middle: f64) {
    let bins = bins(max);
    let counts: Vec<usize> = bins
        .iter()
        .map(|(lo, hi)| points.iter().filter(|&&p| p >= *lo as f64 && p <= *hi as f64).count())
        .collect();
    let tallest = counts.iter().copied().max().unwrap_or(0).max(1);
    let (width, height, left, bottom, top) = (640.0, 230.0, 30.0, 30.0, 36.0);
    let plot = height - bottom - top;
    let step = (width - left - 10.0) / bins.len() as f64;
    let _ = writeln!(
        page,
        "<svg class=\"histogram\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"Scores of {}: number of students per score\">",
        escape(module)
    );
    let _ = writeln!(
        page,
        "<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>",
        height - bottom,
        width - 10.0,
        height - bottom
    );
    for ((lo, hi), count) in bins.iter().zip(&counts) {
        let x = left + step * bins.iter().position(|b| b.0 == *lo).unwrap_or(0) as f64;
        let bar = plot * *count as f64 / tallest as f64;
        let label = if lo == hi { lo.to_string() } else { format!("{lo}-{hi}") };
        let _ = writeln!(
            page,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bar:.1}\" class=\"bar\"><title>{} scored {label}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"count\" data-figure=\"{}\">{count}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"label\">{label}</text>",
            x + 1.0,
            height - bottom - bar,
            (step - 2.0).max(1.0),
            shared::text::plural(*count as u64, "student"),
            x + step / 2.0,
            height - bottom - bar - 4.0,
            escape(&format!("{module}/bin/{lo}-{hi}")),
            x + step / 2.0,
            height - bottom + 16.0,
        );
    }
    if !points.is_empty() {
        // The median's place: inside its bin, in proportion.
        let index = bins
            .iter()
            .position(|(lo, hi)| middle <= *hi as f64 + 0.5 && middle >= *lo as f64 - 0.5);
        if let Some(index) = index {
            let (lo, hi) = bins[index];
            let within = ((middle - lo as f64 + 0.5) / (hi - lo + 1) as f64).clamp(0.0, 1.0);
            let x = left + step * (index as f64 + within);
            let _ = writeln!(
                page,
                "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{}\" class=\"median\"/>\
                 <text x=\"{x:.1}\" y=\"{}\" class=\"median-label\">median {}</text>",
                height - bottom,
                top - 22.0,
                number(middle)
            );
        }
    }
    page.push_str("</svg>\n");
}

fn students_section(page: &mut String, grades: &Value, modules: &[&str], students: &[&str]) {
    let _ = write!(
        page,
        "<section>\n<h2>Students</h2>\n<table class=\"students\">\n<thead><tr><th>student</th>"
    );
    for module in modules {
        let _ = write!(page, "<th>{}</th><th>build</th>", escape(module));
    }
    page.push_str("<th>time</th><th>feedback</th></tr></thead>\n<tbody>\n");
    let empty = Vec::new();
    let all = grades["grades"].as_array().unwrap_or(&empty);
    for student in students {
        let key = format!("student/{student}");
        let _ = write!(page, "<tr><td>{}</td>", escape(student));
        let mut seconds = 0.0;
        for module in modules {
            let Some(grade) =
                all.iter().find(|g| g["student"] == *student && g["module"] == *module)
            else {
                page.push_str("<td></td><td></td>");
                continue;
            };
            seconds += grade["seconds"].as_f64().unwrap_or(0.0);
            let build = build_outcome(&grade["build"]);
            let class = if build == "built" { "" } else { " class=\"bad\"" };
            let _ = write!(
                page,
                "<td class=\"n\">{} / {}</td><td{class}>{}</td>",
                figure(&format!("{key}/{module}/points"), grade["points"].as_u64().unwrap_or(0)),
                grade["max"].as_u64().unwrap_or(0),
                figure(&format!("{key}/{module}/build"), build)
            );
        }
        let _ = writeln!(
            page,
            "<td class=\"n\">{} s</td><td><a href=\"feedback/{}.md\">feedback</a></td></tr>",
            figure(&format!("{key}/seconds"), format!("{seconds:.0}")),
            escape(&url_segment(student))
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

fn limits_section(page: &mut String, grading: &Value) {
    if grading.is_null() {
        return;
    }
    let seconds = |key: &str| {
        grading[key].as_f64().map_or_else(|| "-".into(), |s| format!("{} s", number(s)))
    };
    let each_test = match grading["test_limit"].as_f64() {
        Some(limit) => format!("{} s", number(limit)),
        None => format!(
            "{} times the reference's time, at least {}",
            number(grading["test_multiple"].as_f64().unwrap_or(0.0)),
            seconds("test_floor")
        ),
    };
    let _ = writeln!(
        page,
        "<section class=\"limits\">\n<h2>Grading</h2>\n<dl>\
         <dt>each test</dt><dd>{}</dd>\
         <dt>a submission's tests together</dt><dd>{}</dd>\
         <dt>a build</dt><dd>{}</dd>\
         <dt>a test waits for a reply</dt><dd>{}</dd>\
         <dt>tests at once</dt><dd>{}</dd>\
         <dt>submissions at once</dt><dd>{}</dd>\
         </dl>\n<p>Each test's own limit is in <code>grades.json</code> (<code>limit_seconds</code>).</p>\n</section>",
        escape(&each_test),
        escape(&seconds("submission_limit")),
        escape(&seconds("build_limit")),
        escape(&seconds("patience")),
        grading["jobs"].as_u64().unwrap_or(0),
        grading["parallel"].as_u64().unwrap_or(0)
    );
}

/// `2026-12-06 03:12` from Unix seconds (UTC; days to a civil date by Howard Hinnant's
/// algorithm, to need no date crate).
pub fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let (hour, minute) = ((unix % 86_400) / 3600, (unix % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
}

const STYLE: &str = "
body { font: 15px/1.45 system-ui, sans-serif; color: #1d1d1f; margin: 2em auto; max-width: 70em; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.5em; }
.lead { color: #444; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { text-align: left; vertical-align: top; padding: 0.3em 0.6em; border-bottom: 1px solid #e3e3e3; }
th { background: #f4f4f6; font-weight: 600; }
td.n { text-align: right; white-space: nowrap; }
td ul { margin: 0; padding-left: 1.1em; }
code { font: 0.9em ui-monospace, monospace; overflow-wrap: anywhere; }
tr.low td:first-child { border-left: 4px solid #c0392b; }
td.bad { color: #a12; }
.tag { font-size: 0.75em; background: #eef; border-radius: 3px; padding: 0 0.3em; }
td.share { white-space: nowrap; }
.meter { display: inline-block; width: 5em; height: 0.7em; background: #e8e8ec; vertical-align: middle; }
.meter span { display: block; height: 100%; background: #4a7fb5; }
.histogram { max-width: 100%; height: auto; }
.histogram .bar { fill: #4a7fb5; }
.histogram .axis { stroke: #888; }
.histogram text { font: 11px system-ui, sans-serif; text-anchor: middle; fill: #333; }
.histogram .median { stroke: #c0392b; stroke-dasharray: 4 3; stroke-width: 1.5; }
.histogram .median-label { fill: #c0392b; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: 600; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  a { color: inherit; text-decoration: none; }
  section { break-inside: avoid-page; }
  tr { break-inside: avoid; }
  th { background: none; }
  .meter, .meter span { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
";
