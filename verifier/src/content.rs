//! The content rules of SPEC §1 and §3.4 the verifier re-applies to each body, beyond the
//! envelope and the top-level fields (`record.rs`):
//!
//! - **failures** (rules revision 2 already stated): the nullable fields `delivery.email_headers`,
//!   `sponsor.political`, `targeting.criteria[].special_category` and `lineage[].model` are
//!   present (`null` is a value; a missing field is silence, which §1 forbids); the Member State,
//!   language, currency and country codes are on their real lists (ISO 3166-1 alpha-2, ISO 639-1,
//!   ISO 4217, read from the same list crates the ledger uses, not from the ledger);
//! - **failures of a revision-3 body** (one with `targeting.audience`, `audience.rs`):
//!   every field revision 3 added is present, and the audience uses each criterion as its effect
//!   says; a revision-2 body has none of them and is not held to this;
//! - **warnings** (rules new in revision 3, so that a revision-2 log still verifies): a string
//!   that holds an invisible or bidirectional formatting character, named by entry and field.
//!
//! [`neutralise`] is how the verifier prints any text taken from an entry: such characters
//! become visible markers like `[U+202E]`, so a report cannot display differently from the log.

use std::borrow::Cow;

use crate::json::{Doc, Kind};

/// EU Member States as SPEC §1 spells them (`EL` for Greece).
const MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL",
    "PT", "RO", "SE", "SI", "SK",
];

/// The formatting characters SPEC §1 refuses in free text from revision 3 on.
fn is_formatting(c: char) -> bool {
    matches!(u32::from(c), 0x061C | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x2069 | 0xFEFF)
}

/// `s` with each formatting character of SPEC §1 shown as `[U+XXXX]`; borrowed when it has none.
pub fn neutralise(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_formatting) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| if is_formatting(c) { format!("[U+{:04X}]", u32::from(c)) } else { c.to_string() }).collect())
}

/// ISO 3166-1 alpha-2 as SPEC §1 takes it: an assigned code, or `EL` (the EU's code for Greece).
fn is_country(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) && (s == "EL" || celes::Country::from_alpha2(s).is_ok())
}

fn is_language(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase()) && isolang::Language::from_639_1(s).is_some()
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) && iso_currency::Currency::from_code(s).is_some()
}

/// The string at `obj.key`, if there is one.
fn text<'a>(doc: &Doc<'a>, obj: usize, key: &str) -> Option<Cow<'a, str>> {
    doc.get(obj, key).and_then(|i| doc.str(i))
}

/// Checks a `message` body (node `b`); the error names the field.
pub fn check_message(doc: &Doc<'_>, b: usize) -> Result<(), String> {
    let object =
        |obj: Option<usize>, name: &str| obj.filter(|&i| doc.kind(i) == Some(Kind::Obj)).ok_or(format!("body.{name} is not an object"));
    let present = |obj: usize, key: &str, path: &str| {
        doc.get(obj, key).map(|_| ()).ok_or(format!(
            "body.{path} is missing; SPEC §1 requires it to be present (null when it does not apply), and its absence would read as a statement the record never made"
        ))
    };
    let delivery = object(doc.get(b, "delivery"), "delivery")?;
    present(delivery, "email_headers", "delivery.email_headers")?;
    let state = text(doc, delivery, "member_state").unwrap_or_default();
    if !MEMBER_STATES.contains(&state.as_ref()) {
        return Err(format!("body.delivery.member_state {state:?} is not an EU Member State code (SPEC §1; EL for Greece)"));
    }
    let creative = object(doc.get(delivery, "creative"), "delivery.creative")?;
    let language = text(doc, creative, "language").unwrap_or_default();
    if !is_language(&language) {
        return Err(format!("body.delivery.creative.language {language:?} is not an ISO 639-1 language code"));
    }
    let sponsor = object(doc.get(b, "sponsor"), "sponsor")?;
    present(sponsor, "political", "sponsor.political")?;
    if let Some(political) = doc.get(sponsor, "political").filter(|&i| doc.kind(i) == Some(Kind::Obj)) {
        if let Some(amount) = doc.get(political, "amount").filter(|&i| doc.kind(i) == Some(Kind::Obj)) {
            let currency = text(doc, amount, "currency").unwrap_or_default();
            if !is_currency(&currency) {
                return Err(format!("body.sponsor.political.amount.currency {currency:?} is not an ISO 4217 currency code"));
            }
        }
    }
    let targeting = object(doc.get(b, "targeting"), "targeting")?;
    let criteria =
        doc.get(targeting, "criteria").filter(|&i| doc.kind(i) == Some(Kind::Arr)).ok_or("body.targeting.criteria is not a list")?;
    for (n, c) in doc.items(criteria).into_iter().enumerate() {
        let c = object(Some(c), &format!("targeting.criteria[{n}]"))?;
        present(c, "special_category", &format!("targeting.criteria[{n}].special_category"))?;
    }
    let lineage = doc.get(b, "lineage").filter(|&i| doc.kind(i) == Some(Kind::Arr)).ok_or("body.lineage is not a list")?;
    for (n, l) in doc.items(lineage).into_iter().enumerate() {
        let l = object(Some(l), &format!("lineage[{n}]"))?;
        present(l, "model", &format!("lineage[{n}].model"))?;
    }
    crate::audience::check_body(doc, b)
}

/// Checks a `party` body (node `b`): `established_in` is a country code.
pub fn check_party(doc: &Doc<'_>, b: usize) -> Result<(), String> {
    let country = text(doc, b, "established_in").unwrap_or_default();
    if is_country(&country) {
        Ok(())
    } else {
        Err(format!("body.established_in {country:?} is not an ISO 3166-1 alpha-2 country code"))
    }
}

/// A warning for each string in the body (node `b`) that holds a formatting character of
/// SPEC §1, naming its field. Canonical bytes write those characters as themselves (RFC 8785
/// escapes only control characters), and each is encoded with a lead byte D8, E2 or EF, so a
/// body without those bytes is cleared by one `memchr3` pass.
pub fn formatting_warnings(doc: &Doc<'_>, b: usize) -> Vec<String> {
    let mut out = Vec::new();
    if memchr::memchr3(0xD8, 0xE2, 0xEF, doc.raw(b).as_bytes()).is_some() {
        strings(doc, b, "body".to_string(), &mut out);
    }
    out
}

fn strings(doc: &Doc<'_>, at: usize, path: String, out: &mut Vec<String>) {
    match doc.kind(at) {
        Some(Kind::Str) => {
            if let Some(c) = doc.str(at).and_then(|s| s.chars().find(|&c| is_formatting(c))) {
                out.push(format!(
                    "field {path} holds U+{:04X}, an invisible or bidirectional formatting character (refused from SPEC revision 3 on; shown here as a marker)",
                    u32::from(c)
                ));
            }
        }
        Some(Kind::Obj) => {
            for (k, v) in doc.members(at) {
                strings(doc, v, format!("{path}.{}", neutralise(&k)), out);
            }
        }
        Some(Kind::Arr) => {
            for (n, v) in doc.items(at).into_iter().enumerate() {
                strings(doc, v, format!("{path}[{n}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_come_from_the_real_lists() {
        assert!(is_country("DE") && is_country("EL") && is_country("GR") && !is_country("XX") && !is_country("de"));
        assert!(is_language("de") && !is_language("xx") && !is_language("DE"));
        assert!(is_currency("EUR") && !is_currency("XYZ") && !is_currency("eur"));
    }

    #[test]
    fn formatting_characters_become_markers() {
        assert_eq!(neutralise("Acme\u{202E}sdA\u{200B}"), "Acme[U+202E]sdA[U+200B]");
        assert!(matches!(neutralise("Acme “Ads” — ok"), Cow::Borrowed(_)));
    }
}
