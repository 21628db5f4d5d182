//! Entry references (SPEC §10.2): `<origin> <index> <leaf hash, 64 hex digits>`, as a served
//! message carries it in a `Sightline-Entry` header or a `data-sightline-entry` attribute, or
//! `#sightline-entry=<index>.<leaf hash>` at the end of a why link (text messages, pushes).

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// A reference as read from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The log it names; `None` in a why link's fragment, which names the log serving the link.
    pub origin: Option<String>,
    /// The entry's index.
    pub index: u64,
    /// The entry's leaf hash.
    pub leaf: Hash,
}

impl Reference {
    /// The reference as text (`<origin> <index> <leaf hex>`; the origin as `?` when unnamed).
    pub fn text(&self) -> String {
        format!("{} {} {}", self.origin.as_deref().unwrap_or("?"), self.index, hex::encode(self.leaf))
    }
}

const SHAPE: &str = "a reference is `<log origin> <entry index> <leaf hash as 64 hex digits>`";

/// Reads a reference value (a header's value may be folded over lines). `what` names where it
/// was found, for messages.
pub fn parse_reference(text: &str, what: &str) -> Result<Reference> {
    let bad = |d: String| Error::unusable(what, d);
    let parts: Vec<&str> = text.split_ascii_whitespace().collect();
    let [origin, index, leaf] = parts.as_slice() else {
        return Err(bad(format!("it has {} parts, not 3 ({SHAPE}); is it cut off?", parts.len())));
    };
    if origin.contains(['+', '\u{7f}']) || origin.chars().any(char::is_control) {
        return Err(bad(format!("the log origin {origin:?} is not a log name")));
    }
    Ok(Reference {
        origin: Some((*origin).to_string()),
        index: parse_index(index).ok_or_else(|| bad(bad_index(index)))?,
        leaf: parse_leaf(leaf, &bad)?,
    })
}

/// The reference at the end of a why link (`…#sightline-entry=<index>.<leaf hash>`), if any.
pub fn from_why_url(url: &str, what: &str) -> Result<Option<Reference>> {
    let Some((_, fragment)) = url.split_once('#') else { return Ok(None) };
    let Some(value) = fragment.strip_prefix("sightline-entry=") else { return Ok(None) };
    let bad = |d: String| Error::unusable(what, d);
    let (index, leaf) =
        value.split_once('.').ok_or_else(|| bad("the link's reference is not `<entry index>.<leaf hash>`; is it cut off?".into()))?;
    Ok(Some(Reference { origin: None, index: parse_index(index).ok_or_else(|| bad(bad_index(index)))?, leaf: parse_leaf(leaf, &bad)? }))
}

fn parse_index(s: &str) -> Option<u64> {
    crate::note::parse_decimal(s)
}

fn bad_index(s: &str) -> String {
    format!("the entry index {s:?} is not a decimal number ({SHAPE})")
}

fn parse_leaf(s: &str, bad: &dyn Fn(String) -> Error) -> Result<Hash> {
    if s.len() != 64 {
        return Err(bad(format!("the leaf hash has {} characters, not 64 hex digits; the reference is damaged or cut off", s.len())));
    }
    let bytes = hex::decode(s).map_err(|_| bad(format!("the leaf hash {s:?} is not hex")))?;
    Hash::try_from(bytes.as_slice()).map_err(|_| bad("the leaf hash is not 32 bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> String {
        "ab".repeat(32)
    }

    #[test]
    fn a_reference_is_origin_index_and_leaf_hash_even_when_folded() {
        let r = parse_reference(&format!(" sightline.example/log\r\n\t41 {}\r\n", leaf()), "h").unwrap();
        assert_eq!((r.origin.as_deref(), r.index, r.leaf), (Some("sightline.example/log"), 41, [0xab; 32]));
        assert_eq!(r.text(), format!("sightline.example/log 41 {}", leaf()));
    }

    #[test]
    fn a_damaged_reference_is_unusable_input_that_says_what_is_wrong() {
        for (text, says) in [
            (format!("log 41 {}", &leaf()[..63]), "63 characters"),
            (format!("log 41 {}zz", &leaf()[..62]), "not hex"),
            ("log 41".to_string(), "2 parts"),
            (format!("log -1 {}", leaf()), "not a decimal"),
            (format!("log 041 {}", leaf()), "not a decimal"),
            (format!("log 1 {} extra", leaf()), "4 parts"),
        ] {
            let e = parse_reference(&text, "the header").unwrap_err();
            assert_eq!(e.exit_code(), 2, "{text}");
            assert!(e.to_string().contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn a_why_link_carries_a_reference_in_its_fragment() {
        let url = format!("https://log.example/why/T#sightline-entry=7.{}", leaf());
        assert_eq!(from_why_url(&url, "l").unwrap(), Some(Reference { origin: None, index: 7, leaf: [0xab; 32] }));
        assert_eq!(from_why_url("https://log.example/why/T", "l").unwrap(), None);
        assert!(from_why_url("https://log.example/why/T#sightline-entry=7", "l").is_err());
    }
}
