//! What chat text may hold: text made safe to print on anyone's terminal ([`clean_text`]),
//! which the hub applies to every line it relays and the client to every line it prints.
//!
//! Control and invisible characters become `�`, so that nobody can send escape sequences
//! to other members' terminals or hide text in a line. Every kind of space becomes a plain
//! space and a run of spaces is cut short, so that a line cannot push a fake `bob: ...` to
//! the start of the next row of a member's terminal. Two kinds of character would slip past
//! that rule:
//!
//! - **Blank-looking characters.** U+2800 BRAILLE PATTERN BLANK is a symbol, not a space
//!   (Unicode gives it no `White_Space` property) and not default-ignorable either, yet every
//!   font draws it as an empty cell: 70 of them pad a line exactly as 70 spaces would.
//!   [`looks_blank`] lists the characters like it, and the chat treats them as spaces.
//! - **Stacked combining marks** ("Zalgo text"). A combining mark draws on the character
//!   before it, and nothing limits how many follow one another: 400 marks on one letter draw
//!   a smear over the lines above and below, covering what others wrote. [`MarkCap`] keeps
//!   at most [`MAX_MARKS_PER_CHAR`] on any one character (Unicode's own "stream-safe" format
//!   allows 30, far more than any language writes).
//!
//! Where the rule cannot help: a line of ordinary visible characters can still fill a row
//! exactly, so that what follows starts the next row (`xxxx...xxx bob: hi`). It does not
//! look blank, so a reader sees the junk; a client that wants more marks its continuation
//! rows itself.

use shared::text::is_invisible;
use unicode_normalization::char::is_combining_mark;

/// The most combining marks kept on one character. Vietnamese writes at most two on a letter,
/// pointed Hebrew with cantillation three or four.
pub const MAX_MARKS_PER_CHAR: usize = 4;

/// Whether `c` draws as an empty cell although Unicode calls it neither a space
/// (`White_Space`) nor default-ignorable ([`shared::text::is_invisible`] lists those).
/// The characters, from Unicode's data (they are symbols or letters whose glyph is blank):
///
/// - U+2800 BRAILLE PATTERN BLANK (a Braille cell with no dots raised);
/// - U+1D159 MUSICAL SYMBOL NULL NOTEHEAD;
/// - U+16FE4 KHITAN SMALL SCRIPT FILLER;
/// - U+2028/U+2029 are separators and U+3164, U+115F, U+1160, U+FFA0 (the Hangul fillers)
///   default-ignorable, so they are handled by the rules for those.
pub fn looks_blank(c: char) -> bool {
    matches!(c, '\u{2800}' | '\u{1D159}' | '\u{16FE4}')
}

/// Counts the combining marks on the current character, to keep at most
/// [`MAX_MARKS_PER_CHAR`] of them. Feed it every character of a text, in order.
#[derive(Debug, Default)]
pub struct MarkCap {
    marks_in_a_row: usize,
}

impl MarkCap {
    /// Whether to keep `c`: any character that is not a combining mark, and the first
    /// [`MAX_MARKS_PER_CHAR`] marks after one.
    pub fn keep(&mut self, c: char) -> bool {
        if is_combining_mark(c) {
            self.marks_in_a_row += 1;
            self.marks_in_a_row <= MAX_MARKS_PER_CHAR
        } else {
            self.marks_in_a_row = 0;
            true
        }
    }
}

/// Whether no character of `text` carries more than [`MAX_MARKS_PER_CHAR`] combining marks.
pub fn marks_within_cap(text: &str) -> bool {
    let mut cap = MarkCap::default();
    text.chars().all(|c| cap.keep(c))
}

/// The longest run of spaces a chat line keeps: enough for any sentence, too few to push a
/// fake `bob: ...` to the start of the next row of someone's terminal.
pub const MAX_SPACE_RUN: usize = 4;

/// Chat text made safe to print on anyone's terminal:
///
/// - control characters (escape sequences, backspaces, bells, newlines), the line and
///   paragraph separators U+2028/U+2029, and invisible characters ([`is_invisible`]: those
///   that reverse the direction of text, soft hyphens, word joiners, fillers, tag
///   characters that can hide text) become `�`, except the two that emoji are built with
///   (the zero-width joiner U+200D and the variation selectors U+FE00-U+FE0F);
/// - any other kind of space, and what draws as one without being one (U+2800 Braille blank:
///   [`looks_blank`]), becomes a plain space, and a run of spaces is cut to [`MAX_SPACE_RUN`];
/// - a character keeps at most [`MAX_MARKS_PER_CHAR`] combining marks ([`MarkCap`]).
pub fn clean_text(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len());
    let mut spaces = 0;
    let mut marks = MarkCap::default();
    for c in text.chars().filter(|&c| marks.keep(c)) {
        let c = if is_unsafe(c) {
            char::REPLACEMENT_CHARACTER
        } else if c.is_whitespace() || looks_blank(c) {
            ' '
        } else {
            c
        };
        spaces = if c == ' ' { spaces + 1 } else { 0 };
        if spaces <= MAX_SPACE_RUN {
            cleaned.push(c);
        }
    }
    cleaned
}

fn is_unsafe(c: char) -> bool {
    let emoji_part = c == '\u{200D}' || ('\u{FE00}'..='\u{FE0F}').contains(&c);
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || (is_invisible(c) && !emoji_part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braille_blank_and_its_kind_look_blank_but_letters_and_spaces_do_not() {
        for blank in ['\u{2800}', '\u{1D159}', '\u{16FE4}'] {
            assert!(looks_blank(blank), "U+{:04X} draws nothing and should count", blank as u32);
            assert!(!blank.is_whitespace(), "U+{:04X} is not White_Space", blank as u32);
        }
        for shown in ['a', ' ', '\u{2801}', '\u{1D15A}'] {
            assert!(!looks_blank(shown), "U+{:04X} is not blank-looking", shown as u32);
        }
    }

    #[test]
    fn at_most_four_combining_marks_stay_on_one_character() {
        let mut cap = MarkCap::default();
        let kept: String = "e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}x\u{301}"
            .chars()
            .filter(|&c| cap.keep(c))
            .collect();
        assert_eq!(
            kept, "e\u{301}\u{302}\u{303}\u{304}x\u{301}",
            "four marks on e should stay, the fifth and sixth go, x's mark stays"
        );
        assert!(marks_within_cap("Vie\u{302}\u{301}t"), "Vietnamese's two marks are fine");
        assert!(!marks_within_cap(&format!("a{}", "\u{301}".repeat(400))), "400 marks are not");
    }

    #[test]
    fn control_characters_in_text_are_neutralised() {
        assert_eq!(
            clean_text("red \x1b[31m alert\x07\n"),
            "red �[31m alert��",
            "escape, bell and newline should become U+FFFD"
        );
        assert_eq!(
            clean_text("abc\u{202E}fed"),
            "abc�fed",
            "a right-to-left override should become U+FFFD"
        );
        assert_eq!(
            clean_text("plain text: ok"),
            "plain text: ok",
            "plain text should pass unchanged"
        );
    }
}
