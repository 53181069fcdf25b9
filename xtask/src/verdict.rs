//! One test's run and its verdict: the test binary run for one test in the box (see
//! [`crate::sandbox`]), the pass judged by the harness's own log, and the failure told to
//! the student: the course's message first, what their code printed capped and marked as
//! theirs, compiler errors quoting only their lines.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::refusals::Placed;
use crate::results::indent;
use crate::run::Finished;
use crate::sandbox::Sandbox;

/// A compiler error for a student: its message, where it is (in their file's lines when
/// it is in their body), their line's text, and the compiler's notes, but no line of the
/// course's own code.
pub(crate) fn render_error(message: &serde_json::Value, placed: &[Placed]) -> String {
    let mut text = String::new();
    let level = message["level"].as_str().unwrap_or("error");
    let code = message["code"]["code"].as_str().map(|c| format!("[{c}]")).unwrap_or_default();
    text.push_str(&format!("{level}{code}: {}\n", message["message"].as_str().unwrap_or_default()));
    for span in message["spans"].as_array().into_iter().flatten() {
        let file = span["file_name"].as_str().unwrap_or_default().replace('\\', "/");
        let line = span["line_start"].as_u64().and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
        let label = span["label"].as_str().map(|l| format!(": {l}")).unwrap_or_default();
        let body = placed.iter().find(|p| {
            (file == p.file || file.ends_with(&format!("/{}", p.file)))
                && (p.lines.0..=p.lines.1).contains(&line)
        });
        match body {
            Some(body) => {
                let mine = body.student_first_line + (line - body.lines.0);
                text.push_str(&format!("  --> your `{}`, line {mine}{label}\n", body.exercise));
                if let Some(source) = span["text"][0]["text"].as_str() {
                    text.push_str(&format!("   | {}\n", source.trim_end()));
                }
            }
            None => text.push_str(&format!("  --> the course's {file}, line {line}{label}\n")),
        }
    }
    for child in message["children"].as_array().into_iter().flatten() {
        if let Some(note) = child["message"].as_str() {
            let level = child["level"].as_str().unwrap_or("note");
            text.push_str(&format!("   = {level}: {note}\n"));
        }
    }
    text.push('\n');
    text
}

/// One test process's outcome.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) passed: bool,
    pub(crate) seconds: f64,
    pub(crate) failure: Option<String>,
}

/// Runs one test alone in its own boxed process (the test binary itself, not cargo), the
/// harness writing its log to `log`.
pub(crate) fn run_one(
    sandbox: &Sandbox,
    executable: &Path,
    dir: &Path,
    name: &str,
    limit: Duration,
    patience: &str,
    log: &Path,
) -> Run {
    let args: Vec<String> = [
        "--exact",
        name,
        "--test-threads",
        "1",
        "--color",
        "never",
        "--logfile",
        &log.display().to_string(),
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    let command = sandbox.command(
        executable,
        &args,
        dir,
        &[("GRADING_PATIENCE_SECS", patience), ("RUST_BACKTRACE", "0"), ("PATH", "/usr/bin:/bin")],
    );
    let _ = fs::remove_file(log);
    let started = Instant::now();
    let finished = crate::run::with_limits(command, limit, sandbox.limits.output);
    let seconds = started.elapsed().as_secs_f64();
    let logged = read_log(log);
    let _ = fs::remove_file(log);
    match finished {
        Err(error) => {
            Run { passed: false, seconds, failure: Some(format!("cannot run the test: {error}")) }
        }
        Ok(finished) => judge(name, &finished, &logged, limit, seconds),
    }
}

/// The harness's log of one test (at most a few KiB: one line per test).
fn read_log(log: &Path) -> String {
    match fs::symlink_metadata(log) {
        Ok(meta) if meta.is_file() && meta.len() <= 64 << 10 => {
            fs::read_to_string(log).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// A random file name no test can guess (the std hasher's keys are random per process,
/// and each call gets new ones).
pub(crate) fn secret_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut name = String::new();
    for round in 0..2u8 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u8(round);
        hasher.write_u128(
            SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
        );
        name.push_str(&format!("{:016x}", hasher.finish()));
    }
    name
}

/// A test passed when the harness's own log (written by the harness after the test
/// returned, at a path only the grader knows) says `ok` for exactly this test, and the
/// process then ended with success within its limit. Nothing the test's code prints, and
/// no way of ending the process, can write that line.
pub(crate) fn judge(
    name: &str,
    finished: &Finished,
    logged: &str,
    limit: Duration,
    seconds: f64,
) -> Run {
    let lines: Vec<&str> = logged.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    let ok_line = format!("ok {name}");
    // Finished, but after its limit (between two looks at it): as good as cut off.
    let late = seconds > limit.as_secs_f64();
    let passed = !late && finished.succeeded() && lines == [ok_line.as_str()];
    let failure = if passed {
        None
    } else if finished.status.is_none() || late {
        Some(format!("did not finish within its limit of {:.0} s (cut off)", limit.as_secs_f64()))
    } else {
        let mut text =
            failure_message(name, &finished.stdout).unwrap_or_else(|| match finished.status {
                Some(status) if lines == [ok_line.as_str()] => {
                    format!("the test passed, then its process ended with {status}")
                }
                Some(status) if status.success() => {
                    "the test process ended (with success) before the test finished: \
                     only the test harness's own record of a pass counts"
                        .to_string()
                }
                Some(status) => format!(
                    "the test process ended with {status} before the test finished{}",
                    crash_hint(status)
                ),
                None => String::new(),
            });
        let printed = students_output(&finished.stderr, 10);
        if !printed.is_empty() {
            text.push_str(&format!("\n{printed}"));
        }
        Some(text)
    };
    let failure = failure.map(|mut text| {
        if finished.dropped > 0 {
            text.push_str(&format!(
                "\n(the test printed {} bytes more than is kept)",
                finished.dropped
            ));
        }
        if finished.pipes_held {
            text.push_str(
                "\n(a process the test started kept its output open after the test ended)",
            );
        }
        text
    });
    Run { passed, seconds, failure }
}

/// Why the test failed: the harness's report of its panic (an assertion of the course's
/// tests, or a panic in the student's code), then a few lines the student's code printed,
/// marked as theirs.
fn failure_message(name: &str, stdout: &str) -> Option<String> {
    let header = format!("---- {name} stdout ----");
    let start = stdout.rfind(&header)? + header.len();
    let rest = &stdout[start..];
    let end = rest.find("\nfailures:").unwrap_or(rest.len());
    let section: Vec<&str> = rest[..end]
        .lines()
        .filter(|line| !line.starts_with("note: run with `RUST_BACKTRACE"))
        .collect();
    // The harness's panic report starts at the test thread's last "panicked at" line;
    // what comes before it was printed by the code under test.
    // (`thread 'tests::x' panicked at`, or `thread 'tests::x' (1234) panicked at` since
    // Rust 1.90.)
    let thread = format!("thread '{name}' ");
    // When the test thread only passed on another thread's panic (a helper that ran the
    // student's code on a thread of its own), that thread's report is the message.
    let split = section
        .iter()
        .rposition(|line| line.starts_with(&thread) && line.contains(" panicked at "))
        .or_else(|| {
            section
                .iter()
                .rposition(|line| line.starts_with("thread '") && line.contains(" panicked at "))
        })
        .unwrap_or(section.len());
    let message = cap(&section[split..].join("\n"), 40, 4000);
    let printed = students_output(&section[..split].join("\n"), 10);
    let mut text = message.trim().to_string();
    if !printed.is_empty() {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&printed);
    }
    (!text.is_empty()).then_some(text)
}

/// What the student's code printed, capped at `lines` lines and marked as theirs.
fn students_output(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            !line.trim().is_empty()
                && !line.starts_with("warning: `--logfile` is deprecated")
                && !line.starts_with("note: run with `RUST_BACKTRACE")
        })
        .collect();
    if kept.is_empty() {
        return String::new();
    }
    let shown = cap(&kept.join("\n"), lines, 1000);
    let more = kept.len().saturating_sub(lines);
    let mut out =
        format!("your code printed ({}):\n", shared::text::plural(kept.len() as u64, "line"));
    out.push_str(&indent(&shown, "| "));
    if more > 0 {
        out.push_str(&format!("\n| ... ({more} more lines not shown)"));
    }
    out
}

/// What a crash by a signal most likely was (Unix), for the feedback.
fn crash_hint(status: std::process::ExitStatus) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if status.signal().is_some() {
            return " (a crash: most often memory beyond the test's limit, a stack overflow, or an abort)";
        }
    }
    let _ = status;
    ""
}

/// At most `lines` lines and `bytes` bytes of `text`.
fn cap(text: &str, lines: usize, bytes: usize) -> String {
    let mut text: String = text.lines().take(lines).collect::<Vec<_>>().join("\n");
    if text.len() > bytes {
        let mut cut = bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(" ...");
    }
    text
}
