//! What the xtask tests stand on: scratch folders, the tiny workspace (starters), the grading
//! workspace with its `alpha` prepared once and submissions of given bodies, and the checks
//! that read a report page or Gradescope's `results.json` back.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::config::Options;
use crate::reference::Reference;
use crate::results::Grade;
use crate::splice::replace_bodies;

pub(crate) const REFERENCE: &str = "\
pub fn double(x: u32) -> u32 {
    // BEGIN SOLUTION: return twice x
    x * 2
    // END SOLUTION
}

pub fn helper() -> u32 {
    7
}

pub fn triple(x: u32) -> u32 {
    // BEGIN SOLUTION
    let y = x * 3;
    y
    // END SOLUTION
}
";

/// A fresh folder for one test's files, `name` telling it apart from the others'. It lives in
/// the system's temporary folder (under the workspace, its `.cargo` settings would apply to
/// the test's cargo runs), is emptied before use, and is named after this test executable
/// rather than the process: each run reuses the last run's folders instead of leaving a new
/// set behind, and two checkouts (two executables) never share one.
pub(crate) fn scratch_folder(name: &str) -> PathBuf {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    std::env::current_exe().unwrap_or_default().hash(&mut hasher);
    let dir = std::env::temp_dir().join(format!("xtask-tests-{:016x}", hasher.finish())).join(name);
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// A tiny workspace: `shared`, module `alpha` with one exercise and a hidden test, module
/// `beta` with one exercise.
pub(crate) fn tiny_workspace(name: &str) -> PathBuf {
    let root = scratch_folder(&format!("test-{name}"));
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"shared\", \"alpha\", \"beta\"]\n",
    );
    write("README.md", "# Tiny\n");
    write("shared/src/lib.rs", "pub fn helper() {}\n");
    write("alpha/src/lib.rs", REFERENCE);
    write(
        "alpha/src/tests.rs",
        "#[test]\nfn graded() {}\n\n// HIDDEN TESTS\nmod hidden {\n    #[test]\n    fn secret() {}\n}\n",
    );
    write(
        "beta/src/lib.rs",
        "pub fn answer() -> u32 {\n    // BEGIN SOLUTION: return 42\n    42\n    // END SOLUTION\n}\n",
    );
    write("target/debug/junk", "build output is never copied");
    root
}

pub(crate) fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).unwrap()
}

pub(crate) const ALPHA_LIB: &str = "\
//! Alpha.

mod counter;
pub use counter::Counter;

/// Twice x.
pub fn double(x: u32) -> u32 {
    // BEGIN SOLUTION: return twice x
    x * 2
    // END SOLUTION
}

/// A greeting.
pub fn greet(name: &str) -> String {
    // BEGIN SOLUTION: say hello to {name}
    format!(\"hello {name}\")
    // END SOLUTION
}

#[cfg(test)]
mod tests;
";

pub(crate) const ALPHA_COUNTER: &str = "\
//! Counting.

/// Adds up.
pub struct Counter;

impl Counter {
    /// The sum 1 + 2 + ... + n.
    pub fn sum(&self, n: u32) -> u32 {
        // BEGIN SOLUTION: add up 1 to n
        (1..=n).sum()
        // END SOLUTION
    }
}
";

pub(crate) const ALPHA_TESTS: &str = "\
use super::*;
use shared::testing::same;

#[test]
fn doubles() {
    assert!(same(double(21), 42), \"double(21) gave {}\", double(21));
}

#[test]
fn greets() {
    assert_eq!(greet(\"ann\"), \"hello ann\");
}

#[test]
fn sums() {
    assert_eq!(Counter.sum(4), 10);
}

#[test]
fn a_check() {
    assert!(same(1, 1));
}

// HIDDEN TESTS
mod hidden {
    use super::*;

    #[test]
    fn doubles_zero() {
        assert_eq!(double(0), 0);
    }
}
";

/// The grading workspace: `shared`, `alpha` (graded), `beta` (another module) and an
/// `xtask` folder, with a lock file.
pub(crate) fn grading_workspace(name: &str) -> PathBuf {
    let root = scratch_folder(&format!("grading-{name}"));
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"shared\", \"alpha\", \"beta\", \"xtask\"]\n\n\
         [workspace.dependencies]\nshared = { path = \"shared\" }\n",
    );
    write("README.md", "# Tiny\n\nIntro.\n\n## For instructors\n\nSecret `x * 2` notes.\n");
    write("BENCHMARKS.md", "numbers\n");
    let package = |name: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ndoctest = false\n\n[dependencies]\nshared.workspace = true\n"
        )
    };
    write(
        "shared/Cargo.toml",
        "[package]\nname = \"shared\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write("shared/src/lib.rs", "//! Shared.\n\npub mod testing;\n");
    write(
        "shared/src/testing.rs",
        "//! Test helpers.\n\n/// Whether a equals b.\npub fn same(a: u32, b: u32) -> bool {\n    a == b\n}\n",
    );
    write("alpha/Cargo.toml", &package("alpha"));
    write("alpha/README.md", "# Alpha\n\nThe answer is `(1..=n).sum()` in `sum`.\n");
    write("alpha/src/lib.rs", ALPHA_LIB);
    write("alpha/src/counter.rs", ALPHA_COUNTER);
    write("alpha/src/tests.rs", ALPHA_TESTS);
    write("alpha/examples/bare.rs", "fn main() {\n    let _ = 21 * 2;\n}\n");
    write("beta/Cargo.toml", &package("beta"));
    write(
        "beta/src/lib.rs",
        "//! Beta.\n\n/// 42.\npub fn answer() -> u32 {\n    // BEGIN SOLUTION: return 42\n    42\n    // END SOLUTION\n}\n",
    );
    write(
        "xtask/Cargo.toml",
        "[package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write("xtask/src/main.rs", "//! Tool.\n\nfn main() {}\n");
    let locked = std::process::Command::new(crate::run::cargo_program())
        .args(["generate-lockfile", "--offline"])
        .current_dir(&root)
        .status()
        .unwrap();
    assert!(locked.success());
    root
}

pub(crate) fn grading_options(name: &str) -> Options {
    let scratch = scratch_folder(&format!("scratch-{name}"));
    let mut options = Options::new(scratch);
    options.test_floor = Duration::from_secs(4);
    options.patience_secs = 1.0;
    options.jobs = 3;
    options.build_limit = Duration::from_secs(300);
    options
}

/// The grading workspace's `alpha`, prepared once for all the tests that grade it.
pub(crate) fn alpha() -> &'static Reference {
    static PREPARED: OnceLock<Reference> = OnceLock::new();
    PREPARED.get_or_init(|| {
        let root = grading_workspace("alpha");
        Reference::prepare(&root, "alpha", &grading_options("alpha"), &mut |_| {}).unwrap()
    })
}

/// A submission: a starter-like folder whose `alpha` has these bodies (`None`: todo!()).
pub(crate) fn submission(name: &str, double: &str, greet: &str, sum: &str) -> PathBuf {
    let dir = scratch_folder(&format!("sub-{name}"));
    let lib = replace_bodies(
        ALPHA_LIB,
        &[("double".into(), double.into()), ("greet".into(), greet.into())],
    )
    .unwrap();
    let counter = replace_bodies(ALPHA_COUNTER, &[("Counter::sum".into(), sum.into())]).unwrap();
    fs::create_dir_all(dir.join("alpha/src")).unwrap();
    fs::write(dir.join("alpha/src/lib.rs"), lib).unwrap();
    fs::write(dir.join("alpha/src/counter.rs"), counter).unwrap();
    fs::write(dir.join("alpha/src/tests.rs"), ALPHA_TESTS).unwrap();
    dir
}

pub(crate) const DOUBLE: &str = "{\n    x * 2\n}";

pub(crate) const GREET: &str = "{\n    format!(\"hello {name}\")\n}";

pub(crate) const SUM: &str = "{\n    (1..=n).sum()\n}";

pub(crate) const TODO: &str = "{\n    todo!()\n}";

pub(crate) fn problem_of<'a>(grade: &'a Grade, exercise: &str) -> Option<&'a str> {
    grade.exercises.iter().find(|t| t.exercise == exercise).and_then(|t| t.problem.as_deref())
}

pub(crate) fn passed(grade: &Grade) -> Vec<&str> {
    grade.tests.iter().filter(|t| t.passed && !t.check).map(|t| t.name.as_str()).collect()
}

/// Every piece of solution text of the grading workspace.
pub(crate) fn assert_no_solution_in(starter: &Path, solutions: &[&str]) {
    for file in crate::workspace::copyable_files(starter, false).unwrap() {
        let text = fs::read_to_string(starter.join(&file)).unwrap_or_default();
        for solution in solutions {
            assert!(!text.contains(solution), "{} holds {solution:?}:\n{text}", file.display());
        }
    }
}

/// Every `data-figure` of a page, with its text, unescaped: what a reader of the page sees
/// beside each key. A key twice on the page is a defect.
pub(crate) fn figures_on(page: &str) -> BTreeMap<String, String> {
    fn unescape(text: &str) -> String {
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    }
    let mut found = BTreeMap::new();
    let mut rest = page;
    while let Some(at) = rest.find("data-figure=\"") {
        rest = &rest[at + "data-figure=\"".len()..];
        let key_end = rest.find('"').unwrap();
        let key = unescape(&rest[..key_end]);
        let text_start = rest.find('>').unwrap() + 1;
        let text_end = text_start + rest[text_start..].find('<').unwrap();
        let value = unescape(&rest[text_start..text_end]);
        assert!(found.insert(key.clone(), value).is_none(), "{key} is twice on the page");
        rest = &rest[text_end..];
    }
    found
}

/// The line a failure is known by, worked out here on its own: the line after the
/// `thread ... panicked at` line, else the first non-blank line.
pub(crate) fn first_message_line(failure: &str) -> String {
    let lines: Vec<&str> = failure.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.iter().position(|l| l.starts_with("thread '") && l.contains("panicked")) {
        Some(at) => lines.get(at + 1).unwrap_or(&lines[at]).to_string(),
        None => lines.first().unwrap_or(&"").to_string(),
    }
}

/// Checks every figure of `page` against `grades` (a batch's `grades.json`), each worked out
/// here from the JSON, and that no figure of the page goes unchecked.
pub(crate) fn assert_page_matches_grades_json(page: &str, grades: &serde_json::Value) {
    let figures = figures_on(page);
    let checked = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let expect = |key: String, value: f64| {
        let shown = figures.get(&key).unwrap_or_else(|| panic!("no figure {key} on the page"));
        let shown: f64 = shown.parse().unwrap_or_else(|_| panic!("{key}: '{shown}' is no number"));
        assert!((shown - value).abs() <= 0.5, "{key}: the page says {shown}, grades.json {value}");
        checked.borrow_mut().insert(key);
    };
    let all = grades["grades"].as_array().unwrap();
    let mut students: Vec<&str> = all.iter().map(|g| g["student"].as_str().unwrap()).collect();
    students.dedup();
    expect("students".into(), students.len() as f64);
    expect("grading/seconds".into(), grades["grading"]["seconds"].as_f64().unwrap());
    for module in grades["modules"].as_array().unwrap() {
        let name = module["module"].as_str().unwrap();
        let graded: Vec<&serde_json::Value> = all.iter().filter(|g| g["module"] == name).collect();
        let mut points: Vec<u64> = graded.iter().map(|g| g["points"].as_u64().unwrap()).collect();
        points.sort_unstable();
        let median = if points.len() % 2 == 1 {
            points[points.len() / 2] as f64
        } else {
            (points[points.len() / 2 - 1] + points[points.len() / 2]) as f64 / 2.0
        };
        expect(format!("{name}/graded"), graded.len() as f64);
        expect(format!("{name}/median"), median);
        expect(format!("{name}/max"), module["max"].as_f64().unwrap());
        // The histogram: bins from 0 to max, in order, without gaps, each counting its scores.
        let prefix = format!("{name}/bin/");
        let mut bins: Vec<(u64, u64, String)> = figures
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .map(|key| {
                let (lo, hi) = key[prefix.len()..].split_once('-').unwrap();
                (lo.parse().unwrap(), hi.parse().unwrap(), key.clone())
            })
            .collect();
        bins.sort();
        let mut next_low = 0;
        for (lo, hi, key) in bins {
            assert_eq!(lo, next_low, "{key}: the bins must follow each other from 0");
            next_low = hi + 1;
            expect(key, points.iter().filter(|p| (lo..=hi).contains(*p)).count() as f64);
        }
        assert_eq!(next_low, module["max"].as_u64().unwrap() + 1, "the bins end at the maximum");
        for test in module["tests"].as_array().unwrap() {
            let test_name = test["name"].as_str().unwrap();
            let key = format!("{name}/test/{test_name}");
            let results: Vec<&serde_json::Value> = graded
                .iter()
                .map(|g| {
                    g["tests"].as_array().unwrap().iter().find(|t| t["name"] == test_name).unwrap()
                })
                .collect();
            let passed = results.iter().filter(|t| t["passed"] == true).count();
            expect(format!("{key}/points"), test["points"].as_f64().unwrap());
            expect(format!("{key}/passed"), passed as f64);
            expect(format!("{key}/share"), passed as f64 * 100.0 / results.len() as f64);
            let failures: Vec<String> = results
                .iter()
                .filter(|t| t["passed"] != true)
                .map(|t| first_message_line(t["failure"].as_str().unwrap_or("")))
                .collect();
            let mut listed = 0;
            let mut previous = usize::MAX;
            for i in 0.. {
                let Some(message) = figures.get(&format!("{key}/failure/{i}/message")) else {
                    break;
                };
                checked.borrow_mut().insert(format!("{key}/failure/{i}/message"));
                let count = failures.iter().filter(|f| *f == message).count();
                assert!(count > 0, "{key}: '{message}' is no student's failure");
                assert!(count <= previous, "{key}: the most common message first");
                previous = count;
                listed += count;
                expect(format!("{key}/failure/{i}/count"), count as f64);
            }
            assert!(listed <= failures.len());
            if !failures.is_empty() {
                assert!(
                    listed > 0,
                    "{key}: {} failures and no message on the page",
                    failures.len()
                );
            }
        }
        for exercise in module["exercises"].as_array().unwrap() {
            let exercise_key = format!(
                "{}::{}",
                exercise["file"].as_str().unwrap(),
                exercise["function"].as_str().unwrap()
            );
            let key = format!("{name}/exercise/{exercise_key}");
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            let mut refusals: Vec<String> = Vec::new();
            for grade in &graded {
                let taken = grade["exercises"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["exercise"] == exercise_key.as_str())
                    .unwrap();
                let problem = taken["problem"].as_str();
                let outcome = if problem.is_some_and(|p| p.starts_with("refused")) {
                    refusals.push(problem.unwrap().to_string());
                    "refused"
                } else if problem.is_some() {
                    "not_found"
                } else if taken["undone"] == true {
                    "undone"
                } else if grade["build"] != "built" {
                    "no_build"
                } else {
                    "done"
                };
                *counts.entry(outcome).or_default() += 1;
            }
            for outcome in ["done", "undone", "refused", "not_found", "no_build"] {
                expect(
                    format!("{key}/{outcome}"),
                    counts.get(outcome).copied().unwrap_or(0) as f64,
                );
            }
            for i in 0.. {
                let Some(reason) = figures.get(&format!("{key}/refused/{i}/reason")) else { break };
                checked.borrow_mut().insert(format!("{key}/refused/{i}/reason"));
                let count = refusals.iter().filter(|r| r.ends_with(reason.as_str())).count();
                expect(format!("{key}/refused/{i}/count"), count as f64);
            }
        }
    }
    for student in &students {
        let mine: Vec<&serde_json::Value> =
            all.iter().filter(|g| g["student"] == *student).collect();
        for grade in &mine {
            let key = format!("student/{student}/{}", grade["module"].as_str().unwrap());
            expect(format!("{key}/points"), grade["points"].as_f64().unwrap());
            let build = if grade["build"] == "built" {
                "built"
            } else if grade["build"].get("took_too_long").is_some() {
                "build took too long"
            } else {
                "does not compile"
            };
            assert_eq!(figures[&format!("{key}/build")], build, "{key}");
            checked.borrow_mut().insert(format!("{key}/build"));
        }
        let seconds: f64 = mine.iter().map(|g| g["seconds"].as_f64().unwrap()).sum();
        expect(format!("student/{student}/seconds"), seconds);
    }
    let unchecked: Vec<&String> =
        figures.keys().filter(|k| !checked.borrow().contains(*k)).collect();
    assert!(unchecked.is_empty(), "figures on the page that were not checked: {unchecked:?}");
}

/// A fake Gradescope root holding `submission` as its `submission/`.
pub(crate) fn autograder_root(name: &str, submission: Option<&Path>) -> PathBuf {
    let root = scratch_folder(&format!("autograder-{name}"));
    fs::create_dir_all(root.join("submission")).unwrap();
    if let Some(from) = submission {
        fs::remove_dir(root.join("submission")).unwrap();
        fs::rename(from, root.join("submission")).unwrap();
    }
    root
}

/// Checks `results` against the fields Gradescope documents for `results.json`: the
/// top-level keys and each test's, their types, `status` and `visibility` among the
/// documented values.
pub(crate) fn assert_gradescope_results(results: &serde_json::Value) {
    const TOP: [&str; 9] = [
        "score",
        "execution_time",
        "output",
        "output_format",
        "visibility",
        "stdout_visibility",
        "extra_data",
        "tests",
        "leaderboard",
    ];
    const TEST: [&str; 11] = [
        "score",
        "max_score",
        "status",
        "name",
        "name_format",
        "number",
        "output",
        "output_format",
        "tags",
        "visibility",
        "extra_data",
    ];
    const VISIBILITY: [&str; 4] = ["hidden", "after_due_date", "after_published", "visible"];
    const FORMATS: [&str; 5] = ["text", "html", "simple_format", "md", "ansi"];
    let top = results.as_object().unwrap();
    for key in top.keys() {
        assert!(TOP.contains(&key.as_str()), "'{key}' is not a documented results.json field");
    }
    assert!(results["score"].is_number(), "score: {}", results["score"]);
    assert!(results["execution_time"].is_u64());
    assert!(FORMATS.contains(&results["output_format"].as_str().unwrap()));
    assert!(VISIBILITY.contains(&results["visibility"].as_str().unwrap()));
    assert!(VISIBILITY.contains(&results["stdout_visibility"].as_str().unwrap()));
    let mut total = 0.0;
    for test in results["tests"].as_array().unwrap() {
        for key in test.as_object().unwrap().keys() {
            assert!(TEST.contains(&key.as_str()), "'{key}' is not a documented test field");
        }
        assert!(test["name"].is_string() && test["output"].is_string(), "{test}");
        let (score, max) = (test["score"].as_f64().unwrap(), test["max_score"].as_f64().unwrap());
        assert!((0.0..=max).contains(&score), "{test}");
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()), "{test}");
        assert!(VISIBILITY.contains(&test["visibility"].as_str().unwrap()), "{test}");
        assert!(FORMATS.contains(&test["output_format"].as_str().unwrap()), "{test}");
        total += score;
    }
    assert_eq!(results["score"].as_f64().unwrap(), total, "the score is the tests' sum");
}
