//! What grading found for one submission ([`Grade`]: each exercise's body, the build, each
//! test) and how it is told: the score line, the instructor's terminal report and the
//! student's Markdown feedback.

use serde::Serialize;

/// What became of one exercise's body.
#[derive(Debug, Clone, Serialize)]
pub struct Taken {
    /// The exercise (`src/server.rs::reply_to`).
    pub exercise: String,
    /// `None` if the body was graded; otherwise why the exercise scores 0.
    pub problem: Option<String>,
    /// Whether the graded body still calls `todo!` or `unimplemented!` (left undone).
    pub undone: bool,
}

/// One test's result.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The test.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether it is a check (not scored).
    pub check: bool,
    /// Its points if passed.
    pub points: u32,
    /// How long it ran.
    pub seconds: f64,
    /// Why it failed (the panic message), if it did.
    pub failure: Option<String>,
}

/// How a submission's build went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Build {
    /// It built.
    Built,
    /// The compiler refused it: its errors.
    DoesNotCompile(String),
    /// It did not finish within the build limit.
    TookTooLong(f64),
}

/// One submission's grade for one module.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    /// The student (the submission's folder name).
    pub student: String,
    /// The module.
    pub module: String,
    /// Points earned.
    pub points: u32,
    /// Points possible.
    pub max: u32,
    /// What became of each exercise's body.
    pub exercises: Vec<Taken>,
    /// The build.
    pub build: Build,
    /// Each test.
    pub tests: Vec<TestResult>,
    /// Seconds the whole grading of this submission took.
    pub seconds: f64,
}

impl Grade {
    /// `udp-uppercase: 14 / 17 points`.
    pub fn score_line(&self) -> String {
        format!("{}: {} / {} points", self.module, self.points, self.max)
    }

    /// The score line, then what went wrong and each test.
    pub fn report(&self) -> String {
        let mut text = self.score_line();
        for taken in &self.exercises {
            if let Some(problem) = &taken.problem {
                text.push_str(&format!("\n  {}: {problem}", taken.exercise));
            }
        }
        match &self.build {
            Build::Built => {}
            Build::DoesNotCompile(errors) => {
                text.push_str(&format!("\n  it does not compile:\n{}", indent(errors, "    ")));
            }
            Build::TookTooLong(secs) => {
                text.push_str(&format!("\n  the build took too long (cut off after {secs:.0} s)"));
            }
        }
        for test in &self.tests {
            let mark = match (test.passed, test.check) {
                (true, true) => "check",
                (true, false) => "pass",
                (false, _) => "FAIL",
            };
            let worth = if test.check { String::new() } else { format!(" ({} pt)", test.points) };
            text.push_str(&format!("\n  {mark} {}{worth} [{:.1} s]", test.name, test.seconds));
            if let Some(failure) = &test.failure {
                // The panic message, not the "thread ... panicked at" line before it.
                let mut lines = failure.lines().filter(|l| !l.trim().is_empty());
                let first =
                    lines.clone().find(|l| !l.starts_with("thread '")).or_else(|| lines.next());
                if let Some(first) = first {
                    text.push_str(&format!(": {first}"));
                }
            }
        }
        text
    }

    /// Feedback to send the student, in Markdown.
    pub fn feedback(&self) -> String {
        let mut text = format!("## {}\n\n**{}**\n\n", self.module, self.score_line());
        for taken in &self.exercises {
            if let Some(problem) = &taken.problem {
                text.push_str(&format!("- `{}`: {problem}\n", taken.exercise));
            }
        }
        match &self.build {
            Build::Built => {}
            Build::DoesNotCompile(errors) => text.push_str(&format!(
                "\nYour code does not compile; the compiler said (line numbers are those of the course's \
                 file, into which your function bodies were put):\n\n```text\n{}\n```\n",
                errors.trim_end()
            )),
            Build::TookTooLong(secs) => text.push_str(&format!(
                "\nThe build took too long (cut off after {secs:.0} s); no test was run.\n"
            )),
        }
        let failed: Vec<&TestResult> = self.tests.iter().filter(|t| !t.passed).collect();
        let passed = self.tests.iter().filter(|t| t.passed && !t.check).count();
        if self.build != Build::Built {
            return text; // no test ran
        }
        if !self.tests.is_empty() {
            text.push_str(&format!(
                "\n{passed} graded requirements met, {} not met.\n",
                failed.iter().filter(|t| !t.check).count()
            ));
        }
        for test in failed {
            let points = if test.check {
                "a check, 0 points: it passed on the starter".to_string()
            } else if test.points == 1 {
                "1 point".to_string()
            } else {
                format!("{} points", test.points)
            };
            text.push_str(&format!("\n### `{}` ({points})\n\n", test.name));
            if let Some(failure) = &test.failure {
                text.push_str(&format!("```text\n{}\n```\n", failure.trim_end()));
            }
        }
        text
    }
}

/// Each line of `text` with `prefix` before it.
pub(crate) fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}
