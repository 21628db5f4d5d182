//! The view structs the recipient templates render. They hold plain text and checked links;
//! the templates escape every text.

use super::*;

/// A text that is a link only when its target passed [`safe_link`](super::safe_link).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub text: String,
    pub href: Option<String>,
}

/// A warning or notice attached to a criterion or a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagView {
    /// Short CSS-friendly kind. Criteria: `special`, `special_undisclosed`, `minor`,
    /// `inferred`, `ai`. Sources: `inferred`, `broker`, `other_person`, `basis_undisclosed`.
    pub kind: &'static str,
    pub label: String,
    pub detail: String,
}

/// A registered party, or the id the record names if it is not registered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyBrief {
    pub id: String,
    pub registered: bool,
    pub name: String,
    pub contact: String,
    pub established_in: String,
}

/// A party with its chain of controlling entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyView {
    pub party: PartyBrief,
    /// The entities that ultimately control this party, nearest first.
    pub controllers: Vec<PartyBrief>,
    /// How the chain of control ends, in words.
    pub control_words: String,
}

/// The TTPA transparency notice of a political message (Reg. 2024/900 Art. 12).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoliticalView {
    pub label: &'static str,
    pub kind_words: String,
    pub linked_to: String,
    pub date: String,
    pub amount: String,
    pub funding_origin: String,
    pub notice: Link,
    pub sponsor_name: String,
    pub payer_name: String,
    /// When the advertisement is disseminated.
    pub period: String,
    /// Benefits other than money, in words.
    pub other_benefits: String,
    /// Public or private funds, from inside or outside the EU.
    pub funding_source: String,
    /// Its entry in the European repository of political advertisements.
    pub repository: Link,
    /// Where to report it as unlawful.
    pub report: Link,
    /// An earlier suspension or removal, in words.
    pub suspension: String,
}

/// A recipient's standing for one criterion: what the record proves about it for them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandingView {
    /// `selected`, `held_not_decisive`, `other_way`, `not_checked`, `exclusion_checked`,
    /// `exclusion_other_way`, `context`, `unstated`, `erased` or `absent`.
    pub kind: &'static str,
    /// One sentence: whether and how the criterion applied to the recipient.
    pub words: String,
    /// The value about the recipient the record holds for it, if any.
    pub value: Option<String>,
    /// What the value is, in words (shown before it).
    pub value_words: &'static str,
}

/// How the recipient was selected, as far as the record proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionView {
    /// Who the advertiser asked for: the audience expression in words, or that the record
    /// does not state it.
    pub audience: String,
    /// Sentences: which criteria selected the recipient, which exclusions were checked, which
    /// other ways in did not apply; or that the record does not say.
    pub sentences: Vec<String>,
}

/// One line of facts (a `<dt>` and its `<dd>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactView {
    pub term: &'static str,
    pub value: String,
}

/// A source that is an earlier message of this log, with the link to its own page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierView {
    pub index: u64,
    pub href: String,
}

/// The audience a lookalike was grown from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedView {
    pub description: String,
    pub size: String,
    pub sources: Vec<SourceView>,
}

/// One asset of the creative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetView {
    pub sha256: String,
    pub link: Option<Link>,
}

/// The creative's content and whether it was published openly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreativeView {
    /// Shown only to the audience targeted (a dark post).
    pub audience_only: bool,
    pub visibility: String,
    pub text: Option<String>,
    pub assets: Vec<AssetView>,
}

/// "How we got your address": the sources behind an e-mail address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressView {
    pub words: String,
    pub sources: Vec<SourceView>,
}

/// One lineage label, as a step of a criterion's data chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceView {
    pub id: String,
    /// 0 for a source the criterion names directly; n for one it was derived from, n steps away.
    pub depth: usize,
    pub provider: String,
    pub contact: String,
    pub kind_words: String,
    pub is_broker: bool,
    pub model: Option<String>,
    pub collection_method: String,
    pub collected_at: String,
    pub refresh: String,
    pub lookback: String,
    pub legal_basis: String,
    pub consent: String,
    /// The sources this one was derived from, as "provider (id)".
    pub derived_from: Vec<String>,
    pub flags: Vec<FlagView>,
    /// The data-label fields (audience size, precision, ID types, onboarder).
    pub data_label: Vec<FactView>,
    /// For a source that is an earlier message of this log: its entry and page.
    pub earlier: Option<EarlierView>,
}

/// One targeting criterion, fully explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionView {
    pub id: String,
    pub position: usize,
    pub is_exclude: bool,
    pub effect_words: &'static str,
    pub sentence: String,
    pub type_words: &'static str,
    pub description: String,
    pub standing: StandingView,
    pub flags: Vec<FlagView>,
    /// What an uploaded list or a lookalike's seed list was matched by.
    pub match_keys: Option<String>,
    /// The audience a lookalike was grown from.
    pub seed: Option<SeedView>,
    /// The whole lineage chain, depth-first in record order, each label once.
    pub sources: Vec<SourceView>,
    /// Where to change this parameter, and where to object to it (the record's controls).
    pub change: Link,
    pub object: Link,
}

/// One of the submitter's controls (change parameters, object, opt out, contact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlView {
    pub label: &'static str,
    pub link: Link,
}

/// The email List-Unsubscribe headers, verbatim, and the targets they name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailView {
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: String,
    pub one_click: bool,
    pub targets: Vec<Link>,
    pub address: AddressView,
}

/// The proof that the record is in the log, and how to check it offline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofView {
    pub entry: u64,
    pub size: u64,
    pub sentence: String,
    pub vkey: String,
    pub receipt_path: String,
    pub receipt_file: String,
    pub command: String,
}

/// Everything `/why/<token>` shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyView {
    pub index: u64,
    pub title: String,
    pub channel_words: &'static str,
    pub message_id: String,
    pub brand: String,
    pub subject: String,
    pub language: String,
    pub campaign_id: String,
    pub ad_id: String,
    pub creative_id: String,
    pub creative_sha256: String,
    pub served_at: String,
    pub logged_at: String,
    pub member_state: String,
    pub reported_by: PartyBrief,
    pub sponsor: PartyView,
    pub payer: PartyView,
    pub payer_is_sponsor: bool,
    pub political: Option<PoliticalView>,
    pub creative: CreativeView,
    pub criteria_summary: String,
    pub selection: SelectionView,
    /// The use of AI for the whole message, in one sentence.
    pub ai_use: String,
    pub criteria: Vec<CriterionView>,
    pub summary_flags: Vec<FlagView>,
    pub optimisation: String,
    pub optimisation_ai: bool,
    /// Lineage labels of the record that no criterion reaches (still shown: nothing is hidden).
    pub other_sources: Vec<SourceView>,
    pub controls: Vec<ControlView>,
    pub email: Option<EmailView>,
    pub log_flags: Vec<String>,
    pub objected: bool,
    pub erased: bool,
    pub personal_words: String,
    pub proof: ProofView,
    /// Fields the record leaves out (only an entry logged before SPEC revision 3 can), in
    /// words: the page says it cannot tell, instead of reading the silence as "no".
    pub unstated: Vec<String>,
}

/// One row of `/why/<token>/messages`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    pub index: u64,
    pub served_at: String,
    pub channel_words: &'static str,
    pub brand: String,
    pub subject: String,
    pub sponsor: String,
    pub political: bool,
    pub token: String,
    pub current: bool,
}

/// What the ledger holds of the personal part of the message explained.
#[derive(Clone, Copy, Debug)]
pub enum PersonalRef<'a> {
    Present(&'a Personal),
    Erased,
    Absent,
}

/// What the log added to a message's body: when it was logged, its flags, and the fields an
/// entry logged before they were required leaves out.
#[derive(Clone, Copy, Debug)]
pub struct Logged<'a> {
    pub logged_at: &'a str,
    pub flags: &'a [String],
    pub omitted: &'a [String],
}

/// The proof numbers the page states.
#[derive(Clone)]
pub struct ProofInput<'a> {
    pub size: u64,
    pub vkey: &'a str,
    pub token: &'a str,
    /// The why token of another entry, for links to an earlier message this one follows up.
    pub why_token: &'a dyn Fn(u64) -> String,
}
