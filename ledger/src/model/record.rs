//! The record model of SPEC.md §3: one typed body per `kind`, decoded strictly (unknown
//! fields rejected, `not_disclosed` explicit, nullable fields present).
//!
//! This file holds the types only. Beside it: `parse.rs` turns JSON into a [`Body`]
//! ([`Body::parse`] for a submission, [`Body::parse_logged`] for an entry already in the log),
//! `rules.rs` holds the field rules of SPEC.md §3 that need no log state, `fields.rs` the
//! checks of SPEC.md §1 every kind shares. Rules that need the log's state (is this party
//! registered? is this message id new?) are the write pipeline's (`pipeline/prepare.rs`,
//! `pipeline/sequencer/`).

use serde::{Deserialize, Deserializer, Serialize};

pub use crate::model::disclosed::{Disclosed, NOT_DISCLOSED};
pub use crate::model::fields::{check_country, check_hex32, check_id, check_text, check_time, format_time, invalid, parse_time, FieldPath};
pub use crate::model::kind::Kind;
pub use crate::model::tally::TallyBody;

/// A field that may be `null` but never left out (SPEC.md §1: nothing is silent). Derived
/// decoders read a missing `Option` as `None`, which would log an omitted `sponsor.political`
/// as "not political"; a field decoded through a function is required instead.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> std::result::Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// The nullable fields of a message body, as JSON paths with `[]` for "every element": what
/// [`Body::parse_logged`] fills with `null` (and reports) for an entry logged before they were
/// enforced.
pub const NULLABLE_FIELDS: [&str; 4] =
    ["delivery.email_headers", "sponsor.political", "targeting.criteria[].special_category", "lineage[].model"];

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
    #[serde(deserialize_with = "nullable")]
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
    #[serde(deserialize_with = "nullable")]
    pub model: Option<Disclosed<ModelRef>>,
    pub collection_method: String,
    pub collected_at: Disclosed<String>,
    pub refresh: Disclosed<String>,
    /// At most 2^32−1 days (SPEC.md §1 lists each integer field's range).
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
}
