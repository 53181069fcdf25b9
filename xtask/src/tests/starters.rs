//! Starters: marker parsing and its errors, hidden tests, what a starter holds (only the
//! assigned modules, no solution text, README parts by their markers), on small workspaces.

use std::fs;
use std::time::Duration;

use crate::markers::{DEFAULT_HINT, find_regions, strip_hidden_tests, strip_regions};
use crate::starter::{exercises, write_starter};
use crate::workspace::{members, modules};

use super::helpers::*;

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
