//! Proving that the grading suites grade: for each module, the starter compiles, its suite
//! fails, every marked region alone makes some test fail, no solution code is left in the
//! starter, and the reference passes.

use std::fs;
use std::path::Path;
use std::time::Duration;

use shared::error::{Context, Result};

use crate::markers::distinctive_lines;
use crate::run::cargo;
use crate::starter::{Exercise, Strip, exercises, write_starter_with};

/// How long an unfinished exercise's tests wait for a reply before failing (see
/// `shared::testing::patience`): short, since they are expected to fail.
const FAILING_PATIENCE_SECS: &str = "2";

/// Checks one module; returns what is wrong (nothing, if the suite grades). Progress lines
/// go to `say`.
pub fn check_module(
    workspace: &Path,
    module: &str,
    scratch: &Path,
    target_dir: &Path,
    limit: Duration,
    say: &mut dyn FnMut(String),
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let target = target_dir.display().to_string();
    let build_env = [("CARGO_TARGET_DIR", target.as_str())];
    let failing_env =
        [("CARGO_TARGET_DIR", target.as_str()), ("GRADING_PATIENCE_SECS", FAILING_PATIENCE_SECS)];
    let test_args = ["test", "-p", module, "--lib", "--", "--test-threads", "16"];

    let marked = exercises(workspace, module)?;
    if marked.is_empty() {
        problems.push(format!("{module}: no exercise is marked"));
        return Ok(problems);
    }
    say(format!("{module}: {} exercises", marked.len()));

    let reference = cargo(workspace, &["test", "-p", module, "--lib"], &[], limit)?;
    if !reference.succeeded() {
        problems.push(format!("{module}: the reference solution does not pass its own suite"));
    }

    write_starter_with(workspace, &[module.to_string()], scratch, true, Strip::All)?;
    let check = cargo(scratch, &["check", "-p", module, "--all-targets"], &build_env, limit)?;
    if !check.succeeded() {
        problems
            .push(format!("{module}: the starter does not compile:\n{}", tail(&check.stderr, 30)));
        return Ok(problems);
    }
    problems.extend(leftover_solution_lines(workspace, scratch, module, &marked)?);
    if cargo(scratch, &test_args, &failing_env, limit)?.succeeded() {
        problems.push(format!("{module}: the starter passes its grading suite"));
    }

    for exercise in &marked {
        write_starter_with(workspace, &[module.to_string()], scratch, true, Strip::Only(exercise))?;
        let run = cargo(scratch, &test_args, &failing_env, limit)?;
        let place =
            format!("{}:{}", crate::starter::slash_path(&exercise.file), exercise.region.begin);
        if run.succeeded() {
            problems.push(format!("{place}: no test fails when this region is left undone"));
        } else {
            let failed = run.stdout.lines().filter(|line| line.ends_with("... FAILED")).count();
            say(format!("  {place}: {failed} tests fail without it"));
        }
    }
    Ok(problems)
}

/// Lines of a solution that are still in the starter's version of its file.
fn leftover_solution_lines(
    workspace: &Path,
    scratch: &Path,
    module: &str,
    marked: &[Exercise],
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for exercise in marked {
        let read = |path: &Path| {
            fs::read_to_string(path).context(|| format!("cannot read {}", path.display()))
        };
        let reference = read(&workspace.join(&exercise.file))?;
        let starter = read(&scratch.join(&exercise.file))?;
        for line in distinctive_lines(&reference, &exercise.region) {
            if starter.lines().any(|l| l.trim() == line) {
                problems.push(format!(
                    "{module}: solution code left in the starter ({}:{}): {line}",
                    crate::starter::slash_path(&exercise.file),
                    exercise.region.begin
                ));
            }
        }
    }
    Ok(problems)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
