//! # xtask: the instructors' tool
//!
//! `cargo xtask` (an alias in `.cargo/config.toml`) runs this crate:
//!
//! - `cargo xtask exercise <module>... --out DIR` writes a **student starter**: the chosen
//!   modules with their solutions replaced by `todo!("hint")` (see [`markers`]), `shared`
//!   and the root files, nothing else (no other module, no xtask, no examples, no hidden
//!   tests, only files git tracks), and a README section for students first.
//! - `cargo xtask check-exercises` proves the **suites grade**: each starter compiles, fails
//!   its suite, every marked region is needed by some test, and the reference passes; and
//!   that the starter is fit to hand out: only the assigned module, no solution text in any
//!   file, `cargo fmt --check` and clippy `-D warnings` clean (see [`check`]).
//! - `cargo xtask grade [<module>...] --submission DIR | --submissions DIR` grades
//!   submissions (see [`grade`]): only the bodies of the marked functions are taken, put
//!   into a fresh copy of the reference, and each test run alone with a time limit; a batch
//!   writes `grades.csv`, `grades.json` and `feedback/<student>.md` (see [`batch`]).
//!   A batch also writes `report.html` (see [`report`]) and `gradebook.csv` (see
//!   [`gradebook`]).
//! - `cargo xtask classroom <module>... [--dir DIR]` writes the GitHub Classroom
//!   autograding workflow (see [`classroom`]).
//! - `cargo xtask gradescope <module>... --out DIR` writes Gradescope's autograder bundle,
//!   whose `run_autograder` runs `cargo xtask autograde` (see [`gradescope`]).

mod assemble;
pub mod batch;
pub mod check;
pub mod classroom;
pub mod config;
pub mod exercises;
mod files;
pub mod grade;
pub mod gradebook;
pub mod gradescope;
pub mod markers;
mod prepare;
pub mod readme;
pub mod reference;
pub mod refusals;
pub mod report;
pub mod results;
pub mod run;
pub mod sandbox;
pub mod splice;
pub mod starter;
mod submission;
mod test_runs;
pub mod usage;

mod verdict;
pub mod workspace;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use shared::console::print_line;
use shared::error::{Error, Result};
use shared::flags::parse_seconds;

use crate::config::Options;
use crate::reference::Reference;
use crate::usage::usage;

/// `cargo xtask ...`
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    about = "Instructors' tool: student starters, checking that the suites grade, grading."
)]
pub enum Command {
    /// Write a student starter workspace: the chosen modules (with shared/ and the root
    /// files, nothing else) with their solutions replaced by todo!(), hidden tests, examples
    /// and quoted solutions left out.
    Exercise {
        /// The modules to assign (e.g. udp-uppercase).
        #[arg(required_unless_present = "all")]
        modules: Vec<String>,
        /// Assign every module.
        #[arg(long, conflicts_with = "modules")]
        all: bool,
        /// Where to write the starter (must be empty or missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write even if DIR is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Check that every module's grading suite grades (starter compiles and fails, every
    /// exercise is needed by a test, no solution left, reference passes).
    CheckExercises {
        /// The modules to check [default: all].
        modules: Vec<String>,
        /// Seconds one cargo run may take before it is cut off.
        #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_seconds)]
        timeout: Duration,
    },
    /// Grade submissions: only the bodies of the marked functions are taken from each, put
    /// into a fresh copy of the reference (hidden tests included), built on their own, and
    /// each test run alone with a time limit. Exit status 0 when graded (whatever the
    /// scores), 1 on a tool error, 2 on a usage error.
    Grade {
        /// The modules to grade [default: those found in the submissions].
        modules: Vec<String>,
        /// One submission (a starter workspace a student edited, or its module folder):
        /// print its report.
        #[arg(long, value_name = "DIR", conflicts_with = "submissions")]
        submission: Option<PathBuf>,
        /// A folder of submissions, one subfolder per student: writes grades.csv,
        /// grades.json, feedback/STUDENT.md, report.html and gradebook.csv into --out.
        #[arg(long, value_name = "DIR", required_unless_present = "submission")]
        submissions: Option<PathBuf>,
        /// Where the batch's files go.
        #[arg(long, value_name = "DIR", default_value = "grades")]
        out: PathBuf,
        /// Seconds each test may take [default: --test-multiple times the reference's time,
        /// at least --test-floor].
        #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
        test_limit: Option<Duration>,
        /// The multiple of the reference's time a test is given.
        #[arg(long, value_name = "N", default_value_t = 10.0)]
        test_multiple: f64,
        /// The least time a test is given.
        #[arg(long, value_name = "SECS", default_value = "15", value_parser = parse_seconds)]
        test_floor: Duration,
        /// Seconds all of one submission's tests may take together.
        #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_seconds)]
        submission_limit: Duration,
        /// Seconds one build may take ("build took too long" after that).
        #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_seconds)]
        build_limit: Duration,
        /// How long a test waits for a reply (GRADING_PATIENCE_SECS).
        #[arg(long, value_name = "SECS", default_value_t = 3.0)]
        patience: f64,
        /// Tests run at once, each in its own process.
        #[arg(long, value_name = "N", default_value_t = 4)]
        jobs: usize,
        /// Scratch folder for the copies and builds [default: target/xtask/grade].
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
        /// Keep each submission's scratch copy.
        #[arg(long)]
        keep: bool,
        /// Submissions graded at once (one builds while another's tests run).
        #[arg(long, value_name = "N", default_value_t = 2)]
        parallel: usize,
        /// MiB of data memory each test process may use (Linux, with prlimit).
        #[arg(long, value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(16..=1 << 20))]
        test_memory: u64,
        /// Processes and threads each test may have at once (Linux, with prlimit).
        #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(8..=1 << 20))]
        test_processes: u64,
        /// KiB of each test's stdout and stderr kept (the head and the tail; the rest is
        /// counted).
        #[arg(long, value_name = "KIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(4..=1 << 20))]
        test_output: u64,
    },
    /// Write the GitHub Classroom autograding workflow for a starter
    /// (DIR/.github/workflows/classroom.yml): one grader step per graded test.
    Classroom {
        /// The modules assigned.
        #[arg(required = true)]
        modules: Vec<String>,
        /// The starter (the assignment's template repository).
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Scratch folder for measuring the reference [default: target/xtask/grade].
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
    },
    /// Write Gradescope's autograder bundle (setup.sh, run_autograder, this workspace with
    /// the hidden tests): zip DIR's contents and upload the zip to Gradescope.
    Gradescope {
        /// The modules assigned.
        #[arg(required = true)]
        modules: Vec<String>,
        /// Where to write the bundle (must be empty or missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write even if DIR is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Gradescope's run_autograder: grade ROOT/submission as `grade` does and write
    /// ROOT/results/results.json. Exit status 0 when results.json is written (whatever the
    /// score), 1 on a tool error (results.json cannot be written), 2 on a usage error.
    Autograde {
        /// The modules to grade.
        #[arg(required = true)]
        modules: Vec<String>,
        /// The autograder's root [default: $AUTOGRADER_ROOT, else /autograder].
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// The least time a test is given (each gets 10 times the reference's time, at least
        /// this).
        #[arg(long, value_name = "SECS", default_value = "15", value_parser = parse_seconds)]
        test_floor: Duration,
        /// Seconds all of the submission's tests may take together.
        #[arg(long, value_name = "SECS", default_value = "600", value_parser = parse_seconds)]
        submission_limit: Duration,
        /// Seconds one build may take.
        #[arg(long, value_name = "SECS", default_value = "900", value_parser = parse_seconds)]
        build_limit: Duration,
        /// Tests run at once, each in its own process.
        #[arg(long, value_name = "N", default_value_t = 4)]
        jobs: usize,
        /// Scratch folder for the copies and builds [default: target/xtask/grade].
        #[arg(long, value_name = "DIR")]
        scratch: Option<PathBuf>,
    },
}

/// This workspace's root (xtask's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs one command.
pub fn run(command: Command) -> Result<()> {
    let root = workspace_root();
    match command {
        Command::Exercise { modules, all, out, force } => {
            let modules = if all { workspace::modules(&root)? } else { modules };
            let taken = starter::write_starter(&root, &modules, &out, force)?;
            print_line(format_args!(
                "Wrote a starter for {} to {} ({} functions to write).",
                modules.join(", "),
                out.display(),
                taken.len()
            ));
            Ok(())
        }
        Command::CheckExercises { modules, timeout } => {
            let modules = if modules.is_empty() { workspace::modules(&root)? } else { modules };
            let scratch = root.join("target").join("xtask").join("starter");
            let target_dir = root.join("target").join("xtask").join("target");
            let mut problems = Vec::new();
            for module in &modules {
                problems.extend(check::check_module(
                    &root,
                    module,
                    &scratch,
                    &target_dir,
                    timeout,
                    &mut |line| {
                        print_line(format_args!("{line}"));
                    },
                )?);
            }
            if problems.is_empty() {
                print_line(format_args!("Every grading suite grades ({}).", modules.join(", ")));
                Ok(())
            } else {
                Err(Error::msg(format!("{} problems:\n{}", problems.len(), problems.join("\n"))))
            }
        }
        Command::Grade {
            modules,
            submission,
            submissions,
            out,
            test_limit,
            test_multiple,
            test_floor,
            submission_limit,
            build_limit,
            patience,
            jobs,
            scratch,
            keep,
            parallel,
            test_memory,
            test_processes,
            test_output,
        } => {
            let mut options = Options::new(scratch.unwrap_or_else(|| default_scratch(&root)));
            options.test_limit = test_limit;
            options.test_multiple = test_multiple;
            options.test_floor = test_floor;
            options.submission_limit = submission_limit;
            options.build_limit = build_limit;
            options.patience_secs = patience;
            options.jobs = jobs;
            options.keep = keep;
            options.parallel = parallel;
            options.limits.memory = test_memory << 20;
            options.limits.processes = test_processes;
            options.limits.output = usize::try_from(test_output << 10).unwrap_or(usize::MAX);
            let given: Vec<PathBuf> = match (&submission, &submissions) {
                (Some(one), _) => vec![one.clone()],
                (None, Some(dir)) => subfolders(dir)?,
                (None, None) => return Err(usage("give --submission or --submissions")),
            };
            if given.is_empty() {
                // Before the reference is built: an empty class is known at once.
                return Err(usage(format!(
                    "{} holds no submission folders",
                    submissions.as_deref().unwrap_or(Path::new(".")).display()
                )));
            }
            if let Some(missing) = given.iter().find(|dir| !dir.is_dir()) {
                return Err(usage(format!("{} is not a folder", missing.display())));
            }
            let modules = if modules.is_empty() {
                let known = workspace::modules(&root)?;
                let found: Vec<String> = known
                    .into_iter()
                    .filter(|m| given.iter().any(|dir| dir.join(m).is_dir()))
                    .collect();
                if found.is_empty() {
                    return Err(usage("name the modules to grade (none found in the submissions)"));
                }
                found
            } else {
                modules
            };
            let started = std::time::Instant::now();
            let mut references = Vec::new();
            for module in &modules {
                references.push(Reference::prepare(&root, module, &options, &mut |line| {
                    print_line(format_args!("{line}"));
                })?);
            }
            if let Some(one) = submission {
                let student = one
                    .file_name()
                    .map_or_else(|| "submission".into(), |n| n.to_string_lossy().into_owned());
                for reference in &references {
                    let grade = reference.grade(&student, grade::Bodies::Submission(&one))?;
                    print_line(format_args!("{}", grade.report()));
                }
            } else if let Some(dir) = submissions {
                let grades = batch::grade_all(&references, &dir, &out, &mut |line| {
                    print_line(format_args!("{line}"));
                })?;
                let submissions = (grades.len() / references.len().max(1)) as u64;
                print_line(format_args!(
                    "Graded {} in {:.0} s: report.html, grades.csv, gradebook.csv, grades.json \
                     and feedback/ in {}",
                    shared::text::plural(submissions, "submission"),
                    started.elapsed().as_secs_f64(),
                    out.display()
                ));
            }
            Ok(())
        }
        Command::Classroom { modules, dir, scratch } => {
            let options = Options::new(scratch.unwrap_or_else(|| default_scratch(&root)));
            let mut references = Vec::new();
            for module in &modules {
                references.push(Reference::prepare(&root, module, &options, &mut |line| {
                    print_line(format_args!("{line}"));
                })?);
            }
            let path = classroom::write_workflow(&dir, &references)?;
            print_line(format_args!("Wrote {}", path.display()));
            Ok(())
        }
        Command::Gradescope { modules, out, force } => {
            let files = gradescope::write_bundle(&root, &modules, &out, force)?;
            print_line(format_args!(
                "Wrote Gradescope's autograder for {} to {} (setup.sh, run_autograder, and the \
                 workspace: {files} files). Zip its contents, not the folder: \
                 (cd {} && zip -qr ../autograder.zip .)",
                modules.join(", "),
                out.display(),
                out.display()
            ));
            Ok(())
        }
        Command::Autograde {
            modules,
            root: autograder_root,
            test_floor,
            submission_limit,
            build_limit,
            jobs,
            scratch,
        } => {
            let started = std::time::Instant::now();
            let autograder_root = gradescope::root(autograder_root);
            gradescope::results_file(&autograder_root)?;
            let mut options = Options::new(scratch.unwrap_or_else(|| default_scratch(&root)));
            options.test_floor = test_floor;
            options.submission_limit = submission_limit;
            options.build_limit = build_limit;
            options.jobs = jobs;
            let mut references = Vec::new();
            for module in &modules {
                references.push(Reference::prepare(&root, module, &options, &mut |line| {
                    print_line(format_args!("{line}"));
                })?);
            }
            let results =
                gradescope::autograde(&references, &autograder_root, started, &mut |line| {
                    print_line(format_args!("{line}"));
                })?;
            print_line(format_args!(
                "Wrote {} (score {}).",
                autograder_root.join("results").join("results.json").display(),
                results["score"]
            ));
            Ok(())
        }
    }
}

/// The default scratch folder for grading.
fn default_scratch(root: &Path) -> PathBuf {
    root.join("target").join("xtask").join("grade")
}

/// The subfolders of `dir`, sorted.
fn subfolders(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(usage(format!("{} is not a folder", dir.display())));
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?
    {
        let entry = entry.map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
        // Folders only, not links to folders (which could point anywhere).
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}
