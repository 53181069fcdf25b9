//! Reading a student's files as a grader must: plain files only (no symbolic link, device
//! or pipe, nothing over [`MAX_FILE_BYTES`]), bracket nesting bounded and parsing done on a
//! large stack (a parse bomb is that student's problem, never the batch's), and each
//! exercise's body checked by syntax before it is spliced (see [`crate::splice::escapes`]).

use std::fs;
use std::path::{Path, PathBuf};

use crate::exercises::Exercise;
use crate::splice::escapes;
use crate::workspace::slash_path;

/// The largest source file taken from a submission.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The student's body of `exercise` and the line it starts on in their file, or why it
/// cannot be graded.
pub(crate) fn student_body(
    dir: &Path,
    module: &str,
    exercise: &Exercise,
) -> Result<(String, usize), String> {
    let not_graded = |why: String| format!("not graded (0 points): {why}");
    // A starter workspace (dir/module/src/...) or the module folder itself (dir/src/...).
    let in_workspace = Path::new(module).join(&exercise.file);
    let relative = if plain_folder(dir, Path::new(module)) {
        in_workspace
    } else {
        PathBuf::from(&exercise.file)
    };
    let text = read_plain_file(dir, &relative).map_err(not_graded)?;
    let depth = crate::splice::nesting_depth(&text).map_err(|e| {
        not_graded(format!(
            "`{}` in {}: the file does not parse: {e}",
            exercise.function, exercise.file
        ))
    })?;
    if depth > crate::splice::MAX_NESTING {
        return Err(not_graded(format!(
            "{} nests brackets {depth} deep (at most {} are read)",
            exercise.file,
            crate::splice::MAX_NESTING
        )));
    }
    let function = exercise.function.clone();
    let file = exercise.file.clone();
    let taken = crate::splice::on_big_stack(move || {
        let found = crate::splice::functions(&text).map_err(|e| {
            not_graded(format!("`{function}` in {file}: the file does not parse: {e}"))
        })?;
        let body = found.iter().find(|f| f.path == function).ok_or_else(|| {
            not_graded(format!("`{function}` in {file}: the function is not there"))
        })?;
        let first_line = body.lines.0;
        let body = text[body.start..body.end].to_string();
        let refused = escapes(&body);
        if !refused.is_empty() {
            return Err(format!(
                "refused (0 points): only the body of `{function}` is graded, and it may not reach outside the function: {}",
                refused.join("; ")
            ));
        }
        Ok((body, first_line))
    });
    taken.unwrap_or_else(|| {
        Err(not_graded(format!("{} could not be read as Rust (the parser gave up)", exercise.file)))
    })
}

/// Whether `dir/relative` is a folder reached through folders only (no symbolic link).
fn plain_folder(dir: &Path, relative: &Path) -> bool {
    let mut at = dir.to_path_buf();
    for part in relative.components() {
        at.push(part);
        match fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// Reads `dir/relative` as text if it is a plain file (no symbolic link anywhere below
/// `dir`, no device or pipe) of at most [`MAX_FILE_BYTES`].
fn read_plain_file(dir: &Path, relative: &Path) -> Result<String, String> {
    let shown = slash_path(relative);
    if let Some(parent) = relative.parent() {
        if !plain_folder(dir, parent) {
            return Err(format!("{shown} is missing (or a folder on its way is a link)"));
        }
    }
    let path = dir.join(relative);
    let meta = fs::symlink_metadata(&path).map_err(|_| format!("{shown} is missing"))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{shown} is a symbolic link (submit the file itself)"));
    }
    if !meta.is_file() {
        return Err(format!("{shown} is not a plain file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("{shown} is larger than {} KiB", MAX_FILE_BYTES >> 10));
    }
    let file = fs::File::open(&path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_BYTES + 1), &mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{shown} is larger than {} KiB", MAX_FILE_BYTES >> 10));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}
