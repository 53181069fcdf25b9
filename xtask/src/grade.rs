//! Grading the exercise, not the student's tree.
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

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};
use shared::error::{Context, Error, Result};

use crate::refusals::{self, Finding, Placed};
use crate::run::{cargo, with_limit};
use crate::sandbox::{Limits, Sandbox};
use crate::splice::{function_at_line, replace_bodies};
use crate::starter::{self, copyable_files};
pub use crate::submission::MAX_FILE_BYTES;
use crate::submission::student_body;
use crate::verdict::{Run, render_error, run_one, secret_name};

/// How grading is bounded and run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Each test's limit; default: `test_multiple` × the reference's time, at least `test_floor`.
    pub test_limit: Option<Duration>,
    /// The multiple of the reference's time a test is given.
    pub test_multiple: f64,
    /// The least time a test is given.
    pub test_floor: Duration,
    /// All of a submission's tests together (tests not started by then are not run).
    pub submission_limit: Duration,
    /// One build.
    pub build_limit: Duration,
    /// `GRADING_PATIENCE_SECS` for the tests: how long a test waits for a reply.
    pub patience_secs: f64,
    /// Tests run at once (each in its own process).
    pub jobs: usize,
    /// Where the scratch copies and builds go.
    pub scratch: PathBuf,
    /// Keep each submission's scratch copy (to look at it).
    pub keep: bool,
    /// Submissions graded at once in a batch.
    pub parallel: usize,
    /// Each test process's box limits (memory, processes, file size, output kept).
    pub limits: Limits,
}

impl Options {
    /// The defaults, with scratch folders under `scratch`.
    pub fn new(scratch: PathBuf) -> Self {
        Options {
            test_limit: None,
            test_multiple: 10.0,
            test_floor: Duration::from_secs(15),
            submission_limit: Duration::from_secs(600),
            build_limit: Duration::from_secs(900),
            patience_secs: 3.0,
            jobs: 4,
            scratch,
            keep: false,
            parallel: 2,
            limits: Limits::default(),
        }
    }
}

/// A module's `grading.toml` (every part optional).
///
/// ```toml
/// # Points per test (name as listed, without the `tests::` prefix); default 1.
/// [tests]
/// replies_with_the_message_in_uppercase = 3
/// # Points per exercise (file and function path): each test that fails when this
/// # exercise alone is left undone is worth this much (unless [tests] says otherwise).
/// [exercises]
/// "src/server.rs::reply_to" = 2
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// Points per test.
    #[serde(default)]
    pub tests: BTreeMap<String, u32>,
    /// Points per exercise.
    #[serde(default)]
    pub exercises: BTreeMap<String, u32>,
}

impl Weights {
    /// Reads `<module>/grading.toml`, or the defaults if there is none.
    pub fn read(workspace: &Path, module: &str) -> Result<Self> {
        let path = workspace.join(module).join("grading.toml");
        match fs::read_to_string(&path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
            }
            Err(_) => Ok(Weights::default()),
        }
    }
}

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
            file: slash(file),
            function: function.path,
            hint: marked.region.hint,
        });
    }
    Ok(found)
}

/// One test of the reference.
#[derive(Debug, Clone, Serialize)]
pub struct TestInfo {
    /// Its name as the harness lists it (`tests::replies_in_uppercase`).
    pub name: String,
    /// The reference's time, in seconds.
    pub reference_seconds: f64,
    /// Its limit, in seconds.
    pub limit_seconds: f64,
    /// Points (0 for a check).
    pub points: u32,
    /// Whether it passes on the untouched starter (a check: shown, not scored).
    pub check: bool,
    /// Whether it is a hidden test (in the reference only, not in starters).
    pub hidden: bool,
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

/// A module's reference, built and measured, ready to grade submissions.
#[derive(Debug)]
pub struct Reference {
    /// The module.
    pub module: String,
    /// Its exercises.
    pub exercises: Vec<Exercise>,
    /// Its tests, in the harness's order.
    pub tests: Vec<TestInfo>,
    /// The pristine scratch copy of the reference workspace.
    source: PathBuf,
    /// The reference's target folder, without the module's own artifacts.
    base_target: PathBuf,
    /// Each marked file's reference text (relative to the module).
    files: BTreeMap<String, String>,
    options: Options,
    counter: Mutex<u32>,
    /// How each test process is boxed.
    sandbox: Sandbox,
}

/// What became of one exercise's body.
#[derive(Debug, Clone, Serialize)]
pub struct Taken {
    /// The exercise (`src/server.rs::reply_to`).
    pub exercise: String,
    /// `None` if the body was graded; otherwise why the exercise scores 0.
    pub problem: Option<String>,
    /// Whether the graded body still calls `todo!` or `unimplemented!` (left undone).
    pub undone: bool,
}

/// One test's result.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The test.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Whether it is a check (not scored).
    pub check: bool,
    /// Its points if passed.
    pub points: u32,
    /// How long it ran.
    pub seconds: f64,
    /// Why it failed (the panic message), if it did.
    pub failure: Option<String>,
}

/// How a submission's build went.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Build {
    /// It built.
    Built,
    /// The compiler refused it: its errors.
    DoesNotCompile(String),
    /// It did not finish within the build limit.
    TookTooLong(f64),
}

/// One submission's grade for one module.
#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    /// The student (the submission's folder name).
    pub student: String,
    /// The module.
    pub module: String,
    /// Points earned.
    pub points: u32,
    /// Points possible.
    pub max: u32,
    /// What became of each exercise's body.
    pub exercises: Vec<Taken>,
    /// The build.
    pub build: Build,
    /// Each test.
    pub tests: Vec<TestResult>,
    /// Seconds the whole grading of this submission took.
    pub seconds: f64,
}

impl Grade {
    /// `udp-uppercase: 14 / 17 points`.
    pub fn score_line(&self) -> String {
        format!("{}: {} / {} points", self.module, self.points, self.max)
    }

    /// The score line, then what went wrong and each test.
    pub fn report(&self) -> String {
        let mut text = self.score_line();
        for taken in &self.exercises {
            if let Some(problem) = &taken.problem {
                text.push_str(&format!("\n  {}: {problem}", taken.exercise));
            }
        }
        match &self.build {
            Build::Built => {}
            Build::DoesNotCompile(errors) => {
                text.push_str(&format!("\n  it does not compile:\n{}", indent(errors, "    ")));
            }
            Build::TookTooLong(secs) => {
                text.push_str(&format!("\n  the build took too long (cut off after {secs:.0} s)"));
            }
        }
        for test in &self.tests {
            let mark = match (test.passed, test.check) {
                (true, true) => "check",
                (true, false) => "pass",
                (false, _) => "FAIL",
            };
            let worth = if test.check { String::new() } else { format!(" ({} pt)", test.points) };
            text.push_str(&format!("\n  {mark} {}{worth} [{:.1} s]", test.name, test.seconds));
            if let Some(failure) = &test.failure {
                // The panic message, not the "thread ... panicked at" line before it.
                let mut lines = failure.lines().filter(|l| !l.trim().is_empty());
                let first =
                    lines.clone().find(|l| !l.starts_with("thread '")).or_else(|| lines.next());
                if let Some(first) = first {
                    text.push_str(&format!(": {first}"));
                }
            }
        }
        text
    }

    /// Feedback to send the student, in Markdown.
    pub fn feedback(&self) -> String {
        let mut text = format!("## {}\n\n**{}**\n\n", self.module, self.score_line());
        for taken in &self.exercises {
            if let Some(problem) = &taken.problem {
                text.push_str(&format!("- `{}`: {problem}\n", taken.exercise));
            }
        }
        match &self.build {
            Build::Built => {}
            Build::DoesNotCompile(errors) => text.push_str(&format!(
                "\nYour code does not compile; the compiler said (line numbers are those of the course's \
                 file, into which your function bodies were put):\n\n```text\n{}\n```\n",
                errors.trim_end()
            )),
            Build::TookTooLong(secs) => text.push_str(&format!(
                "\nThe build took too long (cut off after {secs:.0} s); no test was run.\n"
            )),
        }
        let failed: Vec<&TestResult> = self.tests.iter().filter(|t| !t.passed).collect();
        let passed = self.tests.iter().filter(|t| t.passed && !t.check).count();
        if self.build != Build::Built {
            return text; // no test ran
        }
        if !self.tests.is_empty() {
            text.push_str(&format!(
                "\n{passed} graded requirements met, {} not met.\n",
                failed.iter().filter(|t| !t.check).count()
            ));
        }
        for test in failed {
            let points = if test.check {
                "a check, 0 points: it passed on the starter".to_string()
            } else if test.points == 1 {
                "1 point".to_string()
            } else {
                format!("{} points", test.points)
            };
            text.push_str(&format!("\n### `{}` ({points})\n\n", test.name));
            if let Some(failure) = &test.failure {
                text.push_str(&format!("```text\n{}\n```\n", failure.trim_end()));
            }
        }
        text
    }
}

pub(crate) fn indent(text: &str, prefix: &str) -> String {
    text.lines().map(|line| format!("{prefix}{line}")).collect::<Vec<_>>().join("\n")
}

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
    /// Copies, builds and measures the reference of `module` in `workspace`, and grades the
    /// untouched starter to find the checks. Progress lines go to `say`.
    pub fn prepare(
        workspace: &Path,
        module: &str,
        options: &Options,
        say: &mut dyn FnMut(String),
    ) -> Result<Self> {
        let known = starter::modules(workspace)?;
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
            let full =
                if name.starts_with("tests::") { name.clone() } else { format!("tests::{name}") };
            if !reference.tests.iter().any(|t| t.name == full || t.name == *name) {
                return Err(Error::msg(format!("{module}/grading.toml: no test '{name}'")));
            }
            let key =
                if reference.tests.iter().any(|t| t.name == *name) { name.clone() } else { full };
            points.insert(key, *weight);
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

    /// Changes the build limit for the submissions graded from now on.
    pub fn set_build_limit(&mut self, limit: Duration) {
        self.options.build_limit = limit;
    }

    /// Changes the limit on all of a submission's tests together.
    pub fn set_submission_limit(&mut self, limit: Duration) {
        self.options.submission_limit = limit;
    }

    /// The points a full solution earns.
    pub fn max_points(&self) -> u32 {
        self.tests.iter().map(|t| t.points).sum()
    }

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
                        && body.as_ref().is_some_and(|(text, _)| crate::report::left_undone(text))
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

    /// The starter's body of `exercise`: `todo!` with its hint.
    fn stub(&self, exercise: &Exercise) -> String {
        format!("{{\n    todo!({:?})\n}}", exercise.hint.replace('{', "{{").replace('}', "}}"))
    }

    /// Writes each marked file of `tree` with the given bodies (`None`: the reference's)
    /// and returns where each given body landed.
    fn splice(
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
    fn refusals(
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
    fn build(
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

    fn run_tests(
        &self,
        executable: &Path,
        names: &[String],
        limit: impl Fn(&str) -> Duration + Sync,
        total: Duration,
    ) -> Vec<Run> {
        self.run_tests_in(executable, &self.source.join(&self.module), names, limit, total)
    }

    /// Runs each test in its own process, `jobs` at a time; tests not started within
    /// `total` are not run.
    fn run_tests_in(
        &self,
        executable: &Path,
        dir: &Path,
        names: &[String],
        limit: impl Fn(&str) -> Duration + Sync,
        total: Duration,
    ) -> Vec<Run> {
        let deadline = Instant::now() + total;
        let next = Mutex::new(0usize);
        let results: Mutex<Vec<Option<Run>>> = Mutex::new(vec![None; names.len()]);
        let patience = format!("{}", self.options.patience_secs);
        // The harness's logs go where no test looks, under names no test can guess.
        let logs = self.options.scratch.join(&self.module).join(format!("logs-{}", secret_name()));
        let _ = fs::create_dir_all(&logs);
        thread::scope(|scope| {
            for _ in 0..self.options.jobs.max(1) {
                scope.spawn(|| {
                    loop {
                        let index = {
                            let mut next =
                                next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                            let index = *next;
                            *next += 1;
                            index
                        };
                        let Some(name) = names.get(index) else { break };
                        let now = Instant::now();
                        let run = if now >= deadline {
                            Run {
                                passed: false,
                                seconds: 0.0,
                                failure: Some(
                                    "not run: the submission's time limit was reached".into(),
                                ),
                            }
                        } else {
                            let limit = limit(name).min(deadline - now);
                            let log = logs.join(format!("{}.log", secret_name()));
                            run_one(&self.sandbox, executable, dir, name, limit, &patience, &log)
                        };
                        results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[index] =
                            Some(run);
                    }
                });
            }
        });
        let _ = fs::remove_dir_all(&logs);
        results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .into_iter()
            .map(|run| {
                run.unwrap_or(Run { passed: false, seconds: 0.0, failure: Some("not run".into()) })
            })
            .collect()
    }
}

/// The test names the harness lists.
fn list_tests(executable: &Path, dir: &Path) -> Result<Vec<String>> {
    let mut command = Command::new(executable);
    command.args(["--list"]).current_dir(dir);
    let listed = with_limit(command, Duration::from_secs(60))
        .context(|| format!("cannot run {}", executable.display()))?;
    if !listed.succeeded() {
        return Err(Error::msg(format!("cannot list the tests of {}", executable.display())));
    }
    Ok(listed
        .stdout
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(String::from)
        .collect())
}

/// Removes the module's own compiled files from a target folder, so that a build there
/// always compiles the module afresh (cargo's freshness is by modification time, and a
/// copied file can look older than it is).
fn strip_module_artifacts(target: &Path, module: &str) -> Result<()> {
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

/// Copies the reference workspace's files (those git tracks or would track; every file if
/// it is not a git checkout), without `target/` and without `.cargo/`.
fn copy_workspace(workspace: &Path, out: &Path) -> Result<()> {
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
fn copy_tree(from: &Path, to: &Path, keep_times: bool) -> Result<()> {
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

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).context(|| format!("cannot read {}", path.display()))
}

pub(crate) fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A usage error (exit status 2).
pub fn usage(message: impl Into<String>) -> Error {
    Error::msg(format!("usage: {}", message.into()))
}

/// One row of `grades.csv`.
pub fn csv_row(grade: &Grade) -> String {
    format!(
        "{},{},{},{}\n",
        csv_field(&grade.student),
        csv_field(&grade.module),
        grade.points,
        grade.max
    )
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Grades every subfolder of `submissions` for each of `references`, writing
/// `grades.csv`, `grades.json` and `feedback/<student>.md` into `out`. Returns the grades.
pub fn grade_all(
    references: &[Reference],
    submissions: &Path,
    out: &Path,
    say: &mut dyn FnMut(String),
) -> Result<Vec<Grade>> {
    let started = Instant::now();
    let mut students: Vec<(String, PathBuf)> = Vec::new();
    let entries =
        fs::read_dir(submissions).context(|| format!("cannot list {}", submissions.display()))?;
    for entry in entries {
        let entry = entry.context(|| format!("cannot list {}", submissions.display()))?;
        let path = entry.path();
        // A student's folder must be a folder, not a link to one (which could be anywhere).
        let is_folder = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_folder && !path.starts_with(out) && path != out {
            students.push((entry.file_name().to_string_lossy().into_owned(), path));
        }
    }
    students.sort();
    if students.is_empty() {
        return Err(usage(format!("{} holds no submission folders", submissions.display())));
    }
    fs::create_dir_all(out.join("feedback"))
        .context(|| format!("cannot create {}", out.display()))?;
    // Submissions are graded `parallel` at a time: one builds while another's tests (which
    // mostly wait on sockets) run.
    let parallel = references.first().map_or(1, |r| r.options.parallel.max(1));
    let next = Mutex::new(0usize);
    let done: Mutex<Vec<Option<Result<Vec<Grade>>>>> =
        Mutex::new((0..students.len()).map(|_| None).collect());
    let said: Mutex<Vec<String>> = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..parallel {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next =
                            next.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some((student, path)) = students.get(index) else { break };
                    let graded: Result<Vec<Grade>> = references
                        .iter()
                        .map(|reference| reference.grade(student, Bodies::Submission(path)))
                        .collect();
                    if let Ok(grades) = &graded {
                        let mut said =
                            said.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        for grade in grades {
                            said.push(format!(
                                "{student}: {} ({:.0} s)",
                                grade.score_line(),
                                grade.seconds
                            ));
                        }
                    }
                    done.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[index] =
                        Some(graded);
                }
            });
        }
        // Progress, as it comes.
        loop {
            let finished = done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .iter()
                .all(Option::is_some);
            for line in said.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
                say(line);
            }
            if finished {
                break;
            }
            thread::sleep(Duration::from_millis(200));
        }
    });
    let mut grades = Vec::new();
    let done = done.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    for ((student, _), graded) in students.iter().zip(done) {
        let graded =
            graded.unwrap_or_else(|| Err(Error::msg(format!("{student} was not graded"))))?;
        let mut feedback = format!("# Grading feedback: {student}\n\n");
        for grade in &graded {
            feedback.push_str(&grade.feedback());
            feedback.push('\n');
        }
        feedback.push_str(
            "Only the bodies of the functions you were asked to write are graded, inside a fresh copy \
             of the course's reference (its tests, its other code). Helpers written elsewhere are \
             not seen: write them as closures or inner functions inside those bodies. A failed \
             test shows the course's test's message first; lines under `your code printed` are \
             what your own code printed while it ran (the first few).\n",
        );
        let file = out.join("feedback").join(format!("{student}.md"));
        fs::write(&file, feedback).context(|| format!("cannot write {}", file.display()))?;
        grades.extend(graded);
    }
    let mut csv = String::from("student,module,points,max\n");
    for grade in &grades {
        csv.push_str(&csv_row(grade));
    }
    let path = out.join("grades.csv");
    fs::write(&path, csv).context(|| format!("cannot write {}", path.display()))?;
    let json = serde_json::json!({
        "modules": references.iter().map(|r| serde_json::json!({
            "module": r.module,
            "max": r.max_points(),
            "exercises": r.exercises,
            "tests": r.tests,
        })).collect::<Vec<_>>(),
        "grades": grades,
        "grading": references.first().map(|r| crate::report::grading(&r.options, started.elapsed())),
    });
    let path = out.join("grades.json");
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::msg(e.to_string()))?;
    fs::write(&path, text + "\n").context(|| format!("cannot write {}", path.display()))?;
    crate::report::write(out, &json)?;
    crate::gradebook::write(out, &json)?;
    Ok(grades)
}
