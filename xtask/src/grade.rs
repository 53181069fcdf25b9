//! Grading one submission against a prepared reference ([`Reference::grade`]), and the
//! overview of grading: the exercise is graded, not the student's tree.
//!
//! For a module, [`Reference::prepare`] copies the instructor's reference workspace (hidden
//! tests included) into a scratch folder, builds its test binary once, checks that the
//! refusal check works (see [`crate::refusals`]), runs every test alone to measure it, and
//! grades the untouched starter to find the **checks** (tests that pass with nothing
//! written: shown, not scored). [`Reference::grade`] then grades a submission: it takes from
//! the student's files (plain files only, see [`MAX_FILE_BYTES`]) only the bodies of the
//! marked functions (found by parsing on a large stack, see [`crate::splice`]), refuses
//! bodies that try to escape the function, puts the rest into a fresh copy of the reference,
//! refuses bodies that use what a name resolves to and a body may not (clippy over the
//! spliced crate), builds it in its own target folder (seeded with the reference's compiled
//! dependencies, never with another submission's crate), and runs each test binary directly
//! (not through cargo), one test per process (`--exact`), in a box (see [`crate::sandbox`]).
//! A test passes when the harness's own log, at a random path only the grader knows, says
//! `ok` for that test and the process then exits with success: nothing the student's code
//! prints, and no way of ending the process, makes a test pass.
//!
//! One step per file: the limits and `grading.toml` in [`crate::config`]; the exercises
//! and hidden tests in [`crate::exercises`]; the reference in [`crate::reference`], prepared
//! in `prepare.rs`; reading a student's files in `submission.rs`; splicing, the refusal
//! check and the build in `assemble.rs`; copying folders in `files.rs`; running a build's
//! tests in `test_runs.rs`; one test's run and how it is judged in `verdict.rs`; what was
//! found and how it is told in [`crate::results`]; a class at a time in [`crate::batch`].

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use shared::error::Result;

use crate::exercises::Exercise;
use crate::files::copy_tree;
use crate::reference::Reference;
use crate::results::{Build, Grade, Taken, TestResult};
pub use crate::submission::MAX_FILE_BYTES;
use crate::submission::student_body;

/// Where a submission's exercises come from.
#[derive(Debug, Clone, Copy)]
pub enum Bodies<'a> {
    /// A student's workspace (or module folder).
    Submission(&'a Path),
    /// The starter: every exercise left as `todo!()`.
    Starter,
    /// The reference with these exercises left undone.
    Without(&'a [Exercise]),
}

impl Reference {
    /// Grades one submission (`student` names it in the results).
    pub fn grade(&self, student: &str, bodies: Bodies<'_>) -> Result<Grade> {
        let started = Instant::now();
        let number = {
            let mut counter =
                self.counter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *counter += 1;
            *counter
        };
        let work = self.options.scratch.join(&self.module).join(format!("submission-{number}"));
        let _ = fs::remove_dir_all(&work);
        let tree = work.join("workspace");
        let target = work.join("target");
        copy_tree(&self.source, &tree, true)?;
        copy_tree(&self.base_target, &target, true)?;

        // Each exercise's body: the student's, the starter's todo!(), or the reference's.
        let mut taken = Vec::new();
        let mut bodies_of: Vec<(&Exercise, Option<(String, usize)>)> = Vec::new();
        for exercise in &self.exercises {
            let (body, problem) = match bodies {
                Bodies::Starter => (Some((self.stub(exercise), 0)), None),
                Bodies::Without(undone) => {
                    if undone.contains(exercise) {
                        (Some((self.stub(exercise), 0)), None)
                    } else {
                        (None, None)
                    }
                }
                Bodies::Submission(dir) => match student_body(dir, &self.module, exercise) {
                    Ok((body, line)) => (Some((body, line)), None),
                    Err(problem) => (Some((self.stub(exercise), 0)), Some(problem)),
                },
            };
            taken.push(Taken { exercise: exercise.key(), problem, undone: false });
            bodies_of.push((exercise, body));
        }
        let mut placed = self.splice(&tree, &bodies_of)?;
        // The refusal check took the whole build limit: as a build that took too long.
        let mut too_long = None;
        if let Bodies::Submission(_) = bodies {
            // Only the student's own bodies are checked (the stubs are the course's).
            placed.retain(|body| {
                taken.iter().any(|t| t.exercise == body.exercise && t.problem.is_none())
            });
            let checking = Instant::now();
            let findings = match self.refusals(&tree, &target, &placed)? {
                Some(findings) => findings,
                None => {
                    too_long = Some(checking.elapsed().as_secs_f64());
                    Vec::new()
                }
            };
            if !findings.is_empty() {
                for (exercise, body) in &mut bodies_of {
                    let mine: Vec<&str> = findings
                        .iter()
                        .filter(|f| f.exercise == exercise.key())
                        .map(|f| f.what.as_str())
                        .collect();
                    if mine.is_empty() {
                        continue;
                    }
                    *body = Some((self.stub(exercise), 0));
                    if let Some(t) = taken.iter_mut().find(|t| t.exercise == exercise.key()) {
                        t.problem = Some(format!(
                            "refused (0 points): the body of `{}` may not use {}",
                            exercise.function,
                            mine.join("; ")
                        ));
                    }
                }
                placed = self.splice(&tree, &bodies_of)?;
                placed.retain(|body| {
                    taken.iter().any(|t| t.exercise == body.exercise && t.problem.is_none())
                });
            }
        }
        // Left undone: a body graded as written (not refused) that still calls `todo!`.
        for t in &mut taken {
            t.undone = t.problem.is_none()
                && bodies_of.iter().any(|(exercise, body)| {
                    exercise.key() == t.exercise
                        && body.as_ref().is_some_and(|(text, _)| left_undone(text))
                });
        }
        let from_student = matches!(bodies, Bodies::Submission(_));

        let mut grade = Grade {
            student: student.to_string(),
            module: self.module.clone(),
            points: 0,
            max: self.max_points(),
            exercises: taken,
            build: Build::Built,
            tests: Vec::new(),
            seconds: 0.0,
        };
        let built = match too_long {
            Some(seconds) => Err(Build::TookTooLong(seconds)),
            None => self.build(&tree, &target, from_student.then_some(placed.as_slice()))?,
        };
        match built {
            Err(build) => {
                grade.build = build;
                grade.tests = self
                    .tests
                    .iter()
                    .map(|t| TestResult {
                        name: t.name.clone(),
                        passed: false,
                        check: t.check,
                        points: t.points,
                        seconds: 0.0,
                        failure: Some("not run: the submission did not build".into()),
                    })
                    .collect();
            }
            Ok(executable) => {
                let names: Vec<String> = self.tests.iter().map(|t| t.name.clone()).collect();
                let limits: BTreeMap<&str, Duration> = self
                    .tests
                    .iter()
                    .map(|t| (t.name.as_str(), Duration::from_secs_f64(t.limit_seconds)))
                    .collect();
                let runs = self.run_tests_in(
                    &executable,
                    &tree.join(&self.module),
                    &names,
                    |name| limits[name],
                    self.options.submission_limit,
                );
                grade.tests = self
                    .tests
                    .iter()
                    .zip(runs)
                    .map(|(info, run)| TestResult {
                        name: info.name.clone(),
                        passed: run.passed,
                        check: info.check,
                        points: info.points,
                        seconds: run.seconds,
                        failure: run.failure,
                    })
                    .collect();
            }
        }
        grade.points = grade.tests.iter().filter(|t| t.passed && !t.check).map(|t| t.points).sum();
        grade.seconds = started.elapsed().as_secs_f64();
        if !self.options.keep {
            let _ = fs::remove_dir_all(&work);
        }
        Ok(grade)
    }

    /// The starter's body of `exercise`: `todo!` with its hint.
    fn stub(&self, exercise: &Exercise) -> String {
        format!("{{\n    todo!({:?})\n}}", exercise.hint.replace('{', "{{").replace('}', "}}"))
    }
}

/// Whether a body still calls `todo!` or `unimplemented!` (the starter's stub, or a part
/// left for later): the report counts that exercise as left undone. Comments and strings
/// do not count: the body's tokens are looked at, not its text.
pub fn left_undone(body: &str) -> bool {
    fn calls(stream: proc_macro2::TokenStream) -> bool {
        let mut previous: Option<String> = None;
        for token in stream {
            match token {
                proc_macro2::TokenTree::Group(group) => {
                    if calls(group.stream()) {
                        return true;
                    }
                    previous = None;
                }
                proc_macro2::TokenTree::Punct(punct) if punct.as_char() == '!' => {
                    if matches!(previous.as_deref(), Some("todo" | "unimplemented")) {
                        return true;
                    }
                    previous = None;
                }
                proc_macro2::TokenTree::Ident(ident) => previous = Some(ident.to_string()),
                _ => previous = None,
            }
        }
        false
    }
    body.parse::<proc_macro2::TokenStream>().is_ok_and(calls)
}
