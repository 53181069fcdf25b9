//! Ctrl-C wired to a [`Shutdown`]: the first press asks the program to stop, a second one
//! (or, for a client, a stop that takes too long) ends it at once.
//!
//! SIGTERM (what `kill`, systemd and `docker stop` send) and SIGHUP do the same (the `ctrlc`
//! crate's `termination` feature). The binaries call [`install_ctrl_c`] (servers) or
//! [`install_ctrl_c_for_client`] once, in `main`; tests never do (a process may install
//! only one Ctrl-C handler): they call [`Shutdown::request`] directly.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::shutdown::Shutdown;

/// Exit status after a second Ctrl-C: 128 + SIGINT, what a shell reports for a process
/// killed by Ctrl-C.
pub const FORCED_EXIT_CODE: i32 = crate::error::INTERRUPTED_EXIT_CODE as i32;

/// How long a client may take to stop after Ctrl-C before it is ended anyway (see
/// [`install_ctrl_c_for_client`]).
pub const CLIENT_STOP_LIMIT: Duration = Duration::from_millis(500);

/// Makes Ctrl-C request `shutdown`, for a server. A second Ctrl-C, for when a stop takes
/// too long, ends the process at once with status [`FORCED_EXIT_CODE`].
pub fn install_ctrl_c(shutdown: &Shutdown) -> Result<()> {
    install(shutdown, None)
}

/// Makes Ctrl-C request `shutdown`, for a client: like [`install_ctrl_c`], and a client still
/// running [`CLIENT_STOP_LIMIT`] after the first Ctrl-C is ended with [`FORCED_EXIT_CODE`]
/// (a client blocked in a wait that the signal did not cut short, as on Windows, must not
/// make the student wait for its `--timeout`).
pub fn install_ctrl_c_for_client(shutdown: &Shutdown) -> Result<()> {
    install(shutdown, Some(CLIENT_STOP_LIMIT))
}

fn install(shutdown: &Shutdown, stop_limit: Option<Duration>) -> Result<()> {
    let shutdown = shutdown.clone();
    ctrlc::set_handler(move || {
        if on_ctrl_c(&shutdown, stop_limit) == Press::Again {
            std::process::exit(FORCED_EXIT_CODE);
        }
    })
    .map_err(|e| Error::msg(format!("cannot install the Ctrl-C handler: {e}")))
}

/// Which Ctrl-C this was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Press {
    First,
    Again,
}

/// What a Ctrl-C does, on the thread that the `ctrlc` crate runs handlers on.
///
/// It must never wait for anything the program's own threads may hold: a program holding
/// the stdout lock (a client writing its output, a server whose log reader has stopped
/// reading) would keep the stop from ever being requested, and every later Ctrl-C would
/// queue up behind the first. So the "Stopping" notice is printed by a thread of its own,
/// which may wait for stdout as long as it likes; the stop is requested once the notice is
/// out (so that it comes before the summary the stop prints), or after [`NOTICE_PATIENCE`]
/// whatever stdout does.
fn on_ctrl_c(shutdown: &Shutdown, stop_limit: Option<Duration>) -> Press {
    on_ctrl_c_with_notice(shutdown, stop_limit, NOTICE_PATIENCE, || {
        // Start a fresh line: the terminal has just echoed "^C" after the last output.
        crate::console::print_line(format_args!("\nStopping (press Ctrl-C again to force)..."));
    })
}

/// How long a Ctrl-C waits for its notice to be printed before requesting the stop anyway
/// (printing takes microseconds; a stdout that nobody reads takes forever).
const NOTICE_PATIENCE: Duration = Duration::from_millis(250);

/// [`on_ctrl_c`], printing the notice with `print_notice` and waiting at most `patience`.
fn on_ctrl_c_with_notice(
    shutdown: &Shutdown,
    stop_limit: Option<Duration>,
    patience: Duration,
    print_notice: impl FnOnce() + Send + 'static,
) -> Press {
    if shutdown.is_requested() {
        return Press::Again;
    }
    let (printed, notice_is_out) = std::sync::mpsc::channel();
    let notice = std::thread::Builder::new().name("ctrl-c-notice".into()).spawn(move || {
        print_notice();
        let _ = printed.send(());
    });
    // If the thread cannot be started, the notice is skipped: the stop matters, not the words.
    if notice.is_ok() {
        let _ = notice_is_out.recv_timeout(patience);
    }
    shutdown.request();
    if let Some(limit) = stop_limit {
        let _ = std::thread::Builder::new().name("ctrl-c-deadline".into()).spawn(move || {
            std::thread::sleep(limit);
            std::process::exit(FORCED_EXIT_CODE);
        });
    }
    Press::First
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;
    use std::time::Instant;

    #[test]
    fn ctrl_c_requests_the_stop_even_while_another_thread_holds_stdout() {
        use std::io::Write;
        let shutdown = Shutdown::new();
        let (locked, holding) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let holder = thread::spawn(move || {
            let mut stdout = std::io::stdout().lock();
            locked.send(()).unwrap();
            let _ = released.recv_timeout(Duration::from_secs(30));
            let _ = stdout.flush();
        });
        holding.recv().unwrap();
        let started = Instant::now();
        let press = on_ctrl_c(&shutdown, None);
        let took = started.elapsed();
        release.send(()).unwrap();
        holder.join().unwrap();
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the first Ctrl-C must request the stop");
        assert!(
            took < Duration::from_millis(500),
            "the handler waited {took:?} for the stdout lock: it must never wait for it"
        );
        assert_eq!(on_ctrl_c(&shutdown, None), Press::Again, "the second Ctrl-C forces the exit");
    }

    #[test]
    fn the_notice_is_out_before_the_stop_is_requested() {
        let shutdown = Shutdown::new();
        let seen_by_the_notice = shutdown.clone();
        let (told, requested_when_printed) = std::sync::mpsc::channel();
        // A patience far longer than any scheduling delay: the order is what is tested.
        let press = on_ctrl_c_with_notice(&shutdown, None, Duration::from_secs(30), move || {
            let _ = told.send(seen_by_the_notice.is_requested());
        });
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the first Ctrl-C must request the stop");
        assert_eq!(
            requested_when_printed.recv_timeout(Duration::from_secs(5)),
            Ok(false),
            "the notice must be printed before the stop is requested, or the summary the \
             stop prints could come first"
        );
    }

    #[test]
    fn a_notice_that_cannot_be_printed_delays_the_stop_only_a_little() {
        let shutdown = Shutdown::new();
        let (_never, stuck) = std::sync::mpsc::channel::<()>();
        let started = Instant::now();
        let press = on_ctrl_c_with_notice(&shutdown, None, NOTICE_PATIENCE, move || {
            let _ = stuck.recv_timeout(Duration::from_secs(30));
        });
        let took = started.elapsed();
        assert_eq!(press, Press::First);
        assert!(shutdown.is_requested(), "the stop must be requested without the notice");
        assert!(
            took >= NOTICE_PATIENCE && took < Duration::from_secs(5),
            "the stop should wait {NOTICE_PATIENCE:?} for a stuck notice, not {took:?}"
        );
    }
}
