//! Gradescope's autograder: the bundle `cargo xtask gradescope` writes, and the grading its
//! `run_autograder` runs (`cargo xtask autograde`).
//!
//! Gradescope documents the layout: a zip whose root holds `setup.sh` (run once, when the
//! autograder's Ubuntu image is built) and `run_autograder` (run for each submission, in
//! `/autograder`); the zip is unpacked in `/autograder/source`, the student's files are put
//! in `/autograder/submission`, and the grader writes `/autograder/results/results.json`:
//! `score`, `execution_time`, `output`, and `tests`, each with `name`, `score`, `max_score`,
//! `status`, `output` and `visibility`.
//!
//! The bundle holds this workspace (the reference, with its hidden tests and `grading.toml`,
//! and this tool), so `run_autograder` grades exactly as `cargo xtask grade` does: the same
//! [`Reference::prepare`] and [`Reference::grade`], only the bodies of the marked functions
//! taken, each test alone in its own process with its limit. Hidden tests are
//! `after_published`: a student sees them once the grades are published.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shared::error::{Context, Error, Result};

use crate::grade::Bodies;
use crate::reference::{Reference, TestInfo};
use crate::results::{Build, Grade};

/// Where Gradescope puts everything.
pub const DEFAULT_ROOT: &str = "/autograder";

/// The environment variable that moves the root (to try the autograder elsewhere).
pub const ROOT_VARIABLE: &str = "AUTOGRADER_ROOT";

/// Characters of compiler errors put in `results.json` (the first errors say what is wrong;
/// a thousand more would only make the page long).
pub const MAX_COMPILER_CHARS: usize = 20_000;

/// The Rust toolchain `setup.sh` installs with rustup.
pub const TOOLCHAIN: &str = "stable";

/// The autograder's root: `given`, else `$AUTOGRADER_ROOT`, else `/autograder`.
pub fn root(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(|| std::env::var_os(ROOT_VARIABLE).filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROOT))
}

/// `setup.sh`: what Gradescope's Ubuntu image lacks (a C linker, the Rust toolchain from
/// rustup.rs: downloaded on Gradescope when the image is built), then the grader built once.
pub fn setup_script() -> String {
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (Ubuntu, as root): it
# installs what the image lacks (a C linker, and the Rust toolchain from rustup.rs, which
# downloads it), fetches the workspace's crates and builds the grader.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends ca-certificates curl build-essential
curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs \
    | sh -s -- -y --profile minimal --default-toolchain {TOOLCHAIN}
. "$HOME/.cargo/env"
cd "${{{ROOT_VARIABLE}:-{DEFAULT_ROOT}}}/source/workspace"
cargo fetch --locked
cargo build --release --locked -p xtask
"#
    )
}

/// `run_autograder`: grades the submission for `modules` with the grader `setup.sh` built.
pub fn run_script(modules: &[String]) -> String {
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades {DEFAULT_ROOT}/submission exactly as
# `cargo xtask grade` does and writes {DEFAULT_ROOT}/results/results.json.
# {ROOT_VARIABLE} (default {DEFAULT_ROOT}) moves the whole layout, to try it elsewhere.
set -uo pipefail
root="${{{ROOT_VARIABLE}:-{DEFAULT_ROOT}}}"
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi
cd "$root/source/workspace" || exit 1
exec ./target/release/xtask autograde {} --root "$root"
"#,
        modules.join(" ")
    )
}

/// Writes the bundle into `out`: `setup.sh`, `run_autograder` and `workspace/` (the files
/// of `workspace` git tracks or would track, without build output). Returns how many files
/// the workspace copy holds.
pub fn write_bundle(
    workspace: &Path,
    modules: &[String],
    out: &Path,
    force: bool,
) -> Result<usize> {
    let known = crate::workspace::modules(workspace)?;
    if let Some(unknown) = modules.iter().find(|m| !known.contains(m)) {
        return Err(crate::usage::usage(format!(
            "no module named '{unknown}' (modules: {})",
            known.join(", ")
        )));
    }
    let occupied = fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some());
    if occupied && !force {
        return Err(crate::usage::usage(format!(
            "{} is not empty (use --force to write into it)",
            out.display()
        )));
    }
    let copy = out.join("workspace");
    let _ = fs::remove_dir_all(&copy);
    // An --out inside the workspace is not copied into itself.
    let inside = out
        .canonicalize()
        .ok()
        .zip(workspace.canonicalize().ok())
        .and_then(|(out, workspace)| out.strip_prefix(workspace).ok().map(Path::to_path_buf));
    let mut copied = 0;
    for relative in crate::workspace::copyable_files(workspace, true)? {
        if relative.starts_with("target")
            || inside.as_ref().is_some_and(|i| relative.starts_with(i))
        {
            continue;
        }
        let to = copy.join(&relative);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).context(|| format!("cannot create {}", parent.display()))?;
        }
        fs::copy(workspace.join(&relative), &to)
            .context(|| format!("cannot copy {} to {}", relative.display(), to.display()))?;
        copied += 1;
    }
    write_script(&out.join("setup.sh"), &setup_script())?;
    write_script(&out.join("run_autograder"), &run_script(modules))?;
    Ok(copied)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755))
            .context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}

/// The student's workspace in `submission`: the folder itself if it holds one of the
/// modules' folders (or a module's `src/`), or its only subfolder if that does (a zip of
/// the folder rather than of its contents). Otherwise why it is not a workspace.
pub fn find_workspace(
    submission: &Path,
    modules: &[String],
) -> std::result::Result<PathBuf, String> {
    let looks_right =
        |dir: &Path| dir.join("src").is_dir() || modules.iter().any(|m| dir.join(m).is_dir());
    if looks_right(submission) {
        return Ok(submission.to_path_buf());
    }
    let subfolders: Vec<PathBuf> = fs::read_dir(submission)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .filter(|p| {
                    p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with(['.', '_']))
                })
                .collect()
        })
        .unwrap_or_default();
    if let [only] = subfolders.as_slice() {
        if looks_right(only) {
            return Ok(only.clone());
        }
    }
    Err(format!(
        "This submission is not a workspace: it holds no {} folder (nor a src/ folder). Upload \
         your whole workspace (the folder with Cargo.toml, or its GitHub repository), or the \
         module's folder.",
        modules.iter().map(|m| format!("{m}/")).collect::<Vec<_>>().join(" or ")
    ))
}

/// Grades `root/submission` for each of `references` and writes `root/results/results.json`
/// (first a placeholder, see [`results_file`]). A submission
/// that is not a workspace gets 0 and a line saying so, without a build. `started` is when
/// the run began (before the reference was prepared): `execution_time` counts from there.
pub fn autograde(
    references: &[Reference],
    root: &Path,
    started: Instant,
    say: &mut dyn FnMut(String),
) -> Result<Value> {
    let path = results_file(root)?;
    let modules: Vec<String> = references.iter().map(|r| r.module.clone()).collect();
    let json = match find_workspace(&root.join("submission"), &modules) {
        Ok(dir) => {
            let mut grades = Vec::new();
            for reference in references {
                let grade = reference.grade("submission", Bodies::Submission(&dir))?;
                say(grade.score_line());
                grades.push(grade);
            }
            results_json(references, &grades, started.elapsed())
        }
        Err(problem) => {
            say(problem.clone());
            not_graded_json(references, &problem, started.elapsed())
        }
    };
    write_json(&path, &json)?;
    Ok(json)
}

/// `root/results/results.json`, its folder created and a placeholder written (so that a run
/// cut off by Gradescope, even while the reference is prepared, still says why): an error
/// now, before the reference is built, if it cannot be.
pub fn results_file(root: &Path) -> Result<PathBuf> {
    let results = root.join("results");
    fs::create_dir_all(&results).context(|| format!("cannot create {}", results.display()))?;
    let path = results.join("results.json");
    let placeholder = json!({
        "score": 0.0,
        "output": "The grading did not finish (cut off by the autograder's time limit?): ask your instructor.",
    });
    write_json(&path, &placeholder)?;
    Ok(path)
}

fn write_json(path: &Path, json: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(json).map_err(|e| Error::msg(e.to_string()))?;
    fs::write(path, text + "\n").context(|| format!("cannot write {}", path.display()))
}

/// One entry of `tests`.
fn test_entry(module: &str, info: &TestInfo, score: u32, passed: bool, output: &str) -> Value {
    let short = info.name.strip_prefix("tests::").unwrap_or(&info.name);
    let name = if info.check {
        format!("{module}: {short} (a check: it passes on the starter, 0 points)")
    } else {
        format!("{module}: {short}")
    };
    json!({
        "name": name,
        "name_format": "text",
        "score": f64::from(score),
        "max_score": f64::from(info.points),
        "status": if passed { "passed" } else { "failed" },
        "output": output,
        "output_format": "text",
        "visibility": if info.hidden { "after_published" } else { "visible" },
        "tags": [module],
    })
}

/// `results.json` for graded submissions: each test, and in `output` the score lines,
/// refused or missing functions and compiler errors (never a hidden test's message).
pub fn results_json(references: &[Reference], grades: &[Grade], took: Duration) -> Value {
    let mut tests = Vec::new();
    let mut output = String::new();
    for (reference, grade) in references.iter().zip(grades) {
        output.push_str(&format!("**{}**\n\n", grade.score_line()));
        for taken in &grade.exercises {
            if let Some(problem) = &taken.problem {
                output.push_str(&format!("- `{}`: {problem}\n", taken.exercise));
            }
        }
        match &grade.build {
            Build::Built => {}
            Build::DoesNotCompile(errors) => output.push_str(&format!(
                "\nYour code does not compile; the compiler said (line numbers are those of the \
                 course's file, into which your function bodies were put):\n\n```text\n{}\n```\n",
                cut(errors.trim_end(), MAX_COMPILER_CHARS)
            )),
            Build::TookTooLong(secs) => output.push_str(&format!(
                "\nThe build took too long (cut off after {secs:.0} s); no test was run.\n"
            )),
        }
        output.push('\n');
        for (info, result) in reference.tests.iter().zip(&grade.tests) {
            let score = if result.passed && !result.check { result.points } else { 0 };
            let message = result.failure.as_deref().unwrap_or("").trim_end();
            tests.push(test_entry(&reference.module, info, score, result.passed, message));
        }
    }
    output.push_str(
        "Only the bodies of the functions you were asked to write are graded, inside a fresh \
         copy of the course's reference (its tests, its other code). Helpers written elsewhere \
         are not seen: write them as closures or inner functions inside those bodies.\n",
    );
    let score: u32 = grades.iter().map(|g| g.points).sum();
    json!({
        "score": f64::from(score),
        "execution_time": took.as_secs(),
        "output": output,
        "output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// `results.json` for a submission that could not be graded: 0, and why.
fn not_graded_json(references: &[Reference], problem: &str, took: Duration) -> Value {
    let mut tests = Vec::new();
    for reference in references {
        for info in &reference.tests {
            tests.push(test_entry(
                &reference.module,
                info,
                0,
                false,
                "not run: the submission is not a workspace",
            ));
        }
    }
    json!({
        "score": 0.0,
        "execution_time": took.as_secs(),
        "output": problem,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// `text` cut at `max` characters, saying so.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}\n... (cut: the first {max} characters of the compiler's errors)")
}
