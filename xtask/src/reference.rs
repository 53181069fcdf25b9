//! A module's reference as grading holds it: the pristine scratch copy and its compiled
//! dependencies, the exercises, and each test measured (its limit, its points, whether it
//! is a check or hidden). [`Reference::prepare`] (in `prepare.rs`) makes one;
//! [`Reference::grade`] (in [`crate::grade`]) grades a submission against it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

use crate::config::Options;
use crate::exercises::Exercise;
use crate::sandbox::Sandbox;

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
    pub(crate) source: PathBuf,
    /// The reference's target folder, without the module's own artifacts.
    pub(crate) base_target: PathBuf,
    /// Each marked file's reference text (relative to the module).
    pub(crate) files: BTreeMap<String, String>,
    pub(crate) options: Options,
    pub(crate) counter: Mutex<u32>,
    /// How each test process is boxed.
    pub(crate) sandbox: Sandbox,
}

impl Reference {
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
}
