//! Canonical bytes (SPEC.md §1, §4): RFC 8785 JSON (`jcs`, and the fast `jcs_value` and
//! `is_jcs` that most records take), and the message a signer signs. Entries, built around
//! these bytes, are `entry.rs`'s.
//!
//! Over 400 lines because of its tests: the fast canonical form and the check of canonical
//! text are held to `serde_jcs` by property tests, kept beside the code they test.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::json_text::push_str;

/// Domain separation prefix of every record signature (SPEC.md §4).
pub const SIGNATURE_CONTEXT: &[u8] = b"sightline/record/v1\n";

/// `JCS(v)`: RFC 8785 canonical JSON.
pub fn jcs<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_jcs::to_vec(value).map_err(|e| Error::malformed("JSON value", e.to_string()))
}

/// `JCS(v)` of a JSON value: the same bytes as [`jcs`], several times faster.
///
/// Records hold strings, booleans, nulls and small integers, whose RFC 8785 form
/// is what `serde_json` writes once object members are in UTF-16 order. Anything
/// else (a non-integer number, an integer beyond ±2^53) goes through [`jcs`].
pub fn jcs_value(value: &Value) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    if write_canonical(value, &mut out) {
        Ok(out)
    } else {
        jcs(value)
    }
}

/// Writes `v` in RFC 8785 form; `false` if it holds a number this fast path leaves to [`jcs`].
fn write_canonical(v: &Value, out: &mut Vec<u8>) -> bool {
    const EXACT: u64 = 1 << 53;
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) if u <= EXACT => out.extend_from_slice(u.to_string().as_bytes()),
            (None, Some(i)) if i.unsigned_abs() <= EXACT => out.extend_from_slice(i.to_string().as_bytes()),
            _ => return false,
        },
        Value::String(s) => push_str(out, s),
        Value::Array(a) => {
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if !write_canonical(x, out) {
                    return false;
                }
            }
            out.push(b']');
        }
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            // Map order is code point order (or insertion order); RFC 8785 wants UTF-16 code units.
            if !members.windows(2).all(|w| utf16_cmp(w[0].0, w[1].0).is_lt()) {
                members.sort_by(|a, b| utf16_cmp(a.0, b.0));
            }
            out.push(b'{');
            for (i, (k, x)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_str(out, k);
                out.push(b':');
                if !write_canonical(x, out) {
                    return false;
                }
            }
            out.push(b'}');
        }
    }
    true
}

/// Whether `text` is already `JCS(v)` of the JSON value `v` it holds, for the values
/// [`jcs_value`] writes itself: null, booleans, integers within ±2^53, strings, arrays and
/// objects. One pass, no allocation.
///
/// `true` guarantees `jcs(parse(text)) == text`. `false` means "not known to be canonical",
/// never "invalid": the caller canonicalises the parsed value instead. So anything rare
/// answers `false` rather than being decided here: whitespace, a fraction or exponent,
/// `-0`, a key with an escape, an escape RFC 8785 does not write (`\/`, `\u0041`,
/// upper-case hex), nesting deeper than [`MAX_JCS_DEPTH`].
pub(crate) fn is_jcs(text: &str) -> bool {
    let mut pos = 0;
    jcs_value_at(text, &mut pos, 0) && pos == text.len()
}

/// Deepest nesting of arrays and objects [`is_jcs`] accepts: what `serde_json` parses (its
/// recursion limit refuses a 128th level), so that accepted text always parses.
const MAX_JCS_DEPTH: usize = 127;

/// [`is_jcs`] of the value at `pos`, `depth` levels of `[`/`{` inside a document; moves `pos`
/// past it when it is canonical.
pub(crate) fn jcs_value_at(t: &str, pos: &mut usize, depth: usize) -> bool {
    let b = t.as_bytes();
    match b.get(*pos) {
        Some(b'{') if depth < MAX_JCS_DEPTH => {
            *pos += 1;
            if b.get(*pos) == Some(&b'}') {
                *pos += 1;
                return true;
            }
            let mut prev: Option<&str> = None;
            loop {
                let Some((key, false)) = jcs_string_at(t, pos) else { return false };
                if prev.is_some_and(|p| !utf16_cmp(p, key).is_lt()) || b.get(*pos) != Some(&b':') {
                    return false;
                }
                *pos += 1;
                prev = Some(key);
                if !jcs_value_at(t, pos, depth + 1) {
                    return false;
                }
                match jcs_separator_at(b, pos, b'}') {
                    Some(true) => return true,
                    Some(false) => {}
                    None => return false,
                }
            }
        }
        Some(b'[') if depth < MAX_JCS_DEPTH => {
            *pos += 1;
            if b.get(*pos) == Some(&b']') {
                *pos += 1;
                return true;
            }
            loop {
                if !jcs_value_at(t, pos, depth + 1) {
                    return false;
                }
                match jcs_separator_at(b, pos, b']') {
                    Some(true) => return true,
                    Some(false) => {}
                    None => return false,
                }
            }
        }
        Some(b'"') => jcs_string_at(t, pos).is_some(),
        Some(b't') => jcs_literal_at(b, pos, b"true"),
        Some(b'f') => jcs_literal_at(b, pos, b"false"),
        Some(b'n') => jcs_literal_at(b, pos, b"null"),
        Some(b'-' | b'0'..=b'9') => jcs_integer_at(b, pos),
        _ => false,
    }
}

/// Past a member or element: `Some(false)` after a comma, `Some(true)` after `close`.
fn jcs_separator_at(b: &[u8], pos: &mut usize, close: u8) -> Option<bool> {
    let c = *b.get(*pos)?;
    *pos += 1;
    match c {
        b',' => Some(false),
        c if c == close => Some(true),
        _ => None,
    }
}

fn jcs_literal_at(b: &[u8], pos: &mut usize, literal: &[u8]) -> bool {
    let ok = b.get(*pos..*pos + literal.len()) == Some(literal);
    *pos += literal.len();
    ok
}

/// An integer as RFC 8785 writes it: no leading zero, no `-0`, within ±2^53.
fn jcs_integer_at(b: &[u8], pos: &mut usize) -> bool {
    let negative = b.get(*pos) == Some(&b'-');
    if negative {
        *pos += 1;
    }
    let start = *pos;
    let mut n: u64 = 0;
    while let Some(d @ b'0'..=b'9') = b.get(*pos).copied() {
        n = match n.checked_mul(10).and_then(|n| n.checked_add(u64::from(d - b'0'))) {
            Some(n) if n <= 1 << 53 => n,
            _ => return false,
        };
        *pos += 1;
    }
    let digits = *pos - start;
    let well_formed = digits == 1 || (digits > 1 && b[start] != b'0');
    well_formed && !(negative && n == 0) && !matches!(b.get(*pos), Some(b'.' | b'e' | b'E'))
}

/// A string as [`write_str`] writes it: its raw content, and whether it holds an escape.
fn jcs_string_at<'t>(t: &'t str, pos: &mut usize) -> Option<(&'t str, bool)> {
    let b = t.as_bytes();
    if b.get(*pos) != Some(&b'"') {
        return None;
    }
    let start = *pos + 1;
    let mut i = start;
    let mut escaped = false;
    loop {
        // Plain bytes (no quote, backslash or control character): 16 at a time, then one at a
        // time to the first byte that is not plain (testing a block at every offset is slower).
        while let Some(block) = b.get(i..i + 16).and_then(|s| <&[u8; 16]>::try_from(s).ok()) {
            if !all_plain(block) {
                break;
            }
            i += 16;
        }
        while b.get(i).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
            i += 1;
        }
        match *b.get(i)? {
            b'"' => break,
            b'\\' => {
                escaped = true;
                match *b.get(i + 1)? {
                    b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f' => i += 2,
                    b'u' => {
                        let hex = b.get(i + 2..i + 6)?;
                        let lower = |h: u8| match h {
                            b'0'..=b'9' => Some(h - b'0'),
                            b'a'..=b'f' => Some(h - b'a' + 10),
                            _ => None,
                        };
                        let c = 16 * lower(hex[2])? + lower(hex[3])?;
                        // Only control characters without a short escape are written as \u00xx.
                        if &hex[..2] != b"00" || c >= 0x20 || matches!(c, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                            return None;
                        }
                        i += 6;
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    *pos = i + 1;
    Some((t.get(start..i)?, escaped))
}

/// Whether a block holds no quote, backslash or control character: one pass with no
/// branch over a fixed size, which the compiler turns into a few vector compares.
fn all_plain(block: &[u8; 16]) -> bool {
    let mut stop = false;
    for &c in block {
        stop |= (c == b'"') | (c == b'\\') | (c < 0x20);
    }
    !stop
}

/// Orders two strings by their UTF-16 code units (RFC 8785 §3.2.3).
///
/// UTF-8 byte order is code point order, which differs from UTF-16 order only between a
/// character above U+FFFF (lead byte F0–F4) and one in U+E000–U+FFFF (lead byte EE or EF).
/// So the first differing byte decides whenever both are below 0xEE (a shared lead byte means
/// both characters are of one kind); only the rest are compared as UTF-16.
fn utf16_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    match x.iter().zip(y).position(|(p, q)| p != q) {
        None => x.len().cmp(&y.len()),
        Some(i) if x[i] < 0xEE && y[i] < 0xEE => x[i].cmp(&y[i]),
        Some(_) => a.encode_utf16().cmp(b.encode_utf16()),
    }
}

/// The bytes a signer signs for a body whose canonical bytes are `body_jcs`.
pub fn signed_message(body_jcs: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + body_jcs.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(body_jcs);
    m
}

/// Decodes a submitter public key (32 bytes, standard base64).
pub fn decode_public_key(b64: &str) -> std::result::Result<VerifyingKey, String> {
    let raw = B64.decode(b64).map_err(|_| "must be standard base64".to_string())?;
    let arr: [u8; 32] = raw.try_into().map_err(|_| "must be a 32-byte Ed25519 public key".to_string())?;
    VerifyingKey::from_bytes(&arr).map_err(|_| "is not a valid Ed25519 public key".to_string())
}

/// The largest integer a JSON number in a record may hold, 2^53 − 1 (SPEC.md §1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Decodes a 64-byte Ed25519 signature from standard base64.
pub fn decode_signature(b64: &str) -> std::result::Result<[u8; 64], String> {
    let raw = B64.decode(b64).map_err(|_| "must be standard base64".to_string())?;
    raw.try_into().map_err(|_| "must be a 64-byte Ed25519 signature".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        // Keys and strings mix ASCII, control characters, BMP characters above
        // U+E000 and supplementary characters, where UTF-16 and code point order differ.
        let text =
            || proptest::string::string_regex("[a-cA-C0-9\\x00-\\x1f\"\\\\/é\u{2028}\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,6}").unwrap();
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-(1i64 << 53)..=(1i64 << 53)).prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map(text(), inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Key order decided at the first differing byte is UTF-16 order.
        #[test]
        fn utf16_cmp_is_utf16_order(a in "[ab\u{7f}\u{80}é\u{e000}\u{efff}\u{ffff}\u{10000}\u{1f600}]{0,5}", b in "[ab\u{7f}\u{80}é\u{e000}\u{efff}\u{ffff}\u{10000}\u{1f600}]{0,5}") {
            proptest::prop_assert_eq!(utf16_cmp(&a, &b), a.encode_utf16().cmp(b.encode_utf16()));
        }

        #[test]
        fn the_fast_canonical_form_is_serde_jcs(v in any_json()) {
            proptest::prop_assert_eq!(jcs_value(&v).unwrap(), jcs(&v).unwrap());
        }
    }

    /// Texts of a value in the forms a submitter might send: canonical, as `serde_json`
    /// writes it (code point order, any number), pretty-printed, and with one byte changed.
    fn any_json_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        (any_json(), 0..8u8, any::<proptest::sample::Index>(), any::<u8>()).prop_map(|(v, form, at, byte)| match form {
            0 => String::from_utf8(jcs(&v).unwrap()).unwrap(),
            1 => serde_json::to_string(&v).unwrap(),
            2 => serde_json::to_string_pretty(&v).unwrap(),
            3 => members_reversed(&v),
            // Escapes that JSON allows and RFC 8785 never writes.
            4 => String::from_utf8(jcs(&v).unwrap()).unwrap().replacen('/', "\\/", 1),
            5 => String::from_utf8(jcs(&v).unwrap()).unwrap().replacen('a', "\\u0061", 1),
            6 => String::from_utf8(jcs(&v).unwrap()).unwrap().replacen('é', "\\u00e9", 1),
            _ => {
                let mut b = jcs(&v).unwrap();
                let i = at.index(b.len());
                let subs = b"\\\"u0aAeE.-,:[]{} 9/";
                b[i] = subs[usize::from(byte) % subs.len()];
                String::from_utf8_lossy(&b).into_owned()
            }
        })
    }

    /// Canonical but for the order of object members, which is reversed.
    fn members_reversed(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let mut members: Vec<_> = m.iter().collect();
                members.sort_by(|a, b| utf16_cmp(b.0, a.0));
                let inner: Vec<String> =
                    members.iter().map(|(k, x)| format!("{}:{}", Value::from(k.as_str()), members_reversed(x))).collect();
                format!("{{{}}}", inner.join(","))
            }
            Value::Array(a) => format!("[{}]", a.iter().map(members_reversed).collect::<Vec<_>>().join(",")),
            leaf => String::from_utf8(jcs(leaf).unwrap()).unwrap(),
        }
    }

    fn has_escaped_key(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, x)| k.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') || has_escaped_key(x)),
            Value::Array(a) => a.iter().any(has_escaped_key),
            _ => false,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2048))]
        /// Sound: whatever `is_jcs` accepts parses, and is its own canonical form. Complete
        /// where it matters: the canonical form of a value that `jcs_value` writes itself is
        /// accepted unless a key holds an escape.
        #[test]
        fn is_jcs_accepts_only_canonical_text(text in any_json_text()) {
            if is_jcs(&text) {
                let v: Value = serde_json::from_str(&text).expect("accepted text parses");
                proptest::prop_assert_eq!(jcs(&v).unwrap(), text.as_bytes());
            }
            if let Ok(v) = serde_json::from_str::<Value>(&text) {
                let canonical = String::from_utf8(jcs(&v).unwrap()).unwrap();
                if write_canonical(&v, &mut Vec::new()) && !has_escaped_key(&v) {
                    proptest::prop_assert!(is_jcs(&canonical), "{}", canonical);
                }
            }
        }
    }

    #[test]
    fn is_jcs_decides_the_edge_cases() {
        for ok in [
            r#"{}"#,
            r#"[]"#,
            r#"{"a":[1,-2,0,9007199254740992,-9007199254740992],"b":"\u001f\n\"é"}"#,
            "{\"\u{1f600}\":1,\"\u{ffff}\":2}",
            r#""\u0000""#,
            "null",
        ] {
            assert!(is_jcs(ok), "{ok}");
        }
        for no in [
            r#"{"b":1,"a":2}"#,
            r#"{"a":1,"a":1}"#,
            "{\"\u{ffff}\":2,\"\u{1f600}\":1}",
            r#"{"a\n":1}"#,
            r#"{ "a":1}"#,
            r#"[1,]"#,
            r#"[01]"#,
            r#"[-0]"#,
            r#"[1.0]"#,
            r#"[1e2]"#,
            r#"[9007199254740993]"#,
            r#"["\u0041"]"#,
            r#"["\u000a"]"#,
            r#"["\u001F"]"#,
            r#"["\/"]"#,
            "[\"\t\"]",
            "tru",
            r#"{"a":1}x"#,
            "",
        ] {
            assert!(!is_jcs(no), "{no}");
        }
        let nested = |n: usize| format!("{}{}{}", "[".repeat(n), r#"{"a":1}"#, "]".repeat(n));
        assert!(!is_jcs(&nested(200)));
        // As deep as serde_json parses, and no deeper: what is_jcs accepts must parse.
        let deepest = nested(MAX_JCS_DEPTH - 1);
        assert!(is_jcs(&deepest) && serde_json::from_str::<Value>(&deepest).is_ok());
        let too_deep = nested(MAX_JCS_DEPTH);
        assert!(!is_jcs(&too_deep) && serde_json::from_str::<Value>(&too_deep).is_err());
    }

    #[test]
    fn the_fast_canonical_form_orders_members_by_utf16() {
        let v = serde_json::json!({"\u{ffff}": 1, "\u{1f600}": 2, "b": "\u{7}\n\"", "a": [1.5, -0.0, 1e21, 9007199254740993u64]});
        assert_eq!(jcs_value(&v).unwrap(), jcs(&v).unwrap());
        let bytes = String::from_utf8(jcs_value(&v).unwrap()).unwrap();
        assert!(bytes.find('\u{1f600}') < bytes.find('\u{ffff}'), "{bytes}");
    }
}
