//! Instructors' view (issue 21): the class report, the gradebook, GitHub Classroom's
//! workflow and Gradescope's autograder, on the grading workspace's `alpha`.

use std::fs;
use std::path::PathBuf;

use crate::batch::grade_all;
use crate::grade::Bodies;
use crate::workspace::modules;

use super::helpers::*;

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
