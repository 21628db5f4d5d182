//! Free text as SPEC.md §1 defines it (revision 3): the bidirectional and invisible formatting
//! characters a record may not hold, and how an older entry that holds one is shown.
//!
//! A bidirectional override (U+202E) or a zero-width space (U+200B) makes a brand or a
//! description display differently from the bytes that were logged and signed: `"Acme\u{202E}sdA"`
//! reads as another name. Submission refuses them in every free-text field
//! ([`crate::record::check_text`]); an entry logged before revision 3 may still hold one, so
//! every page and CSV shows each as a visible marker such as `[U+202E]` ([`neutralise`]).

use std::borrow::Cow;

/// The characters SPEC.md §1 refuses in free text, each with its Unicode name: the Arabic
/// letter mark, the zero-width and directional marks, the bidirectional embeddings, overrides
/// and isolates, the invisible operators and the byte-order mark.
const FORMATTING: [(u32, &str); 21] = [
    (0x061C, "ARABIC LETTER MARK"),
    (0x200B, "ZERO WIDTH SPACE"),
    (0x200C, "ZERO WIDTH NON-JOINER"),
    (0x200D, "ZERO WIDTH JOINER"),
    (0x200E, "LEFT-TO-RIGHT MARK"),
    (0x200F, "RIGHT-TO-LEFT MARK"),
    (0x202A, "LEFT-TO-RIGHT EMBEDDING"),
    (0x202B, "RIGHT-TO-LEFT EMBEDDING"),
    (0x202C, "POP DIRECTIONAL FORMATTING"),
    (0x202D, "LEFT-TO-RIGHT OVERRIDE"),
    (0x202E, "RIGHT-TO-LEFT OVERRIDE"),
    (0x2060, "WORD JOINER"),
    (0x2061, "FUNCTION APPLICATION"),
    (0x2062, "INVISIBLE TIMES"),
    (0x2063, "INVISIBLE SEPARATOR"),
    (0x2064, "INVISIBLE PLUS"),
    (0x2066, "LEFT-TO-RIGHT ISOLATE"),
    (0x2067, "RIGHT-TO-LEFT ISOLATE"),
    (0x2068, "FIRST STRONG ISOLATE"),
    (0x2069, "POP DIRECTIONAL ISOLATE"),
    (0xFEFF, "ZERO WIDTH NO-BREAK SPACE (byte-order mark)"),
];

/// Whether `c` is one of the formatting characters SPEC.md §1 refuses: one range test, no
/// table walk (every character of every text on every page goes through it).
fn is_formatting(c: char) -> bool {
    matches!(u32::from(c), 0x061C | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF)
}

/// The Unicode name of `c` if it is one of the formatting characters SPEC.md §1 refuses.
pub fn formatting_name(c: char) -> Option<&'static str> {
    if !is_formatting(c) {
        return None;
    }
    let c = u32::from(c);
    FORMATTING.iter().find(|(code, _)| *code == c).map(|(_, name)| *name)
}

/// The first formatting character SPEC.md §1 refuses in `s`, if any. Each of them is encoded
/// with a lead byte D8, E2 or EF, and lead bytes start characters, so only the characters that
/// start at those bytes are looked at: text without them (most text) is cleared by one
/// `memchr3` pass, and text with dashes and quotes (E2 too) by a look at each of those.
pub fn first_formatting(s: &str) -> Option<char> {
    // Most values on a page (ids, dates, amounts, URLs) are ASCII: one word-at-a-time test, no
    // searcher to set up.
    if s.is_ascii() {
        return None;
    }
    memchr::memchr3_iter(0xD8, 0xE2, 0xEF, s.as_bytes())
        .find_map(|at| s.get(at..).and_then(|rest| rest.chars().next()).filter(|&c| is_formatting(c)))
}

/// `s` with every formatting character SPEC.md §1 refuses replaced by a visible marker such as
/// `[U+202E]`: what pages and CSV files show of an entry logged before revision 3 refused them.
/// Borrows `s` when it holds none.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if first_formatting(s).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_formatting(c) {
            out.push_str(&format!("[U+{:04X}]", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Why a text holding `c` is refused, in words: which character, and what to do.
pub fn formatting_refusal(c: char) -> String {
    format!(
        "holds U+{:04X} {}, an invisible or bidirectional formatting character that makes the text display differently from what is logged (SPEC.md §1); remove it",
        u32::from(c),
        formatting_name(c).unwrap_or("(formatting character)")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_formatting_character_is_found_among_dashes_quotes_and_arabic() {
        let naive = |s: &str| s.chars().find(|&c| formatting_name(c).is_some());
        for s in [
            "plain ascii",
            "an em dash \u{2014} and \u{201C}quotes\u{201D}, \u{20AC}5",
            "\u{2014}\u{200B}",
            "Acme\u{202E}sdA",
            "\u{0627}\u{061C}\u{0628}",
            "\u{FEFF}bom",
            "\u{FEFE}\u{FFFD}\u{2065}\u{2070}",
            "\u{0600}\u{061B}\u{061D}",
        ] {
            assert_eq!(first_formatting(s), naive(s), "{s:?}");
            assert_eq!(neutralise(s).contains("[U+"), naive(s).is_some(), "{s:?}");
        }
    }

    #[test]
    fn every_listed_range_is_refused_and_nothing_next_to_it() {
        let refused: Vec<u32> = [0x061C..=0x061C, 0x200B..=0x200F, 0x202A..=0x202E, 0x2060..=0x2064, 0x2066..=0x2069, 0xFEFF..=0xFEFF]
            .into_iter()
            .flatten()
            .collect();
        for code in 0x0600..0x2100u32 {
            if let Some(c) = char::from_u32(code) {
                assert_eq!(formatting_name(c).is_some(), refused.contains(&code), "U+{code:04X}");
            }
        }
        for code in refused {
            let c = char::from_u32(code).expect("a char");
            let text = format!("Acme{c}Ads");
            assert_eq!(first_formatting(&text), Some(c));
            assert_eq!(neutralise(&text), format!("Acme[U+{code:04X}]Ads"));
        }
        // Neighbours that are ordinary text (U+2065 is unassigned, U+2010 a hyphen).
        for ok in ["Acme Ads", "“quoted” — dash", "\u{2010}\u{2065}\u{FEFE}\u{061B}", "ÄÖÜ 😀"] {
            assert_eq!(first_formatting(ok), None, "{ok}");
            assert!(matches!(neutralise(ok), Cow::Borrowed(_)));
        }
    }

    #[test]
    fn a_refusal_names_the_character() {
        let why = formatting_refusal('\u{202E}');
        assert!(why.contains("U+202E RIGHT-TO-LEFT OVERRIDE"), "{why}");
    }
}
