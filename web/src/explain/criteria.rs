//! Criteria and their lineage: every criterion, include and exclude, with the personal value
//! matched and the chain of data sources behind it.

use std::collections::HashSet;

use super::*;

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
