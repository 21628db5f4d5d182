//! The one JSON string writer: the strings of canonical bytes (RFC 8785 escapes a string as
//! `serde_json` does) and of the server's ingestion response, which is mostly long base64 and
//! proof text.
//!
//! [`push_str`] writes exactly what `serde_json` writes for a string (a test compares the two
//! on random and hostile text): `"` and `\` escaped with a backslash, `\b \f \n \r \t` by
//! name, other control bytes as `\u00xx`, everything else copied. `serde_json` looks at one
//! byte at a time; this tests 16 bytes at once (a loop the compiler turns into vector
//! compares) and copies a clean run with one write. A batch's receipts are several megabytes
//! of such text, and the byte-at-a-time scan was 5% of the server's CPU per ingested record
//! (BENCHMARKS.md).

/// Bytes tested at once.
const BLOCK: usize = 16;

/// Whether any byte of `block` must be escaped. Written without early exit so that it
/// compiles to a handful of vector compares.
fn needs_escape(block: &[u8; BLOCK]) -> bool {
    let mut hit = 0u8;
    for &b in block {
        hit |= u8::from(b == b'"') | u8::from(b == b'\\') | u8::from(b < 0x20);
    }
    hit != 0
}

/// The escape for byte `b`, if it needs one: its length and bytes.
fn escape(b: u8) -> Option<([u8; 6], usize)> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let named = |c: u8| Some(([b'\\', c, 0, 0, 0, 0], 2));
    match b {
        b'"' => named(b'"'),
        b'\\' => named(b'\\'),
        b'\n' => named(b'n'),
        b'\r' => named(b'r'),
        b'\t' => named(b't'),
        0x08 => named(b'b'),
        0x0c => named(b'f'),
        b if b < 0x20 => Some(([b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]], 6)),
        _ => None,
    }
}

/// Appends `s` as a quoted JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `last..i` is the clean run not yet written. Escaping works on bytes: multi-byte UTF-8
    // is copied through unchanged, as every byte of it is >= 0x80.
    let (mut last, mut i) = (0, 0);
    while i < bytes.len() {
        let end = (i + BLOCK).min(bytes.len());
        let clean = bytes.get(i..i + BLOCK).and_then(|b| <&[u8; BLOCK]>::try_from(b).ok()).is_some_and(|b| !needs_escape(b));
        if !clean {
            for (at, &b) in bytes.iter().enumerate().take(end).skip(i) {
                if let Some((esc, len)) = escape(b) {
                    out.extend_from_slice(bytes.get(last..at).unwrap_or_default());
                    out.extend_from_slice(esc.get(..len).unwrap_or_default());
                    last = at + 1;
                }
            }
        }
        i = end;
    }
    out.extend_from_slice(bytes.get(last..).unwrap_or_default());
    out.push(b'"');
}

/// Appends `s` as a quoted JSON string, or `null`.
pub fn push_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    fn ours(s: &str) -> String {
        let mut out = Vec::new();
        super::push_str(&mut out, s);
        String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
    }

    #[test]
    fn fixed_cases_match_serde_json() {
        let cases = [
            "",
            "plain",
            "c2sp.org/tlog-proof@v1\nindex 7\n",
            "\"quoted\" and \\backslash\\",
            "\u{0}\u{1}\u{8}\u{9}\u{a}\u{b}\u{c}\u{d}\u{1f} \u{7f}",
            "ünïcödé — ✓ 𝄞 and more than sixteen bytes of ☃☃☃☃☃☃",
            "exactly sixteen!",
            "sixteen + \"one\"!",
        ];
        for s in cases {
            assert_eq!(ours(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_matches_serde_json(s in any::<String>()) {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn hostile_text_matches_serde_json(s in "[\"\\\\\u{0}-\u{1f}a-z<>&é☃𝄞]{0,80}") {
            prop_assert_eq!(ours(&s), serde_json::to_string(&s).unwrap());
        }
    }
}
