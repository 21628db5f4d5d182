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
//! | `criteria.rs` | criteria, the personal values matched, and their lineage chains |
//! | `mod.rs` | parties, the political notice, and whole pages |
//!
//! Over 400 lines because a whole page's sentences (`explain`) read best beside the parties
//! and the political notice they are built from.

use std::collections::HashSet;

use sightline_ledger::privacy::{ConsentEvidence, Personal};
use sightline_ledger::record::{
    parse_time, Amount, Channel, Controls, Criterion, CriterionType, DeliveryOptimisation, Disclosed, Effect, EmailHeaders, LegalBasis,
    LineageLabel, MessageBody, ModelRef, Political, PoliticalKind, SourceKind, SpecialCategory,
};
use sightline_ledger::registry::Registry;

mod criteria;
mod views;
mod words;

pub use criteria::*;
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
    let reported_by = submitter_brief(&m.signer, registry);
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
        unstated: Vec::new(),
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
