//! What a name may be, and when two names are the same: the rules the hub checks at every
//! join and the client checks before it joins.

use shared::text::is_invisible;
use unicode_security::{GeneralSecurityProfile, MixedScript, skeleton};

use crate::text::marks_within_cap;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// Checks a name: 1 to [`MAX_NAME_CHARS`] letters or digits, `_`, `-` or `.`. Nothing else:
/// no spaces or punctuation that the protocol uses, no control characters. And, after
/// Unicode's security rules (UTS #39, with the `unicode-security` crate):
///
/// - every letter and digit is one that the General Security Profile allows in identifiers:
///   no fullwidth or mathematical look-alikes of ASCII (`ａｌｉｃｅ`, `𝐚𝐥𝐢𝐜𝐞`), no invisible
///   fillers that pass for letters (U+3164 `ㅤ`, U+115F, U+FFA0), no obsolete or combining
///   oddities (U+0345);
/// - no default-ignorable code point (invisible by definition: [`is_invisible`]);
/// - one script (digits and `_-.` go with any): `аlice` with a Cyrillic `а` is refused.
///
/// Names that are each fine but look alike (`alice` and an all-Cyrillic `аӏісе`, `corn` and
/// `com`) are told apart by the hub with [`same_name`].
pub fn check_name(name: &str) -> Result<(), &'static str> {
    let chars = name.chars().count();
    if chars == 0 {
        return Err("the name is empty");
    }
    if chars > MAX_NAME_CHARS {
        return Err("the name is longer than 32 characters");
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("names are letters, digits, _ - . only");
    }
    if name.chars().any(|c| is_invisible(c) || (c.is_alphanumeric() && !c.identifier_allowed())) {
        return Err(
            "names are plain letters and digits: no look-alike, invisible or unusual characters",
        );
    }
    if !marks_within_cap(name) {
        return Err("names have at most 4 marks on a letter");
    }
    if !name.is_single_script() {
        return Err("a name is in one script: no mixing of, say, Latin and Cyrillic letters");
    }
    Ok(())
}

/// Whether two names would pass for each other: the same without regard to case, or with the
/// same confusable skeleton (UTS #39: `rn` looks like `m`, Cyrillic `а` like Latin `a`,
/// `1` like `l`).
pub fn same_name(a: &str, b: &str) -> bool {
    name_skeleton(a) == name_skeleton(b)
}

/// What a name looks like: lower-cased, then reduced to its confusable skeleton.
pub fn name_skeleton(name: &str) -> String {
    skeleton(&name.to_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_and_plain() {
        assert!(check_name("alice_99").is_ok(), "alice_99 should be a valid name");
        assert!(check_name("Zoë").is_ok(), "Zoë should be a valid name");
        assert!(check_name("j.doe-2_x").is_ok(), "j.doe-2_x should be a valid name");
        for bad in [
            "",
            "a b",
            "tab\there",
            "esc\x1b[31m",
            "x:y",
            "a,b",
            &"n".repeat(33),
            "alice\u{200B}",
            "x\u{202E}gnp",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
