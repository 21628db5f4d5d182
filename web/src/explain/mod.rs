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
//!
//! | file | what it turns into words |
//! |---|---|
//! | `views.rs` | the view structs the templates render |
//! | `words.rs` | single values: enums, disclosable fields, times, amounts, links |
//! | `criteria.rs` | criteria, their flags and their lineage chains |
//! | `selection.rs` | how the recipient was selected: what the evaluation proves, criterion by criterion |
//! | `disclosures.rs` | creative content, Art. 9 conditions, match keys, data labels, the TTPA notice, AI use |
//! | `mod.rs` | parties, the political notice, and whole pages |
//!
//! Over 400 lines because a whole page's sentences (`explain`) read best beside the parties
//! and the political notice they are built from.

use std::collections::HashSet;

use sightline_ledger::privacy::{ConsentEvidence, Personal};
use sightline_ledger::record::{
    parse_time, Amount, Art9Condition, Channel, Controls, Criterion, CriterionType, DeliveryOptimisation, Disclosed, Effect, EmailHeaders,
    LegalBasis, LineageLabel, MessageBody, ModelRef, Political, PoliticalKind, SourceKind, SpecialCategory,
};
use sightline_ledger::registry::Registry;

mod criteria;
mod disclosures;
mod selection;
mod views;
mod words;

pub use criteria::*;
pub use disclosures::*;
pub use selection::*;
pub use views::*;
pub use words::*;

/// How every `not_disclosed` field reads on a page.
pub const NOT_DISCLOSED_WORDS: &str = "not disclosed by the advertiser";

/// The TTPA (Reg. 2024/900) label of a political advertisement.
pub const POLITICAL_LABEL: &str = "Political advertisement";

// ---------------------------------------------------------------------------
// Parties
// ---------------------------------------------------------------------------

/// The submitter that reported a message, as the registry knows it.
pub fn submitter_brief(id: &str, registry: &Registry) -> PartyBrief {
    match registry.submitters.get(id) {
        Some(s) => PartyBrief {
            id: id.to_string(),
            registered: true,
            name: s.body.name.clone(),
            contact: s.body.contact.clone(),
            established_in: String::new(),
        },
        None => PartyBrief {
            id: id.to_string(),
            registered: false,
            name: id.to_string(),
            contact: "unknown".to_string(),
            established_in: String::new(),
        },
    }
}

/// A registered party in brief, or what the log knows of an unregistered id.
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

/// The TTPA label and transparency notice of a political message (`omitted`: the fields an
/// older record leaves out).
pub fn political_view(p: &Political, sponsor_name: &str, payer_name: &str, omitted: &[String]) -> PoliticalView {
    let (period, other_benefits, funding_source, repository, report, suspension) = notice_words(p, omitted);
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
        period,
        other_benefits,
        funding_source,
        repository,
        report,
        suspension,
    }
}

// ---------------------------------------------------------------------------
// Whole pages
// ---------------------------------------------------------------------------

/// The full explanation of one message entry.
pub fn explain(
    index: u64,
    logged: Logged<'_>,
    m: &MessageBody,
    registry: &Registry,
    personal: PersonalRef<'_>,
    proof: &ProofInput<'_>,
) -> WhyView {
    let ctx = Ctx { lineage: &m.lineage, personal, omitted: logged.omitted, why_token: proof.why_token };
    let sponsor = party_view(&m.sponsor.on_behalf_of, registry);
    let payer = party_view(&m.sponsor.payer, registry);
    let criteria: Vec<CriterionView> = m
        .targeting
        .criteria
        .iter()
        .zip(standings(m, personal))
        .enumerate()
        .map(|(i, (c, standing))| criterion_view(i + 1, c, &m.controls, standing, ctx))
        .collect();
    let email = email_view(&m.delivery.email_headers, address_view(m, ctx));
    let reached: HashSet<&str> = criteria
        .iter()
        .flat_map(|c| c.sources.iter().chain(c.seed.iter().flat_map(|s| s.sources.iter())))
        .chain(email.iter().flat_map(|e| e.address.sources.iter()))
        .map(|s| s.id.as_str())
        .collect();
    let other_sources = m.lineage.iter().filter(|l| !reached.contains(l.id.as_str())).map(|l| source_view(l, 0, ctx)).collect();
    let reported_by = submitter_brief(&m.signer, registry);
    let channel = channel_words(m.delivery.channel);
    let erased = matches!(personal, PersonalRef::Erased);
    let creative = creative_view(&m.delivery.creative);
    let mut summary = summary_flags(&criteria);
    if creative.audience_only {
        summary.push(FlagView {
            kind: "dark_post",
            label: "Shown only to the people targeted (a dark post)".to_string(),
            detail: "It was not published openly: see what it said below, and every campaign in the public ad library.".to_string(),
        });
    }
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
        logged_at: time_words(logged.logged_at),
        member_state: country_words(&m.delivery.member_state),
        reported_by,
        payer_is_sponsor: m.sponsor.payer == m.sponsor.on_behalf_of,
        political: m.sponsor.political.as_ref().map(|p| political_view(p, &sponsor.party.name, &payer.party.name, logged.omitted)),
        sponsor,
        payer,
        creative,
        criteria_summary: criteria_summary(&m.targeting.criteria),
        selection: selection_view(m, personal),
        ai_use: ai_use_words(m),
        summary_flags: summary,
        criteria,
        optimisation: optimisation_sentence(&m.targeting.delivery_optimisation),
        optimisation_ai: m.targeting.delivery_optimisation.ai_system,
        other_sources,
        controls: control_links(&m.controls),
        email,
        log_flags: logged.flags.iter().map(|f| log_flag_words(f)).collect(),
        objected: logged.flags.iter().any(|f| f.starts_with("objected:")),
        erased,
        personal_words: match personal {
            PersonalRef::Present(_) => "The personal values shown on this page come from the personal part of this record, which only you (through this link) and the log operator's compliance team can read. The public log holds only a salted commitment to them.".to_string(),
            PersonalRef::Erased => "Your personal data for this message was erased on request (GDPR Art. 17). The values used about you and your identifier can no longer be read by anyone. The public part of the record and its proof remain below, unchanged.".to_string(),
            PersonalRef::Absent => "This ledger holds no personal part for this message.".to_string(),
        },
        proof: proof_view(index, proof),
        unstated: unstated_lines(logged.omitted),
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
mod tests;
