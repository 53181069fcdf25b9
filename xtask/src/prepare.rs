//! Preparing a module's reference for grading: the reference workspace copied and built
//! once, the refusal check proved (the reference's own bodies pass it, a body that exits is
//! refused in every exercise), every test run alone to measure it, the untouched starter
//! graded to find the checks, and each test's points read from `grading.toml`.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use shared::error::{Error, Result};

use crate::assemble::strip_module_artifacts;
use crate::config::{Options, Weights};
use crate::exercises::{Exercise, exercises, hidden_prefixes};
use crate::files::{copy_tree, copy_workspace, read};
use crate::grade::Bodies;
use crate::reference::{Reference, TestInfo};
use crate::refusals::{self, Placed};
use crate::results::Build;
use crate::sandbox::Sandbox;
use crate::test_runs::list_tests;
use crate::usage::usage;

impl Reference {
    /// Copies, builds and measures the reference of `module` in `workspace`, and grades the
    /// untouched starter to find the checks. Progress lines go to `say`.
    pub fn prepare(
        workspace: &Path,
        module: &str,
        options: &Options,
        say: &mut dyn FnMut(String),
    ) -> Result<Self> {
        let known = crate::workspace::modules(workspace)?;
        if !known.iter().any(|m| m == module) {
            return Err(usage(format!(
                "no module named '{module}' (modules: {})",
                known.join(", ")
            )));
        }
        let exercises = exercises(workspace, module)?;
        let weights = Weights::read(workspace, module)?;
        let base = options.scratch.join(module);
        let source = base.join("reference");
        let base_target = base.join("target-reference");
        let _ = fs::remove_dir_all(&base);
        copy_workspace(workspace, &source)?;
        let mut files = BTreeMap::new();
        for exercise in &exercises {
            let text = read(&source.join(module).join(&exercise.file))?;
            files.insert(exercise.file.clone(), text);
        }
        let mut reference = Reference {
            module: module.to_string(),
            exercises,
            tests: Vec::new(),
            source,
            base_target,
            files,
            options: options.clone(),
            counter: Mutex::new(0),
            sandbox: Sandbox::detect(options.limits),
        };
        say(format!("{module}: {}", reference.sandbox.describe()));
        say(format!("{module}: building the reference"));
        let started = Instant::now();
        let built = reference.build(&reference.source, &reference.base_target, None)?;
        let executable = match built {
            Ok(executable) => executable,
            Err(build) => {
                return Err(Error::msg(format!(
                    "{module}: the reference does not build: {build:?}"
                )));
            }
        };
        say(format!(
            "{module}: built in {:.0} s; running each test",
            started.elapsed().as_secs_f64()
        ));
        // The refusal list must resolve here, and the reference's own bodies must pass it
        // (this also compiles clippy's view of the dependencies once, for every submission).
        let reference_bodies: Vec<(&Exercise, Option<(String, usize)>)> = reference
            .exercises
            .iter()
            .map(|e| {
                let text = &reference.files[&e.file];
                let line = crate::splice::functions(text)
                    .ok()
                    .and_then(|found| found.into_iter().find(|f| f.path == e.function))
                    .map_or(0, |f| f.lines.0);
                (e, Some((String::new(), line)))
            })
            .collect();
        let placed = reference.place_in_reference(&reference_bodies);
        let refused = reference
            .refusals(&reference.source, &reference.base_target, &placed)?
            .ok_or_else(|| Error::msg(format!("{module}: the refusal check took too long")))?;
        if !refused.is_empty() {
            return Err(Error::msg(format!(
                "{module}: the reference's own bodies use what submissions may not: {}",
                refused
                    .iter()
                    .map(|f| format!("{}: {}", f.exercise, f.what))
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        // And a body that exits must be refused in every exercise: the check runs, its lints
        // are not lowered anywhere in the course's code, and findings land on the right body.
        let canary_tree = base.join("canary");
        copy_tree(&reference.source, &canary_tree, true)?;
        let canaries: Vec<(&Exercise, Option<(String, usize)>)> = reference
            .exercises
            .iter()
            .map(|e| (e, Some((refusals::CANARY.to_string(), 1))))
            .collect();
        let placed = reference.splice(&canary_tree, &canaries)?;
        let caught = reference
            .refusals(&canary_tree, &reference.base_target, &placed)?
            .ok_or_else(|| Error::msg(format!("{module}: the refusal check took too long")))?;
        let _ = fs::remove_dir_all(&canary_tree);
        let missed: Vec<String> = reference
            .exercises
            .iter()
            .map(Exercise::key)
            .filter(|key| !caught.iter().any(|f| f.exercise == *key))
            .collect();
        if !missed.is_empty() {
            return Err(Error::msg(format!(
                "{module}: the refusal check (clippy) does not see a body that calls \
                 `std::process::exit` in {} (is a clippy lint allowed around it?)",
                missed.join(", ")
            )));
        }
        let names = list_tests(&executable, &reference.source.join(module))?;
        let generous = options.submission_limit;
        let runs = reference.run_tests(&executable, &names, |_| generous, options.submission_limit);
        let mut failing = Vec::new();
        for (name, run) in names.iter().zip(&runs) {
            if !run.passed {
                failing.push(format!("{name}: {}", run.failure.clone().unwrap_or_default()));
            }
        }
        if !failing.is_empty() {
            return Err(Error::msg(format!(
                "{module}: the reference fails its own tests:\n{}",
                failing.join("\n")
            )));
        }
        strip_module_artifacts(&reference.base_target, module)?;
        let hidden = hidden_prefixes(workspace, module)?;
        reference.tests = names
            .iter()
            .zip(&runs)
            .map(|(name, run)| {
                let limit = options.test_limit.unwrap_or_else(|| {
                    Duration::from_secs_f64(run.seconds * options.test_multiple)
                        .max(options.test_floor)
                });
                TestInfo {
                    name: name.clone(),
                    reference_seconds: run.seconds,
                    limit_seconds: limit.as_secs_f64(),
                    points: 1,
                    check: false,
                    hidden: hidden.iter().any(|prefix| name.starts_with(prefix.as_str())),
                }
            })
            .collect();
        say(format!("{module}: grading the untouched starter (to find the checks)"));
        let starter = reference.grade("(starter)", Bodies::Starter)?;
        if starter.build != Build::Built {
            return Err(Error::msg(format!(
                "{module}: the starter does not build: {:?}",
                starter.build
            )));
        }
        // Points: exercise weights first (tests that fail without that exercise), then
        // test weights.
        let mut points: BTreeMap<String, u32> = BTreeMap::new();
        for (key, weight) in &weights.exercises {
            let Some(exercise) = reference.exercises.iter().find(|e| e.key() == *key) else {
                return Err(Error::msg(format!(
                    "{module}/grading.toml: no exercise '{key}' (exercises: {})",
                    reference.exercises.iter().map(Exercise::key).collect::<Vec<_>>().join(", ")
                )));
            };
            say(format!("{module}: finding the tests that need {key}"));
            let without =
                reference.grade("(without)", Bodies::Without(std::slice::from_ref(exercise)))?;
            for test in without.tests.iter().filter(|t| !t.passed) {
                let entry = points.entry(test.name.clone()).or_insert(0);
                *entry = (*entry).max(*weight);
            }
        }
        for (name, weight) in &weights.tests {
            // As listed (`tests::server::replies_in_uppercase`), or by the end of that
            // path (`replies_in_uppercase`, `server::replies_in_uppercase`) if one test
            // ends so: the suites keep a file per subject, and a test may move between
            // them.
            let exact = reference.tests.iter().find(|t| t.name == *name);
            let ending = format!("::{name}");
            let named: Vec<&str> = match exact {
                Some(test) => vec![test.name.as_str()],
                None => reference
                    .tests
                    .iter()
                    .filter(|t| t.name.ends_with(&ending))
                    .map(|t| t.name.as_str())
                    .collect(),
            };
            match named.as_slice() {
                [one] => {
                    points.insert((*one).to_string(), *weight);
                }
                [] => return Err(Error::msg(format!("{module}/grading.toml: no test '{name}'"))),
                several => {
                    return Err(Error::msg(format!(
                        "{module}/grading.toml: '{name}' names several tests ({}): write more of \
                         its path",
                        several.join(", ")
                    )));
                }
            }
        }
        for (test, on_starter) in reference.tests.iter_mut().zip(&starter.tests) {
            test.check = on_starter.passed;
            test.points = if test.check { 0 } else { points.get(&test.name).copied().unwrap_or(1) };
        }
        let scored = reference.tests.iter().filter(|t| !t.check).count();
        say(format!(
            "{module}: {} tests ({scored} scored, {} checks), {} points; ready in {:.0} s",
            reference.tests.len(),
            reference.tests.len() - scored,
            reference.max_points(),
            started.elapsed().as_secs_f64()
        ));
        Ok(reference)
    }

    /// Where the reference's own bodies are in its files (as if a student had written them).
    fn place_in_reference(&self, bodies: &[(&Exercise, Option<(String, usize)>)]) -> Vec<Placed> {
        let mut placed = Vec::new();
        for (exercise, body) in bodies {
            let Some((_, line)) = body else { continue };
            let Ok(found) = crate::splice::functions(&self.files[&exercise.file]) else { continue };
            if let Some(at) = found.iter().find(|f| f.path == exercise.function) {
                placed.push(Placed {
                    exercise: exercise.key(),
                    file: format!("{}/{}", self.module, exercise.file),
                    lines: at.lines,
                    student_first_line: *line,
                });
            }
        }
        placed
    }
}
