//! Writing a student starter workspace: a copy of this workspace in which the chosen
//! modules' solutions are replaced by `todo!()`, and hidden tests are left out.

use std::fs;
use std::path::{Path, PathBuf};

use shared::error::{Context, Error, Result};

use crate::markers::{Region, find_regions, strip_hidden_tests, strip_regions};

/// Folders never copied: build output, version control, editor state.
const SKIPPED: &[&str] = &["target", ".git", ".idea", ".vscode"];

/// The workspace's members, read from the `members = [...]` list of its `Cargo.toml`.
pub fn members(workspace: &Path) -> Result<Vec<String>> {
    let manifest = workspace.join("Cargo.toml");
    let text =
        fs::read_to_string(&manifest).context(|| format!("cannot read {}", manifest.display()))?;
    let start = text.find("members").ok_or_else(|| Error::msg("no members list in Cargo.toml"))?;
    let list = &text[start..];
    let (open, close) = match (list.find('['), list.find(']')) {
        (Some(open), Some(close)) if open < close => (open, close),
        _ => return Err(Error::msg("cannot read the members list in Cargo.toml")),
    };
    Ok(list[open + 1..close]
        .split(',')
        .map(|member| member.trim().trim_matches('"').to_string())
        .filter(|member| !member.is_empty())
        .collect())
}

/// The members students can be given: every member but the tools ([`NOT_MODULES`]).
pub fn modules(workspace: &Path) -> Result<Vec<String>> {
    Ok(members(workspace)?.into_iter().filter(|m| !NOT_MODULES.contains(&m.as_str())).collect())
}

/// Workspace members that are tools, not course modules: no exercises, never in a starter
/// as an assignment.
pub const NOT_MODULES: [&str; 3] = ["shared", "xtask", "lossy-link"];

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
        let regions = find_regions(&relative.display().to_string(), &text)
            .map_err(|e| Error::msg(e.to_string()))?;
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

/// Every file under `dir`, skipping [`SKIPPED`] folders.
fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.context(|| format!("cannot list {}", dir.display()))?;
            let path = entry.path();
            let file_type =
                entry.file_type().context(|| format!("cannot inspect {}", path.display()))?;
            if file_type.is_dir() {
                if !SKIPPED.iter().any(|skip| entry.file_name() == *skip) {
                    pending.push(path);
                }
            } else if file_type.is_file() {
                files.push(path);
            }
        }
    }
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

/// Writes into `out` a copy of `workspace` in which `modules` have their regions (as
/// `strip` says) replaced by `todo!()` and their hidden tests removed. `out` must be empty
/// or missing unless `force`. Returns the exercises taken out.
pub fn write_starter(
    workspace: &Path,
    modules: &[String],
    out: &Path,
    force: bool,
) -> Result<Vec<Exercise>> {
    write_starter_with(workspace, modules, out, force, Strip::All)
}

/// [`write_starter`], choosing which regions to strip.
pub fn write_starter_with(
    workspace: &Path,
    modules: &[String],
    out: &Path,
    force: bool,
    strip: Strip<'_>,
) -> Result<Vec<Exercise>> {
    let known = self::modules(workspace)?;
    if let Some(unknown) = modules.iter().find(|m| !known.contains(m)) {
        return Err(Error::msg(format!(
            "no module named '{unknown}' (modules: {})",
            known.join(", ")
        )));
    }
    if !force && fs::read_dir(out).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(Error::msg(format!(
            "{} is not empty (use --force to write over it)",
            out.display()
        )));
    }
    let workspace =
        workspace.canonicalize().context(|| format!("cannot find {}", workspace.display()))?;
    fs::create_dir_all(out).context(|| format!("cannot create {}", out.display()))?;
    let out_abs = out.canonicalize().context(|| format!("cannot find {}", out.display()))?;
    let mut taken = Vec::new();
    for file in walk(&workspace)? {
        if file.starts_with(&out_abs) {
            continue; // the starter may be written inside the workspace (e.g. under target/)
        }
        let relative = file.strip_prefix(&workspace).unwrap_or(&file).to_path_buf();
        let destination = out_abs.join(&relative);
        if let Some(parent) = destination.parent() {
            fs::create_dir_all(parent).context(|| format!("cannot create {}", parent.display()))?;
        }
        let in_module = modules.iter().any(|m| relative.starts_with(m));
        if in_module && relative.extension().is_some_and(|ext| ext == "rs") {
            let text =
                fs::read_to_string(&file).context(|| format!("cannot read {}", file.display()))?;
            let name = relative.display().to_string();
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
            let stripped = strip_regions(&text, &chosen);
            let stripped =
                strip_hidden_tests(&name, &stripped).map_err(|e| Error::msg(e.to_string()))?;
            fs::write(&destination, stripped)
                .context(|| format!("cannot write {}", destination.display()))?;
            taken.extend(
                chosen.into_iter().map(|region| Exercise { file: relative.clone(), region }),
            );
        } else {
            fs::copy(&file, &destination).context(|| format!("cannot copy {}", file.display()))?;
        }
    }
    if matches!(strip, Strip::All) {
        append_student_readme(&out_abs, modules, &taken)?;
    }
    Ok(taken)
}

/// Adds a section for students to the starter's README.
fn append_student_readme(out: &Path, modules: &[String], exercises: &[Exercise]) -> Result<()> {
    let readme = out.join("README.md");
    let mut text = fs::read_to_string(&readme).unwrap_or_default();
    text.push_str("\n## For students: your exercise\n\n");
    text.push_str(&format!(
        "Your modules: {}. In each, the functions below are left for you to write: each body is \
         `todo!(\"...\")`, and the text in quotes says what the function must do. Read the \
         module's README first: it explains the lesson and what each function is for.\n\n",
        modules.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
    ));
    // Each region above another in the same file shrank to one line: count where each
    // `todo!()` now stands.
    let mut lines_removed: Vec<(&PathBuf, usize)> = Vec::new();
    for exercise in exercises {
        let removed_above: usize =
            lines_removed.iter().filter(|(file, _)| **file == exercise.file).map(|(_, n)| n).sum();
        let line = exercise.region.begin - removed_above;
        text.push_str(&format!(
            "- `{}:{line}`: {}\n",
            exercise.file.display(),
            exercise.region.hint
        ));
        lines_removed.push((&exercise.file, exercise.region.end - exercise.region.begin));
    }
    text.push_str("\nBuild, run and check yourself, module by module:\n\n```sh\n");
    for module in modules {
        text.push_str(&format!(
            "cargo build -p {module}\ncargo run -p {module} --bin server      # and --bin client in a second terminal\ncargo test -p {module}                   # the grading suite: all must pass\n"
        ));
    }
    text.push_str("```\n\nA test that fails names what it expected and what arrived. While a function still \
                   says `todo!()`, the tests that need it fail (the program stops at the `todo!()` with \
                   its message).\n");
    fs::write(&readme, text).context(|| format!("cannot write {}", readme.display()))
}
