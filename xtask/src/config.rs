//! How grading is configured: the limits and parallelism of a run ([`Options`], from the
//! command line) and a module's points ([`Weights`], from its `grading.toml`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use shared::error::{Error, Result};

use crate::sandbox::Limits;

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
/// # Points per test (its name as listed, or the end of it: `server::replies_...` or
/// # `replies_...`, if only one test ends so); default 1.
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
