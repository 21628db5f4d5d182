//! The record model of SPEC.md §3: one typed body per `kind`, parsed strictly
//! (unknown fields rejected, `not_disclosed` explicit) and validated field by field.
//!
//! Parsing never trusts its input: every failure is an [`Error::InvalidRecord`]
//! naming the JSON path of the offending field. Rules that need the log's state
//! (is this party registered? is this message id new?) live in `append.rs`.

use serde::de::{DeserializeOwned, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::audience::{Audience, Evaluation, Outcome};
pub use crate::disclosed::{Disclosed, NOT_DISCLOSED};
pub use crate::disclosures::{
    Art9Condition, Asset, CreativeContent, FundingSector, FundingSource, FundingTerritory, IdType, Onboarder, Period, Precision,
    SeedAudience, Visibility,
};
use crate::error::{Error, Result};
pub use crate::record_fields::{check_country, check_hex32, check_id, check_text, check_time, format_time, invalid, parse_time, FieldPath};
pub use crate::tally::TallyBody;

/// A field that may be `null` but never left out (SPEC.md §1: nothing is silent). Derived
/// decoders read a missing `Option` as `None`, which would log an omitted `sponsor.political`
/// as "not political"; a field decoded through a function is required instead.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

pub use crate::omitted::{NULLABLE_FIELDS, REVISION_3_FIELDS};

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
    /// Who asked, one of [`ERASED_BY`].
    pub by: String,
    pub records: u64,
    pub requested_at: String,
}

/// The values of an erasure's `by` (SPEC.md §3.7): `link_holder`, asked through a message's why
/// link by someone who gave the address it was sent to (revision 3 on); `compliance`, asked
/// by the operator's compliance team; `recipient`, what revision 2 wrote for a request
/// through a why link (still valid in old entries, never written any more).
pub const ERASED_BY: [&str; 3] = ["link_holder", "compliance", "recipient"];

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
    #[serde(deserialize_with = "nullable")]
    pub email_headers: Option<EmailHeaders>,
    /// For an email, the lineage ids behind the recipient's address ("how we got your
    /// address"); `null` for every other channel (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub address_lineage: Option<Vec<String>>,
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
    /// Broadcast or streamed television (revision 3).
    Tv,
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
    /// Published openly too, or shown only to the audience targeted (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub visibility: Option<Visibility>,
    /// The creative's text and assets (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub content: Option<CreativeContent>,
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
    #[serde(deserialize_with = "nullable")]
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
    /// The rest of the TTPA notice (Reg. 2024/900 Art. 12), revision 3: `None` only in an
    /// entry logged before it.
    #[serde(deserialize_with = "nullable")]
    pub period: Option<Disclosed<Period>>,
    #[serde(deserialize_with = "nullable")]
    pub other_benefits: Option<Disclosed<String>>,
    #[serde(deserialize_with = "nullable")]
    pub funding_source: Option<Disclosed<FundingSource>>,
    #[serde(deserialize_with = "nullable")]
    pub repository_url: Option<Disclosed<String>>,
    #[serde(deserialize_with = "nullable")]
    pub report_url: Option<String>,
    /// An earlier suspension or removal of this advertisement; `null`: none.
    #[serde(deserialize_with = "nullable")]
    pub suspension: Option<String>,
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
    /// How the criteria combine (revision 3); `null` when there are none.
    #[serde(deserialize_with = "nullable")]
    pub audience: Option<Audience>,
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
    #[serde(deserialize_with = "nullable")]
    pub special_category: Option<Disclosed<SpecialCategory>>,
    /// The GDPR Art. 9(2) condition for a special category (revision 3); `null` without one.
    #[serde(deserialize_with = "nullable")]
    pub art9_condition: Option<Disclosed<Art9Condition>>,
    pub minor: bool,
    pub ai_selected: bool,
    /// What an uploaded list or a lookalike's seed list was matched by (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub match_keys: Option<Disclosed<Vec<IdType>>>,
    /// The audience a lookalike was grown from (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub seed_audience: Option<SeedAudience>,
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
    #[serde(deserialize_with = "nullable")]
    pub model: Option<Disclosed<ModelRef>>,
    pub collection_method: String,
    pub collected_at: Disclosed<String>,
    pub refresh: Disclosed<String>,
    /// At most 2^32−1 days (SPEC.md §1 lists each integer field's range).
    pub lookback_days: Disclosed<u32>,
    pub legal_basis: Disclosed<LegalBasis>,
    pub derived_from: Vec<String>,
    /// For `kind = earlier_message`: the index of that message's entry in this log (revision 3).
    #[serde(deserialize_with = "nullable")]
    pub entry: Option<u64>,
    /// The data-label fields of the IAB Data Transparency Standard (revision 3); `null` for a
    /// source that is not an audience segment.
    #[serde(deserialize_with = "nullable")]
    pub audience_size: Option<Disclosed<u64>>,
    #[serde(deserialize_with = "nullable")]
    pub precision: Option<Disclosed<Precision>>,
    #[serde(deserialize_with = "nullable")]
    pub id_types: Option<Disclosed<Vec<IdType>>>,
    #[serde(deserialize_with = "nullable")]
    pub onboarder: Option<Disclosed<Onboarder>>,
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
    /// The recipient's response to an earlier message of this log (revision 3).
    EarlierMessage,
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
        Ok(Body::parse_logged_noting(json)?.0)
    }

    /// [`Body::parse_logged`], and the nullable fields the body leaves out
    /// ([`NULLABLE_FIELDS`], spelled with indexes such as `lineage[2].model`). Only an entry
    /// logged before revision 3 can leave one out; it is read as `null`, and a page that shows it
    /// says the record does not state it.
    pub fn parse_logged_noting(json: &str) -> Result<(Body, Vec<String>)> {
        #[derive(Deserialize)]
        struct KindOnly {
            kind: Kind,
        }
        let typed = |e: serde_json::Error| Error::malformed("entry body", e.to_string());
        Ok(match serde_json::from_str::<KindOnly>(json).map_err(typed)?.kind {
            Kind::LogKey => (Body::LogKey(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Submitter => (Body::Submitter(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Party => (Body::Party(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Message => match serde_json::from_str(json) {
                Ok(m) => (Body::Message(Box::new(m)), Vec::new()),
                Err(strict) => {
                    let mut value: Value = serde_json::from_str(json).map_err(typed)?;
                    let omitted = crate::omitted::fill_omitted(&mut value);
                    if omitted.is_empty() {
                        return Err(typed(strict));
                    }
                    (Body::Message(Box::new(serde_json::from_value(value).map_err(typed)?)), omitted)
                }
            },
            Kind::Objection => (Body::Objection(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Erasure => (Body::Erasure(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Tally => (Body::Tally(serde_json::from_str(json).map_err(typed)?), Vec::new()),
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
                if !ERASED_BY.contains(&b.by.as_str()) {
                    return Err(invalid(
                        r,
                        "by",
                        "must be \"link_holder\", \"compliance\" or (in entries before revision 3) \"recipient\"",
                    ));
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
        let (field, why) = crate::serde_words::field_and_reason(&e.path().to_string(), &e.into_inner().to_string());
        invalid(record, if field.is_empty() { "(body)" } else { &field }, why)
    })
}
