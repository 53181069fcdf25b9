//! Running commands with a deadline: a grading suite that hangs is cut off, not waited on.
//! On Unix each command runs in its own process group, and the whole group is killed when
//! the command ends, at the deadline or not (a test that spawned processes leaves nothing
//! behind in its group); elsewhere the child is killed. Output is read by threads into
//! capped buffers (the head and the tail are kept, the middle counted), and the deadline
//! holds even when a grandchild keeps the pipes open: the readers are then abandoned.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use shared::error::{Context, Result};

/// How much of a cargo run's output is kept (its JSON messages are read whole).
pub const CARGO_OUTPUT_CAP: usize = 64 << 20;

/// How long the pipes may stay open after the command ended before their readers are
/// abandoned (a grandchild holding them must not hold the grader).
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// What a command did.
pub struct Finished {
    /// Its exit status; `None` if it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// What it printed on stdout (head and tail if it printed more than the cap).
    pub stdout: String,
    /// What it printed on stderr (head and tail if it printed more than the cap).
    pub stderr: String,
    /// Bytes printed but not kept (over the cap), both streams together.
    pub dropped: u64,
    /// Whether something kept a pipe open after the command ended.
    pub pipes_held: bool,
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
    for flags in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "RUSTDOCFLAGS", "CLIPPY_CONF_DIR"] {
        command.env_remove(flags);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    with_limits(command, limit, CARGO_OUTPUT_CAP)
        .context(|| format!("cannot run cargo {}", args.join(" ")))
}

/// The cargo that runs this tool (or `cargo`).
pub fn cargo_program() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Runs `command` (stdin closed, output captured up to [`CARGO_OUTPUT_CAP`]) in its own
/// process group, killing the group after `limit`.
pub fn with_limit(command: Command, limit: Duration) -> std::io::Result<Finished> {
    with_limits(command, limit, CARGO_OUTPUT_CAP)
}

/// Runs `command` (stdin closed) in its own process group, keeping at most `cap` bytes of
/// each output stream, and killing the group when it ends or after `limit`.
pub fn with_limits(mut command: Command, limit: Duration, cap: usize) -> std::io::Result<Finished> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    let mut child = command.spawn()?;
    let out = Captured::start(child.stdout.take(), cap);
    let err = Captured::start(child.stderr.take(), cap);
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    // Whatever the test started in its group goes with it, pass or fail.
    kill_group(&mut child);
    let grace = Instant::now() + PIPE_GRACE;
    let mut pipes_held = false;
    while !(out.closed() && err.closed()) {
        if Instant::now() >= grace {
            pipes_held = true;
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    let (stdout, dropped_out) = out.take();
    let (stderr, dropped_err) = err.take();
    Ok(Finished { status, stdout, stderr, dropped: dropped_out + dropped_err, pipes_held })
}

/// Kills the child's process group (Unix: `kill -KILL -PGID`, the child being the group's
/// leader), or the child alone elsewhere.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // std has no killpg; `kill` the program takes a negative pid for a group.
        let group = format!("-{}", child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// One output stream, read on its own thread (or a full pipe would stall the child) into
/// a buffer that keeps the first quarter of `cap` bytes and the last three quarters.
struct Captured {
    state: Arc<Mutex<Buffer>>,
}

#[derive(Default)]
struct Buffer {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    dropped: u64,
    closed: bool,
}

impl Captured {
    fn start(pipe: Option<impl Read + Send + 'static>, cap: usize) -> Self {
        let state = Arc::new(Mutex::new(Buffer::default()));
        let Some(mut pipe) = pipe else {
            state.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
            return Captured { state };
        };
        let shared = Arc::clone(&state);
        let head_cap = cap / 4;
        let tail_cap = cap - head_cap;
        // Detached: if a grandchild holds the pipe for ever, the reader waits for ever and
        // nobody waits for the reader.
        thread::spawn(move || {
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let read = match pipe.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(read) => read,
                };
                let mut buffer = shared.lock().unwrap_or_else(PoisonError::into_inner);
                let mut bytes = &chunk[..read];
                let room = head_cap.saturating_sub(buffer.head.len()).min(bytes.len());
                buffer.head.extend_from_slice(&bytes[..room]);
                bytes = &bytes[room..];
                buffer.tail.extend(bytes);
                let over = buffer.tail.len().saturating_sub(tail_cap);
                buffer.tail.drain(..over);
                buffer.dropped += over as u64;
            }
            shared.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        });
        Captured { state }
    }

    fn closed(&self) -> bool {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).closed
    }

    /// The text kept (with a marker where bytes were left out) and how many were.
    fn take(&self) -> (String, u64) {
        let mut buffer = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let head = std::mem::take(&mut buffer.head);
        let tail: Vec<u8> = std::mem::take(&mut buffer.tail).into();
        let dropped = buffer.dropped;
        let mut text = String::from_utf8_lossy(&head).into_owned();
        if dropped > 0 {
            text.push_str(&format!("\n[... {dropped} bytes left out ...]\n"));
        }
        text.push_str(&String::from_utf8_lossy(&tail));
        (text, dropped)
    }
}
