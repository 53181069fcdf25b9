//! The box a graded test runs in: a clean environment, resource limits, and (on Linux) a
//! PID namespace of its own, so that nothing a test starts outlives it.
//!
//! On Linux, when util-linux's `unshare` can make an unprivileged user and PID namespace
//! (most distributions allow it), a test runs as
//! `unshare --user --map-root-user --pid --fork --kill-child -- prlimit ... -- TEST`: the
//! test is PID 1 of its namespace, and when it ends (or its group is killed at the limit)
//! the kernel kills every process in the namespace, `setsid` escapees included. `prlimit`
//! (also util-linux) sets the memory (`RLIMIT_DATA`), process (`RLIMIT_NPROC`, counted in
//! the test's own user namespace) and file-size (`RLIMIT_FSIZE`) limits. Where either tool
//! is missing or refused, the test runs without that part and [`Sandbox::describe`] says so.
//!
//! On macOS and Windows a test runs with the clean environment, the capped output and the
//! wall-clock limit (its process group killed on macOS, the process alone on Windows), but
//! without memory or process limits and without the namespace.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::run::with_limits;

/// The limits of one test process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Its data memory (heap, stacks), in bytes.
    pub memory: u64,
    /// Processes and threads it may have at once.
    pub processes: u64,
    /// The largest file it may write, in bytes.
    pub file_size: u64,
    /// Output kept per stream, in bytes (the rest is counted).
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { memory: 1 << 30, processes: 512, file_size: 16 << 20, output: 256 << 10 }
    }
}

/// How tests are boxed on this machine.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// `unshare`, if it can make a user and PID namespace here.
    unshare: Option<PathBuf>,
    /// `prlimit`, if it runs here.
    prlimit: Option<PathBuf>,
    /// The limits.
    pub limits: Limits,
}

impl Sandbox {
    /// Finds out what this machine offers (runs `unshare` and `prlimit` once each).
    pub fn detect(limits: Limits) -> Self {
        let mut sandbox = Sandbox { unshare: None, prlimit: None, limits };
        if cfg!(target_os = "linux") {
            sandbox.unshare = find("unshare").filter(|unshare| {
                let mut probe = Command::new(unshare);
                probe.args(UNSHARE).args(["--", "true"]);
                works(probe)
            });
            let args = sandbox.prlimit_args();
            sandbox.prlimit = find("prlimit").filter(|prlimit| {
                let mut probe = Command::new(prlimit);
                probe.args(&args).args(["--", "true"]);
                works(probe)
            });
        }
        sandbox
    }

    /// One line for the instructor: what the box holds on this machine.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!(
            "clean environment, output capped at {} KiB per stream",
            self.limits.output >> 10
        )];
        match &self.prlimit {
            Some(_) => parts.push(format!(
                "memory {} MiB, {} processes, files up to {} MiB (prlimit)",
                self.limits.memory >> 20,
                self.limits.processes,
                self.limits.file_size >> 20
            )),
            None => parts.push("NO memory or process limits (no working prlimit)".into()),
        }
        match &self.unshare {
            Some(_) => parts.push("own PID namespace, nothing outlives a test (unshare)".into()),
            None if cfg!(unix) => parts.push(
                "NO PID namespace (no working unprivileged unshare): the process group is \
                 killed after each test, a setsid escapee is not"
                    .into(),
            ),
            None => {
                parts.push("NO PID namespace: the test process is killed, not its children".into());
            }
        }
        format!("tests run in a box: {}", parts.join("; "))
    }

    fn prlimit_args(&self) -> Vec<String> {
        vec![
            format!("--data={}", self.limits.memory),
            format!("--nproc={}", self.limits.processes),
            format!("--fsize={}", self.limits.file_size),
            "--core=0".into(),
        ]
    }

    /// The command that runs `program args` in the box, in `dir`, with only `env` (and
    /// what the platform needs to run a program at all) in its environment.
    pub fn command(
        &self,
        program: &Path,
        args: &[String],
        dir: &Path,
        env: &[(&str, &str)],
    ) -> Command {
        let mut words: Vec<std::ffi::OsString> = Vec::new();
        if let Some(unshare) = &self.unshare {
            words.push(unshare.into());
            words.extend(UNSHARE.iter().map(Into::into));
            words.push("--".into());
        }
        if let Some(prlimit) = &self.prlimit {
            words.push(prlimit.into());
            words.extend(self.prlimit_args().into_iter().map(Into::into));
            words.push("--".into());
        }
        words.push(program.into());
        words.extend(args.iter().map(Into::into));
        let mut command = Command::new(&words[0]);
        command.args(&words[1..]).current_dir(dir).env_clear();
        for (key, value) in env {
            command.env(key, value);
        }
        // Windows cannot start a socket program without these.
        for key in ["SystemRoot", "windir", "TEMP", "TMP"] {
            if let Some(value) = std::env::var_os(key).filter(|_| cfg!(windows)) {
                command.env(key, value);
            }
        }
        command
    }
}

/// `unshare`'s flags: a user namespace (so no root is needed) and a PID namespace whose
/// first process is the test, every other process killed with it.
const UNSHARE: &[&str] = &["--user", "--map-root-user", "--pid", "--fork", "--kill-child"];

/// `name` in the usual system folders (the grader's own PATH is not trusted to the tests).
fn find(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// Whether `command` runs and succeeds within a few seconds.
fn works(command: Command) -> bool {
    with_limits(command, Duration::from_secs(10), 4096).is_ok_and(|finished| finished.succeeded())
}
