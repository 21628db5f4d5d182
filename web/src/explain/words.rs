//! Words for record values: enums, disclosable fields, times, countries, amounts, consent, and
//! the links a page may offer. One function per kind of value, so the same value always reads
//! the same.

use super::*;

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
        Channel::Tv => "a television advertisement",
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

/// Whether the criterion lets people in or keeps them out (of everyone; what it did for the
/// reader is their standing, [`super::standings`]).
pub fn effect_words(e: Effect) -> &'static str {
    match e {
        Effect::Include => "Inclusion: lets people in",
        Effect::Exclude => "Exclusion: keeps people out",
    }
}

/// One plain sentence for what the advertiser asked, include or exclude. It says nothing about
/// the reader: whether it applied to them is their standing.
pub fn criterion_sentence(c: &Criterion) -> String {
    match c.effect {
        Effect::Include => format!(
            "The advertiser asked to show this message to people matching “{}”. It is based on {}.",
            c.description,
            criterion_type_words(c.kind)
        ),
        Effect::Exclude => format!(
            "The advertiser asked NOT to show this message to people matching “{}”. It is based on {}.",
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
        SourceKind::EarlierMessage => "Your response to an earlier message this log holds (you clicked or answered it)",
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

/// The email headers of a message and how its address was obtained, if it was an email.
pub fn email_view(h: &Option<EmailHeaders>, address: AddressView) -> Option<EmailView> {
    h.as_ref().map(|h| EmailView {
        list_unsubscribe: h.list_unsubscribe.clone(),
        list_unsubscribe_post: disclosed_text(&h.list_unsubscribe_post),
        one_click: matches!(&h.list_unsubscribe_post, Disclosed::Value(v) if v.trim().eq_ignore_ascii_case("List-Unsubscribe=One-Click")),
        targets: unsubscribe_targets(&h.list_unsubscribe),
        address,
    })
}

/// What a page says of a field an old entry leaves out (`sponsor.political`, `lineage[2].model`,
/// ...): that the record does not state it, never what its absence "means".
pub fn unstated_words(field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let what = match (field, last) {
        ("sponsor.political", _) => "whether this is a political advertisement",
        ("delivery.email_headers", _) => "the email's unsubscribe headers",
        ("delivery.address_lineage", _) => "how your e-mail address was obtained",
        ("targeting.audience", _) => "how the criteria combine, or which of them applied to you",
        (_, "special_category") => "whether this criterion used a special category of personal data",
        (_, "art9_condition") => "which GDPR Art. 9(2) condition was relied on for special-category data",
        (_, "model") => "which model inferred this data",
        (_, "visibility") => "whether the creative was also published openly or shown only to the people targeted",
        (_, "content") => "the creative's content (its text and assets)",
        (_, "match_keys") => "which identifiers an uploaded list or lookalike was matched by",
        (_, "seed_audience") => "the audience a lookalike was grown from",
        (_, "audience_size" | "precision" | "id_types" | "onboarder") => "a data source's audience size, precision, ID types and onboarder",
        ("sponsor.political.period", _) => "the dissemination period of this political advertisement",
        ("sponsor.political.other_benefits", _) => "benefits other than money received for it",
        ("sponsor.political.funding_source", _) => "whether its funds are public or private, from inside or outside the EU",
        ("sponsor.political.repository_url", _) => "its entry in the European repository of political advertisements",
        ("sponsor.political.report_url", _) => "where to report it as unlawful",
        ("sponsor.political.suspension", _) => "whether it was suspended or removed before",
        _ => "this field",
    };
    format!("The record does not state {what} (field {field} is left out: it was logged before the log required the field). This page cannot tell either way.")
}

/// The unstated fields of an entry, each said once: fields of every element of a list
/// (`lineage[0].precision`, `lineage[1].precision`) are one line, and the four data-label
/// fields of the sources are one line.
pub fn unstated_lines(omitted: &[String]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for field in omitted {
        let general = general_path(field);
        let key = match general.rsplit('.').next() {
            Some("audience_size" | "precision" | "id_types" | "onboarder") => "lineage[].data_label".to_string(),
            _ => general.clone(),
        };
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let shown =
            if general.contains("[]") && omitted.iter().filter(|o| general_path(o) == general).count() > 1 { &general } else { field };
        out.push(unstated_words(shown));
    }
    out
}

/// A path with every index written `[]`.
fn general_path(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_index = false;
    for ch in field.chars() {
        match ch {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            c if !in_index => out.push(c),
            _ => {}
        }
    }
    out
}
