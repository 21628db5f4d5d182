//! The field checks SPEC.md §1 defines once for every record kind: ids, free text, digests,
//! times, countries. Each failure is an [`Error::InvalidRecord`] naming the field's JSON path.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// Builds an [`Error::InvalidRecord`].
pub fn invalid(record: usize, field: &str, why: impl Into<String>) -> Error {
    Error::InvalidRecord { record, field: field.to_string(), why: why.into() }
}

/// The JSON path of a checked field: a `&str`, or a function that builds it, so
/// that a path like `lineage[3].provider` is only formatted when its check fails.
pub trait FieldPath {
    /// The path, spelled out.
    fn path(&self) -> String;
}

impl FieldPath for &str {
    fn path(&self) -> String {
        (*self).to_string()
    }
}

impl<F: Fn() -> String> FieldPath for F {
    fn path(&self) -> String {
        self()
    }
}

/// Ids: 1–128 characters of `A-Z a-z 0-9 . _ : / -`.
pub fn check_id(r: usize, field: impl FieldPath, s: &str) -> Result<()> {
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:/-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(r, &field.path(), "must be 1–128 characters of A-Z a-z 0-9 . _ : / -"))
    }
}

/// Free text: 1–2000 characters (Unicode code points), no control characters (Unicode
/// category Cc: U+0000–U+001F and U+007F–U+009F, what `char::is_control` says) and none of the
/// invisible or bidirectional formatting characters of [`crate::text`] (revision 3).
pub fn check_text(r: usize, field: impl FieldPath, s: &str) -> Result<()> {
    // One pass over the bytes: a character is counted at its leading byte, and a control
    // character is a byte below 0x20, 0x7F, or 0xC2 followed by 0x80–0x9F (U+0080–U+009F).
    let b = s.as_bytes();
    let (mut chars, mut control) = (0usize, false);
    for (i, &c) in b.iter().enumerate() {
        chars += usize::from(c & 0xC0 != 0x80);
        control |= c < 0x20 || c == 0x7F || (c == 0xC2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)));
    }
    if chars == 0 || chars > 2000 {
        return Err(invalid(r, &field.path(), "must be 1–2000 characters"));
    }
    if control {
        return Err(invalid(r, &field.path(), "must not contain control characters"));
    }
    if let Some(c) = crate::model::text::first_formatting(s) {
        return Err(invalid(r, &field.path(), crate::model::text::formatting_refusal(c)));
    }
    Ok(())
}

/// `hex32`: 64 lowercase hex digits.
pub fn check_hex32(r: usize, field: impl FieldPath, s: &str) -> Result<()> {
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(invalid(r, &field.path(), "must be a SHA-256 digest as 64 lowercase hex digits"))
    }
}

/// RFC 3339 UTC time with `Z`, at most millisecond precision, not before 2000.
pub fn check_time(r: usize, field: &str, s: &str) -> Result<OffsetDateTime> {
    let t = parse_time(s).ok_or_else(|| invalid(r, field, format!("`{s}` is not an RFC 3339 UTC time such as 2026-11-20T18:04:05Z")))?;
    if t.year() < 2000 {
        return Err(invalid(r, field, format!("`{s}` is before 2000-01-01, which is not a plausible time for a served message")));
    }
    Ok(t)
}

/// Parses an RFC 3339 time in UTC (`Z`) with at most millisecond precision.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if !s.ends_with('Z') || s.len() > 24 {
        return None;
    }
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    if t.nanosecond() % 1_000_000 != 0 {
        return None;
    }
    Some(t)
}

/// Formats a time as SPEC.md §1 requires (UTC, `Z`, milliseconds).
pub fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// An ISO 3166-1 alpha-2 country code from the real list ([`crate::codes::is_country`]).
pub fn check_country(r: usize, field: &str, s: &str) -> Result<()> {
    if crate::model::codes::is_country(s) {
        Ok(())
    } else {
        Err(invalid(r, field, format!("`{s}` is not an ISO 3166-1 alpha-2 country code (such as DE or FR)")))
    }
}

/// An `https://` URL (or `mailto:` where allowed) of plain printable characters.
pub(crate) fn check_url(r: usize, field: &str, u: &str, mailto_ok: bool) -> Result<()> {
    let scheme_ok = u.starts_with("https://") || (mailto_ok && u.starts_with("mailto:"));
    let chars_ok = u.len() <= 2000 && u.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"'`\\".contains(&b));
    if scheme_ok && chars_ok && u.len() > 8 {
        Ok(())
    } else if mailto_ok {
        Err(invalid(r, field, "must be an https:// URL, a mailto: address, or \"not_disclosed\""))
    } else {
        Err(invalid(r, field, "must be an https:// URL (or \"not_disclosed\")"))
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The one-pass text check says what counting and testing each `char` says.
        #[test]
        fn check_text_agrees_with_chars(s in "(\\PC|\\p{Cc}|[\\u{80}-\\u{9f}\\u{a0}\\u{c280}\\u{202e}\\u{200b}\\u{feff}\\u{2010}]){0,12}", long in 1990usize..2010) {
            for text in [s.clone(), s.repeat(long / s.chars().count().max(1) + 1)] {
                let n = text.chars().count();
                let formatting = text.chars().any(|c| crate::model::text::formatting_name(c).is_some());
                let want = (1..=2000).contains(&n) && !text.chars().any(char::is_control) && !formatting;
                proptest::prop_assert_eq!(super::check_text(0, "f", &text).is_ok(), want, "{:?}", text);
            }
        }
    }
}

#[cfg(test)]
mod rules {
    use super::*;

    #[test]
    fn lengths_count_code_points_not_bytes() {
        // 2000 four-byte characters are 2000 characters (8000 bytes): accepted; one more is not.
        assert!(check_text(0, "f", &"😀".repeat(2000)).is_ok());
        assert!(check_text(0, "f", &"😀".repeat(2001)).is_err());
        assert!(check_text(0, "f", &"é".repeat(2000)).is_ok());
    }

    #[test]
    fn bidi_and_zero_width_characters_are_refused_naming_the_field() {
        for bad in ["Acme\u{202E}sdA", "Ac\u{200B}me", "\u{FEFF}Acme", "A\u{2066}B\u{2069}", "\u{061C}x"] {
            let Err(Error::InvalidRecord { field, why, .. }) = check_text(3, "delivery.creative.brand", bad) else {
                panic!("accepted {bad:?}")
            };
            assert_eq!(field, "delivery.creative.brand");
            assert!(why.contains("U+") && why.contains("remove it"), "{why}");
        }
    }

    #[test]
    fn countries_come_from_the_iso_list() {
        assert!(check_country(0, "established_in", "DE").is_ok());
        assert!(check_country(0, "established_in", "EL").is_ok());
        let Err(Error::InvalidRecord { why, .. }) = check_country(0, "established_in", "XX") else { panic!("XX accepted") };
        assert!(why.contains("`XX` is not an ISO 3166-1 alpha-2"), "{why}");
    }
}
