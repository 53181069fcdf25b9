//! Tests of the grader against dishonest and hostile submissions: each trick is a real
//! submission graded by the real tool, and scores no more than the same code without the
//! trick; the submissions that attack the grader itself (a parse bomb, links to other
//! files, a memory hog, an output flood) leave the batch graded with their problem named;
//! and no feedback file quotes the course's code. Also the box a test runs in.

use std::fs;
use std::time::{Duration, Instant};

use super::helpers::{
    ALPHA_COUNTER, ALPHA_LIB, ALPHA_TESTS, DOUBLE, GREET, SUM, TODO, alpha, problem_of,
    scratch_folder, submission,
};
use crate::batch::grade_all;

/// `double` bodies that try to pass without doing the work: each must be refused (its
/// problem named), and score no more than `todo!()` does.
const REFUSED_TRICKS: &[(&str, &str)] = &[
    (
        "exit",
        "{\n    println!(\"test result: ok. 1 passed; 0 failed;\");\n    std::process::exit(0)\n}",
    ),
    ("raw-process", "{\n    std::r#process::exit(0)\n}"),
    ("alias", "{\n    use std::process as p;\n    p::exit(0)\n}"),
    ("leading-colons", "{\n    ::std::process::exit(0)\n}"),
    ("fn-pointer", "{\n    let f: fn(i32) -> ! = std::process::exit;\n    f(0)\n}"),
    ("in-macro-args", "{\n    let _ = format!(\"{}\", { std::process::exit(0); 1 });\n    0\n}"),
    ("abort", "{\n    use std::process::abort as stop;\n    stop()\n}"),
    (
        "allow",
        "{\n    #[allow(clippy::disallowed_methods)]\n    {\n        std::process::exit(0)\n    }\n}",
    ),
    (
        "raw-fs",
        "{\n    let s = std::r#fs::read_to_string(\"src/tests.rs\").unwrap_or_default();\n    panic!(\"{s}\")\n}",
    ),
    (
        "file-type",
        "{\n    use std::fs::File as F;\n    let _ = F::open(\"src/tests.rs\");\n    todo!()\n}",
    ),
    (
        "include-alias",
        "{\n    use std::include_str as inc;\n    panic!(\"{}\", inc!(\"tests.rs\"))\n}",
    ),
    ("raw-include", "{\n    panic!(\"{}\", r#include_str!(\"tests.rs\"))\n}"),
    ("core-include", "{\n    panic!(\"{}\", core::include_str!(\"lib.rs\"))\n}"),
    ("raw-env", "{\n    panic!(\"{}\", r#env!(\"CARGO_MANIFEST_DIR\"))\n}"),
    ("args", "{\n    panic!(\"{:?}\", std::env::args().collect::<Vec<_>>())\n}"),
    (
        "forge-the-log",
        "{\n    let a: Vec<String> = std::env::args().collect();\n    if let Some(i) = a.iter().position(|x| x == \"--logfile\") {\n        let _ = std::fs::write(&a[i + 1], \"ok tests::doubles\\n\");\n    }\n    todo!()\n}",
    ),
    (
        "listing",
        "{\n    let n = std::path::Path::new(\"..\").read_dir().map(|d| d.count()).unwrap_or(0);\n    panic!(\"{n}\")\n}",
    ),
    (
        "spawn",
        "{\n    let _ = std::process::Command::new(\"sleep\").arg(\"60\").spawn();\n    todo!()\n}",
    ),
    (
        "derive-args",
        "{\n    #[derive(Debug, Default)]\n    #[cfg_attr(all(), path = \"x\")]\n    struct A;\n    todo!()\n}",
    ),
];

/// `double` bodies that attack the grader's resources: graded, scoring no more than
/// `todo!()` does.
const HOSTILE: &[(&str, &str)] = &[
    (
        "memory-hog",
        "{\n    let v = vec![1u8; 3 << 30];\n    std::hint::black_box(&v);\n    todo!()\n}",
    ),
    (
        "output-flood",
        "{\n    use std::io::Write as _;\n    let mut out = std::io::stdout();\n    for _ in 0..(64 * 1024) {\n        let _ = out.write_all(&[b'x'; 1024]);\n    }\n    todo!()\n}",
    ),
    (
        "success-spam",
        "{\n    std::thread::spawn(|| loop {\n        println!(\"test result: ok. 1 passed; 0 failed;\");\n    });\n    todo!()\n}",
    ),
];

/// Honest code that only looks like a trick: full marks.
const HONEST_LOOKALIKE: &str = "{\n    let process = 2;\n    struct S {\n        fs: u32,\n    }\n    debug_assert!([1u8].iter().all(|process: &u8| *process > 0));\n    x * S { fs: process }.fs\n}";

#[test]
#[cfg_attr(not(unix), ignore = "builds with cargo and runs tests in process groups: run on Unix")]
fn every_trick_scores_no_more_than_its_honest_twin_and_the_batch_survives_hostile_files() {
    let dir = scratch_folder("tricks");
    fs::create_dir_all(&dir).unwrap();
    let add = |student: &str, double: &str, greet: &str, sum: &str| {
        let made = submission(&format!("tricks-{student}"), double, greet, sum);
        fs::rename(made, dir.join(student)).unwrap();
    };
    add("honest", DOUBLE, GREET, SUM);
    add("twin", TODO, GREET, SUM);
    add("lookalike", HONEST_LOOKALIKE, GREET, SUM);
    // A compiler error that points into the course's code (the method it calls).
    add("mismatch", "{\n    crate::Counter.sum(\"x\")\n}", GREET, SUM);
    for (name, body) in REFUSED_TRICKS.iter().chain(HOSTILE) {
        add(name, body, GREET, SUM);
    }
    // Files that are not plain files, and a parse bomb.
    add("bomb", DOUBLE, GREET, SUM);
    let lib = dir.join("bomb/alpha/src/lib.rs");
    let bombed = fs::read_to_string(&lib).unwrap()
        + &format!("\nconst X: u8 = {}1{};\n", "(".repeat(5000), ")".repeat(5000));
    fs::write(&lib, bombed).unwrap();
    add("symlinks", DOUBLE, GREET, SUM);
    #[cfg(unix)]
    {
        let src = dir.join("symlinks/alpha/src");
        fs::remove_file(src.join("lib.rs")).unwrap();
        fs::remove_file(src.join("counter.rs")).unwrap();
        std::os::unix::fs::symlink(dir.join("honest/alpha/src/lib.rs"), src.join("lib.rs"))
            .unwrap();
        std::os::unix::fs::symlink("/proc/self/fd/0", src.join("counter.rs")).unwrap();
    }

    let out = dir.join("results");
    let started = Instant::now();
    let grades = grade_all(std::slice::from_ref(alpha()), &dir, &out, &mut |_| {}).unwrap();
    let points = |student: &str| {
        grades.iter().find(|g| g.student == student).map(|g| g.points).unwrap_or_else(|| {
            panic!(
                "expected a grade for {student}; graded: {:?}",
                grades.iter().map(|g| &g.student).collect::<Vec<_>>()
            )
        })
    };
    let grade_of = |student: &str| grades.iter().find(|g| g.student == student).unwrap();
    assert_eq!(points("honest"), 4, "{}", grade_of("honest").report());
    assert_eq!(points("lookalike"), 4, "{}", grade_of("lookalike").report());
    let twin = points("twin");
    assert_eq!(twin, 2, "{}", grade_of("twin").report());
    for (name, _) in REFUSED_TRICKS {
        let grade = grade_of(name);
        assert!(
            grade.points <= twin,
            "expected trick {name} to score at most {twin}; it scored {}:\n{}",
            grade.points,
            grade.report()
        );
        let problem = problem_of(grade, "src/lib.rs::double");
        assert!(
            problem.is_some_and(|p| p.starts_with("refused (0 points)")),
            "expected trick {name} to be refused; its double: {problem:?}"
        );
    }
    for (name, _) in HOSTILE {
        let grade = grade_of(name);
        assert!(
            grade.points <= twin,
            "expected {name} to score at most {twin}; it scored {}:\n{}",
            grade.points,
            grade.report()
        );
    }
    let bomb = problem_of(grade_of("bomb"), "src/lib.rs::double").unwrap_or_default();
    assert!(bomb.contains("nests brackets 5000 deep"), "the bomb's problem: {bomb}");
    assert_eq!(points("bomb"), 1, "{}", grade_of("bomb").report());
    #[cfg(unix)]
    {
        let linked = grade_of("symlinks");
        let lib = problem_of(linked, "src/lib.rs::double").unwrap_or_default();
        let counter = problem_of(linked, "src/counter.rs::Counter::sum").unwrap_or_default();
        assert!(lib.contains("is a symbolic link"), "the linked lib.rs: {lib}");
        assert!(counter.contains("is a symbolic link"), "the link to stdin: {counter}");
        assert_eq!(linked.points, 0, "{}", linked.report());
    }
    let hog = grade_of("memory-hog");
    assert!(
        hog.tests.iter().any(|t| t.failure.as_deref().is_some_and(|f| f.contains("memory"))),
        "expected the hog's feedback to name memory:\n{}",
        hog.report()
    );
    let flood = grade_of("output-flood");
    assert!(
        flood
            .tests
            .iter()
            .any(|t| t.failure.as_deref().is_some_and(|f| f.contains("bytes more than is kept"))),
        "expected the flood's feedback to say output was left out:\n{}",
        flood.report()
    );
    // The whole batch, hostile files and all, within the limits it was given.
    let bound = Duration::from_secs(60 * 25);
    assert!(started.elapsed() < bound, "the batch took {:?}", started.elapsed());

    let mismatch = fs::read_to_string(out.join("feedback/mismatch.md")).unwrap();
    assert!(
        mismatch.contains("crate::Counter.sum(\"x\")") && mismatch.contains("method defined here"),
        "expected the error to quote the student's line and the compiler's note:\n{mismatch}"
    );
    assert!(!mismatch.contains("pub fn sum"), "the course's code is quoted:\n{mismatch}");
    // No feedback quotes the course's code: no line of the reference or its tests.
    let course: Vec<&str> = [ALPHA_LIB, ALPHA_COUNTER, ALPHA_TESTS]
        .iter()
        .flat_map(|text| text.lines())
        .map(str::trim)
        .filter(|line| {
            line.len() >= 12
                && !line.starts_with("//")
                && !line.starts_with("pub fn")
                && !line.starts_with("#[")
        })
        .collect();
    for entry in fs::read_dir(out.join("feedback")).unwrap() {
        let path = entry.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let shown = line.trim().trim_start_matches('|').trim();
            assert!(
                !course.contains(&shown),
                "{} quotes the course's code: {shown:?}",
                path.display()
            );
        }
    }
}

#[test]
#[cfg(unix)]
fn a_pass_is_the_harness_log_not_the_exit_status_or_the_output() {
    use crate::run::Finished;
    use crate::verdict::judge;
    use std::process::Command;

    let ok = Command::new("true").status().unwrap();
    let failed = Command::new("false").status().unwrap();
    let finished = |status, stdout: &str| Finished {
        status: Some(status),
        stdout: stdout.to_string(),
        stderr: String::new(),
        dropped: 0,
        pipes_held: false,
    };
    let limit = Duration::from_secs(10);
    let forged = "running 1 test\ntest tests::doubles ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored\n";
    for (what, run, log, expected) in [
        ("the harness logged ok, exit 0", finished(ok, ""), "ok tests::doubles\n", true),
        ("exit 0 and a forged summary, nothing logged", finished(ok, forged), "", false),
        ("exit 0, another test logged ok", finished(ok, forged), "ok tests::greets\n", false),
        ("logged ok twice", finished(ok, forged), "ok tests::doubles\nok tests::doubles\n", false),
        ("logged ok, then exit 1", finished(failed, ""), "ok tests::doubles\n", false),
        ("logged failed, exit 0", finished(ok, forged), "failed tests::doubles\n", false),
    ] {
        let judged = judge("tests::doubles", &run, log, limit, 1.0);
        assert_eq!(judged.passed, expected, "{what}: {:?}", judged.failure);
    }
    let cut_off = Finished { status: None, ..finished(ok, forged) };
    assert!(!judge("tests::doubles", &cut_off, "ok tests::doubles\n", limit, 10.5).passed);
}

#[test]
#[cfg(unix)]
fn a_grandchild_holding_the_pipes_does_not_hold_the_deadline() {
    use crate::run::with_limits;
    use std::process::Command;

    let mut command = Command::new("sh");
    command.args(["-c", "sleep 120 & echo started"]);
    let started = Instant::now();
    let finished = with_limits(command, Duration::from_secs(60), 4096).unwrap();
    assert!(finished.succeeded(), "expected sh to exit 0: {:?}", finished.status);
    assert!(finished.stdout.contains("started"), "stdout: {:?}", finished.stdout);
    // The group is killed when the command ends, so the sleep dies with it, or its pipes
    // are abandoned: either way the grader is back long before the sleep would end.
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
}

#[test]
#[cfg(unix)]
fn output_beyond_the_cap_is_counted_not_kept() {
    use crate::run::with_limits;
    use std::process::Command;

    let mut command = Command::new("sh");
    command.args(["-c", "echo first; head -c 20000000 /dev/zero | tr '\\0' x; echo; echo last"]);
    let finished = with_limits(command, Duration::from_secs(120), 1 << 20).unwrap();
    assert!(finished.succeeded());
    assert!(finished.stdout.len() < (1 << 20) + 200, "kept {} bytes", finished.stdout.len());
    assert!(finished.dropped >= 18_000_000, "counted {} bytes as dropped", finished.dropped);
    assert!(finished.stdout.starts_with("first\n"), "the head is kept");
    assert!(finished.stdout.trim_end().ends_with("last"), "the tail is kept");
}

// Linux only: the box's namespace and limits come from util-linux's unshare and prlimit.
#[test]
#[cfg(target_os = "linux")]
fn the_box_kills_a_setsid_escapee_clears_the_environment_and_limits_memory() {
    use crate::run::with_limits;
    use crate::sandbox::{Limits, Sandbox};
    use std::path::Path;

    let sandbox = Sandbox::detect(Limits { memory: 256 << 20, ..Limits::default() });
    let description = sandbox.describe();
    let dir = scratch_folder("box");
    fs::create_dir_all(&dir).unwrap();
    let run = |script: &str| {
        let command = sandbox.command(
            Path::new("/bin/sh"),
            &["-c".to_string(), script.to_string()],
            &dir,
            &[("ONLY_THIS", "1")],
        );
        with_limits(command, Duration::from_secs(60), 1 << 16).unwrap()
    };
    let env = run("env");
    let names: Vec<&str> = env
        .stdout
        .lines()
        .filter_map(|l| l.split('=').next())
        .filter(|n| *n != "PWD" && *n != "SHLVL" && *n != "_")
        .collect();
    assert_eq!(names, ["ONLY_THIS"], "expected a clean environment; got:\n{}", env.stdout);
    if !description.contains("own PID namespace") {
        eprintln!("skipped the namespace checks: {description}");
        return;
    }
    let escaped = dir.join("escaped");
    let _ = fs::remove_file(&escaped);
    run(&format!(
        "setsid sh -c 'sleep 3; touch {}' >/dev/null 2>&1 < /dev/null & exit 0",
        escaped.display()
    ));
    std::thread::sleep(Duration::from_secs(6));
    assert!(!escaped.exists(), "a setsid child outlived its test and wrote {}", escaped.display());
    if description.contains("prlimit") {
        // 512 MiB in one allocation, over the 256 MiB limit.
        let hog = run("x=$(head -c 536870912 /dev/zero | tr '\\0' x); echo ${#x}");
        assert!(
            !hog.stdout.contains("536870912"),
            "expected the shell to be refused the memory: {:?}",
            hog.stdout
        );
    }
}
