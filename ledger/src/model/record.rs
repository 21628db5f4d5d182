//! The record model of SPEC.md §3: one typed body per `kind`, decoded strictly (unknown
//! fields rejected, `not_disclosed` explicit, nullable fields present).
//!
//! This file holds the types only. Beside it: `parse.rs` turns JSON into a [`Body`]
//! ([`Body::parse`] for a submission, [`Body::parse_logged`] for an entry already in the log),
//! `rules.rs` holds the field rules of SPEC.md §3 that need no log state, `fields.rs` the
//! checks of SPEC.md §1 every kind shares. Rules that need the log's state (is this party
//! registered? is this message id new?) are the write pipeline's (`pipeline/prepare.rs`,
//! `pipeline/sequencer/`).
//!
//! Over 400 lines because it is the whole record schema of SPEC.md §3, one documented type per
//! JSON object, read side by side with the spec.

use serde::{Deserialize, Serialize};

pub use crate::model::audience::{Audience, Evaluation, Outcome};
pub use crate::model::disclosed::{Disclosed, NOT_DISCLOSED};
pub use crate::model::disclosures::{
    Art9Condition, Asset, CreativeContent, FundingSector, FundingSource, FundingTerritory, IdType, Onboarder, Period, Precision,
    SeedAudience, Visibility,
};
pub use crate::model::fields::{check_country, check_hex32, check_id, check_text, check_time, format_time, invalid, parse_time, FieldPath};
pub use crate::model::kind::Kind;
pub use crate::model::tally::TallyBody;

pub use crate::model::omitted::{NULLABLE_FIELDS, REVISION_3_FIELDS};

/// §3.1
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogKeyBody {
    /// `"log_key"`.
    pub kind: Kind,
    /// `"log"`: signed by the key that was current before this entry (by itself at genesis).
    pub signer: String,
    /// The announced key, as a C2SP signed-note verifier key (§8).
    pub vkey: String,
    /// When the key was announced.
    pub announced_at: String,
}

/// §3.2
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitterBody {
    /// `"submitter"`.
    pub kind: Kind,
    /// `"log"`: the log operator registers submitters.
    pub signer: String,
    /// The submitter's id, which its messages name as `signer`.
    pub submitter: String,
    /// Its registered name.
    pub name: String,
    /// Where to reach it about its records.
    pub contact: String,
    /// Its Ed25519 public key (base64); from the next entry on, its records verify with it.
    pub public_key: String,
    /// When it was registered (or re-keyed).
    pub registered_at: String,
}

/// §3.3
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    /// `"party"`.
    pub kind: Kind,
    /// `"log"`: the log operator registers parties.
    pub signer: String,
    /// The party's id, which messages name as sponsor or payer.
    pub party: String,
    /// Its registered name.
    pub name: String,
    /// Where to reach it.
    pub contact: String,
    /// The country it is established in (ISO 3166-1 alpha-2).
    pub established_in: String,
    /// The party that ultimately controls it: a registered party id, `"self"` or `"not_disclosed"`.
    pub ultimately_controlled_by: String,
}

/// §3.5
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    /// `"objection"`.
    pub kind: Kind,
    /// `"log"`: the log appends objections.
    pub signer: String,
    /// The party objected to: the message's `sponsor.on_behalf_of`.
    pub advertiser: String,
    /// A commitment to the recipient under a fresh, forgotten salt: it names nobody.
    pub recipient: RecipientRef,
    /// `"all_targeting"` in v1.
    pub scope: String,
    /// When the objection was received.
    pub received_at: String,
}

/// §3.7
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    /// `"erasure"`.
    pub kind: Kind,
    /// `"log"`: the log appends erasures.
    pub signer: String,
    /// Who asked, one of [`ERASED_BY`].
    pub by: String,
    /// How many personal parts were destroyed.
    pub records: u64,
    /// When the erasure was asked for.
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
    /// `"message"`.
    pub kind: Kind,
    /// The submitter that reported the message, and signed it.
    pub signer: String,
    /// The submitter's id for the message, unique for ever.
    pub message_id: String,
    /// How, when, where and what was served.
    pub delivery: Delivery,
    /// On whose behalf, who paid, and the political label.
    pub sponsor: Sponsor,
    /// A salted commitment to the recipient (§7).
    pub recipient: RecipientRef,
    /// A commitment to the personal part (§7).
    pub personal_commitment: String,
    /// Every criterion, include and exclude, and the delivery optimisation.
    pub targeting: Targeting,
    /// Where each piece of data came from, and on what legal basis.
    pub lineage: Vec<LineageLabel>,
    /// Where the recipient changes, objects or opts out.
    pub controls: Controls,
}

/// How, when, where and what was served (§3.4 `delivery`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivery {
    /// The channel it was served on.
    pub channel: Channel,
    /// When it was served.
    pub served_at: String,
    /// The EU Member State it was served in.
    pub member_state: String,
    /// What was served.
    pub creative: Creative,
    /// For an e-mail, its unsubscribe headers; `null` for every other channel.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub email_headers: Option<EmailHeaders>,
    /// For an email, the lineage ids behind the recipient's address ("how we got your
    /// address"); `null` for every other channel (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub address_lineage: Option<Vec<String>>,
}

/// The channel a message was served on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A display ad.
    Display,
    /// A social-media post or ad.
    Social,
    /// A search ad.
    Search,
    /// A video ad.
    Video,
    /// An e-mail.
    Email,
    /// A text message.
    Sms,
    /// A push notification.
    Push,
    /// Broadcast or streamed television (revision 3).
    Tv,
}

/// What was served (§3.4 `delivery.creative`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Creative {
    /// The content hash of the creative as served (§3.9).
    pub sha256: String,
    /// The brand shown.
    pub brand: String,
    /// The subject or headline.
    pub subject: String,
    /// Its language (ISO 639-1).
    pub language: String,
    /// The campaign it belongs to.
    pub campaign_id: String,
    /// The ad.
    pub ad_id: String,
    /// The creative.
    pub creative_id: String,
    /// Published openly too, or shown only to the audience targeted (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub visibility: Option<Visibility>,
    /// The creative's text and assets (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub content: Option<CreativeContent>,
}

/// An e-mail's unsubscribe headers, verbatim (§3.4 `delivery.email_headers`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailHeaders {
    /// The RFC 2369 `List-Unsubscribe` header value, verbatim.
    pub list_unsubscribe: String,
    /// The RFC 8058 `List-Unsubscribe-Post` header value, or not disclosed.
    pub list_unsubscribe_post: Disclosed<String>,
}

/// Who a message was served for and who paid (§3.4 `sponsor`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sponsor {
    /// The registered party on whose behalf the message was served (the advertiser).
    pub on_behalf_of: String,
    /// The registered party that paid.
    pub payer: String,
    /// The political label and notice (TTPA), `null` for a non-political message.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub political: Option<Political>,
}

/// The political label and notice of TTPA Art. 11/12 (§3.4 `sponsor.political`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Political {
    /// What it is linked to: an election, a referendum, a legislative or regulatory process.
    pub kind: PoliticalKind,
    /// Which one, in words.
    pub linked_to: String,
    /// Its date.
    pub date: Disclosed<String>,
    /// What was paid for the campaign.
    pub amount: Disclosed<Amount>,
    /// Where the money came from.
    pub funding_origin: Disclosed<String>,
    /// The transparency notice (https).
    pub notice_url: String,
    /// The rest of the TTPA notice (Reg. 2024/900 Art. 12), revision 3: `None` only in an
    /// entry logged before it.
    /// When it is disseminated.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub period: Option<Disclosed<Period>>,
    /// Benefits other than money received for it.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub other_benefits: Option<Disclosed<String>>,
    /// Public or private funds, from inside or outside the EU.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub funding_source: Option<Disclosed<FundingSource>>,
    /// Its entry in the European repository of political advertisements.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub repository_url: Option<Disclosed<String>>,
    /// Where to report it as unlawful.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub report_url: Option<String>,
    /// An earlier suspension or removal of this advertisement; `null`: none.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub suspension: Option<String>,
}

/// What a political message is linked to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoliticalKind {
    /// An election.
    Election,
    /// A referendum.
    Referendum,
    /// A legislative process.
    LegislativeProcess,
    /// A regulatory process.
    RegulatoryProcess,
}

/// An amount of money.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amount {
    /// A decimal string with at most two decimals.
    pub value: String,
    /// An ISO 4217 currency code.
    pub currency: String,
}

/// A recipient, as a commitment only (§7).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientRef {
    /// A salted SHA-256 commitment (hex) to the recipient's normalised identifier (§7).
    pub commitment: String,
}

/// How recipients were selected (§3.4 `targeting`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targeting {
    /// Every criterion that selected or excluded recipients.
    pub criteria: Vec<Criterion>,
    /// How the criteria combine (revision 3); `null` when there are none.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub audience: Option<Audience>,
    /// Whether an AI system optimised delivery, and for what.
    pub delivery_optimisation: DeliveryOptimisation,
}

/// One targeting criterion.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Its id within the message.
    pub id: String,
    /// Whether it includes or excludes.
    pub effect: Effect,
    /// Its type (`type` in JSON).
    #[serde(rename = "type")]
    pub kind: CriterionType,
    /// What it selects, in words.
    pub description: String,
    /// The GDPR Art. 9 special category it touches, if any.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub special_category: Option<Disclosed<SpecialCategory>>,
    /// The GDPR Art. 9(2) condition for a special category (revision 3); `null` without one.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub art9_condition: Option<Disclosed<Art9Condition>>,
    /// A known minor was involved.
    pub minor: bool,
    /// An AI system chose or optimised it.
    pub ai_selected: bool,
    /// What an uploaded list or a lookalike's seed list was matched by (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub match_keys: Option<Disclosed<Vec<IdType>>>,
    /// The audience a lookalike was grown from (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub seed_audience: Option<SeedAudience>,
    /// The lineage labels its data came from.
    pub lineage: Vec<String>,
}

/// Whether a criterion includes or excludes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Selects recipients.
    Include,
    /// Excludes recipients.
    Exclude,
}

/// What kind of data a criterion uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionType {
    /// The context of the page or search.
    Contextual,
    /// Where the recipient is.
    Location,
    /// What the recipient declared.
    Declared,
    /// What the recipient was observed doing.
    Observed,
    /// What was inferred about the recipient.
    Inferred,
    /// What a model scored the recipient as.
    Modelled,
    /// Resemblance to another audience.
    Lookalike,
    /// A list the advertiser uploaded.
    UploadedList,
    /// An earlier interaction with the advertiser.
    Retargeting,
}

/// GDPR Art. 9(1) special categories of personal data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialCategory {
    /// Racial or ethnic origin.
    RacialOrEthnicOrigin,
    /// Political opinions.
    PoliticalOpinion,
    /// Religious or philosophical beliefs.
    ReligiousOrPhilosophicalBelief,
    /// Trade-union membership.
    TradeUnionMembership,
    /// Genetic data.
    Genetic,
    /// Biometric data.
    Biometric,
    /// Health.
    Health,
    /// Sex life or sexual orientation.
    SexLifeOrSexualOrientation,
}

/// Whether and how delivery was optimised by an AI system.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryOptimisation {
    /// An AI system optimised the delivery.
    pub ai_system: bool,
    /// What for.
    pub goal: Disclosed<String>,
}

/// One data source or audience segment (in the spirit of the IAB Data Transparency Standard).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineageLabel {
    /// Its id within the message.
    pub id: String,
    /// Who provided the data.
    pub provider: String,
    /// Where to reach them.
    pub contact: String,
    /// How the data was obtained.
    pub kind: SourceKind,
    /// For inferred data, the model that inferred it; `null` otherwise.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub model: Option<Disclosed<ModelRef>>,
    /// How it was collected, in words.
    pub collection_method: String,
    /// When it was collected.
    pub collected_at: Disclosed<String>,
    /// How often it is refreshed.
    pub refresh: Disclosed<String>,
    /// At most 2^32−1 days (SPEC.md §1 lists each integer field's range).
    pub lookback_days: Disclosed<u32>,
    /// The GDPR Art. 6(1) legal basis.
    pub legal_basis: Disclosed<LegalBasis>,
    /// The labels it was derived from, in the same message.
    pub derived_from: Vec<String>,
    /// For `kind = earlier_message`: the index of that message's entry in this log (revision 3).
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub entry: Option<u64>,
    /// The data-label fields of the IAB Data Transparency Standard (revision 3); `null` for a
    /// source that is not an audience segment.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub audience_size: Option<Disclosed<u64>>,
    /// How precisely the segment describes people.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub precision: Option<Disclosed<Precision>>,
    /// What the segment is keyed on.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub id_types: Option<Disclosed<Vec<IdType>>>,
    /// Who matched offline data to online identifiers, and how.
    #[serde(deserialize_with = "crate::model::disclosed::nullable")]
    pub onboarder: Option<Disclosed<Onboarder>>,
}

/// How a lineage source obtained its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The person provided it.
    ProvidedByPerson,
    /// It was observed.
    Observed,
    /// It was inferred.
    Inferred,
    /// It was bought from a data broker.
    BoughtFromBroker,
    /// It comes from a public record.
    PublicRecord,
    /// It comes from a partner's list.
    PartnerList,
    /// Another person's permission gave access to it (a friend's app).
    ViaOtherPersonPermission,
    /// The recipient's response to an earlier message of this log (revision 3).
    EarlierMessage,
}

/// A model that inferred data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRef {
    /// The model's name.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// GDPR Art. 6(1) legal bases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Consent.
    Consent,
    /// A contract.
    Contract,
    /// A legal obligation.
    LegalObligation,
    /// Vital interests.
    VitalInterests,
    /// A public task.
    PublicTask,
    /// Legitimate interests.
    LegitimateInterests,
}

/// Where a recipient exercises control (§3.4 `controls`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Controls {
    /// Where the recipient changes the targeting parameters.
    pub change_parameters_url: Disclosed<String>,
    /// Where the recipient objects.
    pub object_url: Disclosed<String>,
    /// Where the recipient opts out.
    pub opt_out_url: Disclosed<String>,
    /// The data controller's contact (https or mailto).
    pub controller_contact: Disclosed<String>,
}

/// A parsed and validated body.
#[derive(Clone, Debug)]
pub enum Body {
    /// §3.1
    LogKey(LogKeyBody),
    /// §3.2
    Submitter(SubmitterBody),
    /// §3.3
    Party(PartyBody),
    /// §3.4
    Message(Box<MessageBody>),
    /// §3.5
    Objection(ObjectionBody),
    /// §3.7
    Erasure(ErasureBody),
    /// §3.8, in `tally.rs`.
    Tally(TallyBody),
}

impl Body {
    /// The body's kind.
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

    /// Who signed it: `"log"`, or the submitter's id.
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

    /// The message, if it is one.
    pub fn as_message(&self) -> Option<&MessageBody> {
        match self {
            Body::Message(m) => Some(m),
            _ => None,
        }
    }
}
