//! The sealed chat's grading tests (issue 20): sealing and opening a line, the replay
//! window, bad input, and real members chatting sealed through the hub, a bad link and the
//! broadcast server.
//!
//! Keys for the unit tests are given as bytes; the clients derive theirs with the cheapest
//! Argon2 settings (`--kdf-memory 1 --kdf-passes 1`), so the suite stays quick.

use std::collections::HashSet;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;
use crate::client::sealed::SealedChat;
use crate::replay_window::{ReplayTable, ReplayWindow, Verdict, WINDOW};
use crate::seal::{
    EXHAUSTED, GroupKey, HEADER_LEN, KdfParams, MAX_SEALED_CHARS, OpenError, Opened, SealError,
    Sealer, SenderId, TAG_LEN, VERSION, open_line, seal_line,
};
use crate::text::clean_text;

fn key(byte: u8) -> GroupKey {
    GroupKey::from_bytes([byte; 32])
}

const ALICE: SenderId = SenderId([0xa1; 16]);
const BOB: SenderId = SenderId([0xb0; 16]);

/// The line's bytes, as they travel inside the base64.
fn raw(line: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(line).unwrap()
}

fn text_of(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

/// What a sealing or opening that never returns most likely does (`seal_line`, `open_line`).
const SEAL_NEVER_RETURNS: &str = "`seal_line` and `open_line` need no loop at all: each is a \
     few checks and one call to the cipher (see their numbered steps)";

/// What a replay window that never returns most likely does (`ReplayWindow::accept`).
const WINDOW_NEVER_RETURNS: &str = "`ReplayWindow::accept` must return for every counter: a \
     jump up clears at most `BLOCKS` blocks of the ring, however far it jumps (step 1)";

/// Runs a test's `body` on its own thread: an exercise that loops for ever fails its test
/// with `hint` (what it most likely does wrong) instead of hanging the suite.
#[track_caller]
fn finishes_within_patience(hint: &str, body: impl FnOnce() + Send + 'static) {
    // Generous: a few hundred seals and opens, unoptimised, on a loaded machine.
    returns_within(patience() * 3, "the test's calls", hint, body);
}

#[test]
fn a_sealed_line_opens_to_its_text_sender_and_counter() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let sealed = seal_line(&key(1), ALICE, 7, "alice: hello, bob").unwrap();
        assert_eq!(
            open_line(&key(1), &sealed),
            Ok(Opened { sender: ALICE, counter: 7, text: "alice: hello, bob".into() }),
            "a sealed line should open with the same key to what was sealed"
        );
    });
}

#[test]
fn a_sealed_line_shows_nothing_of_its_text_and_passes_the_hubs_text_checks() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let text = "alice: meet me at the north gate";
        let sealed = seal_line(&key(1), ALICE, 0, text).unwrap();
        for word in text.split([' ', ':']).filter(|word| word.len() > 2) {
            assert!(!sealed.contains(word), "the sealed line shows {word:?}: {sealed}");
        }
        assert_eq!(
            clean_text(&sealed),
            sealed,
            "the hub's cleaning should leave a sealed line as it is"
        );
        assert_eq!(
            raw(&sealed).len(),
            HEADER_LEN + text.len() + TAG_LEN,
            "a sealed line is the header, the ciphertext (as long as the text) and the tag"
        );
        assert_ne!(
            seal_line(&key(1), ALICE, 1, text).unwrap(),
            sealed,
            "the same text sealed under the next counter should look entirely different"
        );
    });
}

#[test]
fn one_flipped_bit_in_the_header_is_rejected() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let sealed = raw(&seal_line(&key(1), ALICE, 3, "alice: pay bob 10").unwrap());
        for bit in 0..HEADER_LEN * 8 {
            let mut changed = sealed.clone();
            changed[bit / 8] ^= 1 << (bit % 8);
            let result = open_line(&key(1), &text_of(&changed));
            assert!(result.is_err(), "flipping header bit {bit} should be caught, got {result:?}");
        }
    });
}

#[test]
fn one_flipped_bit_in_the_body_is_rejected() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let sealed = raw(&seal_line(&key(1), ALICE, 3, "alice: pay bob 10").unwrap());
        for bit in HEADER_LEN * 8..sealed.len() * 8 {
            let mut changed = sealed.clone();
            changed[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                open_line(&key(1), &text_of(&changed)),
                Err(OpenError::NotAuthentic),
                "flipping bit {bit} of the ciphertext or tag should make the line fail its tag"
            );
        }
    });
}

#[test]
fn a_line_sealed_with_another_key_is_rejected() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let sealed = seal_line(&key(1), ALICE, 0, "alice: hi").unwrap();
        assert_eq!(
            open_line(&key(2), &sealed),
            Err(OpenError::NotAuthentic),
            "a line sealed with another key (another passphrase) should not open"
        );
        let (right, wrong) = (
            GroupKey::derive(b"correct horse", KdfParams::CHEAPEST).unwrap(),
            GroupKey::derive(b"correct horsf", KdfParams::CHEAPEST).unwrap(),
        );
        let sealed = seal_line(&right, ALICE, 0, "alice: hi").unwrap();
        assert!(open_line(&right, &sealed).is_ok(), "the same passphrase should give the same key");
        assert_eq!(
            open_line(&wrong, &sealed),
            Err(OpenError::NotAuthentic),
            "a passphrase one letter off should give a key that opens nothing"
        );
    });
}

#[test]
fn bad_input_is_refused_by_kind_and_never_panics() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let sealed = raw(&seal_line(&key(1), ALICE, 5, "alice: hi").unwrap());
        for cut in 0..sealed.len() {
            let result = open_line(&key(1), &text_of(&sealed[..cut]));
            let expected = if cut < HEADER_LEN + TAG_LEN {
                OpenError::TooShort
            } else {
                OpenError::NotAuthentic
            };
            assert_eq!(result, Err(expected), "a line cut to {cut} bytes should be refused");
        }
        assert_eq!(
            open_line(&key(1), &"A".repeat(MAX_SEALED_CHARS + 1)),
            Err(OpenError::TooLong),
            "an oversized line should be refused before decoding"
        );
        let mut version = sealed.clone();
        version[0] = VERSION + 1;
        assert_eq!(
            open_line(&key(1), &text_of(&version)),
            Err(OpenError::WrongVersion(VERSION + 1)),
            "another version should be refused as such"
        );
        let mut at_max = sealed.clone();
        at_max[HEADER_LEN - 8..HEADER_LEN].copy_from_slice(&EXHAUSTED.to_be_bytes());
        assert_eq!(
            open_line(&key(1), &text_of(&at_max)),
            Err(OpenError::CounterExhausted),
            "a counter at its maximum should be refused"
        );
        assert_eq!(
            open_line(&key(1), "alice: I never said this"),
            Err(OpenError::NotBase64),
            "a plain line should be refused as not sealed"
        );
        // Random bytes of every length, from a fixed seed (SplitMix64).
        let mut state = 20u64;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[0]).collect();
            assert!(
                open_line(&key(1), &text_of(&bytes)).is_err(),
                "{len} random bytes should never open"
            );
            let noise = String::from_utf8_lossy(&bytes);
            assert!(open_line(&key(1), &noise).is_err(), "{len} bytes of noise should never open");
        }
    });
}

#[test]
fn sealing_refuses_the_last_counter_so_a_nonce_never_wraps_around() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        assert_eq!(
            seal_line(&key(1), ALICE, EXHAUSTED, "alice: hi"),
            Err(SealError::CounterExhausted),
            "the last counter should never be used"
        );
        let mut sealer = Sealer::with_id(key(1), ALICE, EXHAUSTED - 1);
        assert!(sealer.seal("alice: the last one").is_ok(), "the counter before the last is fine");
        assert_eq!(
            sealer.seal("alice: one more"),
            Err(SealError::CounterExhausted),
            "after the last usable counter, sealing should stop, not wrap to 0"
        );
    });
}

#[test]
fn no_nonce_repeats_across_two_members_and_a_restart() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        // Alice, Bob, and Alice again after a restart: each a new Sealer (a new random id).
        let mut nonces = HashSet::new();
        let mut ids = HashSet::new();
        for member in 0..3 {
            let mut sealer = Sealer::new(key(1)).unwrap();
            ids.insert(sealer.sender());
            for line in 0..200 {
                let opened =
                    open_line(&key(1), &sealer.seal(&format!("m{member}: {line}")).unwrap())
                        .unwrap();
                assert_eq!(opened.sender, sealer.sender(), "the header carries the sender's id");
                assert!(
                    nonces.insert((opened.sender, opened.counter)),
                    "member {member} reused a nonce (sender {}, counter {})",
                    opened.sender,
                    opened.counter
                );
            }
        }
        assert_eq!(ids.len(), 3, "every member and every restart should pick its own sender id");
    });
}

#[test]
fn a_replayed_counter_is_rejected() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut window = ReplayWindow::new();
        assert_eq!(window.accept(0), Verdict::Fresh, "the first line is fresh");
        assert_eq!(window.accept(1), Verdict::Fresh, "the next line is fresh");
        assert_eq!(window.accept(1), Verdict::Duplicate, "the same counter again is a replay");
        assert_eq!(
            window.accept(0),
            Verdict::Duplicate,
            "an older counter seen before is a replay"
        );
    });
}

#[test]
fn a_reordered_counter_within_the_window_is_accepted_once() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut window = ReplayWindow::new();
        for counter in [0, 1, 5, 3, 2, 4, 100, 64, 63] {
            assert_eq!(window.accept(counter), Verdict::Fresh, "counter {counter} arrives first");
        }
        for counter in [3, 64, 100, 63] {
            assert_eq!(window.accept(counter), Verdict::Duplicate, "counter {counter} again");
        }
        let highest = 1000;
        assert_eq!(window.accept(highest), Verdict::Fresh, "a jump up is fresh");
        let oldest_in_window = highest - WINDOW + 1;
        assert_eq!(
            window.accept(oldest_in_window),
            Verdict::Fresh,
            "the oldest counter still in the window, arriving late, is accepted"
        );
        assert_eq!(window.accept(oldest_in_window), Verdict::Duplicate, "but only once");
    });
}

#[test]
fn a_counter_older_than_the_window_is_rejected() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut window = ReplayWindow::new();
        assert_eq!(window.accept(WINDOW + 10), Verdict::Fresh, "a first line");
        assert_eq!(window.accept(9), Verdict::TooOld, "WINDOW + 1 below the highest is too old");
        assert_eq!(window.accept(10), Verdict::TooOld, "WINDOW below the highest is too old");
        assert_eq!(window.accept(11), Verdict::Fresh, "WINDOW - 1 below the highest is fresh");
    });
}

#[test]
fn a_jump_clears_the_reused_blocks_so_new_counters_are_not_taken_for_replays() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut window = ReplayWindow::new();
        for counter in 0..WINDOW {
            window.accept(counter);
        }
        // Far ahead: the ring's blocks are reused for counters never seen.
        let far = 10 * WINDOW + 5;
        assert_eq!(window.accept(far), Verdict::Fresh, "a jump far ahead is fresh");
        for counter in far - 40..far {
            assert_eq!(window.accept(counter), Verdict::Fresh, "counter {counter} was never seen");
        }
        // A jump of exactly one block, and one of a few.
        let mut window = ReplayWindow::new();
        for counter in 0..130 {
            assert_eq!(window.accept(counter), Verdict::Fresh, "counter {counter} in order");
        }
        assert_eq!(window.accept(130 + 64 * 3), Verdict::Fresh, "three blocks ahead");
        for counter in [130 + 64, 130 + 64 * 2, 131] {
            assert_eq!(window.accept(counter), Verdict::Fresh, "counter {counter} was never seen");
        }
        assert_eq!(window.accept(129), Verdict::Duplicate, "129 was seen, and is in the window");
    });
}

#[test]
fn the_replay_table_holds_at_most_max_senders_and_forgets_the_least_recent() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut table = ReplayTable::new(2);
        assert_eq!(table.accept(ALICE, 0), Verdict::Fresh, "alice's first line");
        assert_eq!(table.accept(BOB, 0), Verdict::Fresh, "bob's first line");
        assert_eq!(table.accept(ALICE, 1), Verdict::Fresh, "alice again: now bob is the oldest");
        let carol = SenderId([0xc0; 16]);
        assert_eq!(table.accept(carol, 0), Verdict::Fresh, "a third sender in a table of two");
        assert_eq!(table.len(), 2, "the table stays at its bound");
        assert_eq!(table.evicted, 1, "one sender was forgotten to make room");
        assert_eq!(
            table.accept(ALICE, 1),
            Verdict::Duplicate,
            "alice was kept: her replay is caught"
        );
        assert_eq!(
            table.accept(BOB, 0),
            Verdict::Fresh,
            "bob was forgotten (the price of the bound): his window starts again"
        );
    });
}

#[test]
fn a_forged_line_cannot_move_a_senders_window_nor_stop_its_next_lines() {
    finishes_within_patience(WINDOW_NEVER_RETURNS, move || {
        let mut member = SealedChat::new(key(1), 16).unwrap();
        let mut out = Vec::new();
        // A forger without the key puts alice's id and the highest counter in a header.
        let forged = seal_line(&key(9), ALICE, EXHAUSTED - 1, "alice: nonsense").unwrap();
        assert_eq!(member.open(None, &forged, &mut out).unwrap(), None, "not shown");
        let genuine = seal_line(&key(1), ALICE, 0, "alice: still here").unwrap();
        assert_eq!(
            member.open(None, &genuine, &mut out).unwrap(),
            Some("alice: still here".to_string()),
            "alice's next genuine line should still be shown"
        );
        assert_eq!(
            (member.tally.opened, member.tally.unopened),
            (1, 1),
            "one line opened, one could not be opened"
        );
    });
}

#[test]
fn a_member_is_told_once_about_lines_it_cannot_open_not_once_per_line() {
    finishes_within_patience(SEAL_NEVER_RETURNS, move || {
        let mut member = SealedChat::new(key(2), 16).unwrap();
        let mut out = Vec::new();
        for counter in 0..50 {
            let line = seal_line(&key(1), ALICE, counter, "alice: hi").unwrap();
            assert_eq!(member.open(None, &line, &mut out).unwrap(), None, "nothing readable");
            member.open(None, "garbage that is not base64!", &mut out).unwrap();
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out.lines().count(),
            2,
            "one note about unopened lines and one about malformed ones, not 100:\n{out}"
        );
        assert!(out.contains("wrong passphrase?"), "the note should suggest the cause: {out}");
        let summary = member.summary().unwrap();
        assert!(
            summary.contains("50 could not be opened") && summary.contains("50 malformed"),
            "the summary should count every one: {summary}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// Real members, sealed, over loopback.
// ---------------------------------------------------------------------------------------

/// A passphrase file in the temporary directory, removed when dropped.
struct PassphraseFile(PathBuf);

impl PassphraseFile {
    fn new(passphrase: &str) -> PassphraseFile {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "groupchat-sealed-test-{}-{}.txt",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        fs::write(&path, format!("{passphrase}\n")).unwrap();
        PassphraseFile(path)
    }

    /// The client's flags for this passphrase, with the cheapest key derivation.
    fn flags(&self) -> Vec<String> {
        ["--passphrase-file", self.0.to_str().unwrap(), "--kdf-memory", "1", "--kdf-passes", "1"]
            .map(String::from)
            .to_vec()
    }
}

impl Drop for PassphraseFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// Starts a sealed member `name` (or a plain one without `pass`) at `server`, waits until it
/// is in, and returns its feed, output, shutdown and thread.
fn start_member(
    server: SocketAddr,
    name: &str,
    pass: Option<&PassphraseFile>,
    extra: &[&str],
) -> (Sender<Vec<u8>>, SharedOutput, Shutdown, thread::JoinHandle<shared::Result<()>>) {
    let mut flags: Vec<String> = pass.map(PassphraseFile::flags).unwrap_or_default();
    flags.extend(["--username", name].map(String::from));
    flags.extend(extra.iter().map(ToString::to_string));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let member = start_client(server, &flags, false);
    member.1.wait_for("Welcome to WhatsUDP Messenger");
    member
}

/// [`start_member`] through a link that changes every datagram the hub sends: the change
/// may land in the join's challenge (a cookie of digits only, about 1 in 2,000) and spoil
/// the join, so a spoiled join is tried again (from a new port: a new cookie).
fn start_member_through_tamper(
    relay: SocketAddr,
    name: &str,
    pass: Option<&PassphraseFile>,
) -> (Sender<Vec<u8>>, SharedOutput, Shutdown, thread::JoinHandle<shared::Result<()>>) {
    for _ in 0..5 {
        let mut flags: Vec<String> = pass.map(PassphraseFile::flags).unwrap_or_default();
        flags.extend(["--username", name, "--timeout", "1"].map(String::from));
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let member = start_client(relay, &flags, false);
        let deadline = Instant::now() + patience();
        while Instant::now() < deadline && !member.3.is_finished() {
            if member.1.text().contains("Welcome to WhatsUDP Messenger") {
                return member;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
    panic!("{name} could not join through the tampering link in five tries");
}

fn leave(
    member: (Sender<Vec<u8>>, SharedOutput, Shutdown, thread::JoinHandle<shared::Result<()>>),
) -> String {
    let (feed, out, _, thread) = member;
    feed.send(b"/quit\n".to_vec()).unwrap();
    let (result, _) = finish_within(thread, patience() * 2, CHAT_LOOP_NEVER_ENDS);
    result.unwrap();
    out.text()
}

#[test]
fn sealed_members_chat_through_a_hub_that_cannot_read_them_and_a_wrong_passphrase_sees_nothing() {
    let running = start_server(&[]);
    let (group, wrong) = (PassphraseFile::new("correct horse"), PassphraseFile::new("wrong guess"));
    let bob = start_member(running.addr, "bob", Some(&group), &[]);
    let carol = start_member(running.addr, "carol", Some(&wrong), &[]);
    let alice = start_member(running.addr, "alice", Some(&group), &[]);
    alice.0.send(b"hello, bob: the north gate\n".to_vec()).unwrap();
    bob.1.wait_for("alice: hello, bob: the north gate");
    carol.1.wait_for("wrong passphrase?");

    let (bob_out, carol_out) = (leave(bob), leave(carol));
    leave(alice);
    assert!(
        !carol_out.contains("north gate"),
        "a member with the wrong passphrase should see nothing of the line:\n{carol_out}"
    );
    assert!(
        carol_out.contains("1 could not be opened (wrong passphrase?"),
        "carol should be told, at the end, how many lines she could not open:\n{carol_out}"
    );
    assert!(
        !bob_out.contains("could not be opened"),
        "bob, with the right passphrase, should open everything:\n{bob_out}"
    );
    let log = running.log.text();
    assert!(log.contains("alice: "), "the hub should have relayed alice's line:\n{log}");
    assert!(!log.contains("north gate"), "the hub should not be able to read the line:\n{log}");
    running.stop();
}

#[test]
fn through_a_link_that_duplicates_and_reorders_each_sealed_line_is_shown_once() {
    let running = start_server(&[]);
    let group = PassphraseFile::new("correct horse");
    let relay = lossy_link::testing::start_relay(
        running.addr,
        &[
            "--duplicate-down",
            "100%",
            "--reorder-down",
            "30%",
            "--reorder-hold",
            "50ms",
            "--seed",
            "3",
            // Bob mostly listens: more than 3x what he sends (see the README).
            "--reply-allowance",
            "65536",
        ],
    );
    let bob = start_member(relay.addr, "bob", Some(&group), &[]);
    let alice = start_member(running.addr, "alice", Some(&group), &[]);
    for line in 1..=10 {
        alice.0.send(format!("line {line}\n").into_bytes()).unwrap();
    }
    alice.1.wait_for("alice: line 10\n");
    for line in 1..=10 {
        bob.1.wait_for(&format!("alice: line {line}\n"));
    }
    thread::sleep(Duration::from_millis(200)); // the last duplicates arrive
    leave(alice);
    let bob_out = leave(bob);
    for line in 1..=10 {
        let shown = bob_out.matches(&format!("alice: line {line}\n")).count();
        assert_eq!(shown, 1, "line {line} should be shown exactly once:\n{bob_out}");
    }
    assert!(
        bob_out.contains("replayed dropped"),
        "bob should say he dropped the duplicates as replays:\n{bob_out}"
    );
    assert!(relay.stop().down.duplicated >= 10, "the link should have doubled every line");
    running.stop();
}

#[test]
fn a_line_changed_on_the_way_is_shown_changed_in_the_plain_chat_and_dropped_in_the_sealed_one() {
    let running = start_server(&[]);
    let group = PassphraseFile::new("correct horse");
    // Bob hears everything through a link that changes every datagram the hub sends him.
    let relay = lossy_link::testing::start_relay(
        running.addr,
        &["--tamper-down", "100%", "--reply-allowance", "65536"],
    );

    // Plain: the change arrives as alice's genuine line.
    let bob = start_member_through_tamper(relay.addr, "bob", None);
    let alice = start_member(running.addr, "alice", None, &[]);
    alice.0.send(b"pay bob 10 euros\n".to_vec()).unwrap();
    bob.1.wait_for("alice: pay bob 10 euroS");
    leave(alice);
    leave(bob);

    // Sealed: the same change is caught, and nothing is shown.
    let bob = start_member_through_tamper(relay.addr, "bob", Some(&group));
    let alice = start_member(running.addr, "alice", Some(&group), &[]);
    alice.0.send(b"pay bob 10 euros\n".to_vec()).unwrap();
    alice.1.wait_for("alice: pay bob 10 euros");
    bob.1.wait_for("could not be opened");
    leave(alice);
    let bob_out = leave(bob);
    assert!(!bob_out.contains("pay bob"), "bob should be shown no changed line:\n{bob_out}");
    assert!(relay.stop().down.tampered >= 2, "the link should have changed the lines");
    running.stop();
}

#[test]
// Loopback broadcast is Linux's (see the README).
#[cfg(target_os = "linux")]
fn in_broadcast_mode_a_listener_reads_only_base64_and_a_forged_plain_line_is_dropped() {
    let running = start_server(&["--broadcast", "127.255.255.255"]);
    let port = running.addr.port();
    let group = PassphraseFile::new("correct horse");
    let eavesdropper =
        crate::port_sharing::bind_shared_port((Ipv4Addr::UNSPECIFIED, port).into()).unwrap();
    eavesdropper.set_read_timeout(Some(patience())).unwrap();
    let bob = start_member(running.addr, "bob", Some(&group), &["--broadcast"]);
    let alice = start_member(running.addr, "alice", Some(&group), &["--broadcast"]);
    alice.0.send(b"the north gate\n".to_vec()).unwrap();
    bob.1.wait_for("alice: the north gate");

    let mut buffer = [0u8; 2048];
    let (len, _) = eavesdropper.recv_from(&mut buffer).unwrap();
    let heard = String::from_utf8_lossy(&buffer[..len]).into_owned();
    assert!(heard.starts_with("RELAY "), "the eavesdropper hears the relay: {heard}");
    assert!(!heard.contains("north") && !heard.contains("alice"), "but reads nothing: {heard}");

    // Anyone can send the server a plain line "as alice"; sealed members drop it. And a
    // replay of the captured relay is dropped too.
    let forger = bind_udp("127.0.0.1:0".parse().unwrap()).unwrap();
    forger.send_to(b"alice: I never said this", running.addr).unwrap();
    eavesdropper.send_to(&buffer[..len], (Ipv4Addr::new(127, 255, 255, 255), port)).unwrap();
    bob.1.wait_for("not sealed");
    bob.1.wait_for("replayed line");
    leave(alice);
    let bob_out = leave(bob);
    assert!(!bob_out.contains("never said"), "the forgery should not be shown:\n{bob_out}");
    assert_eq!(
        bob_out.matches("alice: the north gate").count(),
        1,
        "the replayed line should be shown once:\n{bob_out}"
    );
    running.stop();
}

#[test]
fn sealed_load_mode_members_post_and_open_every_line() {
    let running = start_server(&["--reply-rate", "10000000"]);
    let group = PassphraseFile::new("correct horse");
    let mut flags = group.flags();
    flags.extend(["--clients", "3", "--duration", "0.5", "--timeout", "1"].map(String::from));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (result, out) = run_client(client_args(running.addr, &flags), io::empty(), false);
    if let Err(error) = &result {
        // A loaded machine may overflow a socket now and then: that is a loss, not a failure.
        assert!(error.to_string().contains("lost"), "sealed load mode failed: {error}; {out}");
    }
    assert!(out.contains("(sealed load run: key derived in"), "the key is derived once: {out}");
    let replies: u64 = out
        .split(", ")
        .find_map(|part| part.strip_suffix(" replies"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("expected 'N replies' in the summary: {out}"));
    assert!(replies > 0, "sealed lines should have come back and opened: {out}");
    assert_eq!(running.stop().members_seen, 3, "three members joined");
}

#[test]
fn a_join_through_a_link_that_doubles_every_reply_succeeds() {
    // lossy-link --duplicate-down 100% (the README's replay step in hub mode): the second
    // CHALLENGE arrives after the client's HELLO, and is not taken for the WELCOME.
    let running = start_server(&[]);
    let relay = lossy_link::testing::start_relay(
        running.addr,
        &["--duplicate-down", "100%", "--reply-allowance", "65536"],
    );
    for name in ["dana", "erin", "finn"] {
        let member = start_member(relay.addr, name, None, &[]);
        let out = leave(member);
        assert!(out.contains(&format!("Welcome to WhatsUDP Messenger, {name}!")), "{out}");
    }
    assert!(relay.stop().down.duplicated >= 3, "every challenge should have been doubled");
    assert_eq!(running.stop().members_seen, 3, "all three joined");
}

#[test]
fn a_missing_empty_or_oversized_passphrase_file_is_a_one_line_error_before_joining() {
    let running = start_server(&[]);
    let empty = PassphraseFile::new("");
    let huge = PassphraseFile::new(&"x".repeat(5000));
    let missing = std::env::temp_dir().join("groupchat-sealed-test-no-such-file.txt");
    for (path, expected) in [
        (empty.0.clone(), "has no passphrase on its first line"),
        (huge.0.clone(), "is larger than 4096 bytes"),
        (missing, "cannot open the passphrase file"),
    ] {
        let args = client_args(
            running.addr,
            &["--username", "dave", "--passphrase-file", path.to_str().unwrap()],
        );
        let error = run_client(args, io::empty(), false)
            .0
            .expect_err("a bad passphrase file should end the client");
        assert!(
            error.to_string().contains(expected) && !error.to_string().contains('\n'),
            "expected one line saying {expected:?}, got: {error}"
        );
    }
    assert_eq!(running.stop().members_seen, 0, "nobody should have joined with a bad file");
}
