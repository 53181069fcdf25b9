//! The workspace as the tool reads it: its members, which of them are course modules and
//! which are the tools they stand on, and which of its files are copied (those git tracks,
//! or every file but build output), and a path written with `/` as every platform shows it.
//! Starters, checks and grading all start here.

use std::fs;
use std::path::{Path, PathBuf};

use shared::error::{Context, Error, Result};

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

/// The tools a starter keeps (the modules and their tests stand on them): [`NOT_MODULES`]
/// but the instructors' `xtask`.
pub fn support_crates() -> impl Iterator<Item = &'static str> {
    NOT_MODULES.into_iter().filter(|m| *m != "xtask")
}

/// Every file under `dir`, skipping [`SKIPPED`] folders.
pub(crate) fn walk(dir: &Path) -> Result<Vec<PathBuf>> {
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

/// The files of `workspace` (relative paths, sorted): those git tracks (plus, with
/// `untracked`, those it would track: not ignored), or every file but build output if the
/// workspace is not the top of a git checkout.
pub fn copyable_files(workspace: &Path, untracked: bool) -> Result<Vec<PathBuf>> {
    let canonical =
        workspace.canonicalize().context(|| format!("cannot find {}", workspace.display()))?;
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(&canonical)
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
    };
    let top = git(&["rev-parse", "--show-toplevel"])
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .and_then(|top| top.canonicalize().ok());
    if top.as_deref() == Some(canonical.as_path()) {
        let mut args = vec!["ls-files", "-z", "--cached"];
        if untracked {
            args.extend(["--others", "--exclude-standard"]);
        }
        if let Some(listed) = git(&args) {
            let mut files: Vec<PathBuf> = String::from_utf8_lossy(&listed.stdout)
                .split('\0')
                .filter(|f| !f.is_empty())
                .map(PathBuf::from)
                .filter(|f| canonical.join(f).is_file())
                .collect();
            files.sort();
            files.dedup();
            return Ok(files);
        }
    }
    let mut files: Vec<PathBuf> = walk(&canonical)?
        .into_iter()
        .map(|f| f.strip_prefix(&canonical).unwrap_or(&f).to_path_buf())
        .collect();
    files.sort();
    Ok(files)
}

/// `path` with `/` between its parts on every system: generated READMEs and messages name
/// files the same way on Windows (where `Path::display` shows `\`) as elsewhere.
pub fn slash_path(path: &Path) -> String {
    let parts: Vec<_> = path.components().map(|part| part.as_os_str().to_string_lossy()).collect();
    parts.join("/")
}
