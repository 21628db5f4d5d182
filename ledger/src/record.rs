//! The record model of SPEC.md §3: one typed body per `kind`, parsed strictly
//! (unknown fields rejected, `not_disclosed` explicit) and validated field by field.
//!
//! Parsing never trusts its input: every failure is an [`Error::InvalidRecord`]
//! naming the JSON path of the offending field. Rules that need the log's state
//! (is this party registered? is this message id new?) live in `append.rs`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::{Error, Result};
pub use crate::tally::TallyBody;

/// The literal that stands for a field the submitter chose not to disclose.
pub const NOT_DISCLOSED: &str = "not_disclosed";

/// A disclosable field: its value, or the explicit string `"not_disclosed"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Disclosed<T> {
    Value(T),
    #[serde(serialize_with = "ser_not_disclosed")]
    NotDisclosed,
}

fn ser_not_disclosed<S: serde::Serializer>(s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(NOT_DISCLOSED)
}

/// Decodes `"not_disclosed"` or a `T`, handing whatever the input holds
/// straight to `T` (no intermediate `serde_json::Value`: records have dozens of
/// these fields, and records are decoded on every append and every page).
impl<'de, T: DeserializeOwned> Deserialize<'de> for Disclosed<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{IntoDeserializer, MapAccess, SeqAccess, Visitor};

        struct V<T>(std::marker::PhantomData<T>);
        type R<T, E> = std::result::Result<Disclosed<T>, E>;

        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = Disclosed<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value or \"not_disclosed\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> R<T, E> {
                if v == NOT_DISCLOSED {
                    return Ok(Disclosed::NotDisclosed);
                }
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> R<T, E> {
                T::deserialize(v.into_deserializer()).map(Disclosed::Value)
            }
            fn visit_unit<E: serde::de::Error>(self) -> R<T, E> {
                T::deserialize(().into_deserializer()).map(Disclosed::Value)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> R<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Disclosed::Value)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> R<T, A::Error> {
                T::deserialize(SeqAccessDeserializer::new(seq)).map(Disclosed::Value)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl<T> Disclosed<T> {
    /// The value, if disclosed.
    pub fn value(&self) -> Option<&T> {
        match self {
            Disclosed::Value(v) => Some(v),
            Disclosed::NotDisclosed => None,
        }
    }
}

/// `kind` of a record body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    LogKey,
    Submitter,
    Party,
    Message,
    Objection,
    Erasure,
    Tally,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LogKey => "log_key",
            Kind::Submitter => "submitter",
            Kind::Party => "party",
            Kind::Message => "message",
            Kind::Objection => "objection",
            Kind::Erasure => "erasure",
            Kind::Tally => "tally",
        }
    }
}

/// §3.1
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogKeyBody {
    pub kind: Kind,
    pub signer: String,
    pub vkey: String,
    pub announced_at: String,
}

/// §3.2
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitterBody {
    pub kind: Kind,
    pub signer: String,
    pub submitter: String,
    pub name: String,
    pub contact: String,
    pub public_key: String,
    pub registered_at: String,
}

/// §3.3
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    pub kind: Kind,
    pub signer: String,
    pub party: String,
    pub name: String,
    pub contact: String,
    pub established_in: String,
    pub ultimately_controlled_by: String,
}

/// §3.5
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    pub kind: Kind,
    pub signer: String,
    pub advertiser: String,
    pub recipient: RecipientRef,
    pub scope: String,
    pub received_at: String,
}

/// §3.7
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    pub kind: Kind,
    pub signer: String,
    pub by: String,
    pub records: u64,
    pub requested_at: String,
}

/// §3.4: one served message.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    pub kind: Kind,
    pub signer: String,
    pub message_id: String,
    pub delivery: Delivery,
    pub sponsor: Sponsor,
    pub recipient: RecipientRef,
    pub personal_commitment: String,
    pub targeting: Targeting,
    pub lineage: Vec<LineageLabel>,
    pub controls: Controls,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    pub channel: Channel,
    pub served_at: String,
    pub member_state: String,
    pub creative: Creative,
    pub email_headers: Option<EmailHeaders>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Display,
    Social,
    Search,
    Video,
    Email,
    Sms,
    Push,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Creative {
    pub sha256: String,
    pub brand: String,
    pub subject: String,
    pub language: String,
    pub campaign_id: String,
    pub ad_id: String,
    pub creative_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailHeaders {
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: Disclosed<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sponsor {
    pub on_behalf_of: String,
    pub payer: String,
    pub political: Option<Political>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Political {
    pub kind: PoliticalKind,
    pub linked_to: String,
    pub date: Disclosed<String>,
    pub amount: Disclosed<Amount>,
    pub funding_origin: Disclosed<String>,
    pub notice_url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoliticalKind {
    Election,
    Referendum,
    LegislativeProcess,
    RegulatoryProcess,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    pub value: String,
    pub currency: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientRef {
    pub commitment: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targeting {
    pub criteria: Vec<Criterion>,
    pub delivery_optimisation: DeliveryOptimisation,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub id: String,
    pub effect: Effect,
    #[serde(rename = "type")]
    pub kind: CriterionType,
    pub description: String,
    pub special_category: Option<Disclosed<SpecialCategory>>,
    pub minor: bool,
    pub ai_selected: bool,
    pub lineage: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Include,
    Exclude,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionType {
    Contextual,
    Location,
    Declared,
    Observed,
    Inferred,
    Modelled,
    Lookalike,
    UploadedList,
    Retargeting,
}

/// GDPR Art. 9(1) special categories of personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCategory {
    RacialOrEthnicOrigin,
    PoliticalOpinion,
    ReligiousOrPhilosophicalBelief,
    TradeUnionMembership,
    Genetic,
    Biometric,
    Health,
    SexLifeOrSexualOrientation,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryOptimisation {
    pub ai_system: bool,
    pub goal: Disclosed<String>,
}

/// One data source or audience segment (in the spirit of the IAB Data Transparency Standard).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageLabel {
    pub id: String,
    pub provider: String,
    pub contact: String,
    pub kind: SourceKind,
    pub model: Option<Disclosed<ModelRef>>,
    pub collection_method: String,
    pub collected_at: Disclosed<String>,
    pub refresh: Disclosed<String>,
    pub lookback_days: Disclosed<u32>,
    pub legal_basis: Disclosed<LegalBasis>,
    pub derived_from: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    ProvidedByPerson,
    Observed,
    Inferred,
    BoughtFromBroker,
    PublicRecord,
    PartnerList,
    ViaOtherPersonPermission,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    pub name: String,
    pub version: String,
}

/// GDPR Art. 6(1) legal bases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    pub change_parameters_url: Disclosed<String>,
    pub object_url: Disclosed<String>,
    pub opt_out_url: Disclosed<String>,
    pub controller_contact: Disclosed<String>,
}

/// A parsed and validated body.
#[derive(Clone, Debug)]
pub enum Body {
    LogKey(LogKeyBody),
    Submitter(SubmitterBody),
    Party(PartyBody),
    Message(Box<MessageBody>),
    Objection(ObjectionBody),
    Erasure(ErasureBody),
    /// §3.8, in `tally.rs`.
    Tally(TallyBody),
}

impl Body {
    /// Parses and validates a body (SPEC.md §3). `record` is the position in the
    /// submitted batch, used only in error messages.
    pub fn parse(value: &Value, record: usize) -> Result<Body> {
        let kind = value.get("kind").and_then(Value::as_str).ok_or_else(|| {
            invalid(record, "kind", "missing; expected one of log_key, submitter, party, message, objection, erasure, tally")
        })?;
        let body = match kind {
            "log_key" => Body::LogKey(typed(value, record)?),
            "submitter" => Body::Submitter(typed(value, record)?),
            "party" => Body::Party(typed(value, record)?),
            "message" => Body::Message(Box::new(typed(value, record)?)),
            "objection" => Body::Objection(typed(value, record)?),
            "erasure" => Body::Erasure(typed(value, record)?),
            "tally" => Body::Tally(typed(value, record)?),
            other => {
                return Err(invalid(
                    record,
                    "kind",
                    format!("unknown kind `{other}`; expected one of log_key, submitter, party, message, objection, erasure, tally"),
                ))
            }
        };
        body.validate(record)?;
        Ok(body)
    }

    /// Decodes the body of an entry already in the log, straight from its JSON
    /// text into its type. It is not validated again: it passed SPEC.md §3 when
    /// it was appended, and the caller has checked the entry against its leaf.
    pub fn parse_logged(json: &str) -> Result<Body> {
        #[derive(Deserialize)]
        struct KindOnly {
            kind: Kind,
        }
        let typed = |e: serde_json::Error| Error::malformed("entry body", e.to_string());
        Ok(match serde_json::from_str::<KindOnly>(json).map_err(typed)?.kind {
            Kind::LogKey => Body::LogKey(serde_json::from_str(json).map_err(typed)?),
            Kind::Submitter => Body::Submitter(serde_json::from_str(json).map_err(typed)?),
            Kind::Party => Body::Party(serde_json::from_str(json).map_err(typed)?),
            Kind::Message => Body::Message(Box::new(serde_json::from_str(json).map_err(typed)?)),
            Kind::Objection => Body::Objection(serde_json::from_str(json).map_err(typed)?),
            Kind::Erasure => Body::Erasure(serde_json::from_str(json).map_err(typed)?),
            Kind::Tally => Body::Tally(serde_json::from_str(json).map_err(typed)?),
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Body::LogKey(_) => Kind::LogKey,
            Body::Submitter(_) => Kind::Submitter,
            Body::Party(_) => Kind::Party,
            Body::Message(_) => Kind::Message,
            Body::Objection(_) => Kind::Objection,
            Body::Erasure(_) => Kind::Erasure,
            Body::Tally(_) => Kind::Tally,
        }
    }

    pub fn signer(&self) -> &str {
        match self {
            Body::LogKey(b) => &b.signer,
            Body::Submitter(b) => &b.signer,
            Body::Party(b) => &b.signer,
            Body::Message(b) => &b.signer,
            Body::Objection(b) => &b.signer,
            Body::Erasure(b) => &b.signer,
            Body::Tally(b) => &b.signer,
        }
    }

    pub fn as_message(&self) -> Option<&MessageBody> {
        match self {
            Body::Message(m) => Some(m),
            _ => None,
        }
    }

    fn validate(&self, r: usize) -> Result<()> {
        let log_signed = |signer: &str| {
            if signer == "log" {
                Ok(())
            } else {
                Err(invalid(r, "signer", "must be \"log\" for records the log operator writes"))
            }
        };
        match self {
            Body::LogKey(b) => {
                log_signed(&b.signer)?;
                check_time(r, "announced_at", &b.announced_at)?;
                crate::note::NoteVerifier::from_vkey(&b.vkey).map_err(|e| invalid(r, "vkey", e.to_string()))?;
            }
            Body::Submitter(b) => {
                log_signed(&b.signer)?;
                check_id(r, "submitter", &b.submitter)?;
                if b.submitter == "log" {
                    return Err(invalid(r, "submitter", "`log` is reserved for the log operator"));
                }
                check_text(r, "name", &b.name)?;
                check_text(r, "contact", &b.contact)?;
                let key = crate::canonical::decode_public_key(&b.public_key).map_err(|e| invalid(r, "public_key", e))?;
                if let Some(why) = crate::signatures::unusable_key(&key) {
                    return Err(invalid(r, "public_key", why));
                }
                check_time(r, "registered_at", &b.registered_at)?;
            }
            Body::Party(b) => {
                log_signed(&b.signer)?;
                check_id(r, "party", &b.party)?;
                check_text(r, "name", &b.name)?;
                check_text(r, "contact", &b.contact)?;
                check_country(r, "established_in", &b.established_in)?;
                if b.ultimately_controlled_by != "self" && b.ultimately_controlled_by != NOT_DISCLOSED {
                    check_id(r, "ultimately_controlled_by", &b.ultimately_controlled_by)?;
                }
            }
            Body::Objection(b) => {
                log_signed(&b.signer)?;
                check_id(r, "advertiser", &b.advertiser)?;
                check_hex32(r, "recipient.commitment", &b.recipient.commitment)?;
                if b.scope != "all_targeting" {
                    return Err(invalid(r, "scope", "must be \"all_targeting\" in v1"));
                }
                check_time(r, "received_at", &b.received_at)?;
            }
            Body::Erasure(b) => {
                log_signed(&b.signer)?;
                if b.by != "recipient" && b.by != "compliance" {
                    return Err(invalid(r, "by", "must be \"recipient\" or \"compliance\""));
                }
                check_time(r, "requested_at", &b.requested_at)?;
            }
            Body::Message(m) => crate::record_rules::validate_message(m, r)?,
            Body::Tally(t) => t.validate(r)?,
        }
        Ok(())
    }
}

/// Deserializes directly; only a value that fails is deserialized again with
/// path tracking, to name the field (tracking every path costs as much as the
/// deserialization itself, and almost every record is valid).
fn typed<T: DeserializeOwned>(value: &Value, record: usize) -> Result<T> {
    if let Ok(t) = T::deserialize(value) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        invalid(record, if path == "." { "(body)" } else { &path }, e.into_inner().to_string())
    })
}

/// Builds an [`Error::InvalidRecord`].
pub fn invalid(record: usize, field: &str, why: impl Into<String>) -> Error {
    Error::InvalidRecord { record, field: field.to_string(), why: why.into() }
}

/// The JSON path of a checked field: a `&str`, or a function that builds it, so
/// that a path like `lineage[3].provider` is only formatted when its check fails.
pub trait FieldPath {
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

/// Free text: 1–2000 characters, no control characters (Unicode category Cc:
/// U+0000–U+001F and U+007F–U+009F, what `char::is_control` says).
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

/// ISO 3166-1 alpha-2 shape (two upper-case letters).
pub fn check_country(r: usize, field: &str, s: &str) -> Result<()> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(r, field, "must be an ISO 3166-1 alpha-2 code such as DE"))
    }
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// The one-pass text check says what counting and testing each `char` says.
        #[test]
        fn check_text_agrees_with_chars(s in "(\\PC|\\p{Cc}|[\\u{80}-\\u{9f}\\u{a0}\\u{c280}]){0,12}", long in 1990usize..2010) {
            for text in [s.clone(), s.repeat(long / s.chars().count().max(1) + 1)] {
                let n = text.chars().count();
                let want = (1..=2000).contains(&n) && !text.chars().any(char::is_control);
                proptest::prop_assert_eq!(super::check_text(0, "f", &text).is_ok(), want, "{:?}", text);
            }
        }
    }

    use super::*;

    /// What `Disclosed<T>` decoded to through a `serde_json::Value` (its former implementation).
    fn via_value<T: DeserializeOwned>(json: &str) -> Option<Disclosed<T>> {
        let v: Value = serde_json::from_str(json).ok()?;
        if v.as_str() == Some(NOT_DISCLOSED) {
            return Some(Disclosed::NotDisclosed);
        }
        T::deserialize(v).ok().map(Disclosed::Value)
    }

    fn same<T: DeserializeOwned + PartialEq + std::fmt::Debug>(json: &str) {
        let from_str = serde_json::from_str::<Disclosed<T>>(json).ok();
        let from_value = serde_json::from_str::<Value>(json).ok().and_then(|v| Disclosed::<T>::deserialize(&v).ok());
        let want = via_value::<T>(json);
        assert_eq!(from_str, want, "from text: {json}");
        assert_eq!(from_value, want, "from a Value: {json}");
    }

    #[test]
    fn disclosed_decodes_every_kind_of_value_directly_as_through_a_value() {
        let inputs = [
            r#""not_disclosed""#,
            r#""NOT_DISCLOSED""#,
            r#""consent""#,
            r#""text with \"escapes\" and é""#,
            "42",
            "-1",
            "4.5",
            "true",
            "null",
            "[]",
            r#"["a"]"#,
            r#"{"value":"12.00","currency":"EUR"}"#,
            r#"{"value":"12.00","currency":"EUR","extra":1}"#,
            r#"{"name":"ocean-v2","version":"2.1"}"#,
            "{}",
        ];
        for json in inputs {
            same::<String>(json);
            same::<u32>(json);
            same::<Amount>(json);
            same::<ModelRef>(json);
            same::<LegalBasis>(json);
            same::<SpecialCategory>(json);
        }
        assert_eq!(serde_json::from_str::<Disclosed<u32>>("30").unwrap(), Disclosed::Value(30));
        assert_eq!(serde_json::from_str::<Disclosed<LegalBasis>>(r#""not_disclosed""#).unwrap(), Disclosed::NotDisclosed);
    }
}
