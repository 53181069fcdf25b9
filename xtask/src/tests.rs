//! Tests of the instructors' tool: marker parsing and its errors, what a starter contains,
//! hidden tests, and the starter's layout, on small workspaces made in a temporary folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::markers::{DEFAULT_HINT, find_regions, strip_hidden_tests, strip_regions};
use crate::starter::{exercises, write_starter};
use crate::workspace::{members, modules};

const REFERENCE: &str = "\
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

#[test]
fn regions_are_found_with_their_hints() {
    let regions = find_regions("lib.rs", REFERENCE).unwrap();
    assert_eq!(regions.len(), 2);
    assert_eq!(
        (regions[0].begin, regions[0].end, regions[0].hint.as_str()),
        (2, 4, "return twice x")
    );
    assert_eq!(
        (regions[1].begin, regions[1].end, regions[1].hint.as_str()),
        (12, 15, DEFAULT_HINT)
    );
    assert_eq!(regions[0].indent, "    ");
}

#[test]
fn stripping_replaces_each_region_by_todo_with_its_hint() {
    let regions = find_regions("lib.rs", REFERENCE).unwrap();
    let starter = strip_regions(REFERENCE, &regions);
    assert!(
        starter.contains("pub fn double(x: u32) -> u32 {\n    todo!(\"return twice x\")\n}"),
        "{starter}"
    );
    assert!(starter.contains(&format!("    todo!(\"{DEFAULT_HINT}\")\n")), "{starter}");
    assert!(!starter.contains("x * 2") && !starter.contains("x * 3"), "solution left: {starter}");
    assert!(
        starter.contains("pub fn helper() -> u32 {\n    7\n}"),
        "unmarked code must stay: {starter}"
    );
}

#[test]
fn distinctive_lines_are_long_and_found_only_in_the_region() {
    let text = "fn a() {\n    let shared_line_that_is_quite_long = 1;\n}\nfn b() {\n    // BEGIN SOLUTION\n    let shared_line_that_is_quite_long = 1;\n    let unique_line_that_is_long_enough = 2;\n    short();\n    // END SOLUTION\n}\n";
    let regions = find_regions("f.rs", text).unwrap();
    assert_eq!(
        crate::markers::distinctive_lines(text, &regions[0]),
        ["let unique_line_that_is_long_enough = 2;"]
    );
}

#[test]
fn unbalanced_markers_are_errors_naming_file_and_line() {
    let nested = "fn f() {\n    // BEGIN SOLUTION\n    // BEGIN SOLUTION\n    // END SOLUTION\n}\n";
    assert_eq!(
        find_regions("a.rs", nested).unwrap_err().to_string(),
        "a.rs:3: BEGIN SOLUTION inside another region (regions cannot nest)"
    );
    let unopened = "fn f() {\n    1\n    // END SOLUTION\n}\n";
    assert_eq!(
        find_regions("b.rs", unopened).unwrap_err().to_string(),
        "b.rs:3: END SOLUTION without a BEGIN SOLUTION"
    );
    let unclosed = "fn f() {\n    // BEGIN SOLUTION\n    1\n}\n";
    assert_eq!(
        find_regions("c.rs", unclosed).unwrap_err().to_string(),
        "c.rs:2: BEGIN SOLUTION is never closed by END SOLUTION"
    );
}

#[test]
fn a_region_must_be_a_whole_function_body() {
    let partial =
        "fn f() {\n    let a = 1;\n    // BEGIN SOLUTION\n    a\n    // END SOLUTION\n}\n";
    let error = find_regions("d.rs", partial).unwrap_err().to_string();
    assert!(error.starts_with("d.rs:3: BEGIN SOLUTION must open a function body"), "{error}");
    let tail =
        "fn f() -> u8 {\n    // BEGIN SOLUTION\n    let a = 1;\n    // END SOLUTION\n    a\n}\n";
    let error = find_regions("e.rs", tail).unwrap_err().to_string();
    assert!(error.starts_with("e.rs:4: END SOLUTION must close a function body"), "{error}");
}

#[test]
fn hidden_tests_are_left_out_of_the_starter() {
    let tests = "\
#[test]
fn visible() {
    assert!(true);
}

// HIDDEN TESTS
mod hidden {
    #[test]
    fn secret() {
        assert_eq!(1 + 1, 2);
    }
}

#[test]
fn also_visible() {}
";
    let starter = strip_hidden_tests("tests.rs", tests).unwrap();
    assert!(starter.contains("fn visible()") && starter.contains("fn also_visible()"), "{starter}");
    assert!(!starter.contains("secret") && !starter.contains("HIDDEN"), "{starter}");
    let broken = "// HIDDEN TESTS\nmod hidden {\n    fn x() {}\n";
    assert!(strip_hidden_tests("t.rs", broken).unwrap_err().to_string().contains("never closes"));
}

/// A tiny workspace: `shared`, module `alpha` with one exercise and a hidden test, module
/// `beta` with one exercise.
fn tiny_workspace(name: &str) -> PathBuf {
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

fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).unwrap()
}

#[test]
fn the_workspace_members_and_modules_are_read_from_cargo_toml() {
    let root = tiny_workspace("members");
    assert_eq!(members(&root).unwrap(), ["shared", "alpha", "beta"]);
    assert_eq!(modules(&root).unwrap(), ["alpha", "beta"]);
    assert_eq!(exercises(&root, "alpha").unwrap().len(), 2);
}

#[test]
fn a_starter_strips_the_chosen_modules_only() {
    let root = tiny_workspace("starter");
    let out = root.with_extension("out");
    let _ = fs::remove_dir_all(&out);
    let taken = write_starter(&root, &["alpha".to_string()], &out, false).unwrap();
    assert_eq!(taken.len(), 2);
    let alpha = read(&out, "alpha/src/lib.rs");
    assert!(alpha.contains("todo!(\"return twice x\")") && !alpha.contains("x * 2"), "{alpha}");
    assert!(!out.join("beta").exists(), "beta was not assigned: it is not in the starter");
    assert_eq!(read(&out, "shared/src/lib.rs"), "pub fn helper() {}\n");
    let tests = read(&out, "alpha/src/tests.rs");
    assert!(tests.contains("fn graded()") && !tests.contains("secret"), "{tests}");
    assert!(!out.join("target").exists(), "build output must not be copied");
    let readme = read(&out, "README.md");
    assert!(readme.starts_with("# Tiny\n"), "{readme}");
    assert!(readme.contains("## For students: your exercise"), "{readme}");
    // Each stub uses the parameters, then says todo!(): the README points at the todo!()
    // (below the six lines of the starter's lint allowance).
    let lib = read(&out, "alpha/src/lib.rs");
    assert!(lib.starts_with(crate::starter::STARTER_ALLOW), "{lib}");
    assert!(readme.contains("- `alpha/src/lib.rs::double` (line 9): return twice x"), "{readme}");
    assert!(
        readme.contains(&format!("- `alpha/src/lib.rs::triple` (line 18): {DEFAULT_HINT}")),
        "{readme}"
    );
    assert!(lib.lines().nth(17).unwrap().contains("todo!"), "line 18 is the todo: {lib}");
    assert!(lib.lines().nth(16).unwrap().contains("let _ = x; // yours to use"), "{lib}");
}

#[test]
fn a_starter_is_not_written_over_a_non_empty_folder_without_force() {
    let root = tiny_workspace("force");
    let out = root.with_extension("out");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("precious.txt"), "do not lose me").unwrap();
    let error = write_starter(&root, &["beta".to_string()], &out, false).unwrap_err().to_string();
    assert!(error.contains("is not empty (use --force"), "{error}");
    write_starter(&root, &["beta".to_string()], &out, true).unwrap();
    assert!(read(&out, "beta/src/lib.rs").contains("todo!(\"return 42\")"));
}

#[test]
fn readme_parts_are_kept_or_left_out_by_their_markers() {
    let readme = "\
# Title
Kept.
<!-- reference only -->
See examples/ and BENCHMARKS.md.
<!-- end -->
<!-- module: alpha -->
About alpha.
<!-- end -->
<!-- module: beta -->
About beta.
<!-- end -->
Also kept.
";
    let alpha = crate::readme::strip_readme_sections(readme, &["alpha".to_string()]).unwrap();
    assert_eq!(alpha, "# Title\nKept.\nAbout alpha.\nAlso kept.\n");
    let none = crate::readme::strip_readme_sections(readme, &[]).unwrap();
    assert_eq!(none, "# Title\nKept.\nAlso kept.\n");
    let spaced = "a\n\n<!-- reference only -->\nb\n<!-- end -->\n\nc\n";
    assert_eq!(
        crate::readme::strip_readme_sections(spaced, &[]).unwrap(),
        "a\n\nc\n",
        "a part left out leaves one blank line, not two"
    );
}

#[test]
fn readme_markers_out_of_place_are_errors_naming_the_line() {
    let strip = |text: &str| crate::readme::strip_readme_sections(text, &[]).unwrap_err();
    assert_eq!(strip("a\n<!-- reference only -->\nb\n"), "line 2: this part has no <!-- end -->");
    assert_eq!(strip("a\n<!-- end -->\n"), "line 2: <!-- end --> without a part to end");
    assert_eq!(
        strip("<!-- reference only -->\n<!-- module: alpha -->\n<!-- end -->\n"),
        "line 2: a part starts inside the part of line 1"
    );
}

#[test]
fn an_unknown_module_is_a_clear_error() {
    let root = tiny_workspace("unknown");
    let out = root.with_extension("out");
    let error = write_starter(&root, &["gamma".to_string()], &out, false).unwrap_err().to_string();
    assert_eq!(error, "usage: no module named 'gamma' (modules: alpha, beta)");
}

#[test]
fn every_module_of_this_workspace_has_well_formed_exercises() {
    let root = crate::workspace_root();
    for module in modules(&root).unwrap() {
        let found = exercises(&root, &module).unwrap_or_else(|e| panic!("{module}: {e}"));
        assert!(!found.is_empty(), "{module} has no exercise marked");
        // Grading finds each one by parsing: a function, by file and a path unique there.
        let located =
            crate::exercises::exercises(&root, &module).unwrap_or_else(|e| panic!("{module}: {e}"));
        assert_eq!(located.len(), found.len(), "{module}");
    }
}

// ---------------------------------------------------------------------------------------
// Grading: a small workspace (no dependencies, so it builds in a second or two) with three
// exercises in two files, a check (a test the starter passes), and a hidden test.
// ---------------------------------------------------------------------------------------

use std::sync::OnceLock;
use std::time::Duration;

use crate::batch::grade_all;
use crate::config::Options;
use crate::grade::Bodies;
use crate::reference::Reference;
use crate::results::{Build, Grade};
use crate::splice::{escapes, functions, replace_bodies, take_body};

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
fn grading_workspace(name: &str) -> PathBuf {
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

fn grading_options(name: &str) -> Options {
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

#[test]
fn exercises_are_found_by_file_and_function_path() {
    let found = functions(ALPHA_COUNTER).unwrap();
    assert_eq!(found.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["Counter::sum"]);
    assert_eq!(found[0].params, ["n"]);
    assert_eq!(take_body(ALPHA_COUNTER, "Counter::sum").unwrap().lines().count(), 5);
    let root = tiny_workspace("paths");
    let keys: Vec<String> = crate::exercises::exercises(&root, "alpha")
        .unwrap()
        .iter()
        .map(crate::exercises::Exercise::key)
        .collect();
    assert_eq!(keys, ["src/lib.rs::double", "src/lib.rs::triple"]);
    // Two functions with the same path (e.g. under different #[cfg]s) cannot be told apart.
    fs::write(
        root.join("alpha/src/lib.rs"),
        format!(
            "{REFERENCE}\nmod m {{}}\n#[cfg(any())]\npub fn double(x: u32) -> u32 {{\n    x\n}}\n"
        ),
    )
    .unwrap();
    let error = crate::exercises::exercises(&root, "alpha").unwrap_err().to_string();
    assert!(error.contains("is not the only one with that path"), "{error}");
}

#[test]
fn bodies_that_escape_the_function_are_refused_by_syntax() {
    for (body, what) in [
        ("{ #[path = \"/etc/x.rs\"] mod m; 1 }", "`mod`"),
        ("{ macro_rules! m { () => { 1 } } m!() }", "macro_rules!"),
        ("{ unsafe extern \"C\" { fn exit(code: i32); } 1 }", "extern"),
        ("{ extern crate std as s; 1 }", "extern crate"),
        ("{ std::arch::global_asm!(\"nop\"); 1 }", "global_asm!"),
        ("{ #[derive(clap::Parser)] struct A; 1 }", "a derive other than std's"),
        ("{ #[derive(Debug, Parser)] struct A; 1 }", "a derive other than std's"),
        ("{ #[cfg_attr(all(), derive(Parser))] struct A; 1 }", "`#[cfg_attr]`"),
        ("{ #[unsafe(no_mangle)] fn f() {} 1 }", "`#[unsafe]`"),
        ("{ #[allow(clippy::disallowed_methods)] { 1 } }", "naming clippy"),
        ("{ #![expect(clippy::all)] 1 }", "naming clippy"),
        ("{ use clap::Parser as Debug; #[derive(Debug)] struct A; 1 }", "binds `Debug`"),
        ("{ println!(\"{}\", { #[command(about = 1)] struct A; 1 }); 1 }", "`#[command]`"),
        ("{ ::lossy_link::testing::start_relay(a, &[]); 1 }", "`lossy_link`"),
        ("{ use r#lossy_link as l; 1 }", "`lossy_link`"),
        ("{ format!(\"{:?}\", lossy_link::Args::default()); 1 }", "`lossy_link`"),
    ] {
        let refused = escapes(body);
        assert!(
            refused.iter().any(|r| r.contains(what)),
            "expected {body} to be refused for {what}; refused for: {refused:?}"
        );
    }
    for honest in [
        "{ fn helper(x: u32) -> u32 { x + 1 } let f = |y| y * 2; f(helper(1)) }",
        "{ process(1) }",
        "{ let process = 1; let fs = 2; process + fs }",
        "{ struct S { fs: u32 } format!(\"{}\", S { fs: 1 }.fs).len() as u32 }",
        "{ #[derive(Debug, Clone, PartialEq)] struct S(u8); #[allow(unused)] let x = 1; x }",
        "{ debug_assert!([1u8].iter().all(|process: &u8| *process > 0)); 1 }",
    ] {
        let refused = escapes(honest);
        assert!(refused.is_empty(), "expected {honest} to be accepted; refused for: {refused:?}");
    }
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn the_untouched_starter_tests_are_checks_and_the_hidden_test_is_graded() {
    let reference = alpha();
    let names: Vec<(&str, bool, u32)> =
        reference.tests.iter().map(|t| (t.name.as_str(), t.check, t.points)).collect();
    assert_eq!(
        names,
        [
            ("tests::a_check", true, 0),
            ("tests::doubles", false, 1),
            ("tests::greets", false, 1),
            ("tests::hidden::doubles_zero", false, 1),
            ("tests::sums", false, 1),
        ]
    );
    let hidden: Vec<&str> =
        reference.tests.iter().filter(|t| t.hidden).map(|t| t.name.as_str()).collect();
    assert_eq!(hidden, ["tests::hidden::doubles_zero"]);
    let starter = reference.grade("starter", Bodies::Starter).unwrap();
    assert_eq!(starter.score_line(), "alpha: 0 / 4 points");
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_complete_submission_earns_full_marks() {
    let grade = alpha()
        .grade("complete", Bodies::Submission(&submission("complete", DOUBLE, GREET, SUM)))
        .unwrap();
    assert_eq!(grade.score_line(), "alpha: 4 / 4 points", "{}", grade.report());
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn printing_fake_test_results_earns_nothing() {
    // The forgery of the issue: print every `test ... ok` line and a summary, then stop at
    // todo!(). Honest `cargo test`: doubles and doubles_zero fail.
    let forged = "{
    for name in [\"doubles\", \"greets\", \"sums\", \"a_check\", \"hidden::doubles_zero\"] {
        println!(\"test tests::{name} ... ok\");
        eprintln!(\"test tests::{name} ... ok\");
    }
    println!(\"test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\");
    todo!()
}";
    let grade = alpha()
        .grade("forger", Bodies::Submission(&submission("forger", forged, GREET, SUM)))
        .unwrap();
    assert_eq!(passed(&grade), ["tests::greets", "tests::sums"], "{}", grade.report());
    assert_eq!(grade.points, 2);
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_path_mod_swap_a_cargo_runner_and_edited_tests_change_nothing() {
    // Everything but the bodies is the student's to change, and none of it is graded:
    // `#[path]` to other tests, a `.cargo/config.toml` runner that prints success, emptied
    // or deleted tests, a `shared/src/testing.rs` whose `same` is always true.
    let dir = submission("tamper", "{\n    x * 3\n}", TODO, SUM);
    let lib = fs::read_to_string(dir.join("alpha/src/lib.rs")).unwrap();
    fs::write(
        dir.join("alpha/src/lib.rs"),
        lib.replace(
            "#[cfg(test)]\nmod tests;",
            "#[cfg(test)]\n#[path = \"checks.rs\"]\nmod tests;",
        ),
    )
    .unwrap();
    fs::write(
        dir.join("alpha/src/checks.rs"),
        "#[test]\nfn doubles() {}\n#[test]\nfn greets() {}\n",
    )
    .unwrap();
    fs::write(dir.join("alpha/src/tests.rs"), "#[test]\nfn greets() {}\n").unwrap();
    fs::create_dir_all(dir.join(".cargo")).unwrap();
    fs::write(
        dir.join(".cargo/config.toml"),
        "[target.'cfg(all())']\nrunner = \"sh -c 'echo test result: ok. 1 passed; 0 failed;'\"\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("shared/src")).unwrap();
    fs::write(dir.join("shared/src/testing.rs"), "pub fn same(_: u32, _: u32) -> bool { true }\n")
        .unwrap();
    let grade = alpha().grade("tamper", Bodies::Submission(&dir)).unwrap();
    // Honest: x * 3 fails doubles (21 * 3 != 42) but passes doubles_zero; greet is todo!().
    assert_eq!(
        passed(&grade),
        ["tests::hidden::doubles_zero", "tests::sums"],
        "{}",
        grade.report()
    );
    assert_eq!(grade.max, 4, "deleted tests still count");
    let doubles = grade.tests.iter().find(|t| t.name == "tests::doubles").unwrap();
    assert!(doubles.failure.as_deref().unwrap().contains("double(21) gave 63"), "{doubles:?}");
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn an_escaping_body_scores_zero_for_its_exercise_and_the_rest_is_graded() {
    let exits = "{
    println!(\"test result: ok. 1 passed; 0 failed;\");
    std::process::exit(0)
}";
    let grade = alpha()
        .grade("escaper", Bodies::Submission(&submission("escaper", exits, GREET, SUM)))
        .unwrap();
    let problem = problem_of(&grade, "src/lib.rs::double").unwrap();
    assert!(
        problem.starts_with("refused (0 points)") && problem.contains("std::process"),
        "{problem}"
    );
    assert_eq!(passed(&grade), ["tests::greets", "tests::sums"], "{}", grade.report());
    assert!(grade.report().contains("src/lib.rs::double: refused"), "{}", grade.report());
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_missing_or_unparsable_function_is_named_and_the_rest_is_graded() {
    let dir = submission("missing", DOUBLE, GREET, SUM);
    let lib = fs::read_to_string(dir.join("alpha/src/lib.rs")).unwrap();
    fs::write(dir.join("alpha/src/lib.rs"), lib.replace("pub fn greet", "pub fn greeting"))
        .unwrap();
    let grade = alpha().grade("missing", Bodies::Submission(&dir)).unwrap();
    assert_eq!(
        problem_of(&grade, "src/lib.rs::greet"),
        Some("not graded (0 points): `greet` in src/lib.rs: the function is not there")
    );
    assert_eq!(grade.points, 3, "{}", grade.report());

    fs::write(dir.join("alpha/src/lib.rs"), "pub fn double(x: u32) -> u32 {\n    x * 2\n").unwrap();
    let grade = alpha().grade("unparsable", Bodies::Submission(&dir)).unwrap();
    for key in ["src/lib.rs::double", "src/lib.rs::greet"] {
        let problem = problem_of(&grade, key).unwrap();
        assert!(problem.contains("the file does not parse"), "{problem}");
    }
    assert_eq!(problem_of(&grade, "src/counter.rs::Counter::sum"), None);
    assert_eq!(passed(&grade), ["tests::sums"], "{}", grade.report());
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_hanging_submission_is_cut_off_at_its_limit() {
    let hangs = "{\n    let mut total = 0u32;\n    loop {\n        total = total.wrapping_add(n);\n        std::hint::black_box(total);\n    }\n}";
    let started = std::time::Instant::now();
    let grade = alpha()
        .grade("hangs", Bodies::Submission(&submission("hangs", DOUBLE, GREET, hangs)))
        .unwrap();
    let sums = grade.tests.iter().find(|t| t.name == "tests::sums").unwrap();
    let limit = alpha().tests.iter().find(|t| t.name == "tests::sums").unwrap().limit_seconds;
    assert!(
        !sums.passed && sums.failure.as_deref().unwrap().contains("did not finish"),
        "{sums:?}"
    );
    assert!(sums.seconds < limit + 2.0, "ran {} s, limit {limit} s", sums.seconds);
    assert!(started.elapsed().as_secs_f64() < limit + 60.0);
    assert_eq!(grade.points, 3);
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_batch_writes_csv_json_and_feedback() {
    let dir = scratch_folder("batch");
    fs::create_dir_all(&dir).unwrap();
    let hangs = "{\n    loop {\n        std::hint::black_box(n);\n    }\n}";
    for (student, double, greet, sum) in [
        ("ann", DOUBLE, GREET, SUM),                                   // complete
        ("bob", DOUBLE, TODO, TODO),                                   // half done
        ("cat", "{\n    x + 1\n}", "{\n    name.to_string()\n}", SUM), // wrong
        ("dan", DOUBLE, GREET, hangs),                                 // hanging
        ("eve", "{\n    x * \"2\"\n}", GREET, SUM),                    // not compiling
    ] {
        let made = submission(&format!("batch-{student}"), double, greet, sum);
        fs::rename(made, dir.join(student)).unwrap();
    }
    let out = dir.join("results");
    let grades = grade_all(std::slice::from_ref(alpha()), &dir, &out, &mut |_| {}).unwrap();
    assert_eq!(grades.len(), 5, "the results folder is not a submission");
    let csv = fs::read_to_string(out.join("grades.csv")).unwrap();
    assert_eq!(
        csv,
        "student,module,points,max\nann,alpha,4,4\nbob,alpha,2,4\ncat,alpha,1,4\ndan,alpha,3,4\neve,alpha,0,4\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("grades.json")).unwrap()).unwrap();
    let cat = &json["grades"][2];
    assert_eq!(cat["student"], "cat");
    let greets =
        cat["tests"].as_array().unwrap().iter().find(|t| t["name"] == "tests::greets").unwrap();
    assert_eq!(greets["passed"], false);
    assert!(greets["seconds"].as_f64().is_some());
    assert!(greets["failure"].as_str().unwrap().contains("hello ann"), "{greets}");
    assert!(matches!(grades[4].build, Build::DoesNotCompile(_)));
    let eve = fs::read_to_string(out.join("feedback/eve.md")).unwrap();
    assert!(eve.contains("alpha: 0 / 4 points") && eve.contains("cannot multiply"), "{eve}");
    let dan = fs::read_to_string(out.join("feedback/dan.md")).unwrap();
    assert!(dan.contains("### `tests::sums`") && dan.contains("did not finish"), "{dan}");
    let ann = fs::read_to_string(out.join("feedback/ann.md")).unwrap();
    assert!(ann.contains("alpha: 4 / 4 points") && !ann.contains("###"), "{ann}");
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn the_classroom_workflow_reads_back_with_one_grader_step_per_graded_test() {
    use yaml_rust2::YamlLoader;
    let text = crate::classroom::workflow(&crate::classroom::steps(std::slice::from_ref(alpha())));
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let job = &docs[0]["jobs"]["run-autograding-tests"];
    let steps = job["steps"].as_vec().unwrap();
    let graders: Vec<_> = steps
        .iter()
        .filter(|s| s["uses"].as_str() == Some("classroom-resources/autograding-command-grader@v1"))
        .collect();
    let graded: Vec<_> = alpha().tests.iter().filter(|t| !t.check && !t.hidden).collect();
    assert_eq!(graded.len(), 3, "neither the check nor the hidden test");
    assert_eq!(graders.len(), graded.len());
    for (step, test) in graders.iter().zip(&graded) {
        assert_eq!(step["with"]["max-score"].as_i64(), Some(i64::from(test.points)));
        assert!(step["with"]["timeout"].as_i64().unwrap() >= 1);
        let command = step["with"]["command"].as_str().unwrap();
        assert!(
            command.contains(&format!("--exact {} --test-threads 1 | grep", test.name)),
            "{command}"
        );
    }
    let reporter = steps.last().unwrap();
    assert_eq!(
        reporter["uses"].as_str(),
        Some("classroom-resources/autograding-grading-reporter@v1")
    );
    let runners: Vec<&str> = reporter["with"]["runners"].as_str().unwrap().split(',').collect();
    assert_eq!(runners.len(), graded.len());
    for (runner, step) in runners.iter().zip(&graders) {
        assert_eq!(step["id"].as_str(), Some(*runner));
        let key = format!("{}_RESULTS", runner.to_uppercase());
        assert_eq!(
            reporter["env"][key.as_str()].as_str(),
            Some(format!("${{{{steps.{runner}.outputs.result}}}}").as_str())
        );
    }
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn grading_toml_weights_tests_and_exercises() {
    let root = grading_workspace("weights");
    fs::write(
        root.join("alpha/grading.toml"),
        "[tests]\ngreets = 5\n\n[exercises]\n\"src/counter.rs::Counter::sum\" = 3\n",
    )
    .unwrap();
    let reference =
        Reference::prepare(&root, "alpha", &grading_options("weights"), &mut |_| {}).unwrap();
    let points: Vec<(&str, u32)> =
        reference.tests.iter().map(|t| (t.name.as_str(), t.points)).collect();
    assert_eq!(
        points,
        [
            ("tests::a_check", 0),
            ("tests::doubles", 1),
            ("tests::greets", 5),
            ("tests::hidden::doubles_zero", 1),
            ("tests::sums", 3),
        ]
    );
    assert_eq!(reference.max_points(), 10);
}

/// Every piece of solution text of the grading workspace.
fn assert_no_solution_in(starter: &Path, solutions: &[&str]) {
    for file in crate::workspace::copyable_files(starter, false).unwrap() {
        let text = fs::read_to_string(starter.join(&file)).unwrap_or_default();
        for solution in solutions {
            assert!(!text.contains(solution), "{} holds {solution:?}:\n{text}", file.display());
        }
    }
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_starter_holds_only_the_assigned_module_and_no_solution_and_passes_fmt_and_clippy() {
    let root = grading_workspace("starter");
    let out = root.with_extension("starter");
    let _ = fs::remove_dir_all(&out);
    write_starter(&root, &["alpha".to_string()], &out, false).unwrap();
    for gone in ["beta", "xtask", "alpha/examples", "BENCHMARKS.md", "alpha/src/tests.rs.hidden"] {
        assert!(!out.join(gone).exists(), "{gone} must not be in the starter");
    }
    assert_no_solution_in(&out, &["x * 2", "hello {name}\")", "(1..=n).sum()", "doubles_zero"]);
    let readme = read(&out, "README.md");
    assert!(readme.starts_with("# Tiny\n\n## For students: your exercise"), "{readme}");
    assert!(!readme.contains("For instructors"), "{readme}");
    let alpha_readme = read(&out, "alpha/README.md");
    assert!(alpha_readme.contains("The answer is (your code) in `sum`."), "{alpha_readme}");
    assert!(read(&out, "Cargo.toml").contains("members = [\"shared\", \"alpha\"]"));
    let lib = read(&out, "alpha/src/lib.rs");
    assert!(
        lib.contains("    let _ = name; // yours to use\n    todo!(\"say hello to {{name}}\")"),
        "{lib}"
    );
    let target = scratch_folder("starter-target");
    for args in [
        &["fmt", "--all", "--check"][..],
        &["clippy", "--offline", "--workspace", "--all-targets", "--", "-D", "warnings"][..],
    ] {
        let run = crate::run::cargo(
            &out,
            args,
            &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
            Duration::from_secs(300),
        )
        .unwrap();
        assert!(
            run.succeeded(),
            "cargo {args:?} fails on the starter:\n{}{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn this_workspaces_starter_holds_no_solution_text() {
    let root = crate::workspace_root();
    let out = scratch_folder("real-starter");
    let first = modules(&root).unwrap().remove(0);
    write_starter(&root, std::slice::from_ref(&first), &out, false).unwrap();
    assert!(!out.join("xtask").exists() && !out.join(".cargo").exists());
    assert!(!out.join(&first).join("examples").exists());
    let problems = crate::check::starter_problems(&root, &out, &[first]).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn usage_errors_are_told_apart_from_tool_errors() {
    use clap::Parser as _;
    let command = crate::Command::try_parse_from([
        "cargo xtask",
        "grade",
        "no-such-module",
        "--submission",
        std::env::temp_dir().to_str().unwrap(),
    ])
    .unwrap();
    let error = crate::run(command).unwrap_err().to_string();
    assert!(error.starts_with("usage: no module named 'no-such-module'"), "{error}");
    let missing = crate::Command::try_parse_from([
        "cargo xtask",
        "grade",
        "--submissions",
        "/no/such/folder",
    ])
    .unwrap();
    let error = crate::run(missing).unwrap_err().to_string();
    assert!(error.starts_with("usage: /no/such/folder is not a folder"), "{error}");
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_build_over_its_limit_is_reported_apart_from_one_that_does_not_compile() {
    let root = grading_workspace("slow-build");
    let mut reference =
        Reference::prepare(&root, "alpha", &grading_options("slow-build"), &mut |_| {}).unwrap();
    reference.set_build_limit(Duration::from_millis(1));
    let grade = reference
        .grade("slow", Bodies::Submission(&submission("slow", DOUBLE, GREET, SUM)))
        .unwrap();
    assert!(matches!(grade.build, Build::TookTooLong(_)), "{:?}", grade.build);
    assert!(grade.report().contains("the build took too long"), "{}", grade.report());
    assert!(!grade.report().contains("does not compile"), "{}", grade.report());
    assert_eq!(grade.points, 0);

    // And a submission's tests together are bounded too.
    reference.set_build_limit(Duration::from_secs(300));
    reference.set_submission_limit(Duration::from_millis(1));
    let grade = reference
        .grade("late", Bodies::Submission(&submission("late", DOUBLE, GREET, SUM)))
        .unwrap();
    assert_eq!(grade.build, Build::Built);
    assert!(
        grade.tests.iter().all(|t| !t.passed
            && t.failure
                .as_deref()
                .is_some_and(|f| f.contains("time limit") || f.contains("did not finish"))),
        "{}",
        grade.report()
    );
}

// ---------------------------------------------------------------------------------------
// Instructors' view (issue 21): the class report, the gradebook, and Gradescope's
// autograder, on the grading workspace's `alpha`.
// ---------------------------------------------------------------------------------------

use std::collections::BTreeMap;

/// Every `data-figure` of a page, with its text, unescaped: what a reader of the page sees
/// beside each key. A key twice on the page is a defect.
fn figures_on(page: &str) -> BTreeMap<String, String> {
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
fn first_message_line(failure: &str) -> String {
    let lines: Vec<&str> = failure.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.iter().position(|l| l.starts_with("thread '") && l.contains("panicked")) {
        Some(at) => lines.get(at + 1).unwrap_or(&lines[at]).to_string(),
        None => lines.first().unwrap_or(&"").to_string(),
    }
}

/// Checks every figure of `page` against `grades` (a batch's `grades.json`), each worked out
/// here from the JSON, and that no figure of the page goes unchecked.
fn assert_page_matches_grades_json(page: &str, grades: &serde_json::Value) {
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

#[test]
fn the_report_escapes_what_comes_from_a_submission() {
    let hostile = "<script>alert(1)</script>\"'&";
    let grades = serde_json::json!({
        "modules": [{
            "module": "alpha", "max": 1,
            "exercises": [{"file": "src/lib.rs", "function": "double", "hint": "x"}],
            "tests": [{"name": "tests::doubles", "reference_seconds": 0.1, "limit_seconds": 4.0,
                       "points": 1, "check": false, "hidden": false}],
        }],
        "grades": [{
            "student": hostile, "module": "alpha", "points": 0, "max": 1, "seconds": 1.0,
            "exercises": [{"exercise": "src/lib.rs::double", "undone": false,
                           "problem": "refused (0 points): only the body of `double` is graded, and it may not reach outside the function: <img src=x onerror=alert(2)>"}],
            "build": {"does_not_compile": "error: </pre><iframe>"},
            "tests": [{"name": "tests::doubles", "passed": false, "check": false, "points": 1,
                       "seconds": 0.0, "failure": "thread 'x' panicked\n</code><svg onload=alert(3)>"}],
        }],
    });
    let page = crate::report::render(&grades);
    for tag in ["<script", "<img", "<svg onload", "<iframe", "</pre>"] {
        assert!(!page.contains(tag), "{tag} reached the page as markup:\n{page}");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "{page}");
    assert!(
        page.contains("href=\"feedback/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%22%27%26.md\""),
        "the feedback link is percent-encoded:\n{page}"
    );
    let figures = figures_on(&page);
    assert_eq!(figures[&format!("student/{hostile}/alpha/points")], "0");
    assert_eq!(
        figures["alpha/test/tests::doubles/failure/0/message"],
        "</code><svg onload=alert(3)>"
    );
    assert_eq!(
        figures["alpha/exercise/src/lib.rs::double/refused/0/reason"],
        "<img src=x onerror=alert(2)>"
    );
    // A gradebook cell a spreadsheet would evaluate is quoted as text.
    assert_eq!(crate::gradebook::cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    assert_eq!(crate::gradebook::cell("ann"), "ann");
}

#[test]
fn a_body_is_undone_when_its_tokens_call_todo_not_when_a_comment_says_so() {
    use crate::grade::left_undone;
    assert!(left_undone("{\n    todo!(\"write me\")\n}"));
    assert!(left_undone("{ if x { 1 } else { unimplemented!() } }"));
    assert!(!left_undone("{\n    // todo!() was here\n    x * 2\n}"));
    assert!(!left_undone("{ let todo = \"todo!()\"; todo.len() }"));
}

#[test]
fn report_helpers_median_bins_and_dates() {
    use crate::report::{bins, median, utc};
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    assert_eq!(bins(3), [(0, 0), (1, 1), (2, 2), (3, 3)]);
    let wide = bins(99);
    assert_eq!((wide.len(), wide[0], wide[19]), (20, (0, 4), (95, 99)));
    assert_eq!(utc(0), "1970-01-01 00:00");
    // A failure is known by its panic message, not by what the test printed before it.
    let forged = "test tests::sums ... ok\ntest result: ok. 1 passed;\n\nthread 'tests::sums' panicked at src/lib.rs:3:5:\nnot yet implemented\nnote: run with";
    assert_eq!(crate::report::failure_line(forged), "not yet implemented");
    assert_eq!(crate::report::failure_line("did not finish (cut off)"), "did not finish (cut off)");
    assert_eq!(utc(1_796_526_000), "2026-12-06 03:00");
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn a_batch_report_shows_the_figures_of_grades_json_and_a_gradebook_row_per_student() {
    let dir = scratch_folder("report-batch");
    fs::create_dir_all(&dir).unwrap();
    let hostile = "=cmd|' <img src=x onerror=alert(1)> eve's &";
    let markup = "{\n    panic!(\"</code><script>alert('pwned')</script>\")\n}";
    let exits = "{\n    std::process::exit(0)\n}";
    for (index, (student, double, greet, sum)) in [
        ("ann", DOUBLE, GREET, SUM),                // complete
        ("bob", DOUBLE, TODO, TODO),                // half done
        (hostile, DOUBLE, markup, SUM),             // a hostile name and message
        ("dan", "{\n    x * \"2\"\n}", GREET, SUM), // not compiling
        ("fay", exits, GREET, SUM),                 // refused
    ]
    .into_iter()
    .enumerate()
    {
        let made = submission(&format!("report-{index}"), double, greet, sum);
        fs::rename(made, dir.join(student)).unwrap();
    }
    fs::create_dir_all(dir.join("gil")).unwrap(); // not a workspace
    fs::write(dir.join("gil/notes.txt"), "no code").unwrap();
    let out = dir.join("results");
    let grades = grade_all(std::slice::from_ref(alpha()), &dir, &out, &mut |_| {}).unwrap();
    let points: Vec<(&str, u32)> = grades.iter().map(|g| (g.student.as_str(), g.points)).collect();
    assert_eq!(
        points,
        [(hostile, 3), ("ann", 4), ("bob", 2), ("dan", 0), ("fay", 2), ("gil", 0)],
        "every student graded, the one that is not a workspace with 0"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("grades.json")).unwrap()).unwrap();
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert_page_matches_grades_json(&page, &json);
    assert!(!page.contains("<script>alert") && !page.contains("<img"), "markup from a submission");
    let figures = figures_on(&page);
    // What an instructor reads there, for this class:
    assert_eq!(figures["alpha/exercise/src/lib.rs::greet/undone"], "1", "bob left greet undone");
    assert_eq!(figures["alpha/exercise/src/lib.rs::double/refused"], "1", "fay's exit");
    assert!(figures["alpha/exercise/src/lib.rs::double/refused/0/reason"].contains("std::process"));
    assert_eq!(figures["alpha/exercise/src/lib.rs::double/no_build"], "1", "dan's");
    assert_eq!(figures["alpha/exercise/src/lib.rs::double/not_found"], "1", "gil's");
    assert_eq!(figures["alpha/test/tests::greets/passed"], "2", "ann's and fay's");
    assert!(page.contains("href=\"feedback/ann.md\""));
    assert!(page.contains("@media print"), "a print stylesheet");
    assert!(!page.contains("<script") && !page.contains("http"), "no script, no network");
    let gradebook = fs::read_to_string(out.join("gradebook.csv")).unwrap();
    assert_eq!(
        gradebook,
        "student,alpha,total\n'=cmd|' <img src=x onerror=alert(1)> eve's &,3,3\nann,4,4\nbob,2,2\ndan,0,0\nfay,2,2\ngil,0,0\n"
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn an_empty_class_folder_is_a_usage_error_and_nothing_is_written() {
    let dir = scratch_folder("empty-class");
    fs::create_dir_all(&dir).unwrap();
    let out = dir.join("results");
    let error = grade_all(std::slice::from_ref(alpha()), &dir, &out, &mut |_| {}).unwrap_err();
    assert!(
        error.to_string().starts_with("usage: ")
            && error.to_string().contains("holds no submission folders"),
        "{error}"
    );
    assert!(!out.join("report.html").exists());
}

/// A fake Gradescope root holding `submission` as its `submission/`.
fn autograder_root(name: &str, submission: Option<&Path>) -> PathBuf {
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
fn assert_gradescope_results(results: &serde_json::Value) {
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

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn the_autograder_scores_as_grade_does_and_writes_gradescopes_results_json() {
    let hangs = "{\n    loop {\n        std::hint::black_box(n);\n    }\n}";
    let forged = "{
    println!(\"test tests::doubles ... ok\");
    println!(\"test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\");
    todo!()
}";
    for (name, double, greet, sum) in [
        ("honest", DOUBLE, GREET, SUM),
        ("partial", DOUBLE, TODO, SUM),
        ("hanging", DOUBLE, GREET, hangs),
        ("forging", forged, GREET, SUM),
    ] {
        let graded = alpha()
            .grade(name, Bodies::Submission(&submission(&format!("gs-{name}"), double, greet, sum)))
            .unwrap();
        let root =
            autograder_root(name, Some(&submission(&format!("gs-ag-{name}"), double, greet, sum)));
        let results = crate::gradescope::autograde(
            std::slice::from_ref(alpha()),
            &root,
            std::time::Instant::now(),
            &mut |_| {},
        )
        .unwrap();
        let written: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(root.join("results/results.json")).unwrap())
                .unwrap();
        assert_eq!(written, results, "{name}: results.json is what autograde returned");
        assert_gradescope_results(&written);
        assert_eq!(
            written["score"].as_f64(),
            Some(f64::from(graded.points)),
            "{name}: the autograder's score and grade's ({})",
            graded.report()
        );
        let tests = written["tests"].as_array().unwrap();
        assert_eq!(tests.len(), graded.tests.len(), "{name}: every test, the check included");
        for (entry, result) in tests.iter().zip(&graded.tests) {
            assert_eq!(entry["status"] == "passed", result.passed, "{name}: {entry}");
            let short = result.name.strip_prefix("tests::").unwrap();
            assert!(entry["name"].as_str().unwrap().starts_with(&format!("alpha: {short}")));
            let hidden = result.name.contains("hidden::");
            assert_eq!(entry["visibility"], if hidden { "after_published" } else { "visible" });
            if !result.passed && !result.check {
                assert!(!entry["output"].as_str().unwrap().is_empty(), "{name}: {entry}");
            }
        }
        let doubles_zero =
            tests.iter().find(|t| t["name"] == "alpha: hidden::doubles_zero").unwrap();
        assert!(
            !written["output"].as_str().unwrap().contains("doubles_zero"),
            "{name}: a hidden test's message only in its own entry"
        );
        let _ = doubles_zero;
        if name == "hanging" {
            let sums = tests.iter().find(|t| t["name"] == "alpha: sums").unwrap();
            assert!(sums["output"].as_str().unwrap().contains("did not finish"), "{sums}");
        }
    }
}

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn the_autograder_says_in_one_line_what_is_wrong_with_bad_input() {
    // An empty submission, and one that holds no workspace: 0, one line, no build.
    for (name, files) in [("empty", &[][..]), ("notes", &["notes.txt", "photo.jpg"][..])] {
        let root = autograder_root(name, None);
        for file in files {
            fs::write(root.join("submission").join(file), "not code").unwrap();
        }
        let results = crate::gradescope::autograde(
            std::slice::from_ref(alpha()),
            &root,
            std::time::Instant::now(),
            &mut |_| {},
        )
        .unwrap();
        assert_gradescope_results(&results);
        assert_eq!(results["score"].as_f64(), Some(0.0));
        let output = results["output"].as_str().unwrap();
        assert!(
            output.starts_with("This submission is not a workspace: it holds no alpha/ folder"),
            "{output}"
        );
        assert_eq!(output.lines().count(), 1, "{output}");
    }
    // A workspace zipped as its folder (submission/starter/alpha/...) is found inside.
    let root = autograder_root("nested", None);
    fs::rename(submission("gs-nested", DOUBLE, GREET, SUM), root.join("submission/starter"))
        .unwrap();
    let results = crate::gradescope::autograde(
        std::slice::from_ref(alpha()),
        &root,
        std::time::Instant::now(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(results["score"].as_f64(), Some(4.0), "{results}");
    // A results folder that cannot be written: an error (exit status 1), before any grading.
    let root =
        autograder_root("unwritable", Some(&submission("gs-unwritable", DOUBLE, GREET, SUM)));
    fs::write(root.join("results"), "a file where the folder should be").unwrap();
    let error = crate::gradescope::autograde(
        std::slice::from_ref(alpha()),
        &root,
        std::time::Instant::now(),
        &mut |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(error.starts_with("cannot create ") && error.contains("results"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

#[test]
#[cfg(unix)] // runs bash, and checks the scripts' executable bits
fn the_gradescope_bundle_holds_the_scripts_and_the_reference_with_its_hidden_tests() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = grading_workspace("gradescope");
    fs::write(root.join("alpha/grading.toml"), "[tests]\ngreets = 2\n").unwrap();
    let out = scratch_folder("gradescope-bundle");
    let copied = crate::gradescope::write_bundle(&root, &["alpha".into()], &out, false).unwrap();
    assert!(copied >= 10, "{copied} files");
    for script in ["setup.sh", "run_autograder"] {
        let path = out.join(script);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{script} is executable");
        let syntax = std::process::Command::new("bash").arg("-n").arg(&path).status().unwrap();
        assert!(syntax.success(), "{script} is valid bash");
    }
    let run = read(&out, "run_autograder");
    assert!(run.contains("exec ./target/release/xtask autograde alpha --root \"$root\""), "{run}");
    assert!(run.contains("${AUTOGRADER_ROOT:-/autograder}"), "{run}");
    let setup = read(&out, "setup.sh");
    assert!(
        setup.contains("sh.rustup.rs") && setup.contains("cargo build --release --locked -p xtask")
    );
    assert!(read(&out, "workspace/alpha/src/tests.rs").contains("fn doubles_zero"), "hidden tests");
    assert!(read(&out, "workspace/alpha/src/lib.rs").contains("x * 2"), "the reference");
    assert_eq!(read(&out, "workspace/alpha/grading.toml"), "[tests]\ngreets = 2\n");
    assert!(out.join("workspace/Cargo.lock").is_file() && out.join("workspace/xtask").is_dir());
    assert!(!out.join("workspace/target").exists(), "no build output");
    let again = crate::gradescope::write_bundle(&root, &["alpha".into()], &out, false).unwrap_err();
    assert!(
        again.to_string().starts_with("usage: ") && again.to_string().contains("--force"),
        "{again}"
    );
    let unknown =
        crate::gradescope::write_bundle(&root, &["gamma".into()], &out, true).unwrap_err();
    assert_eq!(unknown.to_string(), "usage: no module named 'gamma' (modules: alpha, beta)");
}

/// A real batch's report, checked by hand or by CI (`.ci/report.sh`):
/// `XTASK_REPORT_DIR=grades cargo test -p xtask -- --ignored a_real_batch`.
#[test]
#[ignore = "needs XTASK_REPORT_DIR: the --out folder of a real batch"]
fn a_real_batch_report_shows_the_figures_of_its_grades_json() {
    let dir = PathBuf::from(std::env::var("XTASK_REPORT_DIR").expect("XTASK_REPORT_DIR"));
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("grades.json")).unwrap()).unwrap();
    let page = fs::read_to_string(dir.join("report.html")).unwrap();
    assert_page_matches_grades_json(&page, &json);
    println!("{} figures checked", figures_on(&page).len());
}

#[test]
fn an_empty_class_is_a_usage_error_and_an_unwritable_results_root_a_tool_error() {
    use clap::Parser as _;
    let module = modules(&crate::workspace_root()).unwrap().remove(0);
    let empty = scratch_folder("cli-empty-class");
    fs::create_dir_all(&empty).unwrap();
    let command = crate::Command::try_parse_from([
        "cargo xtask",
        "grade",
        &module,
        "--submissions",
        empty.to_str().unwrap(),
    ])
    .unwrap();
    let error = crate::run(command).unwrap_err().to_string();
    assert_eq!(error, format!("usage: {} holds no submission folders", empty.display()));
    let root = scratch_folder("cli-unwritable-root");
    fs::create_dir_all(&root).unwrap();
    fs::write(root.join("results"), "a file where the folder should be").unwrap();
    let command = crate::Command::try_parse_from([
        "cargo xtask",
        "autograde",
        &module,
        "--root",
        root.to_str().unwrap(),
    ])
    .unwrap();
    let error = crate::run(command).unwrap_err().to_string();
    assert!(error.starts_with("cannot create ") && !error.starts_with("usage"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

#[test]
fn the_results_file_first_says_the_grading_did_not_finish_and_compiler_errors_are_cut() {
    let root = scratch_folder("autograder-placeholder");
    let path = crate::gradescope::results_file(&root).unwrap();
    let placeholder: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let keys: Vec<&String> = placeholder.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["output", "score"], "documented fields only: {placeholder}");
    assert_eq!(placeholder["score"].as_f64(), Some(0.0));
    assert!(placeholder["output"].as_str().unwrap().contains("did not finish"), "{placeholder}");
    let long = "error[E0308]: mismatched types\n".repeat(2000);
    let cut = crate::gradescope::cut(&long, 100);
    assert!(
        cut.starts_with(&long[..100])
            && cut.ends_with("(cut: the first 100 characters of the compiler's errors)"),
        "{cut}"
    );
    assert_eq!(crate::gradescope::cut("short", 100), "short");
}

#[test]
fn a_report_of_two_modules_has_a_section_each_and_a_gradebook_column_each() {
    use serde_json::json;
    let test = |name: &str, points: u32| {
        json!({"name": name, "reference_seconds": 0.1, "limit_seconds": 4.0, "points": points,
               "check": false, "hidden": false})
    };
    let result = |name: &str, passed: bool, failure: &str| {
        json!({"name": name, "passed": passed, "check": false, "points": 1, "seconds": 0.5,
               "failure": if passed { serde_json::Value::Null } else { json!(failure) }})
    };
    let grade = |student: &str, module: &str, points: u32, build: serde_json::Value, tests| {
        json!({"student": student, "module": module, "points": points, "max": 2, "seconds": 2.0,
               "build": build, "tests": tests,
               "exercises": [{"exercise": "src/lib.rs::f", "problem": null, "undone": points == 0}]})
    };
    let module = |name: &str| {
        json!({"module": name, "max": 2,
               "exercises": [{"file": "src/lib.rs", "function": "f", "hint": "h"}],
               "tests": [test("tests::a", 1), test("tests::b", 1)]})
    };
    let grades = json!({
        "modules": [module("one"), module("two")],
        "grades": [
            grade("ann", "one", 2, json!("built"), json!([result("tests::a", true, ""), result("tests::b", true, "")])),
            grade("ann", "two", 1, json!("built"), json!([result("tests::a", true, ""), result("tests::b", false, "thread 'b' panicked at x:\nwrong")])),
            grade("bob", "one", 0, json!({"took_too_long": 900.0}), json!([result("tests::a", false, "not run"), result("tests::b", false, "not run")])),
            grade("bob", "two", 1, json!("built"), json!([result("tests::a", false, "thread 'a' panicked at y:\nwrong"), result("tests::b", true, "")])),
        ],
        "grading": {"test_limit": null, "test_multiple": 10.0, "test_floor": 15.0,
                    "submission_limit": 600.0, "build_limit": 900.0, "patience": 3.0,
                    "jobs": 4, "parallel": 2, "seconds": 61.4, "finished": 1_796_526_000u64},
    });
    let page = crate::report::render(&grades);
    assert_page_matches_grades_json(&page, &grades);
    let figures = figures_on(&page);
    assert_eq!(figures["student/bob/one/build"], "build took too long");
    assert_eq!(figures["two/test/tests::b/failure/0/message"], "wrong");
    assert_eq!(figures["one/median"], "1", "the mean of 0 and 2");
    assert!(page.contains("on 2026-12-06 03:00 UTC"), "the time of the grading");
    assert!(page.contains("10 times the reference&#39;s time, at least 15 s"), "the limits");
    assert_eq!(crate::gradebook::table(&grades), "student,one,two,total\nann,2,1,3\nbob,0,1,1\n");
}
