//! Grading one submission and a batch on the grading workspace's `alpha`: exercises found by
//! path, escaping and dishonest bodies refused, checks and hidden tests, limits, weights,
//! usage errors, and the batch's CSV, JSON and feedback.

use std::fs;
use std::time::Duration;

use crate::batch::grade_all;
use crate::grade::Bodies;
use crate::reference::Reference;
use crate::results::Build;
use crate::splice::{escapes, functions, take_body};

use super::helpers::*;

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

#[test]
fn a_body_is_undone_when_its_tokens_call_todo_not_when_a_comment_says_so() {
    use crate::grade::left_undone;
    assert!(left_undone("{\n    todo!(\"write me\")\n}"));
    assert!(left_undone("{ if x { 1 } else { unimplemented!() } }"));
    assert!(!left_undone("{\n    // todo!() was here\n    x * 2\n}"));
    assert!(!left_undone("{ let todo = \"todo!()\"; todo.len() }"));
}
