//! Tests of the instructors' tool: marker parsing and its errors, what a starter contains,
//! hidden tests, and the starter's layout, on small workspaces made in a temporary folder.

use std::fs;
use std::path::{Path, PathBuf};

use crate::markers::{DEFAULT_HINT, find_regions, strip_hidden_tests, strip_regions};
use crate::starter::{exercises, members, modules, write_starter};

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
    let root = std::env::temp_dir().join(format!("xtask-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
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
    assert!(
        read(&out, "beta/src/lib.rs").contains("    42\n"),
        "beta was not assigned: it stays solved"
    );
    assert_eq!(read(&out, "shared/src/lib.rs"), "pub fn helper() {}\n");
    let tests = read(&out, "alpha/src/tests.rs");
    assert!(tests.contains("fn graded()") && !tests.contains("secret"), "{tests}");
    assert!(!out.join("target").exists(), "build output must not be copied");
    let readme = read(&out, "README.md");
    assert!(readme.starts_with("# Tiny\n"), "{readme}");
    assert!(readme.contains("## For students: your exercise"), "{readme}");
    // The second region moved up by the two lines the first one lost.
    assert!(readme.contains("- `alpha/src/lib.rs:2`: return twice x"), "{readme}");
    assert!(readme.contains(&format!("- `alpha/src/lib.rs:10`: {DEFAULT_HINT}")), "{readme}");
    assert!(
        read(&out, "alpha/src/lib.rs").lines().nth(9).unwrap().contains("todo!"),
        "line 10 is the todo"
    );
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
fn an_unknown_module_is_a_clear_error() {
    let root = tiny_workspace("unknown");
    let out = root.with_extension("out");
    let error = write_starter(&root, &["gamma".to_string()], &out, false).unwrap_err().to_string();
    assert_eq!(error, "no module named 'gamma' (modules: alpha, beta)");
}

#[test]
fn every_module_of_this_workspace_has_well_formed_exercises() {
    let root = crate::workspace_root();
    for module in modules(&root).unwrap() {
        let found = exercises(&root, &module).unwrap_or_else(|e| panic!("{module}: {e}"));
        assert!(!found.is_empty(), "{module} has no exercise marked");
    }
}
