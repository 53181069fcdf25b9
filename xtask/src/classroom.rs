//! The GitHub Classroom autograding workflow: `.github/workflows/classroom.yml`, as
//! Classroom's own editor writes it today: a checkout, then one
//! `classroom-resources/autograding-command-grader@v1` step per graded test (its
//! `max-score` and `timeout` in minutes), then `classroom-resources/autograding-grading-reporter@v1`
//! with each step's `result` output in its environment and the step ids as `runners`.
//!
//! Classroom runs the tests in the student's repository, so this is a convenience for
//! students' feedback on each push; the tamper-proof grade is `cargo xtask grade`.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use shared::error::{Context, Result};

use crate::reference::Reference;

/// One grader step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The step's id (letters, digits and `-`).
    pub id: String,
    /// The test's name as Classroom shows it.
    pub name: String,
    /// The command that runs the test.
    pub command: String,
    /// Minutes.
    pub timeout: u64,
    /// Points.
    pub max_score: u32,
}

/// The grader steps for the graded tests of `references`: not the checks, and not the
/// hidden tests (a student's repository does not have them). A step passes only when the
/// harness says its one test passed (a test filtered away would otherwise pass, running
/// nothing).
pub fn steps(references: &[Reference]) -> Vec<Step> {
    let mut steps = Vec::new();
    for reference in references {
        for test in reference.tests.iter().filter(|t| !t.check && !t.hidden && t.points > 0) {
            let short = test.name.strip_prefix("tests::").unwrap_or(&test.name);
            let id: String = format!("{}-{short}", reference.module)
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
                .collect();
            steps.push(Step {
                id,
                name: format!("{} {short}", reference.module),
                command: format!(
                    "cargo test --quiet -p {} --lib -- --exact {} --test-threads 1 | grep '^test result: ok. 1 passed'",
                    reference.module, test.name
                ),
                timeout: Duration::from_secs_f64(test.limit_seconds).as_secs().div_ceil(60).max(1),
                max_score: test.points,
            });
        }
    }
    steps
}

/// A YAML single-quoted string.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The workflow's text.
pub fn workflow(steps: &[Step]) -> String {
    let mut text = String::from(
        "# Written by `cargo xtask classroom`: one autograding step per graded test.\n\
         name: Autograding Tests\n\
         'on':\n- push\n- repository_dispatch\n\
         permissions:\n  checks: write\n  actions: read\n  contents: read\n\
         jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n\
         \x20   if: github.actor != 'github-classroom[bot]'\n\
         \x20   steps:\n\
         \x20   - name: Checkout code\n      uses: actions/checkout@v4\n\
         \x20   - name: Build the tests\n      run: cargo test --workspace --no-run\n      continue-on-error: true\n",
    );
    for step in steps {
        text.push_str(&format!(
            "    - name: {name}\n      id: {id}\n      uses: classroom-resources/autograding-command-grader@v1\n      with:\n        test-name: {name}\n        setup-command: ''\n        command: {command}\n        timeout: {timeout}\n        max-score: {score}\n",
            name = quoted(&step.name),
            id = step.id,
            command = quoted(&step.command),
            timeout = step.timeout,
            score = step.max_score,
        ));
    }
    text.push_str(
        "    - name: Autograding Reporter\n      uses: classroom-resources/autograding-grading-reporter@v1\n      env:\n",
    );
    for step in steps {
        text.push_str(&format!(
            "        {}_RESULTS: \"${{{{steps.{}.outputs.result}}}}\"\n",
            step.id.to_uppercase(),
            step.id
        ));
    }
    let runners: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
    text.push_str(&format!("      with:\n        runners: {}\n", runners.join(",")));
    text
}

/// Writes `dir/.github/workflows/classroom.yml`; returns its path.
pub fn write_workflow(dir: &Path, references: &[Reference]) -> Result<PathBuf> {
    let folder = dir.join(".github").join("workflows");
    fs::create_dir_all(&folder).context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join("classroom.yml");
    fs::write(&path, workflow(&steps(references)))
        .context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}
