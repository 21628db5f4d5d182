//! JSON string writing for the ingestion response, which is mostly long base64 and proof text.
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

/// Appends the escape for `b`, or `b` itself.
fn push_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b if b < 0x20 => out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]),
        b => out.push(b),
    }
}

/// Appends `s` as a quoted JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut i = 0;
    while let Some(block) = bytes.get(i..i + BLOCK) {
        match <&[u8; BLOCK]>::try_from(block) {
            Ok(b) if !needs_escape(b) => out.extend_from_slice(block),
            _ => block.iter().for_each(|&b| push_byte(out, b)),
        }
        i += BLOCK;
    }
    // The short tail, one byte at a time (escaping works on bytes: multi-byte UTF-8 is
    // copied through unchanged, as every byte of it is >= 0x80).
    for &b in bytes.get(i..).unwrap_or_default() {
        push_byte(out, b);
    }
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
