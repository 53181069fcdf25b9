//! Assembling a submission's crate: the bodies spliced into a copy of the reference's marked
//! files, the refusal check (clippy with the refusal list, see [`crate::refusals`]) run over
//! the spliced crate, and its test binary built, compiler errors shown with the student's
//! lines only. Also keeps a copied target folder from passing for fresh.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use shared::error::{Context, Error, Result};

use crate::exercises::Exercise;
use crate::reference::Reference;
use crate::refusals::{self, Finding, Placed};
use crate::results::Build;
use crate::run::cargo;
use crate::splice::replace_bodies;
use crate::verdict::render_error;

impl Reference {
    /// Writes each marked file of `tree` with the given bodies (`None`: the reference's)
    /// and returns where each given body landed.
    pub(crate) fn splice(
        &self,
        tree: &Path,
        bodies: &[(&Exercise, Option<(String, usize)>)],
    ) -> Result<Vec<Placed>> {
        let mut by_file: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
        for (exercise, body) in bodies {
            let replacements = by_file.entry(exercise.file.as_str()).or_default();
            if let Some((body, _)) = body {
                replacements.push((exercise.function.clone(), body.clone()));
            }
        }
        let mut placed = Vec::new();
        for (file, replacements) in by_file {
            let reference = self.files[file].clone();
            let module = self.module.clone();
            // The spliced text holds the student's code: parse it on a big stack.
            let spliced = crate::splice::on_big_stack(move || {
                let spliced = replace_bodies(&reference, &replacements)?;
                let found = crate::splice::functions(&spliced)?;
                Ok::<_, String>((spliced, found))
            })
            .unwrap_or_else(|| Err("the parser gave up".into()))
            .map_err(|e| Error::msg(format!("{module}/{file}: {e}")))?;
            let (text, found) = spliced;
            for (exercise, body) in bodies.iter().filter(|(e, _)| e.file == file) {
                let (Some((_, student_line)), Some(at)) =
                    (body, found.iter().find(|f| f.path == exercise.function))
                else {
                    continue;
                };
                placed.push(Placed {
                    exercise: exercise.key(),
                    file: format!("{}/{file}", self.module),
                    lines: at.lines,
                    student_first_line: *student_line,
                });
            }
            let path = tree.join(&self.module).join(file);
            // A new file (new inode, new modification time): never mistaken for the reference's.
            let _ = fs::remove_file(&path);
            fs::write(&path, text).context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(placed)
    }

    /// Runs clippy with the refusal list over the spliced crate in `tree`: the refusals
    /// that lie in the `placed` bodies (`None` if it took longer than the build limit). See
    /// [`crate::refusals`].
    pub(crate) fn refusals(
        &self,
        tree: &Path,
        target: &Path,
        placed: &[Placed],
    ) -> Result<Option<Vec<Finding>>> {
        let conf = target.join("refusals");
        fs::create_dir_all(&conf).context(|| format!("cannot create {}", conf.display()))?;
        fs::write(conf.join("clippy.toml"), refusals::clippy_toml())
            .context(|| format!("cannot write {}", conf.display()))?;
        let target_dir = target.display().to_string();
        let conf_dir = conf.display().to_string();
        let mut args = vec![
            "clippy",
            "-p",
            &self.module,
            "--lib",
            "--profile",
            "test",
            "--locked",
            "--message-format=json",
            "--",
        ];
        let forbid = refusals::clippy_args();
        args.extend(forbid.iter().map(String::as_str));
        let run = cargo(
            tree,
            &args,
            &[
                ("CARGO_TARGET_DIR", &target_dir),
                ("CARGO_TERM_COLOR", "never"),
                ("CLIPPY_CONF_DIR", &conf_dir),
            ],
            self.options.build_limit,
        )?;
        if run.status.is_none() {
            return Ok(None);
        }
        if !run.stdout.lines().any(|line| line.contains("\"reason\":\"build-finished\"")) {
            return Err(Error::msg(format!(
                "{}: the refusal check needs clippy (rustup component add clippy): {}",
                self.module,
                tail(&run.stderr, 5)
            )));
        }
        let problems = refusals::list_problems(&run.stdout);
        if !problems.is_empty() {
            return Err(Error::msg(format!(
                "the refusal list names what this toolchain does not have: {}",
                problems.join("; ")
            )));
        }
        Ok(Some(refusals::findings(&run.stdout, placed)))
    }

    /// Builds the module's test binary in `tree` with target folder `target`: the
    /// executable, or why not.
    /// With `placed` (a submission's bodies), compiler errors are shown with the student's
    /// lines only: the course's code is named by file and line, never quoted.
    pub(crate) fn build(
        &self,
        tree: &Path,
        target: &Path,
        placed: Option<&[Placed]>,
    ) -> Result<std::result::Result<PathBuf, Build>> {
        let target_dir = target.display().to_string();
        let limit = self.options.build_limit;
        let started = Instant::now();
        let run = cargo(
            tree,
            &["test", "-p", &self.module, "--lib", "--no-run", "--locked", "--message-format=json"],
            &[("CARGO_TARGET_DIR", &target_dir), ("CARGO_TERM_COLOR", "never")],
            limit,
        )?;
        if run.status.is_none() {
            return Ok(Err(Build::TookTooLong(started.elapsed().as_secs_f64())));
        }
        let mut executable = None;
        let mut errors = String::new();
        for line in run.stdout.lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            match message["reason"].as_str() {
                Some("compiler-artifact") => {
                    let is_lib = message["target"]["kind"]
                        .as_array()
                        .is_some_and(|kinds| kinds.iter().any(|k| k == "lib" || k == "rlib"));
                    if is_lib && message["profile"]["test"] == true {
                        if let Some(path) = message["executable"].as_str() {
                            executable = Some(PathBuf::from(path));
                        }
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "error" => {
                    match placed {
                        Some(placed) => errors.push_str(&render_error(&message["message"], placed)),
                        None => {
                            if let Some(rendered) = message["message"]["rendered"].as_str() {
                                errors.push_str(rendered);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        match (run.succeeded(), executable) {
            (true, Some(executable)) => Ok(Ok(executable)),
            _ => {
                if errors.is_empty() {
                    errors = if placed.is_some() {
                        "the build failed without a compiler error (see the course's staff)".into()
                    } else {
                        tail(&run.stderr, 40)
                    };
                }
                Ok(Err(Build::DoesNotCompile(errors)))
            }
        }
    }
}

/// Removes the module's own compiled files from a target folder, so that a build there
/// always compiles the module afresh (cargo's freshness is by modification time, and a
/// copied file can look older than it is).
pub(crate) fn strip_module_artifacts(target: &Path, module: &str) -> Result<()> {
    let crate_name = module.replace('-', "_");
    for profile in ["debug"] {
        let dir = target.join(profile);
        let _ = fs::remove_dir_all(dir.join("incremental"));
        for (sub, prefixes) in [
            (".fingerprint", vec![format!("{module}-")]),
            ("deps", vec![format!("{crate_name}-"), format!("lib{crate_name}-")]),
            ("build", vec![format!("{module}-")]),
        ] {
            let Ok(entries) = fs::read_dir(dir.join(sub)) else { continue };
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if prefixes.iter().any(|p| name.starts_with(p)) {
                    let path = entry.path();
                    let removed = if path.is_dir() {
                        fs::remove_dir_all(&path)
                    } else {
                        fs::remove_file(&path)
                    };
                    removed.context(|| format!("cannot remove {}", path.display()))?;
                }
            }
        }
    }
    Ok(())
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
