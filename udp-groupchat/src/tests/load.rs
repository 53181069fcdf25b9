//! Load mode (`--clients N`): members post and count the hub's fan-out; Ctrl-C stops it with
//! the summary so far.

use super::*;

#[test]
fn load_mode_members_post_and_the_summary_counts_deliveries() {
    let running = start_server(&["--reply-rate", "10000000"]);
    let args =
        client_args(running.addr, &["--clients", "3", "--duration", "0.5", "--timeout", "1"]);
    let (result, out) = run_client(args, io::empty(), false);
    // On a loaded machine a member's socket may overflow now and then (UDP drops what does
    // not fit): the run then reports its loss, which is what load mode is for.
    if let Err(error) = &result {
        assert!(error.to_string().contains("lost"), "load mode failed: {error}; printed {out}");
    }
    assert!(out.starts_with("3 clients, "), "one summary line for 3 members: {out}");
    assert_eq!(out.lines().count(), 1, "exactly one summary line: {out}");
    let delivered: u64 = out
        .rsplit_once("; ")
        .and_then(|(_, tail)| tail.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("expected '; N lines delivered' in the summary: {out}"));
    let summary = running.stop();
    assert!(summary.messages > 0, "the hub should have relayed the members' lines");
    assert!(
        delivered >= summary.messages,
        "every relayed line reaches at least its sender: {delivered} deliveries, {} lines",
        summary.messages
    );
    assert_eq!(summary.members_seen, 3, "three members joined");
}

#[test]
fn ctrl_c_in_load_mode_stops_at_once_with_the_summary_so_far() {
    let running = start_server(&["--reply-rate", "10000000"]);
    let out = SharedOutput::default();
    let shutdown = Shutdown::new();
    let client = {
        let args = client_args(running.addr, &["--clients", "2", "--duration", "30"]);
        let (mut out, shutdown) = (out.clone(), shutdown.clone());
        thread::spawn(move || crate::load::run(&args, &shutdown, &mut out))
    };
    running.expect_log("load"); // the members have joined
    thread::sleep(Duration::from_millis(200));
    shutdown.request();
    let (result, took) = finish_within(client, Duration::from_secs(2), CTRL_C_IGNORED);
    assert!(
        result.as_ref().is_err_and(shared::Error::is_stopped),
        "a load run stopped by Ctrl-C ends as stopped, not as an error: {result:?}"
    );
    assert!(took < Duration::from_secs(1), "the run took {took:?} to stop");
    let text = out.text();
    assert!(
        text.starts_with("2 clients, ") && text.contains(" 0 lost"),
        "the summary so far: {text}"
    );
    running.stop();
}
