//! What a module asks of a student: its exercises (each marked function, by file and path,
//! as grading finds it in a submission) and which of its tests are hidden.

use std::path::Path;

use serde::Serialize;
use shared::error::{Error, Result};

use crate::files::read;
use crate::splice::function_at_line;
use crate::starter;
use crate::workspace::{copyable_files, slash_path};

/// An exercise: a marked function, by file (relative to its module) and item path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exercise {
    /// The file, relative to the module (`src/server.rs`).
    pub file: String,
    /// The function's path in that file (`Server::run`).
    pub function: String,
    /// What the student is to write.
    pub hint: String,
}

impl Exercise {
    /// `src/server.rs::Server::run`.
    pub fn key(&self) -> String {
        format!("{}::{}", self.file, self.function)
    }
}

/// The exercises of `module` in `workspace`: each marked region's function.
pub fn exercises(workspace: &Path, module: &str) -> Result<Vec<Exercise>> {
    let mut found = Vec::new();
    for marked in starter::exercises(workspace, module)? {
        let path = workspace.join(&marked.file);
        let text = read(&path)?;
        let file = marked.file.strip_prefix(module).unwrap_or(&marked.file);
        let function = function_at_line(&text, marked.region.begin)
            .map_err(|e| Error::msg(format!("{}: {e}", marked.file.display())))?
            .ok_or_else(|| {
                Error::msg(format!(
                    "{}:{}: the marked region is in no function",
                    marked.file.display(),
                    marked.region.begin
                ))
            })?;
        let same_path = crate::splice::functions(&text)
            .map_err(|e| Error::msg(format!("{}: {e}", marked.file.display())))?
            .iter()
            .filter(|f| f.path == function.path)
            .count();
        if same_path > 1 {
            return Err(Error::msg(format!(
                "{}:{}: the marked function `{}` is not the only one with that path in its file \
                 (grading finds exercises by file and path)",
                marked.file.display(),
                marked.region.begin,
                function.path
            )));
        }
        found.push(Exercise {
            file: slash_path(file),
            function: function.path,
            hint: marked.region.hint,
        });
    }
    Ok(found)
}

/// The test-name prefixes of `module`'s hidden tests (`tests::hidden::`): each
/// `// HIDDEN TESTS` module, under the module path of its file.
pub fn hidden_prefixes(workspace: &Path, module: &str) -> Result<Vec<String>> {
    let mut prefixes = Vec::new();
    let src = workspace.join(module).join("src");
    for relative in copyable_files(workspace, true)? {
        let Ok(inside) = relative.strip_prefix(Path::new(module).join("src")) else { continue };
        if inside.extension().is_none_or(|ext| ext != "rs") {
            continue;
        }
        let text = read(&src.join(inside))?;
        let mut path: Vec<String> = inside
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if path.last().is_some_and(|last| last == "mod" || last == "lib") {
            path.pop();
        }
        for name in crate::markers::hidden_modules(&text) {
            let mut full = path.clone();
            full.push(name);
            prefixes.push(format!("{}::", full.join("::")));
        }
    }
    Ok(prefixes)
}
