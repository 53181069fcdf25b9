//! Text shown to people: a datagram's bytes as text, safe to print, and counts in words.
//!
//! Datagrams are bytes, not text. A server must cope with bytes that are not UTF-8, so the
//! helpers here replace invalid sequences (lossy decoding) and never panic; and what a log
//! shows of a datagram cannot move the cursor, recolour the terminal or hide text
//! ([`preview`]). The echo clients show what came back as the course's notebooks do, as a
//! Python bytes literal ([`bytes_literal`]), and the summaries count in words ([`plural`]).

use std::borrow::Cow;

/// How many characters of a datagram a log line shows before it says `...`.
pub const PREVIEW_CHARS: usize = 80;

/// A datagram as text: invalid UTF-8 replaced by `U+FFFD`, one trailing `\n` or `\r\n`
/// removed (a line typed at a terminal ends with one). Borrows when it can.
pub fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    String::from_utf8_lossy(bytes)
}

/// A datagram as a log shows it: [`as_text`], at most `max_chars` characters, then
/// `... (N bytes)` when it was longer. Control characters are escaped (`\u{1b}`), so that a
/// datagram cannot move the cursor or recolour the server's terminal; so are the line and
/// paragraph separators and the characters that display as nothing ([`is_invisible`]), so
/// that it cannot hide text or reverse what follows it on the line (U+202E) either.
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let text = as_text(bytes);
    let mut shown = String::with_capacity(text.len().min(max_chars + 16));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            shown.push_str(&format!("... ({} bytes)", bytes.len()));
            break;
        }
        if c.is_control() {
            shown.extend(c.escape_default());
        } else if is_invisible(c) || matches!(c, '\u{2028}' | '\u{2029}') {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Whether `c` is a default-ignorable code point: one that displays as nothing at all
/// (Unicode's `Default_Ignorable_Code_Point` property, DerivedCoreProperties.txt, Unicode
/// 15.1). Among them: the soft hyphen, the Arabic letter mark, Hangul fillers, zero-width
/// spaces and joiners, the direction controls, the word joiner, variation selectors, the
/// byte-order mark, and the tag characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Bytes written the way Python prints them, `b'Hello, world'`, as the course's notebooks
/// show received data: printable ASCII as is, `\t` `\n` `\r` `\\` `\'` escaped, any other
/// byte as `\xNN`. At most `max_bytes` bytes are shown, then `...` and the full length.
pub fn bytes_literal(bytes: &[u8], max_bytes: usize) -> String {
    let shown = &bytes[..bytes.len().min(max_bytes)];
    let mut literal = String::with_capacity(shown.len() + 3);
    literal.push_str("b'");
    for &byte in shown {
        match byte {
            b'\t' => literal.push_str("\\t"),
            b'\n' => literal.push_str("\\n"),
            b'\r' => literal.push_str("\\r"),
            b'\\' => literal.push_str("\\\\"),
            b'\'' => literal.push_str("\\'"),
            b' '..=b'~' => literal.push(char::from(byte)),
            _ => literal.push_str(&format!("\\x{byte:02x}")),
        }
    }
    literal.push('\'');
    if shown.len() < bytes.len() {
        literal.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    literal
}

/// `count` and `noun`, in the plural unless the count is one: `1 datagram`, `2 datagrams`,
/// `2 replies`, `2 echoes`.
pub fn plural(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    if count == 1 {
        return format!("1 {noun}");
    }
    match noun.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{count} {stem}ies"),
        _ if noun.ends_with("o") || noun.ends_with("s") || noun.ends_with("sh") => {
            format!("{count} {noun}es")
        }
        _ => format!("{count} {noun}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_drops_one_trailing_newline() {
        assert_eq!(as_text(b"hello\n"), "hello");
        assert_eq!(as_text(b"hello\r\n"), "hello");
        assert_eq!(as_text(b"hello\n\n"), "hello\n");
        assert_eq!(as_text(b""), "");
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        assert_eq!(as_text(b"caf\xff!"), "caf\u{FFFD}!");
        assert_eq!(as_text(&[0xC3]), "\u{FFFD}");
    }

    #[test]
    fn preview_escapes_control_characters() {
        assert_eq!(preview(b"a\tb\x1b[31m", 80), "a\\tb\\u{1b}[31m");
    }

    #[test]
    fn preview_escapes_invisible_characters_and_line_separators() {
        let sneaky = "pay \u{202E}0001$\u{200B} to\u{2028}bob\u{E0041}";
        assert_eq!(
            preview(sneaky.as_bytes(), 80),
            "pay \\u{202e}0001$\\u{200b} to\\u{2028}bob\\u{e0041}",
            "a log must show what would be invisible or reorder the line"
        );
        assert_eq!(preview("café ünïcode 日本".as_bytes(), 80), "café ünïcode 日本");
    }

    #[test]
    fn preview_shortens_long_datagrams_and_says_how_long_they_were() {
        let long = vec![b'x'; 1000];
        let shown = preview(&long, 10);
        assert_eq!(shown, "xxxxxxxxxx... (1000 bytes)");
        assert_eq!(preview(b"exactly10!", 10), "exactly10!");
    }

    #[test]
    fn bytes_literal_reads_like_python() {
        assert_eq!(bytes_literal(b"Hello, world (15548)", 80), "b'Hello, world (15548)'");
        assert_eq!(bytes_literal(b"it's\tok\r\n", 80), r"b'it\'s\tok\r\n'");
        assert_eq!(bytes_literal(b"caf\xc3\xa9 \x00\\", 80), r"b'caf\xc3\xa9 \x00\\'");
        assert_eq!(bytes_literal(b"", 80), "b''");
        assert_eq!(bytes_literal(&[b'z'; 100], 3), "b'zzz'... (100 bytes)");
    }

    #[test]
    fn plural_adds_an_s_except_for_one() {
        assert_eq!(plural(0u64, "client"), "0 clients");
        assert_eq!(plural(1u32, "client"), "1 client");
        assert_eq!(plural(2u64, "datagram"), "2 datagrams");
        assert_eq!(plural(3u64, "reply"), "3 replies");
        assert_eq!(plural(1u64, "echo"), "1 echo");
        assert_eq!(plural(2u64, "echo"), "2 echoes");
        assert_eq!(plural(2u64, "day"), "2 days");
    }
}
