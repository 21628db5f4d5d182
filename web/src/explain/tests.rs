//! Tests of the wording of the recipient pages, on one record with an inclusion, an exclusion
//! and a contextual criterion.

use super::*;
use sightline_ledger::record::{Evaluation, PartyBody};
use sightline_ledger::registry::PartyInfo;
use std::collections::BTreeMap;

fn body() -> MessageBody {
    let v = serde_json::json!({
        "kind": "message", "signer": "acme-ads", "message_id": "ocean-2026/000017",
        "delivery": { "channel": "email", "served_at": "2026-11-20T18:04:05Z", "member_state": "DE",
            "creative": { "sha256": "9f2c".repeat(16), "brand": "Civic Future", "subject": "They don't want you to know",
                "language": "de", "campaign_id": "ocean-2026", "ad_id": "ad-17", "creative_id": "cr-fear-3",
                "visibility": "audience_only", "content": { "text": "They don't want you to know.",
                    "assets": [{ "sha256": "ab".repeat(32), "url": "https://cdn.example/a.jpg" }, { "sha256": "cd".repeat(32), "url": null }] } },
            "email_headers": { "list_unsubscribe": "<https://civic.example/u/1>, <mailto:u@civic.example?subject=unsub>",
                "list_unsubscribe_post": "List-Unsubscribe=One-Click" },
            "address_lineage": ["s-broker"] },
        "sponsor": { "on_behalf_of": "p-civic-future", "payer": "p-civic-holding",
            "political": { "kind": "election", "linked_to": "Bundestag election 2029", "date": "2029-09-23",
                "amount": { "value": "48000.00", "currency": "EUR" }, "funding_origin": "not_disclosed",
                "notice_url": "https://civic-future.example/transparency/ocean-2026",
                "period": { "from": "2026-11-01", "to": "2026-11-30" }, "other_benefits": "none",
                "funding_source": { "sector": "private", "territory": "inside_eu" }, "repository_url": "not_disclosed",
                "report_url": "https://social.example/report", "suspension": null } },
        "recipient": { "commitment": "0".repeat(64) }, "personal_commitment": "1".repeat(64),
        "targeting": { "criteria": [
            { "id": "c1", "effect": "include", "type": "modelled", "description": "Personality score: high neuroticism",
              "special_category": null, "art9_condition": null, "minor": false, "ai_selected": true,
              "match_keys": null, "seed_audience": null, "lineage": ["s-quiz-model"] },
            { "id": "c2", "effect": "exclude", "type": "declared", "description": "People who follow the party's own page",
              "special_category": "political_opinion", "art9_condition": "manifestly_made_public", "minor": true, "ai_selected": false,
              "match_keys": null, "seed_audience": null, "lineage": ["s-page-follows"] },
            { "id": "c3", "effect": "include", "type": "contextual", "description": "Reading news",
              "special_category": "not_disclosed", "art9_condition": "not_disclosed", "minor": false, "ai_selected": false,
              "match_keys": null, "seed_audience": null, "lineage": ["s-broker"] }
          ], "audience": { "all_of": ["c1", "c3", { "none_of": ["c2"] }] },
          "delivery_optimisation": { "ai_system": true, "goal": "engagement" } },
        "lineage": [
            { "id": "s-quiz-app", "provider": "Quiz App", "contact": "dpo@quiz.example", "kind": "via_other_person_permission",
              "model": null, "collection_method": "A friend's quiz app read page likes", "collected_at": "2026-03-01",
              "refresh": "once", "lookback_days": "not_disclosed", "legal_basis": "not_disclosed", "derived_from": [], "entry": null,
              "audience_size": null, "precision": null, "id_types": null, "onboarder": null },
            { "id": "s-quiz-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme-ads.example", "kind": "inferred",
              "model": { "name": "ocean-v2", "version": "2.3.1" }, "collection_method": "Model inferring OCEAN traits",
              "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365, "legal_basis": "legitimate_interests",
              "derived_from": ["s-quiz-app", "s-broker"], "entry": null,
              "audience_size": null, "precision": null, "id_types": null, "onboarder": null },
            { "id": "s-page-follows", "provider": "Acme Social", "contact": "dpo@social.example", "kind": "observed",
              "model": null, "collection_method": "Page follows", "collected_at": "not_disclosed", "refresh": "daily",
              "lookback_days": 30, "legal_basis": "contract", "derived_from": [], "entry": null,
              "audience_size": null, "precision": null, "id_types": null, "onboarder": null },
            { "id": "s-broker", "provider": "DataBroker Inc", "contact": "privacy@broker.example", "kind": "bought_from_broker",
              "model": null, "collection_method": "Purchased segments", "collected_at": "2026-10-01", "refresh": "monthly",
              "lookback_days": 90, "legal_basis": "consent", "derived_from": [], "entry": null,
              "audience_size": 120000, "precision": "household", "id_types": ["hashed_email"], "onboarder": { "name": "MatchCo", "match_method": "hashed e-mail addresses" } },
            { "id": "s-unused", "provider": "Unused Source", "contact": "x@unused.example", "kind": "public_record",
              "model": null, "collection_method": "Electoral roll", "collected_at": "2026-01-01", "refresh": "yearly",
              "lookback_days": 1, "legal_basis": "public_task", "derived_from": [], "entry": null,
              "audience_size": null, "precision": null, "id_types": null, "onboarder": null }
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
    let evaluation = BTreeMap::from([
        ("c1".to_string(), Evaluation::matched("neuroticism score 0.82 (high)")),
        ("c2".to_string(), Evaluation::not_matched(Some("does not follow"))),
        ("c3".to_string(), Evaluation::not_evaluated()),
    ]);
    let consent =
        BTreeMap::from([("s-broker".to_string(), ConsentEvidence { format: "tcf".into(), value: "CPXxRfAPXxRfAAfKABENB".into() })]);
    Personal::new("alice@example.org", evaluation, consent)
}

fn view_of(m: &MessageBody, p: PersonalRef<'_>, omitted: &[String]) -> WhyView {
    let why_token = |i: u64| format!("TOKEN-{i}");
    let proof = ProofInput { size: 9, vkey: "sightline.localhost/log+01020304+AQ==", token: "TOKEN", why_token: &why_token };
    let logged = Logged { logged_at: "2026-11-20T18:04:06.000Z", flags: &["objected:5".into()], omitted };
    explain(7, logged, m, &registry(), p, &proof)
}

fn view(p: PersonalRef<'_>) -> WhyView {
    view_of(&body(), p, &[])
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
fn each_criterion_says_what_the_evaluation_proves_for_the_reader() {
    let p = personal();
    let v = view(PersonalRef::Present(&p));
    let standing = |i: usize| (v.criteria[i].standing.kind, v.criteria[i].standing.value.as_deref());
    assert_eq!(standing(0), ("selected", Some("neuroticism score 0.82 (high)")));
    assert_eq!(standing(1), ("exclusion_checked", Some("does not follow")));
    assert_eq!(standing(2), ("context", None));
    assert!(v.criteria[1].standing.words.contains("checked against this exclusion and were not in it"));
    assert_eq!(v.selection.audience, "Who the advertiser asked for: people matching criterion 1 and criterion 3 and not criterion 2.");
    assert!(v.selection.sentences[0].starts_with("You were selected because criterion 1 (“Personality score: high neuroticism”) held"));
    assert!(v.selection.sentences[1].contains("criterion 3 (“Reading news”) applied; that concerns the context"));
    assert!(v.selection.sentences[2].contains("exclusion criterion 2"));
    // Nothing on the page claims a match the evaluation does not prove.
    for c in &v.criteria {
        assert!(!c.sentence.contains("You matched") && !c.sentence.contains("selected you"), "{}", c.sentence);
    }
}

#[test]
fn a_revision_2_record_says_it_does_not_tell_which_criteria_applied() {
    // Revision 2's personal part: `matched`, no evaluation; its body: no audience.
    let mut m = body();
    m.targeting.audience = None;
    let old = Personal {
        matched: Some(BTreeMap::from([("c1".to_string(), "neuroticism score 0.82 (high)".to_string())])),
        evaluation: None,
        ..personal()
    };
    let v = view_of(&m, PersonalRef::Present(&old), &["targeting.audience".to_string()]);
    assert!(v.selection.sentences[0].starts_with("The record does not say which of these criteria applied to you"));
    assert!(v.selection.audience.starts_with("The record does not state how these criteria combine"));
    assert!(v.criteria.iter().all(|c| c.standing.kind == "unstated"));
    assert_eq!(v.criteria[0].standing.value.as_deref(), Some("neuroticism score 0.82 (high)"));
    assert_eq!(v.criteria[0].standing.value_words, "The record holds this value about you for it:");
    assert!(v.unstated.iter().any(|u| u.contains("how the criteria combine")));
}

#[test]
fn creative_content_dark_posts_and_the_address_source_are_shown() {
    let p = personal();
    let v = view(PersonalRef::Present(&p));
    assert!(v.creative.audience_only && v.creative.visibility.contains("dark post"));
    assert_eq!(v.creative.text.as_deref(), Some("They don't want you to know."));
    assert_eq!(v.creative.assets[0].link.as_ref().and_then(|l| l.href.as_deref()), Some("https://cdn.example/a.jpg"));
    assert_eq!(v.creative.assets[1].link, None);
    assert!(v.summary_flags.iter().any(|f| f.kind == "dark_post"));
    let address = &v.email.as_ref().expect("an email").address;
    assert_eq!(address.sources.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s-broker"]);
    let broker = &address.sources[0];
    assert_eq!(
        broker.data_label.iter().map(|f| (f.term, f.value.as_str())).collect::<Vec<_>>(),
        [
            ("Audience size", "120,000 people"),
            ("Describes", "households"),
            ("Keyed on", "hashed e-mail address"),
            ("Onboarded by", "MatchCo: hashed e-mail addresses")
        ]
    );
}

#[test]
fn special_category_data_on_no_art_9_condition_is_flagged_unlawful() {
    let p = personal();
    let mut m = body();
    m.targeting.criteria[1].art9_condition = Some(Disclosed::Value(Art9Condition::None));
    let v = view_of(&m, PersonalRef::Present(&p), &[]);
    assert!(v.criteria[1].flags.iter().any(|f| f.kind == "unlawful" && f.detail.contains("Art. 9(1) prohibits")));
    assert_eq!(v.summary_flags[0].kind, "unlawful");
    let lawful = view(PersonalRef::Present(&p));
    assert!(lawful.criteria[1].flags[0].detail.contains("data you manifestly made public yourself (GDPR Art. 9(2)(e))"));
    assert!(lawful.criteria.iter().all(|c| c.flags.iter().all(|f| f.kind != "unlawful")));
}

#[test]
fn the_ttpa_notice_is_complete_and_ai_use_is_stated_once() {
    let p = personal();
    let v = view(PersonalRef::Present(&p));
    let pol = v.political.as_ref().expect("political");
    assert_eq!(pol.period, "from 2026-11-01 to 2026-11-30");
    assert_eq!(pol.funding_source, "private funds from inside the EU");
    assert_eq!(pol.other_benefits, "none");
    assert_eq!(pol.repository.text, NOT_DISCLOSED_WORDS);
    assert_eq!(pol.report.href.as_deref(), Some("https://social.example/report"));
    assert_eq!(pol.suspension, "It has not been suspended or removed before.");
    assert_eq!(
        v.ai_use,
        "AI systems were used: to choose or optimise criterion 1 (c1), and to decide, at least in part, who was shown this message."
    );
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
            ("dark_post", "It was not published openly: see what it said below, and every campaign in the public ad library."),
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
    assert!(v.criteria.iter().all(|c| c.change.href.as_deref() == Some("https://social.example/settings/ads") && c.object.href.is_none()));
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
    assert_eq!(v.proof.sentence, "This message was recorded as entry 7 of the log, and is included in the signed checkpoint of size 9.");
    assert_eq!(v.proof.command, "sightline-verifier receipt entry-7.sightline-receipt.json --vkey 'sightline.localhost/log+01020304+AQ=='");
    assert_eq!(v.proof.receipt_path, "/why/TOKEN/receipt");
}

#[test]
fn an_erased_personal_part_still_explains_the_public_record() {
    let v = view(PersonalRef::Erased);
    assert!(v.erased);
    assert!(v.personal_words.contains("erased on request"));
    assert_eq!(v.criteria.len(), 3);
    assert!(v.criteria.iter().all(|c| c.standing.value.is_none() && c.standing.kind == "erased" && c.standing.words.contains("erased")));
    assert!(v.selection.sentences[0].contains("erased on request"));
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
