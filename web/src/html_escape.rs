//! HTML escaping for every page: askama's escaper for `.html` templates (`web/askama.toml`).
//!
//! Text first goes through [`sightline_ledger::text::neutralise`], so a bidirectional or
//! zero-width character an old entry holds shows as a marker such as `[U+202E]` on every page.
//! Then it writes exactly what askama's built-in `Html` escaper writes: `"` `&` `'` `<` `>` become
//! `&#34;` `&#38;` `&#39;` `&#60;` `&#62;` and every other byte is copied (a test compares the
//! two on random and hostile text). The built-in one looks at one byte at a time; this one
//! first tests 16 bytes at once (a loop the compiler turns into vector compares) and copies
//! a clean run with one write. Escaping was the largest single cost of rendering a why page
//! (BENCHMARKS.md).

use std::fmt::{self, Write};

/// The `.html` escaper named in `web/askama.toml`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Html;

/// Bytes tested at once.
const BLOCK: usize = 16;

/// The entity for a byte that must be escaped.
fn entity(b: u8) -> Option<&'static str> {
    match b {
        b'"' => Some("&#34;"),
        b'&' => Some("&#38;"),
        b'\'' => Some("&#39;"),
        b'<' => Some("&#60;"),
        b'>' => Some("&#62;"),
        _ => None,
    }
}

/// Whether any byte of `block` must be escaped. Written without early exit so that it
/// compiles to a handful of vector compares.
fn needs_escape(block: &[u8; BLOCK]) -> bool {
    let mut hit = 0u8;
    for &b in block {
        hit |= u8::from(b == b'"') | u8::from(b == b'&') | u8::from(b == b'\'') | u8::from(b == b'<') | u8::from(b == b'>');
    }
    hit != 0
}

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: Write>(&self, mut dest: W, s: &str) -> fmt::Result {
        // An entry logged before revision 3 may hold a bidirectional or zero-width character
        // (SPEC.md §1): every page shows it as a visible marker such as `[U+202E]`.
        escape_into(&mut dest, &sightline_ledger::text::neutralise(s))
    }
}

/// Writes `s` escaped: the same bytes as askama's `Html`, a clean run at a time.
fn escape_into<W: Write>(dest: &mut W, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    // `last..i` is the clean run not yet written; it only ever ends before an ASCII byte
    // (or at the end), so it is a valid `str` slice.
    let (mut last, mut i) = (0, 0);
    while i < bytes.len() {
        let clean = match bytes.get(i..i + BLOCK) {
            Some(b) => <&[u8; BLOCK]>::try_from(b).is_ok_and(|b| !needs_escape(b)),
            // The short tail (most values on a page are short), tested padded with zeros.
            None => {
                let mut tail = [0u8; BLOCK];
                for (t, b) in tail.iter_mut().zip(bytes.get(i..).unwrap_or_default()) {
                    *t = *b;
                }
                !needs_escape(&tail)
            }
        };
        if clean {
            i += BLOCK;
            continue;
        }
        let end = (i + BLOCK).min(bytes.len());
        for (at, &b) in bytes.iter().enumerate().take(end).skip(i) {
            if let Some(e) = entity(b) {
                dest.write_str(s.get(last..at).unwrap_or_default())?;
                dest.write_str(e)?;
                last = at + 1;
            }
        }
        i = end;
    }
    dest.write_str(s.get(last..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use askama::filters::Escaper;
    use proptest::prelude::*;

    use super::Html;

    fn ours(s: &str) -> String {
        let mut out = String::new();
        Html.write_escaped_str(&mut out, s).expect("write to a String");
        out
    }

    /// Askama's escaping of the text as every page shows it (formatting characters as markers).
    fn askamas(s: &str) -> String {
        let mut out = String::new();
        askama::filters::Html.write_escaped_str(&mut out, &sightline_ledger::text::neutralise(s)).expect("write to a String");
        out
    }

    #[test]
    fn formatting_characters_show_as_markers() {
        assert_eq!(ours("<b>Acme\u{202E}sdA</b>\u{200B}"), "&#60;b&#62;Acme[U+202E]sdA&#60;/b&#62;[U+200B]");
    }

    #[test]
    fn escapes_what_askama_escapes() {
        for s in [
            "",
            "plain",
            "<script>alert('x')</script>",
            "\"&'<>",
            "a 16-byte block!<",
            "fifteen bytes..<",
            "Ünïcödé “quotes” & <tags> in a longer text that spans several blocks of sixteen bytes'",
            "0123456789abcdef0123456789abcdef",
            "0123456789abcdef0123456789abcde>",
        ] {
            assert_eq!(ours(s), askamas(s), "{s:?}");
        }
        assert_eq!(ours("<a href=\"x\">"), "&#60;a href=&#34;x&#34;&#62;");
    }

    proptest! {
        #[test]
        fn same_bytes_as_askama(s in "(?s)[a-z <>\"'&é€😀\\n]{0,80}") {
            prop_assert_eq!(ours(&s), askamas(&s));
        }

        #[test]
        fn same_bytes_as_askama_on_any_text(s in any::<String>()) {
            prop_assert_eq!(ours(&s), askamas(&s));
        }
    }
}
