//! What names and lines may hold: no look-alike, invisible or mixed-script names, no control
//! or invisible characters, runs of spaces, Braille blanks or stacked marks in what reaches
//! other members' terminals.

use super::*;

#[test]
fn names_differing_only_in_case_are_the_same_name() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    let error = join(&socket, running.addr, "ALICE", patience()).unwrap_err().to_string();
    assert!(
        error.contains("that name is taken"),
        "the hub should refuse ALICE as the taken name alice: {error}"
    );
    running.stop();
}

#[test]
fn look_alike_invisible_and_mixed_script_names_are_refused() {
    let running = start_server(&[]);
    let _alice = Member::join(running.addr, "alice");
    let socket = connect_udp(running.addr).unwrap();
    for bad in [
        "\u{0430}lice",        // Cyrillic а, then Latin: mixed scripts
        "\u{FF41}\u{FF4C}ice", // fullwidth ａｌ
        "\u{1D41A}lice",       // mathematical bold 𝐚
        "alice\u{3164}",       // Hangul filler, invisible
        "\u{3164}",            // a name made of nothing visible
        "x\u{115F}",           // Hangul choseong filler
        "x\u{FFA0}",           // halfwidth Hangul filler
        "x\u{0345}",           // combining ypogegrammeni
        "ali\u{00AD}ce",       // soft hyphen
    ] {
        let error = join(&socket, running.addr, bad, patience()).map(|_| ()).unwrap_err();
        let error = error.to_string();
        assert!(
            error.contains("the server refused: names are") || error.contains("one script"),
            "{bad:?} should be refused as a name, got: {error}"
        );
    }
    // Each letter fine, one script, but it looks like alice: taken.
    let error = join(&socket, running.addr, "\u{0430}\u{04CF}\u{0456}\u{0441}\u{0435}", patience())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("it looks like alice"),
        "an all-Cyrillic alice should be taken: {error}"
    );
    let error =
        join(&socket, running.addr, "a1ice", patience()).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("it looks like alice"), "a1ice looks like alice: {error}");
    join(&socket, running.addr, "Zo\u{00EB}", patience()).expect("Zoë is a fine name");
    running.stop();
}

#[test]
fn control_characters_never_reach_other_terminals() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    alice.say("\x1b[2Jcleared your screen\x07");
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat("alice", "\u{FFFD}[2Jcleared your screen\u{FFFD}"),
        "the hub should replace control characters with U+FFFD before relaying"
    );
    running.stop();
}

#[test]
fn invisible_characters_and_runs_of_spaces_are_neutralised_in_lines() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let spaces = " ".repeat(80);
    let line = format!(
        "a\u{061C}b\u{2028}c\u{2029}d\u{E0041}e\u{00AD}f\u{2060}g\u{3164}h{spaces}bob: fake\u{3000}\u{3000}\u{3000}\u{3000}\u{3000}end \u{2764}\u{FE0F}"
    );
    alice.say(&line);
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat(
            "alice",
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e\u{FFFD}f\u{FFFD}g\u{FFFD}h    bob: fake    end \u{2764}\u{FE0F}"
        ),
        "invisible characters should become \u{FFFD}, space runs at most 4, emoji intact"
    );
    running.stop();
}

#[test]
fn braille_blanks_cannot_push_a_fake_line_onto_the_next_row() {
    // What the issue measured: 70 U+2800 instead of spaces put `bob: ...` at the start of
    // the second row of an 80-column terminal.
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    let blanks = "\u{2800}".repeat(70);
    alice.say(&format!("hi{blanks}bob: my new password is hunter2{}", "\u{1D159}".repeat(9)));
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    assert_eq!(
        bob.next_matching(is_chat),
        chat("alice", "hi    bob: my new password is hunter2    "),
        "blank-looking characters should count as spaces, so their runs are cut to 4"
    );
    running.stop();
}

#[test]
fn stacked_combining_marks_are_cut_to_four_per_character_in_lines_and_names() {
    let running = start_server(&[]);
    let alice = Member::join(running.addr, "alice");
    let bob = Member::join(running.addr, "bob");
    alice.say(&format!("Zalgo z{}! Vie\u{0302}\u{0301}t", "\u{0301}\u{0316}".repeat(200)));
    let is_chat = |m: &ServerMessage| matches!(m, ServerMessage::Chat { .. });
    let ServerMessage::Chat { text, .. } = bob.next_matching(is_chat) else { unreachable!() };
    assert_eq!(
        text, "Zalgo z\u{0301}\u{0316}\u{0301}\u{0316}! Vie\u{0302}\u{0301}t",
        "400 marks on z should be cut to 4; Vietnamese's two stay"
    );
    // A name: Devanagari vowel signs are letters (Alphabetic) and combining marks at once.
    let socket = connect_udp(running.addr).unwrap();
    let stacked = format!("क{}", "\u{093E}".repeat(8));
    let error = join(&socket, running.addr, &stacked, patience()).unwrap_err().to_string();
    assert!(error.contains("at most 4 marks"), "a name with 8 stacked marks is refused: {error}");
    running.stop();
}
