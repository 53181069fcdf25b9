//! Running commands with a deadline: a grading suite that hangs is cut off, not waited on.
//! On Unix each command runs in its own process group, and the whole group is killed at the
//! deadline (a test that spawned processes or threads leaves nothing behind); elsewhere the
//! child is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use shared::error::{Context, Result};

/// What a command did.
pub struct Finished {
    /// Its exit status; `None` if it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Finished {
    /// Whether it ran to the end and succeeded.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }
}

/// Runs `cargo <args>` in `dir` with extra environment `env`, killing it after `limit`.
pub fn cargo(dir: &Path, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Result<Finished> {
    let mut command = Command::new(cargo_program());
    command.args(args).current_dir(dir);
    // The instructor's own flags (a `-D warnings` in RUSTFLAGS, say) must not decide whether
    // a submission compiles: every build here gets the same flags, the workspace's.
    for flags in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTDOCFLAGS"] {
        command.env_remove(flags);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    with_limit(command, limit).context(|| format!("cannot run cargo {}", args.join(" ")))
}

/// The cargo that runs this tool (or `cargo`).
pub fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `command` (stdin closed, output captured) in its own process group, killing the
/// group after `limit`.
pub fn with_limit(mut command: Command, limit: Duration) -> std::io::Result<Finished> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut child = command.spawn()?;
    // Read both pipes on their own threads, or a full pipe would stall the child.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = thread::spawn(move || read_all(stdout.as_mut()));
    let err = thread::spawn(move || read_all(stderr.as_mut()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    Ok(Finished {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Kills the child's process group (Unix: `kill -KILL -PGID`, the child being the group's
/// leader), or the child alone elsewhere.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // std has no killpg; `kill` the program takes a negative pid for a group.
        let group = format!("-{}", child.id());
        let killed = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if killed {
            return;
        }
    }
    let _ = child.kill();
}

fn read_all(pipe: Option<&mut impl Read>) -> String {
    let mut bytes = Vec::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_end(&mut bytes);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
