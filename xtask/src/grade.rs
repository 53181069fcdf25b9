//! Grading: run a module's grading suite and report each requirement (test) as passed or
//! failed, with a score line to paste into feedback.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use shared::error::Result;

use crate::run::cargo;

/// One module's grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grade {
    /// The module.
    pub module: String,
    /// Each grading test's name (without `tests::`) and whether it passed.
    pub results: Vec<(String, bool)>,
    /// Whether the suite was cut off at the time limit.
    pub timed_out: bool,
    /// Whether the module did not even compile.
    pub build_failed: bool,
}

impl Grade {
    /// Tests passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|(_, passed)| *passed).count()
    }

    /// Full marks: every test ran and passed.
    pub fn is_full(&self) -> bool {
        !self.timed_out
            && !self.build_failed
            && !self.results.is_empty()
            && self.passed() == self.results.len()
    }

    /// The report: a score line, then one line per test.
    pub fn report(&self) -> String {
        let mut text = format!("{}: {} / {}", self.module, self.passed(), self.results.len());
        if self.build_failed {
            text.push_str(" (it does not compile: see `cargo build -p MODULE`)");
        }
        if self.timed_out {
            text.push_str(" (cut off at the time limit: a test hangs; tests that did not finish count as failed)");
        }
        for (name, passed) in &self.results {
            let _ = write!(text, "\n  {} {name}", if *passed { "pass" } else { "FAIL" });
        }
        text
    }
}

/// Runs `module`'s grading suite (the tests in its `src/tests.rs`) in `workspace`.
pub fn grade(workspace: &Path, module: &str, limit: Duration) -> Result<Grade> {
    // The names first (listing runs nothing), so that tests cut off by the limit still count.
    let listed = cargo(workspace, &["test", "-p", module, "--lib", "--", "--list"], &[], limit)?;
    let names: Vec<String> = listed
        .stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .filter_map(|name| name.strip_prefix("tests::"))
        .map(String::from)
        .collect();
    if !listed.succeeded() {
        return Ok(Grade {
            module: module.into(),
            results: Vec::new(),
            timed_out: false,
            build_failed: true,
        });
    }
    let run = cargo(
        workspace,
        &["test", "-p", module, "--lib", "--", "tests::", "--test-threads", "8"],
        &[],
        limit,
    )?;
    let results = names
        .into_iter()
        .map(|name| {
            let passed =
                run.stdout.lines().any(|line| line == format!("test tests::{name} ... ok"));
            (name, passed)
        })
        .collect();
    Ok(Grade {
        module: module.into(),
        results,
        timed_out: run.status.is_none(),
        build_failed: false,
    })
}
