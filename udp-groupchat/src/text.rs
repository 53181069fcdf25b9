//! Text that cannot fake a line: characters that draw nothing but are not spaces, and
//! combining marks stacked without limit.
//!
//! [`crate::protocol::clean_text`] already turns every kind of space into a plain space and
//! cuts a run of spaces short, so that a line cannot push a fake `bob: ...` to the start of
//! the next row of a member's terminal. Two kinds of character slip past that rule:
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
}
