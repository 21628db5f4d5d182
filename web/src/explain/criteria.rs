//! Criteria and their lineage: every criterion, include and exclude, with the personal value
//! matched and the chain of data sources behind it.

use std::collections::HashSet;

use super::*;

/// The flags of a criterion's `special_category` and the GDPR Art. 9(2) condition relied on:
/// a special category used on no Art. 9(2) condition is flagged as unlawful on its face.
/// `condition_stated` is false for an entry logged before the condition was asked for.
pub fn special_category_flags(c: &Criterion, condition_stated: bool) -> Vec<FlagView> {
    let condition = match (&c.art9_condition, condition_stated) {
        (_, false) => format!("The condition relied on is {NOT_STATED_WORDS}."),
        (Some(Disclosed::Value(k)), true) => format!("The condition the advertiser relied on: {}.", art9_words(*k)),
        (Some(Disclosed::NotDisclosed), true) => format!("The GDPR Art. 9(2) condition relied on was {NOT_DISCLOSED_WORDS}."),
        (None, true) => "The record names no GDPR Art. 9(2) condition.".to_string(),
    };
    let mut flags = match &c.special_category {
        None => return Vec::new(),
        Some(Disclosed::Value(k)) => vec![FlagView {
            kind: "special",
            label: format!("Special category of personal data: {}", special_category_words(*k)),
            detail: format!("This is sensitive data that GDPR Art. 9 protects specially: it may be used only in narrow cases, such as with your explicit consent. {condition}"),
        }],
        Some(Disclosed::NotDisclosed) => vec![FlagView {
            kind: "special_undisclosed",
            label: "Special category of personal data: not disclosed".to_string(),
            detail: format!("Whether this uses sensitive data protected by GDPR Art. 9 was {NOT_DISCLOSED_WORDS}. {condition}"),
        }],
    };
    if matches!(c.special_category, Some(Disclosed::Value(_))) && matches!(c.art9_condition, Some(Disclosed::Value(Art9Condition::None))) {
        flags.push(FlagView {
            kind: "unlawful",
            label: "Unlawful on its face: special-category data on an ordinary legal basis".to_string(),
            detail: "GDPR Art. 9(1) prohibits using this kind of data unless one of the conditions of Art. 9(2) applies, and the advertiser states it relied on none. You can complain to your data protection authority.".to_string(),
        });
    }
    flags
}

/// Every flag of a criterion, in a fixed order: special category (and an unlawful use), minor,
/// inferred, AI.
pub fn criterion_flags(c: &Criterion, sources: &[SourceView], condition_stated: bool) -> Vec<FlagView> {
    let mut flags = special_category_flags(c, condition_stated);
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

/// One lineage label as a step of a chain.
pub fn source_view(l: &LineageLabel, depth: usize, ctx: Ctx<'_>) -> SourceView {
    let all = ctx.lineage;
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
    if l.kind == SourceKind::EarlierMessage {
        flags.push(FlagView {
            kind: "earlier_message",
            label: "Your response to an earlier message".to_string(),
            detail: "This message was sent because of how you responded to an earlier one, which this log also holds.".to_string(),
        });
    }
    let consent = match ctx.personal {
        PersonalRef::Present(p) => consent_words(p.consent.get(&l.id), ctx.personal),
        other => consent_words(None, other),
    };
    let position = all.iter().position(|x| x.id == l.id).unwrap_or(usize::MAX);
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
        data_label: data_label(l, position, ctx),
        earlier: earlier_view(l, ctx),
    }
}

/// The whole data chain of a set of lineage ids: depth-first, following
/// `derived_from`, in the order the record lists them, each label once.
pub fn lineage_chain(start: &[String], ctx: Ctx<'_>) -> Vec<SourceView> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    // An explicit stack (ids pushed in reverse so that they pop in record order).
    let mut stack: Vec<(&str, usize)> = start.iter().rev().map(|s| (s.as_str(), 0)).collect();
    while let Some((id, depth)) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        match ctx.lineage.iter().find(|l| l.id == id) {
            Some(l) => {
                out.push(source_view(l, depth, ctx));
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
        data_label: Vec::new(),
        earlier: None,
    }
}

/// A disclosable control as a link (or [`NOT_DISCLOSED_WORDS`]).
pub fn control_link(v: &Disclosed<String>) -> Link {
    match v {
        Disclosed::Value(u) => link(u),
        Disclosed::NotDisclosed => Link { text: NOT_DISCLOSED_WORDS.to_string(), href: None },
    }
}

/// One criterion (the `position`-th, from 1), fully explained, with the recipient's standing.
pub fn criterion_view(position: usize, c: &Criterion, controls: &Controls, standing: StandingView, ctx: Ctx<'_>) -> CriterionView {
    let sources = lineage_chain(&c.lineage, ctx);
    let condition_stated = !ctx.omits(&format!("targeting.criteria[{}].art9_condition", position - 1));
    CriterionView {
        id: c.id.clone(),
        position,
        is_exclude: c.effect == Effect::Exclude,
        effect_words: effect_words(c.effect),
        sentence: criterion_sentence(c),
        type_words: criterion_type_words(c.kind),
        description: c.description.clone(),
        standing,
        flags: criterion_flags(c, &sources, condition_stated),
        match_keys: match_keys_words(c, position - 1, ctx),
        seed: c.seed_audience.as_ref().map(|s| seed_view(s, ctx)),
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
        ("unlawful", "Special-category data was used on no GDPR Art. 9(2) condition: unlawful on its face"),
        ("special", "Special categories of personal data (GDPR Art. 9) were used"),
        ("special_undisclosed", "Whether special categories of personal data (GDPR Art. 9) were used was not disclosed"),
        ("minor", "A known minor was involved"),
        ("inferred", "Inferred or modelled data was used"),
        ("ai", "An AI system selected or optimised criteria"),
        ("broker", "Data bought from a data broker was used"),
        ("other_person", "Data obtained through another person's permission, not yours, was used"),
        ("basis_undisclosed", "The legal basis for some of the data was not disclosed"),
        ("earlier_message", "This message follows up on your response to an earlier message"),
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
