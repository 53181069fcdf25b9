//! Running a built test binary's tests: listing them, then each in its own process in the
//! box, `jobs` at a time, none started after the submission's total time is spent. How one
//! test is run and judged is in [`crate::verdict`].

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use shared::error::{Context, Error, Result};

use crate::reference::Reference;
use crate::run::with_limit;
use crate::verdict::{Run, run_one, secret_name};

impl Reference {
    /// Runs each test in the reference's own copy (see [`Reference::run_tests_in`]).
    pub(crate) fn run_tests(
        &self,
        executable: &Path,
        names: &[String],
        limit: impl Fn(&str) -> Duration + Sync,
        total: Duration,
    ) -> Vec<Run> {
        self.run_tests_in(executable, &self.source.join(&self.module), names, limit, total)
    }

    /// Runs each test in its own process, `jobs` at a time; tests not started within
    /// `total` are not run.
    pub(crate) fn run_tests_in(
        &self,
        executable: &Path,
        dir: &Path,
        names: &[String],
        limit: impl Fn(&str) -> Duration + Sync,
        total: Duration,
    ) -> Vec<Run> {
        let deadline = Instant::now() + total;
        let next = Mutex::new(0usize);
        let results: Mutex<Vec<Option<Run>>> = Mutex::new(vec![None; names.len()]);
        let patience = format!("{}", self.options.patience_secs);
        // The harness's logs go where no test looks, under names no test can guess.
        let logs = self.options.scratch.join(&self.module).join(format!("logs-{}", secret_name()));
        let _ = fs::create_dir_all(&logs);
        thread::scope(|scope| {
            for _ in 0..self.options.jobs.max(1) {
                scope.spawn(|| {
                    loop {
                        let index = {
                            let mut next =
                                next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            let index = *next;
                            *next += 1;
                            index
                        };
                        let Some(name) = names.get(index) else { break };
                        let now = Instant::now();
                        let run = if now >= deadline {
                            Run {
                                passed: false,
                                seconds: 0.0,
                                failure: Some(
                                    "not run: the submission's time limit was reached".into(),
                                ),
                            }
                        } else {
                            let limit = limit(name).min(deadline - now);
                            let log = logs.join(format!("{}.log", secret_name()));
                            run_one(&self.sandbox, executable, dir, name, limit, &patience, &log)
                        };
                        results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[index] =
                            Some(run);
                    }
                });
            }
        });
        let _ = fs::remove_dir_all(&logs);
        results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_iter()
            .map(|run| {
                run.unwrap_or(Run { passed: false, seconds: 0.0, failure: Some("not run".into()) })
            })
            .collect()
    }
}

/// The test names the harness lists.
pub(crate) fn list_tests(executable: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut command = Command::new(executable);
    command.args(["--list"]).current_dir(dir);
    let listed = with_limit(command, Duration::from_secs(60))
        .context(|| format!("cannot run {}", executable.display()))?;
    if !listed.succeeded() {
        return Err(Error::msg(format!("cannot list the tests of {}", executable.display())));
    }
    Ok(listed
        .stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(String::from)
        .collect())
}
