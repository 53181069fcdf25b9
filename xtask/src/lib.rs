//! # xtask: the instructors' tool
//!
//! `cargo xtask` (an alias in `.cargo/config.toml`) runs this crate:
//!
//! - `cargo xtask exercise <module>... --out DIR` writes a **student starter**: this
//!   workspace with the chosen modules' solutions replaced by `todo!("hint")` (see
//!   [`markers`]), hidden tests left out, and a README section for students.
//! - `cargo xtask check-exercises` proves the **suites grade**: each starter compiles, fails
//!   its suite, every marked region is needed by some test, no solution line is left in the
//!   starter, and the reference passes.
//! - `cargo xtask grade [<module>...] [--workspace DIR]` runs grading suites (here or in a
//!   student's workspace) and prints a **score** per module, test by test.

pub mod check;
pub mod grade;
pub mod markers;
pub mod run;
pub mod splice;
pub mod starter;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use shared::error::{Error, Result};
use shared::load::parse_seconds;
use shared::report::print_line;

/// `cargo xtask ...`
#[derive(Parser, Debug)]
#[command(
    name = "cargo xtask",
    about = "Instructors' tool: student starters, checking that the suites grade, grading."
)]
pub enum Command {
    /// Write a student starter workspace: the chosen modules with their solutions replaced by
    /// todo!(), hidden tests left out, everything else as it is.
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
    /// Run grading suites and print, per module, each test passed or failed and a score;
    /// exits non-zero below full marks.
    Grade {
        /// The modules to grade [default: all].
        modules: Vec<String>,
        /// The workspace to grade (a student's) [default: this one].
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Seconds a module's suite may take before it is cut off and reported.
        #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_seconds)]
        timeout: Duration,
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
            let modules = if all { starter::modules(&root)? } else { modules };
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
            let modules = if modules.is_empty() { starter::modules(&root)? } else { modules };
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
        Command::Grade { modules, workspace, timeout } => {
            let workspace = workspace.unwrap_or(root);
            let modules = if modules.is_empty() { starter::modules(&workspace)? } else { modules };
            let mut short = Vec::new();
            for module in &modules {
                let grade = grade::grade(&workspace, module, timeout)?;
                print_line(format_args!("{}", grade.report()));
                if !grade.is_full() {
                    short.push(format!("{module} {}/{}", grade.passed(), grade.results.len()));
                }
            }
            if short.is_empty() {
                Ok(())
            } else {
                Err(Error::msg(format!("below full marks: {}", short.join(", "))))
            }
        }
    }
}
