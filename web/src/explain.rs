//! The wording of the recipient pages: pure functions from record types to view
//! structs, one function per rendering concern.
//!
//! Rules every function here follows:
//! - **Complete.** Every criterion (include *and* exclude), every lineage label,
//!   every flag and every control of the record is turned into words; nothing is
//!   dropped, summarised away or hidden behind a "more" link.
//! - **Consistent.** A field that says `not_disclosed` is always shown as
//!   [`NOT_DISCLOSED_WORDS`]; the same enum value always gets the same words.
//! - **Deterministic.** Output depends only on the record, the registry, the
//!   personal part and the proof numbers passed in: no clock, no randomness, and
//!   lists keep the order the record gives them (nothing is re-sorted).
//! - **Plain text only.** Views hold text; the templates escape it. A value is
//!   offered as a link only when [`safe_link`] accepts it (https or mailto).

use std::collections::HashSet;

use sightline_ledger::privacy::{ConsentEvidence, Personal};
use sightline_ledger::record::{
    parse_time, Amount, Channel, Controls, Criterion, CriterionType, DeliveryOptimisation, Disclosed, Effect, EmailHeaders, LegalBasis,
    LineageLabel, MessageBody, ModelRef, Political, PoliticalKind, SourceKind, SpecialCategory,
};
use sightline_ledger::registry::Registry;

/// How every `not_disclosed` field reads on a page.
pub const NOT_DISCLOSED_WORDS: &str = "not disclosed by the advertiser";

/// The TTPA (Reg. 2024/900) label of a political advertisement.
pub const POLITICAL_LABEL: &str = "Political advertisement";

// ---------------------------------------------------------------------------
// View structs
// ---------------------------------------------------------------------------

/// A text that is a link only when its target passed [`safe_link`].
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

/// The TTPA transparency notice of a political message.
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
}

/// What the personal part says about one criterion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchedView {
    /// The personal value that matched, if the ledger holds one.
    pub value: Option<String>,
    /// A sentence for the value (or for its absence).
    pub words: String,
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
    pub matched: MatchedView,
    pub flags: Vec<FlagView>,
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
    pub criteria_summary: String,
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

/// The proof numbers the page states.
#[derive(Clone, Debug)]
pub struct ProofInput<'a> {
    pub size: u64,
    pub vkey: &'a str,
    pub token: &'a str,
}

// ---------------------------------------------------------------------------
// Words for enum values
// ---------------------------------------------------------------------------

/// What kind of message this was, with its article ("an email").
pub fn channel_words(c: Channel) -> &'static str {
    match c {
        Channel::Display => "a display advertisement",
        Channel::Social => "a social media advertisement",
        Channel::Search => "a search advertisement",
        Channel::Video => "a video advertisement",
        Channel::Email => "an email",
        Channel::Sms => "a text message (SMS)",
        Channel::Push => "a push notification",
    }
}

/// What the criterion's type means for the person.
pub fn criterion_type_words(t: CriterionType) -> &'static str {
    match t {
        CriterionType::Contextual => "the context the message was shown in (the page, app, search or content), not data about you",
        CriterionType::Location => "your location",
        CriterionType::Declared => "something you told the platform yourself",
        CriterionType::Observed => "something observed about what you did",
        CriterionType::Inferred => "something inferred (guessed) about you from other data",
        CriterionType::Modelled => "a score or prediction that a model computed about you",
        CriterionType::Lookalike => "how similar you are to other people the advertiser chose (a lookalike audience)",
        CriterionType::UploadedList => "a list of people that the advertiser uploaded",
        CriterionType::Retargeting => "your earlier visits or interactions with the advertiser (retargeting)",
    }
}

/// Whether the criterion put people in or kept them out.
pub fn effect_words(e: Effect) -> &'static str {
    match e {
        Effect::Include => "Included you",
        Effect::Exclude => "Exclusion you did not match",
    }
}

/// One plain sentence for a criterion, include or exclude.
pub fn criterion_sentence(c: &Criterion) -> String {
    match c.effect {
        Effect::Include => format!(
            "The advertiser asked to show this message to people matching “{}”. It is based on {}. You matched it, so it selected you.",
            c.description,
            criterion_type_words(c.kind)
        ),
        Effect::Exclude => format!(
            "The advertiser asked NOT to show this message to people matching “{}”. It is based on {}. You did not match it, so this rule kept you in the audience.",
            c.description,
            criterion_type_words(c.kind)
        ),
    }
}

/// A GDPR Art. 9(1) special category in words.
pub fn special_category_words(s: SpecialCategory) -> &'static str {
    match s {
        SpecialCategory::RacialOrEthnicOrigin => "racial or ethnic origin",
        SpecialCategory::PoliticalOpinion => "political opinions",
        SpecialCategory::ReligiousOrPhilosophicalBelief => "religious or philosophical beliefs",
        SpecialCategory::TradeUnionMembership => "trade union membership",
        SpecialCategory::Genetic => "genetic data",
        SpecialCategory::Biometric => "biometric data",
        SpecialCategory::Health => "health",
        SpecialCategory::SexLifeOrSexualOrientation => "sex life or sexual orientation",
    }
}

/// Where data came from, in words.
pub fn source_kind_words(k: SourceKind) -> &'static str {
    match k {
        SourceKind::ProvidedByPerson => "You provided it yourself",
        SourceKind::Observed => "Observed from what you did",
        SourceKind::Inferred => "Inferred: computed by a model or rule from other data, not provided by you",
        SourceKind::BoughtFromBroker => "Bought from a data broker",
        SourceKind::PublicRecord => "Taken from a public record",
        SourceKind::PartnerList => "From a partner's list of people",
        SourceKind::ViaOtherPersonPermission => "Obtained through another person's permission (for example a friend's app), not yours",
    }
}

/// A GDPR Art. 6(1) legal basis in words.
pub fn legal_basis_words(b: &Disclosed<LegalBasis>) -> String {
    match b {
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
        Disclosed::Value(b) => match b {
            LegalBasis::Consent => "your consent (GDPR Art. 6(1)(a)); you can withdraw it at any time",
            LegalBasis::Contract => "a contract with you (GDPR Art. 6(1)(b))",
            LegalBasis::LegalObligation => "a legal obligation (GDPR Art. 6(1)(c))",
            LegalBasis::VitalInterests => "protecting someone's vital interests (GDPR Art. 6(1)(d))",
            LegalBasis::PublicTask => "a task in the public interest (GDPR Art. 6(1)(e))",
            LegalBasis::LegitimateInterests => {
                "the controller's legitimate interests (GDPR Art. 6(1)(f)); you have the right to object (GDPR Art. 21)"
            }
        }
        .to_string(),
    }
}

/// A political message's kind in words.
pub fn political_kind_words(k: PoliticalKind) -> &'static str {
    match k {
        PoliticalKind::Election => "an election",
        PoliticalKind::Referendum => "a referendum",
        PoliticalKind::LegislativeProcess => "a legislative process",
        PoliticalKind::RegulatoryProcess => "a regulatory process",
    }
}

/// A country code with its English name where known (`DE` → `Germany (DE)`).
pub fn country_words(code: &str) -> String {
    let name = match code {
        "AT" => "Austria",
        "BE" => "Belgium",
        "BG" => "Bulgaria",
        "CY" => "Cyprus",
        "CZ" => "Czechia",
        "DE" => "Germany",
        "DK" => "Denmark",
        "EE" => "Estonia",
        "EL" | "GR" => "Greece",
        "ES" => "Spain",
        "FI" => "Finland",
        "FR" => "France",
        "HR" => "Croatia",
        "HU" => "Hungary",
        "IE" => "Ireland",
        "IT" => "Italy",
        "LT" => "Lithuania",
        "LU" => "Luxembourg",
        "LV" => "Latvia",
        "MT" => "Malta",
        "NL" => "Netherlands",
        "PL" => "Poland",
        "PT" => "Portugal",
        "RO" => "Romania",
        "SE" => "Sweden",
        "SI" => "Slovenia",
        "SK" => "Slovakia",
        "GB" => "United Kingdom",
        "US" => "United States",
        "CH" => "Switzerland",
        "NO" => "Norway",
        "IS" => "Iceland",
        "LI" => "Liechtenstein",
        "CA" => "Canada",
        "CN" => "China",
        "RU" => "Russia",
        "IL" => "Israel",
        "AE" => "United Arab Emirates",
        "SG" => "Singapore",
        "KY" => "Cayman Islands",
        "VG" => "British Virgin Islands",
        "BM" => "Bermuda",
        "JE" => "Jersey",
        "GG" => "Guernsey",
        "IM" => "Isle of Man",
        _ => return format!("country code {code}"),
    };
    format!("{name} ({code})")
}

/// A record time (`2026-11-20T18:04:05Z`) in words, from the record alone (always UTC).
pub fn time_words(s: &str) -> String {
    let Some(t) = parse_time(s) else {
        return s.to_string();
    };
    let month = match u8::from(t.month()) {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    };
    format!("{} {} {} at {:02}:{:02}:{:02} UTC", t.day(), month, t.year(), t.hour(), t.minute(), t.second())
}

// ---------------------------------------------------------------------------
// Disclosable fields
// ---------------------------------------------------------------------------

/// A disclosable text: its value, or [`NOT_DISCLOSED_WORDS`].
pub fn disclosed_text(d: &Disclosed<String>) -> String {
    match d {
        Disclosed::Value(v) => v.clone(),
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
    }
}

/// `collected_at` in words.
pub fn collected_words(d: &Disclosed<String>) -> String {
    match d {
        Disclosed::Value(v) => format!("collected on {v}"),
        Disclosed::NotDisclosed => format!("date of collection {NOT_DISCLOSED_WORDS}"),
    }
}

/// `refresh` in words.
pub fn refresh_words(d: &Disclosed<String>) -> String {
    match d {
        Disclosed::Value(v) => format!("refreshed: {v}"),
        Disclosed::NotDisclosed => format!("how often it is refreshed is {NOT_DISCLOSED_WORDS}"),
    }
}

/// `lookback_days` in words.
pub fn lookback_words(d: &Disclosed<u32>) -> String {
    match d {
        Disclosed::Value(1) => "uses data from the last day".to_string(),
        Disclosed::Value(n) => format!("uses data from the last {n} days"),
        Disclosed::NotDisclosed => format!("how far back it looks is {NOT_DISCLOSED_WORDS}"),
    }
}

/// The model behind an inferred source, if the label names one.
pub fn model_words(m: &Option<Disclosed<ModelRef>>) -> Option<String> {
    match m {
        None => None,
        Some(Disclosed::Value(m)) => Some(format!("model “{}”, version {}", m.name, m.version)),
        Some(Disclosed::NotDisclosed) => Some(format!("the model is {NOT_DISCLOSED_WORDS}")),
    }
}

/// A political spending amount in words.
pub fn amount_words(a: &Disclosed<Amount>) -> String {
    match a {
        Disclosed::Value(a) => format!("{} {}", a.value, a.currency),
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
    }
}

/// The consent evidence the personal part holds for one source.
pub fn consent_words(evidence: Option<&ConsentEvidence>, personal: PersonalRef<'_>) -> String {
    match (personal, evidence) {
        (PersonalRef::Erased, _) => "consent evidence was part of your personal data, which was erased on request".to_string(),
        (PersonalRef::Absent, _) => "no consent evidence is held for this message".to_string(),
        (PersonalRef::Present(_), None) => "no consent evidence was recorded for this source".to_string(),
        (PersonalRef::Present(_), Some(e)) => {
            let format = match e.format.as_str() {
                "tcf" => "IAB TCF consent string",
                "gpp" => "IAB GPP consent string",
                "receipt" => "consent receipt",
                _ => "other consent evidence",
            };
            format!("{format}: {}", e.value)
        }
    }
}

// ---------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------

/// `url` if it is safe to offer as a link: `https://` or `mailto:`, plain
/// printable ASCII without quotes, angle brackets or backslashes.
pub fn safe_link(url: &str) -> Option<String> {
    let scheme_ok =
        (url.starts_with("https://") && url.len() > "https://".len()) || (url.starts_with("mailto:") && url.len() > "mailto:".len());
    let chars_ok = url.len() <= 2000 && url.bytes().all(|b| b.is_ascii_graphic() && !b"<>\"'`\\".contains(&b));
    (scheme_ok && chars_ok).then(|| url.to_string())
}

/// A text shown as a link when [`safe_link`] accepts it, else as text.
pub fn link(text: &str) -> Link {
    Link { text: text.to_string(), href: safe_link(text) }
}

/// The submitter's controls, in record order, each as a link or words.
pub fn control_links(c: &Controls) -> Vec<ControlView> {
    [
        ("Change the parameters used to target you", &c.change_parameters_url),
        ("Object to this targeting", &c.object_url),
        ("Opt out of targeted messages", &c.opt_out_url),
        ("Contact the controller (data protection)", &c.controller_contact),
    ]
    .into_iter()
    .map(|(label, v)| ControlView { label, link: control_link(v) })
    .collect()
}

/// The targets of a List-Unsubscribe header (RFC 2369: `<uri>, <uri>`), in header order.
pub fn unsubscribe_targets(header: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let mut rest = header;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else { break };
        let uri = after[..end].trim();
        if !uri.is_empty() {
            out.push(link(uri));
        }
        rest = &after[end + 1..];
    }
    out
}

/// The email headers of a message, if it was an email.
pub fn email_view(h: &Option<EmailHeaders>) -> Option<EmailView> {
    h.as_ref().map(|h| EmailView {
        list_unsubscribe: h.list_unsubscribe.clone(),
        list_unsubscribe_post: disclosed_text(&h.list_unsubscribe_post),
        one_click: matches!(&h.list_unsubscribe_post, Disclosed::Value(v) if v.trim().eq_ignore_ascii_case("List-Unsubscribe=One-Click")),
        targets: unsubscribe_targets(&h.list_unsubscribe),
    })
}

// ---------------------------------------------------------------------------
// Parties
// ---------------------------------------------------------------------------

/// A party as the registry knows it.
pub fn party_brief(id: &str, registry: &Registry) -> PartyBrief {
    match registry.parties.get(id) {
        Some(p) => PartyBrief {
            id: id.to_string(),
            registered: true,
            name: p.body.name.clone(),
            contact: p.body.contact.clone(),
            established_in: country_words(&p.body.established_in),
        },
        None => PartyBrief {
            id: id.to_string(),
            registered: false,
            name: format!("“{id}” (not registered in this log)"),
            contact: "unknown".to_string(),
            established_in: "unknown".to_string(),
        },
    }
}

/// A party and the chain of its ultimately controlling entities.
pub fn party_view(id: &str, registry: &Registry) -> PartyView {
    let party = party_brief(id, registry);
    let mut controllers = Vec::new();
    let mut seen: HashSet<String> = HashSet::from([id.to_string()]);
    let mut current = id.to_string();
    let control_words = loop {
        let Some(p) = registry.parties.get(&current) else {
            break "who controls it is unknown to this log".to_string();
        };
        let by = p.body.ultimately_controlled_by.as_str();
        if by == "self" {
            break if controllers.is_empty() {
                "not controlled by any other entity (it controls itself)".to_string()
            } else {
                "the last entity named is not controlled by any other entity".to_string()
            };
        }
        if by == sightline_ledger::record::NOT_DISCLOSED {
            break if controllers.is_empty() {
                format!("who ultimately controls it is {NOT_DISCLOSED_WORDS}")
            } else {
                format!("who controls the last entity named is {NOT_DISCLOSED_WORDS}")
            };
        }
        if !seen.insert(by.to_string()) {
            break "the chain of control leads back to an entity already named".to_string();
        }
        controllers.push(party_brief(by, registry));
        current = by.to_string();
    };
    PartyView { party, controllers, control_words }
}

/// The TTPA label and transparency notice of a political message.
pub fn political_view(p: &Political, sponsor_name: &str, payer_name: &str) -> PoliticalView {
    PoliticalView {
        label: POLITICAL_LABEL,
        kind_words: format!("This message is linked to {}: {}.", political_kind_words(p.kind), p.linked_to),
        linked_to: p.linked_to.clone(),
        date: match &p.date {
            Disclosed::Value(d) => d.clone(),
            Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
        },
        amount: amount_words(&p.amount),
        funding_origin: disclosed_text(&p.funding_origin),
        notice: link(&p.notice_url),
        sponsor_name: sponsor_name.to_string(),
        payer_name: payer_name.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Criteria and lineage
// ---------------------------------------------------------------------------

/// The flag of a criterion's `special_category`, if it has one.
pub fn special_category_flag(s: &Option<Disclosed<SpecialCategory>>) -> Option<FlagView> {
    match s {
        None => None,
        Some(Disclosed::Value(c)) => Some(FlagView {
            kind: "special",
            label: format!("Special category of personal data: {}", special_category_words(*c)),
            detail: "This is sensitive data that GDPR Art. 9 protects specially: it may be used only in narrow cases, such as with your explicit consent.".to_string(),
        }),
        Some(Disclosed::NotDisclosed) => Some(FlagView {
            kind: "special_undisclosed",
            label: "Special category of personal data: not disclosed".to_string(),
            detail: format!("Whether this uses sensitive data protected by GDPR Art. 9 was {NOT_DISCLOSED_WORDS}."),
        }),
    }
}

/// Every flag of a criterion, in a fixed order: special category, minor, inferred, AI.
pub fn criterion_flags(c: &Criterion, sources: &[SourceView]) -> Vec<FlagView> {
    let mut flags = Vec::new();
    if let Some(f) = special_category_flag(&c.special_category) {
        flags.push(f);
    }
    if c.minor {
        flags.push(FlagView {
            kind: "minor",
            label: "A known minor was involved".to_string(),
            detail: "The advertiser reported that this criterion involved data about a person known to be under 18.".to_string(),
        });
    }
    let modelled = matches!(c.kind, CriterionType::Inferred | CriterionType::Modelled | CriterionType::Lookalike);
    let inferred_source = sources.iter().find(|s| s.flags.iter().any(|f| f.kind == "inferred"));
    if modelled || inferred_source.is_some() {
        let detail = match inferred_source {
            Some(s) => format!("This is a prediction about you, not a fact you gave; it may be wrong. It relies on a source computed by a model or rule: {} ({}).", s.provider, s.id),
            None => "This is a prediction about you, not a fact you gave; it may be wrong.".to_string(),
        };
        flags.push(FlagView { kind: "inferred", label: "Inferred or modelled data".to_string(), detail });
    }
    if c.ai_selected {
        flags.push(FlagView {
            kind: "ai",
            label: "Selected or optimised by an AI system".to_string(),
            detail: "An AI system chose or optimised this criterion.".to_string(),
        });
    }
    flags
}

/// What the personal part says about one criterion.
pub fn matched_words(criterion_id: &str, personal: PersonalRef<'_>) -> MatchedView {
    match personal {
        PersonalRef::Present(p) => match p.matched.get(criterion_id) {
            Some(v) => MatchedView { value: Some(v.clone()), words: "The value about you that was used:".to_string() },
            None => MatchedView {
                value: None,
                words: "No personal value about you was recorded for this criterion (for example, it concerns the context, not you)."
                    .to_string(),
            },
        },
        PersonalRef::Erased => MatchedView {
            value: None,
            words: "The value about you was part of your personal data, which was erased on request.".to_string(),
        },
        PersonalRef::Absent => MatchedView { value: None, words: "This ledger holds no personal values for this message.".to_string() },
    }
}

/// One lineage label as a step of a chain.
pub fn source_view(l: &LineageLabel, depth: usize, all: &[LineageLabel], personal: PersonalRef<'_>) -> SourceView {
    let mut flags = Vec::new();
    if l.kind == SourceKind::Inferred {
        flags.push(FlagView {
            kind: "inferred",
            label: "Inferred data".to_string(),
            detail: "Computed by a model or rule from other data.".to_string(),
        });
    }
    if l.kind == SourceKind::BoughtFromBroker {
        flags.push(FlagView {
            kind: "broker",
            label: "Data broker".to_string(),
            detail: format!("{} sold or licensed this data.", l.provider),
        });
    }
    if l.kind == SourceKind::ViaOtherPersonPermission {
        flags.push(FlagView {
            kind: "other_person",
            label: "Not collected from you".to_string(),
            detail: "This data was obtained through someone else's permission, not yours.".to_string(),
        });
    }
    if matches!(l.legal_basis, Disclosed::NotDisclosed) {
        flags.push(FlagView {
            kind: "basis_undisclosed",
            label: "Legal basis not disclosed".to_string(),
            detail: format!("The legal basis for using this data was {NOT_DISCLOSED_WORDS}."),
        });
    }
    let consent = match personal {
        PersonalRef::Present(p) => consent_words(p.consent.get(&l.id), personal),
        other => consent_words(None, other),
    };
    SourceView {
        id: l.id.clone(),
        depth,
        provider: l.provider.clone(),
        contact: l.contact.clone(),
        kind_words: source_kind_words(l.kind).to_string(),
        is_broker: l.kind == SourceKind::BoughtFromBroker,
        model: model_words(&l.model),
        collection_method: l.collection_method.clone(),
        collected_at: collected_words(&l.collected_at),
        refresh: refresh_words(&l.refresh),
        lookback: lookback_words(&l.lookback_days),
        legal_basis: legal_basis_words(&l.legal_basis),
        consent,
        derived_from: l
            .derived_from
            .iter()
            .map(|d| match all.iter().find(|x| &x.id == d) {
                Some(x) => format!("{} ({})", x.provider, x.id),
                None => format!("{d} (not described in this record)"),
            })
            .collect(),
        flags,
    }
}

/// The whole data chain of a set of lineage ids: depth-first, following
/// `derived_from`, in the order the record lists them, each label once.
pub fn lineage_chain(start: &[String], all: &[LineageLabel], personal: PersonalRef<'_>) -> Vec<SourceView> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // An explicit stack (ids pushed in reverse so that they pop in record order).
    let mut stack: Vec<(&str, usize)> = start.iter().rev().map(|s| (s.as_str(), 0)).collect();
    while let Some((id, depth)) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        match all.iter().find(|l| l.id == id) {
            Some(l) => {
                out.push(source_view(l, depth, all, personal));
                stack.extend(l.derived_from.iter().rev().map(|d| (d.as_str(), depth + 1)));
            }
            None => out.push(missing_source(id, depth)),
        }
    }
    out
}

fn missing_source(id: &str, depth: usize) -> SourceView {
    let unknown = "not described in this record".to_string();
    SourceView {
        id: id.to_string(),
        depth,
        provider: format!("source “{id}”"),
        contact: unknown.clone(),
        kind_words: unknown.clone(),
        is_broker: false,
        model: None,
        collection_method: unknown.clone(),
        collected_at: unknown.clone(),
        refresh: unknown.clone(),
        lookback: unknown.clone(),
        legal_basis: unknown.clone(),
        consent: unknown,
        derived_from: Vec::new(),
        flags: Vec::new(),
    }
}

/// A disclosable control as a link (or [`NOT_DISCLOSED_WORDS`]).
pub fn control_link(v: &Disclosed<String>) -> Link {
    match v {
        Disclosed::Value(u) => link(u),
        Disclosed::NotDisclosed => Link { text: NOT_DISCLOSED_WORDS.to_string(), href: None },
    }
}

/// One criterion, fully explained.
pub fn criterion_view(
    position: usize,
    c: &Criterion,
    lineage: &[LineageLabel],
    controls: &Controls,
    personal: PersonalRef<'_>,
) -> CriterionView {
    let sources = lineage_chain(&c.lineage, lineage, personal);
    CriterionView {
        id: c.id.clone(),
        position,
        is_exclude: c.effect == Effect::Exclude,
        effect_words: effect_words(c.effect),
        sentence: criterion_sentence(c),
        type_words: criterion_type_words(c.kind),
        description: c.description.clone(),
        matched: matched_words(&c.id, personal),
        flags: criterion_flags(c, &sources),
        sources,
        change: control_link(&controls.change_parameters_url),
        object: control_link(&controls.object_url),
    }
}

/// How many criteria there are, of which kind.
pub fn criteria_summary(criteria: &[Criterion]) -> String {
    let inc = criteria.iter().filter(|c| c.effect == Effect::Include).count();
    let exc = criteria.len() - inc;
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if criteria.is_empty() {
        return "The advertiser reported no targeting criteria: this message was not targeted at you by any data about you.".to_string();
    }
    format!(
        "The advertiser used {}: {} to include people and {} to exclude people. Every one of them is listed below, with where its data came from.",
        plural(criteria.len(), "criterion", "criteria"),
        inc,
        exc
    )
}

/// The flags of the whole message: one entry per kind of flag found on a
/// criterion or anywhere in its data chain, naming the criteria concerned in record order.
pub fn summary_flags(criteria: &[CriterionView]) -> Vec<FlagView> {
    let mut out: Vec<FlagView> = Vec::new();
    for (kind, label) in [
        ("special", "Special categories of personal data (GDPR Art. 9) were used"),
        ("special_undisclosed", "Whether special categories of personal data (GDPR Art. 9) were used was not disclosed"),
        ("minor", "A known minor was involved"),
        ("inferred", "Inferred or modelled data was used"),
        ("ai", "An AI system selected or optimised criteria"),
        ("broker", "Data bought from a data broker was used"),
        ("other_person", "Data obtained through another person's permission, not yours, was used"),
        ("basis_undisclosed", "The legal basis for some of the data was not disclosed"),
    ] {
        let concerned =
            |c: &&CriterionView| c.flags.iter().any(|f| f.kind == kind) || c.sources.iter().any(|s| s.flags.iter().any(|f| f.kind == kind));
        let ids: Vec<String> = criteria.iter().filter(concerned).map(|c| format!("{} ({})", c.position, c.id)).collect();
        if !ids.is_empty() {
            let detail =
                if ids.len() == 1 { format!("See criterion {} below.", ids[0]) } else { format!("See criteria {} below.", ids.join(", ")) };
            out.push(FlagView { kind, label: label.to_string(), detail });
        }
    }
    out
}

/// How delivery was optimised.
pub fn optimisation_sentence(d: &DeliveryOptimisation) -> String {
    let goal = disclosed_text(&d.goal);
    if d.ai_system {
        format!("An AI system optimised who was shown this message and when. Its goal: {goal}.")
    } else {
        format!("No AI system optimised who was shown this message. Delivery goal: {goal}.")
    }
}

/// Log flags in words (`objected:<n>`).
pub fn log_flag_words(flag: &str) -> String {
    match flag.strip_prefix("objected:") {
        Some(n) => format!("You objected to this advertiser before this message was sent (your objection is entry {n} of the log). The message was still sent; the log flags it publicly."),
        None => format!("The log attached the flag “{flag}”."),
    }
}

/// The proof sentence, receipt file and verifier command.
pub fn proof_view(index: u64, p: &ProofInput<'_>) -> ProofView {
    let receipt_file = format!("entry-{index}.sightline-receipt.json");
    ProofView {
        entry: index,
        size: p.size,
        sentence: format!(
            "This message was recorded as entry {index} of the log, and is included in the signed checkpoint of size {}.",
            p.size
        ),
        vkey: p.vkey.to_string(),
        receipt_path: format!("/why/{}/receipt", p.token),
        command: format!("sightline-verifier receipt {receipt_file} --vkey '{}'", p.vkey),
        receipt_file,
    }
}

// ---------------------------------------------------------------------------
// Whole pages
// ---------------------------------------------------------------------------

/// The full explanation of one message entry.
pub fn explain(
    index: u64,
    (logged_at, flags): (&str, &[String]),
    m: &MessageBody,
    registry: &Registry,
    personal: PersonalRef<'_>,
    proof: &ProofInput<'_>,
) -> WhyView {
    let sponsor = party_view(&m.sponsor.on_behalf_of, registry);
    let payer = party_view(&m.sponsor.payer, registry);
    let criteria: Vec<CriterionView> =
        m.targeting.criteria.iter().enumerate().map(|(i, c)| criterion_view(i + 1, c, &m.lineage, &m.controls, personal)).collect();
    let reached: HashSet<&str> = criteria.iter().flat_map(|c| c.sources.iter().map(|s| s.id.as_str())).collect();
    let other_sources =
        m.lineage.iter().filter(|l| !reached.contains(l.id.as_str())).map(|l| source_view(l, 0, &m.lineage, personal)).collect();
    let reported_by = match registry.submitters.get(&m.signer) {
        Some(s) => PartyBrief {
            id: m.signer.clone(),
            registered: true,
            name: s.body.name.clone(),
            contact: s.body.contact.clone(),
            established_in: String::new(),
        },
        None => PartyBrief {
            id: m.signer.clone(),
            registered: false,
            name: m.signer.clone(),
            contact: "unknown".to_string(),
            established_in: String::new(),
        },
    };
    let channel = channel_words(m.delivery.channel);
    let erased = matches!(personal, PersonalRef::Erased);
    WhyView {
        index,
        title: format!("Why you received {channel}"),
        channel_words: channel,
        message_id: m.message_id.clone(),
        brand: m.delivery.creative.brand.clone(),
        subject: m.delivery.creative.subject.clone(),
        language: m.delivery.creative.language.clone(),
        campaign_id: m.delivery.creative.campaign_id.clone(),
        ad_id: m.delivery.creative.ad_id.clone(),
        creative_id: m.delivery.creative.creative_id.clone(),
        creative_sha256: m.delivery.creative.sha256.clone(),
        served_at: time_words(&m.delivery.served_at),
        logged_at: time_words(logged_at),
        member_state: country_words(&m.delivery.member_state),
        reported_by,
        payer_is_sponsor: m.sponsor.payer == m.sponsor.on_behalf_of,
        political: m.sponsor.political.as_ref().map(|p| political_view(p, &sponsor.party.name, &payer.party.name)),
        sponsor,
        payer,
        criteria_summary: criteria_summary(&m.targeting.criteria),
        summary_flags: summary_flags(&criteria),
        criteria,
        optimisation: optimisation_sentence(&m.targeting.delivery_optimisation),
        optimisation_ai: m.targeting.delivery_optimisation.ai_system,
        other_sources,
        controls: control_links(&m.controls),
        email: email_view(&m.delivery.email_headers),
        log_flags: flags.iter().map(|f| log_flag_words(f)).collect(),
        objected: flags.iter().any(|f| f.starts_with("objected:")),
        erased,
        personal_words: match personal {
            PersonalRef::Present(_) => "The personal values shown on this page come from the personal part of this record, which only you (through this link) and the log operator's compliance team can read. The public log holds only a salted commitment to them.".to_string(),
            PersonalRef::Erased => "Your personal data for this message was erased on request (GDPR Art. 17). The values used about you and your identifier can no longer be read by anyone. The public part of the record and its proof remain below, unchanged.".to_string(),
            PersonalRef::Absent => "This ledger holds no personal part for this message.".to_string(),
        },
        proof: proof_view(index, proof),
    }
}

/// One row of the recipient's message list.
pub fn message_row(index: u64, m: &MessageBody, registry: &Registry, token: String, current: bool) -> MessageRow {
    MessageRow {
        index,
        served_at: time_words(&m.delivery.served_at),
        channel_words: channel_words(m.delivery.channel),
        brand: m.delivery.creative.brand.clone(),
        subject: m.delivery.creative.subject.clone(),
        sponsor: party_brief(&m.sponsor.on_behalf_of, registry).name,
        political: m.sponsor.political.is_some(),
        token,
        current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sightline_ledger::record::PartyBody;
    use sightline_ledger::registry::PartyInfo;
    use std::collections::BTreeMap;

    fn body() -> MessageBody {
        let v = serde_json::json!({
            "kind": "message", "signer": "acme-ads", "message_id": "ocean-2026/000017",
            "delivery": { "channel": "email", "served_at": "2026-11-20T18:04:05Z", "member_state": "DE",
                "creative": { "sha256": "9f2c".repeat(16), "brand": "Civic Future", "subject": "They don't want you to know",
                    "language": "de", "campaign_id": "ocean-2026", "ad_id": "ad-17", "creative_id": "cr-fear-3" },
                "email_headers": { "list_unsubscribe": "<https://civic.example/u/1>, <mailto:u@civic.example?subject=unsub>",
                    "list_unsubscribe_post": "List-Unsubscribe=One-Click" } },
            "sponsor": { "on_behalf_of": "p-civic-future", "payer": "p-civic-holding",
                "political": { "kind": "election", "linked_to": "Bundestag election 2029", "date": "2029-09-23",
                    "amount": { "value": "48000.00", "currency": "EUR" }, "funding_origin": "not_disclosed",
                    "notice_url": "https://civic-future.example/transparency/ocean-2026" } },
            "recipient": { "commitment": "0".repeat(64) }, "personal_commitment": "1".repeat(64),
            "targeting": { "criteria": [
                { "id": "c1", "effect": "include", "type": "modelled", "description": "Personality score: high neuroticism",
                  "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-quiz-model"] },
                { "id": "c2", "effect": "exclude", "type": "declared", "description": "People who follow the party's own page",
                  "special_category": "political_opinion", "minor": true, "ai_selected": false, "lineage": ["s-page-follows"] },
                { "id": "c3", "effect": "include", "type": "contextual", "description": "Reading news",
                  "special_category": "not_disclosed", "minor": false, "ai_selected": false, "lineage": ["s-broker"] }
              ], "delivery_optimisation": { "ai_system": true, "goal": "engagement" } },
            "lineage": [
                { "id": "s-quiz-app", "provider": "Quiz App", "contact": "dpo@quiz.example", "kind": "via_other_person_permission",
                  "model": null, "collection_method": "A friend's quiz app read page likes", "collected_at": "2026-03-01",
                  "refresh": "once", "lookback_days": "not_disclosed", "legal_basis": "not_disclosed", "derived_from": [] },
                { "id": "s-quiz-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme-ads.example", "kind": "inferred",
                  "model": { "name": "ocean-v2", "version": "2.3.1" }, "collection_method": "Model inferring OCEAN traits",
                  "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365, "legal_basis": "legitimate_interests",
                  "derived_from": ["s-quiz-app", "s-broker"] },
                { "id": "s-page-follows", "provider": "Acme Social", "contact": "dpo@social.example", "kind": "observed",
                  "model": null, "collection_method": "Page follows", "collected_at": "not_disclosed", "refresh": "daily",
                  "lookback_days": 30, "legal_basis": "contract", "derived_from": [] },
                { "id": "s-broker", "provider": "DataBroker Inc", "contact": "privacy@broker.example", "kind": "bought_from_broker",
                  "model": null, "collection_method": "Purchased segments", "collected_at": "2026-10-01", "refresh": "monthly",
                  "lookback_days": 90, "legal_basis": "consent", "derived_from": [] },
                { "id": "s-unused", "provider": "Unused Source", "contact": "x@unused.example", "kind": "public_record",
                  "model": null, "collection_method": "Electoral roll", "collected_at": "2026-01-01", "refresh": "yearly",
                  "lookback_days": 1, "legal_basis": "public_task", "derived_from": [] }
            ],
            "controls": { "change_parameters_url": "https://social.example/settings/ads", "object_url": "javascript:alert(1)",
                "opt_out_url": "not_disclosed", "controller_contact": "mailto:dpo@acme-ads.example" }
        });
        // Parsed without validation: `object_url` is deliberately not https, to show
        // that the page re-checks every link itself (defence in depth).
        serde_json::from_value(v).expect("well-typed body")
    }

    fn registry() -> Registry {
        let mut r = Registry::default();
        for (i, (id, name, by)) in [
            ("p-civic-holding", "Civic Holding AG", "p-top"),
            ("p-civic-future", "Civic Future e.V.", "p-civic-holding"),
            ("p-top", "Top Trust", "self"),
        ]
        .into_iter()
        .enumerate()
        {
            let body = PartyBody {
                kind: sightline_ledger::record::Kind::Party,
                signer: "log".into(),
                party: id.into(),
                name: name.into(),
                contact: format!("info@{id}.example"),
                established_in: "DE".into(),
                ultimately_controlled_by: by.into(),
            };
            r.parties.insert(id.into(), PartyInfo { body, index: i as u64 + 1 });
        }
        r
    }

    fn personal() -> Personal {
        let matched = BTreeMap::from([
            ("c1".to_string(), "neuroticism score 0.82 (high)".to_string()),
            ("c2".to_string(), "does not follow".to_string()),
        ]);
        let consent =
            BTreeMap::from([("s-broker".to_string(), ConsentEvidence { format: "tcf".into(), value: "CPXxRfAPXxRfAAfKABENB".into() })]);
        Personal::new("alice@example.org", matched, consent)
    }

    fn view(p: PersonalRef<'_>) -> WhyView {
        let proof = ProofInput { size: 9, vkey: "sightline.localhost/log+01020304+AQ==", token: "TOKEN" };
        explain(7, ("2026-11-20T18:04:06.000Z", &["objected:5".into()]), &body(), &registry(), p, &proof)
    }

    #[test]
    fn every_criterion_include_and_exclude_appears_in_record_order() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        let ids: Vec<&str> = v.criteria.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        assert!(!v.criteria[0].is_exclude);
        assert!(v.criteria[1].is_exclude);
        assert!(v.criteria[1].sentence.contains("NOT to show"));
        assert!(v.criteria[1].sentence.contains("People who follow the party's own page"));
        assert!(v.criteria_summary.contains("3 criteria: 2 to include people and 1 to exclude people"));
    }

    #[test]
    fn the_personal_matched_value_is_shown_and_absent_ones_say_so() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        assert_eq!(v.criteria[0].matched.value.as_deref(), Some("neuroticism score 0.82 (high)"));
        assert_eq!(v.criteria[1].matched.value.as_deref(), Some("does not follow"));
        assert_eq!(v.criteria[2].matched.value, None);
        assert!(v.criteria[2].matched.words.contains("No personal value"));
    }

    #[test]
    fn special_category_minor_inferred_and_ai_are_flagged() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        let kinds = |i: usize| v.criteria[i].flags.iter().map(|f| f.kind).collect::<Vec<_>>();
        assert_eq!(kinds(0), ["inferred", "ai"]);
        assert_eq!(kinds(1), ["special", "minor"]);
        assert!(v.criteria[1].flags[0].label.contains("political opinions"));
        assert!(v.criteria[1].flags[0].detail.contains("Art. 9"));
        assert_eq!(kinds(2), ["special_undisclosed"]);
        assert!(v.criteria[2].flags[0].detail.contains(NOT_DISCLOSED_WORDS));
        let summary: Vec<(&str, &str)> = v.summary_flags.iter().map(|f| (f.kind, f.detail.as_str())).collect();
        assert_eq!(
            summary,
            [
                ("special", "See criterion 2 (c2) below."),
                ("special_undisclosed", "See criterion 3 (c3) below."),
                ("minor", "See criterion 2 (c2) below."),
                ("inferred", "See criterion 1 (c1) below."),
                ("ai", "See criterion 1 (c1) below."),
                ("broker", "See criteria 1 (c1), 3 (c3) below."),
                ("other_person", "See criterion 1 (c1) below."),
                ("basis_undisclosed", "See criterion 1 (c1) below."),
            ]
        );
    }

    #[test]
    fn the_lineage_chain_is_followed_through_derived_from() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        let chain: Vec<(&str, usize)> = v.criteria[0].sources.iter().map(|s| (s.id.as_str(), s.depth)).collect();
        assert_eq!(chain, [("s-quiz-model", 0), ("s-quiz-app", 1), ("s-broker", 1)]);
        let model = &v.criteria[0].sources[0];
        assert_eq!(model.model.as_deref(), Some("model “ocean-v2”, version 2.3.1"));
        assert_eq!(model.derived_from, ["Quiz App (s-quiz-app)", "DataBroker Inc (s-broker)"]);
        assert!(model.lookback.contains("365 days"));
        assert!(model.legal_basis.contains("legitimate interests"));
        let broker = &v.criteria[0].sources[2];
        assert!(broker.is_broker);
        assert_eq!(broker.kind_words, "Bought from a data broker");
        assert_eq!(broker.consent, "IAB TCF consent string: CPXxRfAPXxRfAAfKABENB");
        assert!(v.criteria[0].sources[1].kind_words.contains("another person's permission"));
        // The unused label is still shown, once, outside the criteria.
        assert_eq!(v.other_sources.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s-unused"]);
        assert!(v.other_sources[0].lookback.contains("last day"));
    }

    #[test]
    fn not_disclosed_reads_not_disclosed_by_the_advertiser() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        let app = &v.criteria[0].sources[1];
        assert_eq!(app.legal_basis, NOT_DISCLOSED_WORDS);
        assert!(app.lookback.contains(NOT_DISCLOSED_WORDS));
        assert!(v.criteria[1].sources[0].collected_at.contains(NOT_DISCLOSED_WORDS));
        let pol = v.political.as_ref().unwrap();
        assert_eq!(pol.funding_origin, NOT_DISCLOSED_WORDS);
        assert_eq!(v.controls[2].link, Link { text: NOT_DISCLOSED_WORDS.into(), href: None });
        assert_eq!(legal_basis_words(&Disclosed::NotDisclosed), NOT_DISCLOSED_WORDS);
        assert_eq!(amount_words(&Disclosed::NotDisclosed), NOT_DISCLOSED_WORDS);
    }

    #[test]
    fn political_label_notice_and_parties_with_controllers() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        let pol = v.political.as_ref().unwrap();
        assert_eq!(pol.label, "Political advertisement");
        assert_eq!(pol.amount, "48000.00 EUR");
        assert_eq!(pol.date, "2029-09-23");
        assert!(pol.kind_words.contains("an election: Bundestag election 2029"));
        assert_eq!(pol.notice.href.as_deref(), Some("https://civic-future.example/transparency/ocean-2026"));
        assert_eq!(pol.sponsor_name, "Civic Future e.V.");
        assert_eq!(pol.payer_name, "Civic Holding AG");
        assert_eq!(v.sponsor.party.established_in, "Germany (DE)");
        let chain: Vec<&str> = v.sponsor.controllers.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(chain, ["Civic Holding AG", "Top Trust"]);
        assert!(v.payer.control_words.contains("not controlled by any other entity"));
        assert!(!v.payer_is_sponsor);
    }

    #[test]
    fn only_https_and_mailto_become_links() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        assert_eq!(v.controls[0].link.href.as_deref(), Some("https://social.example/settings/ads"));
        assert_eq!(v.controls[1].link.href, None);
        assert_eq!(v.controls[1].link.text, "javascript:alert(1)");
        assert_eq!(v.controls[3].link.href.as_deref(), Some("mailto:dpo@acme-ads.example"));
        // Every criterion says how to change it and how to object, with the same checks.
        assert!(v
            .criteria
            .iter()
            .all(|c| c.change.href.as_deref() == Some("https://social.example/settings/ads") && c.object.href.is_none()));
        assert_eq!(safe_link("http://x.example"), None);
        assert_eq!(safe_link("https://x.example/\"onmouseover=x"), None);
        assert_eq!(safe_link("https://"), None);
    }

    #[test]
    fn email_unsubscribe_headers_are_shown_verbatim_with_their_targets() {
        let p = personal();
        let e = view(PersonalRef::Present(&p)).email.unwrap();
        assert_eq!(e.list_unsubscribe, "<https://civic.example/u/1>, <mailto:u@civic.example?subject=unsub>");
        assert!(e.one_click);
        let hrefs: Vec<_> = e.targets.iter().map(|l| l.href.clone().unwrap()).collect();
        assert_eq!(hrefs, ["https://civic.example/u/1", "mailto:u@civic.example?subject=unsub"]);
    }

    #[test]
    fn objection_flags_and_proof_are_stated() {
        let p = personal();
        let v = view(PersonalRef::Present(&p));
        assert!(v.objected);
        assert!(v.log_flags[0].contains("You objected to this advertiser before this message was sent"));
        assert!(v.log_flags[0].contains("entry 5"));
        assert_eq!(
            v.proof.sentence,
            "This message was recorded as entry 7 of the log, and is included in the signed checkpoint of size 9."
        );
        assert_eq!(
            v.proof.command,
            "sightline-verifier receipt entry-7.sightline-receipt.json --vkey 'sightline.localhost/log+01020304+AQ=='"
        );
        assert_eq!(v.proof.receipt_path, "/why/TOKEN/receipt");
    }

    #[test]
    fn an_erased_personal_part_still_explains_the_public_record() {
        let v = view(PersonalRef::Erased);
        assert!(v.erased);
        assert!(v.personal_words.contains("erased on request"));
        assert_eq!(v.criteria.len(), 3);
        assert!(v.criteria.iter().all(|c| c.matched.value.is_none() && c.matched.words.contains("erased")));
        assert!(v.criteria[0].sources[2].consent.contains("erased"));
        assert!(v.proof.sentence.contains("entry 7"));
    }

    #[test]
    fn output_is_deterministic() {
        let p = personal();
        let a = view(PersonalRef::Present(&p));
        let b = view(PersonalRef::Present(&p));
        assert_eq!(a, b);
        // A different salt (a fresh personal part with the same values) changes nothing shown.
        let q = Personal { salt: "x".into(), ..p.clone() };
        assert_eq!(view(PersonalRef::Present(&q)), a);
    }

    #[test]
    fn times_and_countries_read_plainly() {
        assert_eq!(time_words("2026-11-20T18:04:05Z"), "20 November 2026 at 18:04:05 UTC");
        assert_eq!(time_words("2026-11-20T18:04:05.123Z"), "20 November 2026 at 18:04:05 UTC");
        assert_eq!(time_words("garbage"), "garbage");
        assert_eq!(country_words("EL"), "Greece (EL)");
        assert_eq!(country_words("ZZ"), "country code ZZ");
    }
}
