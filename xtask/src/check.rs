//! Proving that the grading suites grade: for each module, the starter compiles, its suite
//! fails, every marked region alone makes some test fail, no solution code is left in the
//! starter, and the reference passes. And that the starter is fit to hand out: only the
//! assigned module (with `shared` and the root files), no solution text in any file (code or
//! Markdown), `cargo fmt --check` and clippy `-D warnings` clean, the students' section first.

use std::fs;
use std::path::Path;
use std::time::Duration;

use shared::error::{Context, Result};

use crate::markers::{distinctive_lines, find_regions};
use crate::readme::{MODULE_ONLY, REFERENCE_ONLY};
use crate::run::cargo;
use crate::starter::{
    Exercise, Strip, code_in_line, exercises, in_starter, normalize_code, solution_snippets,
    write_starter_with,
};
use crate::workspace::copyable_files;

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
    problems.extend(starter_problems(workspace, scratch, &[module.to_string()])?);
    let fmt = cargo(scratch, &["fmt", "--all", "--check"], &build_env, limit)?;
    if !fmt.succeeded() {
        problems.push(format!(
            "{module}: the starter fails cargo fmt --check:\n{}",
            tail(&fmt.stdout, 30)
        ));
    }
    let clippy = cargo(
        scratch,
        &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"],
        &build_env,
        limit,
    )?;
    if !clippy.succeeded() {
        problems.push(format!(
            "{module}: the starter fails clippy -D warnings:\n{}",
            tail(&clippy.stderr, 30)
        ));
    }
    if cargo(scratch, &test_args, &failing_env, limit)?.succeeded() {
        problems.push(format!("{module}: the starter passes its grading suite"));
    }

    for exercise in &marked {
        write_starter_with(workspace, &[module.to_string()], scratch, true, Strip::Only(exercise))?;
        let run = cargo(scratch, &test_args, &failing_env, limit)?;
        let file = crate::workspace::slash_path(&exercise.file);
        let reference = fs::read_to_string(workspace.join(&exercise.file)).unwrap_or_default();
        let place = match crate::starter::function_path(&reference, exercise.region.begin) {
            Some(function) => format!("{file}::{function} (line {})", exercise.region.begin),
            None => format!("{file}:{}", exercise.region.begin),
        };
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
                    crate::workspace::slash_path(&exercise.file),
                    exercise.region.begin
                ));
            }
        }
    }
    Ok(problems)
}

/// What a line of a starter's Markdown names that the starter does not have: the examples,
/// `bench/`, `BENCHMARKS.md`, the instructors' `cargo xtask`, or a module not assigned.
fn not_in_starter(line: &str, modules: &[String], every_module: &[String]) -> Option<String> {
    let tools = ["--example", "examples/", "bench/", "BENCHMARKS.md", "cargo xtask"];
    if let Some(tool) = tools.iter().find(|tool| line.contains(*tool)) {
        return Some(format!("`{tool}`"));
    }
    every_module
        .iter()
        .filter(|module| !modules.contains(module))
        .find(|module| line.contains(&format!("-p {module}")))
        .map(|module| format!("module {module}"))
}

/// What is wrong with a starter written for `modules` into `starter`: a file that should
/// not be there (another module, xtask, an example, an untracked file), solution text in any
/// file (a solution line of any module's region in code, or quoted in Markdown), or a README
/// whose first section is not the students'.
pub fn starter_problems(
    workspace: &Path,
    starter: &Path,
    modules: &[String],
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let tracked = copyable_files(workspace, false)?;
    let generated = [Path::new("README.md"), Path::new("Cargo.toml"), Path::new(".ci/run")];
    let every_module = crate::workspace::modules(workspace)?;
    let mut lines = Vec::new();
    for module in &every_module {
        for exercise in exercises(workspace, module)? {
            let text = fs::read_to_string(workspace.join(&exercise.file))
                .context(|| format!("cannot read {}", exercise.file.display()))?;
            lines.extend(distinctive_lines(&text, &exercise.region).into_iter().map(String::from));
        }
    }
    let snippets = solution_snippets(workspace, &every_module)?;
    for file in copyable_files(starter, true)? {
        let name = file.display().to_string();
        if name.ends_with("Cargo.lock") {
            continue;
        }
        if !in_starter(&file, modules) {
            problems.push(format!("starter: {name} should not be in it"));
        }
        if !tracked.contains(&file) && !generated.contains(&file.as_path()) {
            problems.push(format!("starter: {name} is not a file git tracks"));
        }
        let Ok(text) = fs::read_to_string(starter.join(&file)) else { continue };
        // A solution line that the reference's own version of this file has outside its
        // regions is ordinary code there, not a leak.
        let reference = fs::read_to_string(workspace.join(&file)).unwrap_or_default();
        let regions = find_regions(&name, &reference).unwrap_or_default();
        let outside: Vec<&str> = reference
            .lines()
            .enumerate()
            .filter(|(i, _)| !regions.iter().any(|r| r.begin <= i + 1 && *i < r.end))
            .map(|(_, l)| l.trim())
            .collect();
        let markdown = file.extension().is_some_and(|ext| ext == "md");
        let mut in_block = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_block = !in_block;
                continue;
            }
            let trimmed = line.trim();
            if lines.iter().any(|l| l == trimmed) && !outside.contains(&trimmed) {
                problems.push(format!("starter: {name}:{}: solution code: {trimmed}", number + 1));
            } else if markdown
                && code_in_line(line, in_block)
                    .iter()
                    .any(|code| snippets.contains(&normalize_code(code)))
            {
                problems
                    .push(format!("starter: {name}:{}: quotes a solution: {trimmed}", number + 1));
            } else if let Some(missing) =
                markdown.then(|| not_in_starter(line, modules, &every_module)).flatten()
            {
                problems.push(format!(
                    "starter: {name}:{}: names {missing}, which the starter does not have \
                     (mark the part {REFERENCE_ONLY} or {MODULE_ONLY}NAME -->): {trimmed}",
                    number + 1
                ));
            }
        }
    }
    let ci = starter.join(".ci").join("run");
    if ci.exists() {
        let syntax = std::process::Command::new("bash").arg("-n").arg(&ci).output();
        if let Ok(syntax) = syntax {
            if !syntax.status.success() {
                problems.push(format!(
                    "starter: .ci/run is not a valid script: {}",
                    String::from_utf8_lossy(&syntax.stderr).trim()
                ));
            }
        }
        let text = fs::read_to_string(&ci).unwrap_or_default();
        if text.contains("xtask") || text.contains("examples") {
            problems.push("starter: .ci/run uses what the starter does not have".to_string());
        }
    }
    let readme = fs::read_to_string(starter.join("README.md")).unwrap_or_default();
    let first_section = readme.lines().find(|l| l.starts_with("## "));
    if first_section != Some("## For students: your exercise") {
        problems.push(format!(
            "starter: the README's first section is {first_section:?}, not the students'"
        ));
    }
    Ok(problems)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
