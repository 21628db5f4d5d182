//! Words for what revision 3 asks a message to disclose (`sightline_ledger::record`): the
//! creative's content and whether it was a dark post, the GDPR Art. 9(2) condition, match keys
//! and seed audiences, the data-label fields of a source, a source that is an earlier message,
//! how an e-mail address was obtained, the rest of the TTPA notice and the use of AI. A field an
//! older entry leaves out reads as not stated, never as an answer.

use sightline_ledger::record::{
    Art9Condition, Creative, FundingSector, FundingSource, FundingTerritory, IdType, Onboarder, Period, Precision, SeedAudience, Visibility,
};

use super::*;

/// What a page says where the record leaves a field out.
pub const NOT_STATED_WORDS: &str = "not stated by this record (it was logged before the log asked for it)";

/// Everything the explanation of one message reads besides the body.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub lineage: &'a [LineageLabel],
    pub personal: PersonalRef<'a>,
    pub omitted: &'a [String],
    pub why_token: &'a dyn Fn(u64) -> String,
}

impl Ctx<'_> {
    /// Whether the record leaves out the field at `path` (see [`Logged::omitted`]).
    pub fn omits(&self, path: &str) -> bool {
        self.omitted.iter().any(|o| o == path)
    }
}

/// A GDPR Art. 9(2) condition in words.
pub fn art9_words(c: Art9Condition) -> &'static str {
    match c {
        Art9Condition::ExplicitConsent => "your explicit consent (GDPR Art. 9(2)(a))",
        Art9Condition::EmploymentAndSocialProtection => "obligations of employment and social protection law (GDPR Art. 9(2)(b))",
        Art9Condition::VitalInterests => "protecting someone's vital interests (GDPR Art. 9(2)(c))",
        Art9Condition::NotForProfitMembers => "a not-for-profit body's dealings with its members (GDPR Art. 9(2)(d))",
        Art9Condition::ManifestlyMadePublic => "data you manifestly made public yourself (GDPR Art. 9(2)(e))",
        Art9Condition::LegalClaims => "legal claims (GDPR Art. 9(2)(f))",
        Art9Condition::SubstantialPublicInterest => "a substantial public interest set by law (GDPR Art. 9(2)(g))",
        Art9Condition::HealthOrSocialCare => "health or social care (GDPR Art. 9(2)(h))",
        Art9Condition::PublicHealth => "public health (GDPR Art. 9(2)(i))",
        Art9Condition::ArchivingResearchOrStatistics => "archiving, research or statistics (GDPR Art. 9(2)(j))",
        Art9Condition::None => "no GDPR Art. 9(2) condition at all, only an ordinary Art. 6 legal basis",
    }
}

/// A kind of identifier in words.
pub fn id_type_words(t: IdType) -> &'static str {
    match t {
        IdType::Email => "e-mail address",
        IdType::HashedEmail => "hashed e-mail address",
        IdType::Phone => "phone number",
        IdType::HashedPhone => "hashed phone number",
        IdType::PostalAddress => "postal address",
        IdType::VoterId => "voter id (from the electoral register)",
        IdType::CustomerId => "customer or loyalty-card number",
        IdType::MobileAdId => "mobile advertising id",
        IdType::CookieId => "cookie id",
        IdType::PlatformId => "platform account",
        IdType::CtvId => "TV or streaming device id",
        IdType::IpAddress => "IP address",
    }
}

/// A list of identifier kinds, or not disclosed.
pub fn id_types_words(ids: &Disclosed<Vec<IdType>>) -> String {
    match ids {
        Disclosed::Value(ids) => ids.iter().map(|t| id_type_words(*t)).collect::<Vec<_>>().join(", "),
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
    }
}

fn precision_words(p: Precision) -> &'static str {
    match p {
        Precision::Individual => "individual people",
        Precision::Household => "households",
        Precision::Device => "devices",
        Precision::Browser => "browsers",
        Precision::Business => "businesses",
        Precision::Geography => "places, not people",
    }
}

fn count_words(n: &Disclosed<u64>) -> String {
    match n {
        Disclosed::Value(n) => format!("{} people", thousands(*n)),
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

fn disclosed_with<T>(d: &Disclosed<T>, f: impl FnOnce(&T) -> String) -> String {
    match d {
        Disclosed::Value(v) => f(v),
        Disclosed::NotDisclosed => NOT_DISCLOSED_WORDS.to_string(),
    }
}

/// The data-label fields of the IAB Data Transparency Standard of label `i`, as facts. A source
/// that is not an audience segment (all `null`) says so; fields the record leaves out are
/// left to the page's list of what the record does not state.
pub fn data_label(l: &LineageLabel, i: usize, ctx: Ctx<'_>) -> Vec<FactView> {
    if ctx.omits(&format!("lineage[{i}].audience_size")) {
        return Vec::new();
    }
    let mut facts = Vec::new();
    if let Some(n) = &l.audience_size {
        facts.push(FactView { term: "Audience size", value: count_words(n) });
    }
    if let Some(p) = &l.precision {
        facts.push(FactView { term: "Describes", value: disclosed_with(p, |p| precision_words(*p).to_string()) });
    }
    if let Some(ids) = &l.id_types {
        facts.push(FactView { term: "Keyed on", value: id_types_words(ids) });
    }
    if let Some(o) = &l.onboarder {
        let words = |o: &Onboarder| format!("{}: {}", o.name, o.match_method);
        facts.push(FactView { term: "Onboarded by", value: disclosed_with(o, words) });
    }
    if facts.is_empty() {
        facts.push(FactView {
            term: "Data label",
            value: "not an audience segment (no audience size, precision, ID types or onboarder apply)".into(),
        });
    }
    facts
}

/// A source that is an earlier message of this log, with the link to that message's page.
pub fn earlier_view(l: &LineageLabel, ctx: Ctx<'_>) -> Option<EarlierView> {
    l.entry.map(|index| EarlierView { index, href: format!("/why/{}", (ctx.why_token)(index)) })
}

/// What an uploaded list or a lookalike's seed list was matched by.
pub fn match_keys_words(c: &Criterion, i: usize, ctx: Ctx<'_>) -> Option<String> {
    if ctx.omits(&format!("targeting.criteria[{i}].match_keys")) {
        return Some(NOT_STATED_WORDS.to_string());
    }
    c.match_keys.as_ref().map(id_types_words)
}

/// The audience a lookalike was grown from.
pub fn seed_view(s: &SeedAudience, ctx: Ctx<'_>) -> SeedView {
    SeedView { description: s.description.clone(), size: count_words(&s.size), sources: lineage_chain(&s.lineage, ctx) }
}

/// The creative's content and visibility.
pub fn creative_view(c: &Creative) -> CreativeView {
    let visibility = match c.visibility {
        Some(Visibility::Public) => "Published openly as well: anyone can see this creative, not only the people it was targeted at.",
        Some(Visibility::AudienceOnly) => {
            "Shown only to the people it was targeted at (a “dark post”): it was not published openly, so only the ad library shows it to everyone else."
        }
        None => "Whether it was also published openly is not stated by this record (it was logged before the log asked for it).",
    };
    let (text, assets) = match &c.content {
        Some(content) => (
            Some(content.text.clone()),
            content.assets.iter().map(|a| AssetView { sha256: a.sha256.clone(), link: a.url.as_deref().map(link) }).collect(),
        ),
        None => (None, Vec::new()),
    };
    CreativeView { audience_only: c.visibility == Some(Visibility::AudienceOnly), visibility: visibility.to_string(), text, assets }
}

/// "How we got your address": the lineage chain behind an e-mail address.
pub fn address_view(m: &MessageBody, ctx: Ctx<'_>) -> AddressView {
    match &m.delivery.address_lineage {
        Some(ids) => AddressView {
            words: "The sender reported where your address came from, source by source:".into(),
            sources: lineage_chain(ids, ctx),
        },
        None => AddressView {
            words: "The record does not state how your address was obtained (it was logged before the log asked for it).".into(),
            sources: Vec::new(),
        },
    }
}

fn period_words(p: &Period) -> String {
    format!("from {} to {}", p.from, p.to)
}

fn funding_words(f: &FundingSource) -> String {
    let sector = match f.sector {
        FundingSector::Public => "public funds",
        FundingSector::Private => "private funds",
        FundingSector::PublicAndPrivate => "public and private funds",
    };
    let territory = match f.territory {
        FundingTerritory::InsideEu => "from inside the EU",
        FundingTerritory::OutsideEu => "from outside the EU",
        FundingTerritory::InsideAndOutsideEu => "from inside and outside the EU",
    };
    format!("{sector} {territory}")
}

/// The rest of the TTPA notice: `(period, other benefits, funding source, repository, report,
/// suspension)` in words, each "not stated" where an older record leaves it out.
pub fn notice_words(p: &Political, omitted: &[String]) -> (String, String, String, Link, Link, String) {
    let stated = |field: &str, words: Option<String>| words.unwrap_or_else(|| format!("{NOT_STATED_WORDS} ({field})"));
    let not_stated = || Link { text: NOT_STATED_WORDS.to_string(), href: None };
    let suspension = match &p.suspension {
        Some(s) => format!("Suspended or removed before: {s}"),
        None if omitted.iter().any(|o| o == "sponsor.political.suspension") => NOT_STATED_WORDS.to_string(),
        None => "It has not been suspended or removed before.".into(),
    };
    (
        stated("period", p.period.as_ref().map(|d| disclosed_with(d, period_words))),
        stated("other benefits", p.other_benefits.as_ref().map(disclosed_text)),
        stated("funding source", p.funding_source.as_ref().map(|d| disclosed_with(d, funding_words))),
        p.repository_url.as_ref().map(control_link).unwrap_or_else(not_stated),
        p.report_url.as_deref().map(link).unwrap_or_else(not_stated),
        suspension,
    )
}

/// The use of AI for the whole message, in one sentence: which criteria an AI system chose or
/// optimised, and whether one decided who was shown the message.
pub fn ai_use_words(m: &MessageBody) -> String {
    let chosen: Vec<String> = m
        .targeting
        .criteria
        .iter()
        .enumerate()
        .filter(|(_, c)| c.ai_selected)
        .map(|(i, c)| format!("criterion {} ({})", i + 1, c.id))
        .collect();
    let delivery = m.targeting.delivery_optimisation.ai_system;
    match (chosen.is_empty(), delivery) {
        (true, false) => "No AI system selected the audience of this message or decided who was shown it.".into(),
        (true, true) => "An AI system decided, at least in part, who was shown this message; none chose its criteria.".into(),
        (false, false) => {
            format!("An AI system chose or optimised {}; none decided who was shown the message.", selection::and_list(&chosen))
        }
        (false, true) => format!(
            "AI systems were used: to choose or optimise {}, and to decide, at least in part, who was shown this message.",
            selection::and_list(&chosen)
        ),
    }
}
