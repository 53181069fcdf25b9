//! What a graded body may not use, in one place, checked by what names **resolve to**.
//!
//! A test passes on evidence the student's code cannot write: the harness's own log file,
//! at a random path only the grader knows (see [`crate::grade`]). That rests on the body
//! being unable to open files (or list folders to find them), to read the test process's
//! arguments or environment (where the path is), to start processes, and to use `unsafe`
//! (raw file descriptors). Ending the process early (by `exit`, clap's exiting entry
//! points, a panic or a signal) cannot make a test pass; it is refused anyway, because it
//! is never part of a lesson.
//!
//! The names are checked by clippy's `disallowed_methods`, `disallowed_types` and
//! `disallowed_macros` lints on the spliced crate (the compiler resolves every alias, raw
//! identifier, `::std`/`core::` spelling, re-export and macro expansion), denied on the command line (a body may not carry a lint attribute naming clippy, so it
//! cannot lower them), with `unsafe_code` too.
//! A finding counts against an exercise when it (or a macro call that produced it) lies on
//! the lines where that exercise's body was put: the course's own code may use anything.
//! What clippy cannot see, [`crate::splice::escapes`] refuses by syntax (items that reach
//! outside the function, attributes other than inert ones, derives other than std's):
//! clippy does not report code placed by a derive macro from the derive's attribute
//! arguments (tried with clippy 1.95: `std::process::exit(0)` inside `#[command(about =
//! {...})]` of a `#[derive(clap::Parser)]` struct went unreported), nor can it stop a body's
//! own `#[allow(clippy::...)]` without also failing the course's `shared` crate.

use std::fmt::Write as _;

/// Functions (and methods) a body may not call or name, with why.
pub const METHODS: &[(&str, &str)] = &[
    ("std::process::exit", PROCESS),
    ("std::process::abort", PROCESS),
    ("std::fs::canonicalize", FILES),
    ("std::fs::copy", FILES),
    ("std::fs::create_dir", FILES),
    ("std::fs::create_dir_all", FILES),
    ("std::fs::exists", FILES),
    ("std::fs::hard_link", FILES),
    ("std::fs::metadata", FILES),
    ("std::fs::read", FILES),
    ("std::fs::read_dir", FILES),
    ("std::fs::read_link", FILES),
    ("std::fs::read_to_string", FILES),
    ("std::fs::remove_dir", FILES),
    ("std::fs::remove_dir_all", FILES),
    ("std::fs::remove_file", FILES),
    ("std::fs::rename", FILES),
    ("std::fs::set_permissions", FILES),
    ("std::fs::soft_link", FILES),
    ("std::fs::symlink_metadata", FILES),
    ("std::fs::write", FILES),
    ("std::path::Path::canonicalize", FILES),
    ("std::path::Path::exists", FILES),
    ("std::path::Path::is_dir", FILES),
    ("std::path::Path::is_file", FILES),
    ("std::path::Path::is_symlink", FILES),
    ("std::path::Path::metadata", FILES),
    ("std::path::Path::read_dir", FILES),
    ("std::path::Path::read_link", FILES),
    ("std::path::Path::symlink_metadata", FILES),
    ("std::path::Path::try_exists", FILES),
    ("std::env::args", ENVIRONMENT),
    ("std::env::args_os", ENVIRONMENT),
    ("std::env::current_dir", ENVIRONMENT),
    ("std::env::current_exe", ENVIRONMENT),
    ("std::env::home_dir", ENVIRONMENT),
    ("std::env::remove_var", ENVIRONMENT),
    ("std::env::set_current_dir", ENVIRONMENT),
    ("std::env::set_var", ENVIRONMENT),
    ("std::env::temp_dir", ENVIRONMENT),
    ("std::env::var", ENVIRONMENT),
    ("std::env::var_os", ENVIRONMENT),
    ("std::env::vars", ENVIRONMENT),
    ("std::env::vars_os", ENVIRONMENT),
    ("clap::Parser::parse", CLAP),
    ("clap::Parser::try_parse", CLAP),
    ("clap::Parser::parse_from", CLAP),
    ("clap::Parser::try_parse_from", CLAP),
    ("clap::Parser::update_from", CLAP),
    ("clap::Parser::try_update_from", CLAP),
    ("clap::Command::get_matches", CLAP),
    ("clap::Command::get_matches_mut", CLAP),
    ("clap::Command::try_get_matches", CLAP),
    ("clap::Command::get_matches_from", CLAP),
    ("clap::Command::try_get_matches_from", CLAP),
    ("clap::Command::try_get_matches_from_mut", CLAP),
    ("clap::error::Error::exit", CLAP),
    ("lossy_link::testing::start_relay", TEST_ONLY),
];

/// Unix-only functions a body may not call (listed only where they exist).
pub const UNIX_METHODS: &[(&str, &str)] = &[
    ("std::os::unix::fs::chown", FILES),
    ("std::os::unix::fs::chroot", FILES),
    ("std::os::unix::fs::fchown", FILES),
    ("std::os::unix::fs::lchown", FILES),
    ("std::os::unix::fs::symlink", FILES),
];

/// Types a body may not name (and so not call their functions).
pub const TYPES: &[(&str, &str)] = &[
    ("std::fs::File", FILES),
    ("std::fs::OpenOptions", FILES),
    ("std::fs::DirBuilder", FILES),
    ("std::fs::DirEntry", FILES),
    ("std::fs::ReadDir", FILES),
    ("std::process::Command", PROCESS),
    ("std::process::Child", PROCESS),
    ("std::env::Args", ENVIRONMENT),
    ("std::env::ArgsOs", ENVIRONMENT),
    ("std::env::Vars", ENVIRONMENT),
    ("std::env::VarsOs", ENVIRONMENT),
    ("lossy_link::Relay", TEST_ONLY),
    ("lossy_link::Args", TEST_ONLY),
];

/// Unix-only types a body may not name.
pub const UNIX_TYPES: &[(&str, &str)] = &[
    ("std::os::unix::net::UnixDatagram", FILES),
    ("std::os::unix::net::UnixListener", FILES),
    ("std::os::unix::net::UnixStream", FILES),
];

/// Macros a body may not use.
pub const MACROS: &[(&str, &str)] = &[
    ("std::include", BUILD),
    ("std::include_str", BUILD),
    ("std::include_bytes", BUILD),
    ("std::env", BUILD),
    ("std::option_env", BUILD),
    ("std::arch::global_asm", "assembly: the exercises are in Rust"),
];

const PROCESS: &str =
    "processes (exit, abort, starting programs): a function of the lesson returns";
const FILES: &str = "files and folders: the exercises are about sockets";
const ENVIRONMENT: &str =
    "the process's arguments and environment: the function gets what it needs as parameters";
const CLAP: &str =
    "reading or exiting through clap: command lines are parsed in main, outside the exercises";
const BUILD: &str = "reading files or the environment at build time";
const TEST_ONLY: &str = "the grading suite's own tools (a relay that can be told to write files)";

/// Crates the grading suites use (dev-dependencies) that a body may not name at all: their
/// programs take flags, and a flag can name a file to write. Refused by syntax (see
/// [`crate::splice::escapes`]) as well as through the lists above.
pub const TEST_ONLY_CRATES: &[&str] = &["lossy_link"];

/// The lints that carry the refusals (each passed as `--warn`: `--deny` would stop the build at the
/// course's own `shared` crate, which may use them; a finding counts by where it is. A body may not lower a
/// clippy lint's level, see [`crate::splice::escapes`], and [`crate::grade`] checks with a
/// canary body per exercise that nothing in the course's code lowers them either).
pub const LINTS: &[&str] = &[
    "clippy::disallowed_methods",
    "clippy::disallowed_types",
    "clippy::disallowed_macros",
    "unsafe_code",
];

/// A body that every exercise's check must refuse (the canary that proves the check runs
/// and is attributed to the right lines).
pub const CANARY: &str = "{\n    ::std::process::exit(0)\n}";

/// The `clippy.toml` that lists every refusal.
pub fn clippy_toml() -> String {
    let mut methods: Vec<(&str, &str)> = METHODS.to_vec();
    let mut types: Vec<(&str, &str)> = TYPES.to_vec();
    if cfg!(unix) {
        methods.extend_from_slice(UNIX_METHODS);
        types.extend_from_slice(UNIX_TYPES);
    }
    let mut text =
        String::from("# Written by cargo xtask grade: what a graded body may not use.\n");
    for (key, list) in [
        ("disallowed-methods", &methods[..]),
        ("disallowed-types", &types[..]),
        ("disallowed-macros", MACROS),
    ] {
        let _ = writeln!(text, "{key} = [");
        for (path, reason) in list {
            let _ = writeln!(text, "    {{ path = {path:?}, reason = {reason:?} }},");
        }
        text.push_str("]\n");
    }
    text
}

/// The clippy arguments (after `--`) that force the refusals on.
pub fn clippy_args() -> Vec<String> {
    LINTS.iter().map(|lint| format!("--warn={lint}")).collect()
}

/// Where an exercise's body was put: its file (as cargo names it, relative to the
/// workspace) and its first and last lines there.
#[derive(Debug, Clone)]
pub struct Placed {
    /// The exercise (`src/server.rs::reply_to`).
    pub exercise: String,
    /// The spliced file, relative to the workspace (`udp-uppercase/src/server.rs`).
    pub file: String,
    /// The body's first and last lines in the spliced file.
    pub lines: (usize, usize),
    /// The body's first line in the student's own file (to name lines as they see them).
    pub student_first_line: usize,
}

/// A refusal found in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The exercise whose body did it.
    pub exercise: String,
    /// What, and where in the student's file.
    pub what: String,
}

/// The refusals among clippy's JSON messages that lie in a student's body.
pub fn findings(clippy_json: &str, placed: &[Placed]) -> Vec<Finding> {
    let mut found = Vec::new();
    for line in clippy_json.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] != "compiler-message" {
            continue;
        }
        let message = &message["message"];
        let code = message["code"]["code"].as_str().unwrap_or_default();
        if !LINTS.contains(&code) {
            continue;
        }
        let Some(spans) = message["spans"].as_array() else { continue };
        // The span itself, then each macro call that produced it.
        let mut places: Vec<(&str, usize)> = Vec::new();
        for span in spans {
            let mut at = Some(span);
            while let Some(span) = at {
                if let (Some(file), Some(line)) =
                    (span["file_name"].as_str(), span["line_start"].as_u64())
                {
                    places.push((file, usize::try_from(line).unwrap_or(usize::MAX)));
                }
                at = span["expansion"].get("span");
            }
        }
        let text = message["message"].as_str().unwrap_or(code);
        // The reason, from the list (clippy's own wording of it changes between versions).
        let reason = METHODS
            .iter()
            .chain(UNIX_METHODS)
            .chain(TYPES)
            .chain(UNIX_TYPES)
            .chain(MACROS)
            .find(|(path, _)| text.contains(&format!("`{path}`")))
            .map(|(_, reason)| (*reason).to_string());
        for body in placed {
            let hit = places.iter().find(|(file, line)| {
                same_file(file, &body.file) && (body.lines.0..=body.lines.1).contains(line)
            });
            if let Some((_, line)) = hit {
                let student_line = body.student_first_line + (line - body.lines.0);
                let mut what = format!("line {student_line}: {text}");
                if let Some(reason) = &reason {
                    let _ = write!(what, ": {reason}");
                }
                let finding = Finding { exercise: body.exercise.clone(), what };
                if !found.contains(&finding) {
                    found.push(finding);
                }
            }
        }
    }
    found
}

/// Whether cargo's file name (relative to the workspace, or absolute) is `relative`.
fn same_file(cargo_name: &str, relative: &str) -> bool {
    let cargo_name = cargo_name.replace('\\', "/");
    cargo_name == relative || cargo_name.ends_with(&format!("/{relative}"))
}

/// Clippy's complaints about the list itself (a path that names nothing): the list must
/// be fixed before anyone is graded.
pub fn list_problems(clippy_json: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for line in clippy_json.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if let Some(text) = message["message"]["message"].as_str() {
            if text.contains("does not refer to") {
                problems.push(text.to_string());
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}
