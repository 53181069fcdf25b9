//! Writing a student starter workspace: a copy of this workspace in which the chosen
//! modules' solutions are replaced by `todo!()`, and hidden tests are left out.

use std::fs;
use std::path::{Path, PathBuf};

use shared::error::{Context, Error, Result};

use crate::markers::{Region, find_regions, strip_hidden_tests, strip_regions_using};
use crate::readme::{starter_root_readme, strip_readme_sections};
use crate::usage::usage;
use crate::workspace::{self, copyable_files, slash_path, support_crates, walk};

/// A marked region, with the file it is in.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// The file, relative to the workspace.
    pub file: PathBuf,
    /// The region.
    pub region: Region,
}

/// Every marked region of `module`, file by file (marker mistakes are errors).
pub fn exercises(workspace: &Path, module: &str) -> Result<Vec<Exercise>> {
    let mut found = Vec::new();
    for file in rust_files(&workspace.join(module))? {
        let text =
            fs::read_to_string(&file).context(|| format!("cannot read {}", file.display()))?;
        let relative = file.strip_prefix(workspace).unwrap_or(&file).to_path_buf();
        let regions =
            find_regions(&slash_path(&relative), &text).map_err(|e| Error::msg(e.to_string()))?;
        found.extend(regions.into_iter().map(|region| Exercise { file: relative.clone(), region }));
    }
    Ok(found)
}

/// The `.rs` files under `dir`, sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walk(dir)? {
        if entry.extension().is_some_and(|ext| ext == "rs") {
            files.push(entry);
        }
    }
    files.sort();
    Ok(files)
}

/// Which regions to take out of a module: all of them, or one (to see that the grading
/// suite notices that one alone).
#[derive(Debug, Clone, Copy)]
pub enum Strip<'a> {
    /// Every region of the module.
    All,
    /// Only this region.
    Only(&'a Exercise),
}

/// Writes into `out` a student starter for `modules`: their regions (as `strip` says)
/// replaced by `todo!()` and their hidden tests removed, alongside the support crates and the root
/// files; nothing else (no other module, no `xtask`, no examples, only files git tracks).
/// `out` must be empty or missing unless `force`. Returns the exercises taken out.
pub fn write_starter(
    workspace: &Path,
    modules: &[String],
    out: &Path,
    force: bool,
) -> Result<Vec<Exercise>> {
    write_starter_with(workspace, modules, out, force, Strip::All)
}

/// Root files that stay with the instructor (what they describe is not in a starter).
const INSTRUCTOR_ROOT_FILES: &[&str] = &["BENCHMARKS.md"];

/// Whether a file of the workspace (relative path) belongs in a starter for `modules`.
pub fn in_starter(relative: &Path, modules: &[String]) -> bool {
    let parts: Vec<String> =
        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    match parts.as_slice() {
        [] => false,
        [file] => !INSTRUCTOR_ROOT_FILES.contains(&file.as_str()),
        [first, rest @ ..] => {
            if support_crates().any(|tool| tool == first) || relative == Path::new(".ci/run") {
                true
            } else if modules.contains(first) {
                // Examples are the benchmarks' "bare" programs: whole solutions.
                rest.first().is_none_or(|sub| sub != "examples")
            } else {
                false
            }
        }
    }
}

/// [`write_starter`], choosing which regions to strip.
pub fn write_starter_with(
    workspace: &Path,
    modules: &[String],
    out: &Path,
    force: bool,
    strip: Strip<'_>,
) -> Result<Vec<Exercise>> {
    let known = workspace::modules(workspace)?;
    // Both are the user's to fix in the command line: usage errors (exit status 2).
    if let Some(unknown) = modules.iter().find(|m| !known.contains(m)) {
        return Err(usage(format!("no module named '{unknown}' (modules: {})", known.join(", "))));
    }
    if !force && fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(usage(format!(
            "{} is not empty (use --force to write over it)",
            out.display()
        )));
    }
    let workspace =
        workspace.canonicalize().context(|| format!("cannot find {}", workspace.display()))?;
    if force {
        // Nothing of an earlier starter may linger (a module no longer assigned).
        let _ = fs::remove_dir_all(out);
    }
    fs::create_dir_all(out).context(|| format!("cannot create {}", out.display()))?;
    let out_abs = out.canonicalize().context(|| format!("cannot find {}", out.display()))?;
    let snippets = solution_snippets(&workspace, modules)?;
    let mut taken = Vec::new();
    for relative in copyable_files(&workspace, false)? {
        let file = workspace.join(&relative);
        if file.starts_with(&out_abs) || !in_starter(&relative, modules) {
            continue;
        }
        let destination = out_abs.join(&relative);
        if let Some(parent) = destination.parent() {
            fs::create_dir_all(parent).context(|| format!("cannot create {}", parent.display()))?;
        }
        let read =
            || fs::read_to_string(&file).context(|| format!("cannot read {}", file.display()));
        let in_module = modules.iter().any(|m| relative.starts_with(m));
        let name = slash_path(&relative);
        let written = if relative == Path::new("Cargo.toml") {
            starter_manifest(&read()?, modules)
        } else if relative == Path::new(".ci/run") {
            starter_ci(modules)
        } else if relative.starts_with(".cargo") || relative.starts_with(".github") {
            continue; // the instructors' alias (xtask) and workflows
        } else if relative.extension().is_some_and(|ext| ext == "md") {
            let text = strip_readme_sections(&read()?, modules)
                .map_err(|e| Error::msg(format!("{name}: {e}")))?;
            let text = redact_solutions(&text, &snippets);
            if relative == Path::new("README.md") {
                starter_root_readme(&text, modules)
            } else {
                text
            }
        } else if in_module && relative.extension().is_some_and(|ext| ext == "rs") {
            let text = read()?;
            let regions = find_regions(&name, &text).map_err(|e| Error::msg(e.to_string()))?;
            let chosen: Vec<Region> = regions
                .into_iter()
                .filter(|region| match strip {
                    Strip::All => true,
                    Strip::Only(exercise) => {
                        exercise.file == relative && exercise.region == *region
                    }
                })
                .collect();
            let mut params = Vec::new();
            for region in &chosen {
                let function = crate::splice::function_at_line(&text, region.begin)
                    .map_err(|e| Error::msg(format!("{name}: {e}")))?;
                params.push(function.map(|f| f.params).unwrap_or_default());
            }
            let stripped = strip_regions_using(&text, &chosen, &params);
            let stripped =
                strip_hidden_tests(&name, &stripped).map_err(|e| Error::msg(e.to_string()))?;
            let is_lib =
                modules.iter().any(|m| relative == Path::new(m).join("src").join("lib.rs"));
            let stripped = if is_lib { allow_unused_helpers(&stripped) } else { stripped };
            taken.extend(
                chosen.into_iter().map(|region| Exercise { file: relative.clone(), region }),
            );
            stripped
        } else {
            fs::copy(&file, &destination).context(|| format!("cannot copy {}", file.display()))?;
            continue;
        };
        fs::write(&destination, written)
            .context(|| format!("cannot write {}", destination.display()))?;
        #[cfg(unix)]
        if relative == Path::new(".ci/run") {
            use std::os::unix::fs::PermissionsExt as _;
            fs::set_permissions(&destination, fs::Permissions::from_mode(0o755))
                .context(|| format!("cannot make {} executable", destination.display()))?;
        }
    }
    if matches!(strip, Strip::All) {
        insert_student_readme(&out_abs, modules, &taken)?;
    }
    Ok(taken)
}

/// The lint allowance a starter's `lib.rs` gets: the helpers and imports that only the
/// solutions use are unused until the student writes them.
pub const STARTER_ALLOW: &str = "#![allow(\n    dead_code,\n    unused_imports,\n    reason = \"the starter: helpers and imports that the functions you write will use\"\n)]\n";

/// `lib.rs` with [`STARTER_ALLOW`] after its leading `//!` documentation.
fn allow_unused_helpers(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let docs = lines.iter().take_while(|l| l.starts_with("//!")).count();
    let mut out = String::new();
    for line in &lines[..docs] {
        out.push_str(line);
        out.push('\n');
    }
    if docs > 0 {
        out.push('\n');
    }
    out.push_str(STARTER_ALLOW);
    let rest = &lines[docs..];
    let rest = if rest.first().is_some_and(|l| l.trim().is_empty()) { &rest[1..] } else { rest };
    if !rest.is_empty() {
        out.push('\n');
    }
    for line in rest {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The root `Cargo.toml` with only the support crates (`shared`, `lossy-link`) and `modules`
/// as members.
fn starter_manifest(text: &str, modules: &[String]) -> String {
    let Some(start) = text.find("members") else { return text.to_string() };
    let Some(open) = text[start..].find('[').map(|i| start + i) else { return text.to_string() };
    let Some(close) = text[open..].find(']').map(|i| open + i) else { return text.to_string() };
    // The workspace's own order, without the modules not assigned and without xtask.
    let members: Vec<String> = text[open + 1..close]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_string())
        .filter(|m| modules.contains(m) || support_crates().any(|tool| tool == m.as_str()))
        .map(|m| format!("{m:?}"))
        .collect();
    format!("{}[{}]{}", &text[..open], members.join(", "), &text[close + 1..])
}

/// A `.ci/run` for a starter: formatting, lints, and that everything builds (the grading
/// suite itself fails until the work is done).
fn starter_ci(modules: &[String]) -> String {
    let mut text = String::from(
        "#!/usr/bin/env bash\n# Checks for your starter: formatting, lints, and that the tests build.\n\
         # The grading suite itself is `cargo test -p MODULE` (it passes when your work is done).\n\
         set -euo pipefail\ncd \"$(dirname \"$0\")/..\"\n\
         cargo fmt --all --check\n\
         cargo clippy --workspace --all-targets -- -D warnings\n\
         cargo test --workspace --no-run\n\
         cargo test -p shared\n",
    );
    for module in modules {
        text.push_str(&format!("echo \"grading suite: cargo test -p {module}\"\n"));
    }
    text
}

/// What a solution looks like when quoted: each region's code lines and its whole body on
/// one line, without spaces (and without a trailing `;` or `?`), if long enough not to be
/// common code (`Ok(())`).
pub fn solution_snippets(workspace: &Path, modules: &[String]) -> Result<Vec<String>> {
    let mut snippets = Vec::new();
    for module in modules {
        for exercise in exercises(workspace, module)? {
            let path = workspace.join(&exercise.file);
            let text =
                fs::read_to_string(&path).context(|| format!("cannot read {}", path.display()))?;
            let lines: Vec<&str> = text
                .lines()
                .skip(exercise.region.begin)
                .take(exercise.region.end - exercise.region.begin - 1)
                .map(str::trim)
                .filter(|l| !l.starts_with("//"))
                .collect();
            snippets.extend(lines.iter().map(|l| normalize_code(l)));
            snippets.push(normalize_code(&lines.join(" ")));
        }
    }
    snippets.retain(|s| s.len() >= 12);
    snippets.sort();
    snippets.dedup();
    Ok(snippets)
}

/// Code without whitespace and without a trailing `;` or `?`.
pub fn normalize_code(code: &str) -> String {
    let squeezed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    squeezed.trim_end_matches([';', '?']).to_string()
}

/// The pieces of code a Markdown line shows: its inline code spans, or the line itself in a
/// code block.
pub fn code_in_line(line: &str, in_block: bool) -> Vec<String> {
    if in_block {
        return vec![line.to_string()];
    }
    line.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// Markdown with every quoted solution taken out: an inline code span that is a solution
/// line becomes "(your code)", a code-block line that is one is left out.
pub fn redact_solutions(text: &str, snippets: &[String]) -> String {
    let is_solution = |code: &str| snippets.contains(&normalize_code(code));
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            out.push_str(line);
        } else if in_block {
            if is_solution(line) {
                continue;
            }
            out.push_str(line);
        } else {
            let mut pieces: Vec<String> = line.split('`').map(str::to_string).collect();
            for (i, piece) in pieces.iter_mut().enumerate() {
                if i % 2 == 1 && is_solution(piece) {
                    *piece = "(your code)".to_string();
                }
            }
            // Spans replaced lose their backticks.
            let mut rebuilt = String::new();
            for (i, piece) in pieces.iter().enumerate() {
                if i > 0 && !(piece == "(your code)" || pieces[i - 1] == "(your code)") {
                    rebuilt.push('`');
                }
                rebuilt.push_str(piece);
            }
            out.push_str(&rebuilt);
        }
        out.push('\n');
    }
    out
}

/// Puts the section for students at the top of the starter's README (after its title).
fn insert_student_readme(out: &Path, modules: &[String], exercises: &[Exercise]) -> Result<()> {
    let readme = out.join("README.md");
    let original = fs::read_to_string(&readme).unwrap_or_default();
    let (title, rest) = match original.split_once('\n') {
        Some((title, rest)) if title.starts_with("# ") => (format!("{title}\n"), rest.to_string()),
        _ => (String::new(), original.clone()),
    };
    let mut text = title;
    text.push_str("\n## For students: your exercise\n\n");
    text.push_str(&format!(
        "Your modules: {}. In each, the functions below are left for you to write: each body is \
         `todo!(\"...\")`, and the text in quotes says what the function must do. Read the \
         module's README first: it explains the lesson and what each function is for.\n\n",
        modules.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    ));
    text.push_str(
        "**Only the bodies of these functions are graded**: they are put into a fresh copy of \
         the course's code and tested there, so anything you change elsewhere (other functions, \
         the tests, `shared/`, `Cargo.toml`) is not seen. Write any helper you need as a closure \
         or an inner function inside the body you were asked to write. A body may not reach \
         outside its function: no `mod` or `macro_rules!`, no files, processes or environment \
         (`std::fs`, `std::process`, `std::env`, `include_str!`...), no derive but std's; one \
         that does scores as if left undone, with a message naming the line.\n\n",
    );
    // Where each `todo!()` now stands: the k-th exercise of a file is its k-th stub.
    let mut seen: Vec<&PathBuf> = Vec::new();
    for exercise in exercises {
        let k = seen.iter().filter(|file| **file == &exercise.file).count();
        seen.push(&exercise.file);
        let written = fs::read_to_string(out.join(&exercise.file)).unwrap_or_default();
        let line = written
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("todo!("))
            .nth(k)
            .map_or(exercise.region.begin, |(i, _)| i + 1);
        let place = slash_path(&exercise.file);
        match function_path(&written, line) {
            Some(function) => text.push_str(&format!(
                "- `{place}::{function}` (line {line}): {}\n",
                exercise.region.hint
            )),
            None => text.push_str(&format!("- `{place}:{line}`: {}\n", exercise.region.hint)),
        }
    }
    text.push_str("\nBuild, run and check yourself, module by module:\n\n```sh\n");
    for module in modules {
        text.push_str(&format!(
            "cargo build -p {module}\ncargo run -p {module} --bin server      # and --bin client in a second terminal\ncargo test -p {module}                   # the grading suite: all must pass\n"
        ));
    }
    text.push_str("```\n\nA test that fails names what it expected and what arrived. While a function still \
                   says `todo!()`, the tests that need it fail (the program stops at the `todo!()` with \
                   its message), and one that waits for a reply that never comes fails with a message \
                   instead of hanging. `bash .ci/run` checks what CI checks (formatting, clippy, \
                   the build).\n\n");
    text.push_str(&rest);
    fs::write(&readme, text).context(|| format!("cannot write {}", readme.display()))
}

/// The path, within its file, of the function around `line` of `text` (`Server::serve`), as
/// exercises are named; `None` if the file does not parse or no function is there.
pub fn function_path(text: &str, line: usize) -> Option<String> {
    crate::splice::function_at_line(text, line).ok().flatten().map(|function| function.path)
}
