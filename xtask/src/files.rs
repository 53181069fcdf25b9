//! Files for grading: the reference workspace copied into a scratch folder, a folder (a
//! compiled target folder too) copied into a submission's work folder, each file keeping
//! its modification time so that cargo's freshness check sees a copy as the original; and a
//! file read with its name in the error.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use shared::error::{Context, Result};

use crate::workspace::copyable_files;

/// Copies the reference workspace's files (those git tracks or would track; every file if
/// it is not a git checkout), without `target/` and without `.cargo/`.
pub(crate) fn copy_workspace(workspace: &Path, out: &Path) -> Result<()> {
    for relative in copyable_files(workspace, true)? {
        if relative.starts_with(".cargo") {
            continue;
        }
        let from = workspace.join(&relative);
        let to = out.join(&relative);
        copy_file(&from, &to)?;
    }
    Ok(())
}

/// Copies a folder recursively; with `keep_times`, each file keeps its modification time.
pub(crate) fn copy_tree(from: &Path, to: &Path, keep_times: bool) -> Result<()> {
    fs::create_dir_all(to).context(|| format!("cannot create {}", to.display()))?;
    let entries = fs::read_dir(from).context(|| format!("cannot list {}", from.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("cannot list {}", from.display()))?;
        let kind =
            entry.file_type().context(|| format!("cannot inspect {}", entry.path().display()))?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_tree(&entry.path(), &target, keep_times)?;
        } else if kind.is_file() {
            if keep_times {
                copy_file(&entry.path(), &target)?;
            } else {
                fs::copy(entry.path(), &target)
                    .context(|| format!("cannot copy to {}", target.display()))?;
            }
        } else if kind.is_symlink() {
            // Cargo's target folder has a few (e.g. `.cargo-lock` is a file, not a link);
            // copy what a link points at.
            if let Ok(meta) = fs::metadata(entry.path()) {
                if meta.is_file() {
                    copy_file(&entry.path(), &target)?;
                }
            }
        }
    }
    Ok(())
}

/// Copies one file, keeping its modification time.
fn copy_file(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).context(|| format!("cannot create {}", parent.display()))?;
    }
    fs::copy(from, to).context(|| format!("cannot copy {}", from.display()))?;
    let modified =
        fs::metadata(from).and_then(|m| m.modified()).unwrap_or_else(|_| SystemTime::now());
    let file = fs::File::options()
        .write(true)
        .open(to)
        .context(|| format!("cannot open {}", to.display()))?;
    file.set_modified(modified).context(|| format!("cannot set the time of {}", to.display()))?;
    Ok(())
}

/// A file's text, or an error naming the file.
pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).context(|| format!("cannot read {}", path.display()))
}
