//! What revision 3 asks of a message (SPEC.md §3.4, §7), one test per rule: the audience
//! expression, a recipient's evaluation that must prove they were selected, the disclosures each
//! seed scenario needs, and a follow-up's earlier entry, which must be a message of the same
//! submitter to the same recipient. Every refusal names the record and the field, and appends
//! nothing. SPEC.md's §3.4 example is held to the one shared fixture file.

mod common;

use common::*;
use serde_json::{json, Value};
use sightline_ledger::audience::Evaluation;
use sightline_ledger::privacy::Personal;
use sightline_ledger::record::Body;
use sightline_ledger::submitter::sign_message;
use sightline_ledger::Submission;

/// A change made to a message body before it is signed.
type Change = fn(&mut Value);

/// An edit of a personal part's evaluation.
type EditEvaluation<'a> = &'a dyn Fn(&mut std::collections::BTreeMap<String, Evaluation>);

/// The fixture's personal part for `who` with `edit` applied to its evaluation.
fn evaluated(who: &str, edit: EditEvaluation<'_>) -> Personal {
    let mut p = personal(who);
    edit(p.evaluation.as_mut().unwrap());
    p
}

#[test]
fn a_record_whose_evaluation_does_not_prove_the_audience_is_refused_naming_the_criterion() {
    let (_dir, keys, ledger) = fresh();
    // The fixture's audience: (c1 or c2) and c4 (contextual) and not c3.
    let cases: [(&str, EditEvaluation<'_>, &str, &str); 4] = [
        (
            "an exclusion matched",
            &|e| drop(e.insert("c3".into(), Evaluation::matched("follows the party's page"))),
            "c3",
            "exclusion `c3` matched",
        ),
        (
            "no way in held",
            &|e| drop(e.insert("c1".into(), Evaluation::not_matched(Some("neuroticism 0.2")))),
            "c1",
            "nothing else let them in",
        ),
        (
            "an exclusion not checked",
            &|e| drop(e.insert("c3".into(), Evaluation::not_evaluated())),
            "c3",
            "not evaluated where the audience needs",
        ),
        (
            "the only way in not checked",
            &|e| drop(e.insert("c1".into(), Evaluation::not_evaluated())),
            "c1",
            "not evaluated where the audience needs",
        ),
    ];
    for (i, (case, edit, id, words)) in cases.into_iter().enumerate() {
        let sub = sign_message(&keys.submitter, body(&format!("sel-{i}"), "Selected?"), &evaluated("s@example.org", edit)).unwrap();
        let (field, why) = refused_at(&ledger, sub);
        assert_eq!(field, format!("personal.evaluation.{id}"), "{case}");
        assert!(why.contains(words), "{case}: {why}");
    }
    // Another way in that held makes an unchecked or failed one harmless.
    let other_way = evaluated("s@example.org", &|e| {
        e.insert("c1".into(), Evaluation::not_evaluated());
        e.insert("c2".into(), Evaluation::matched("on the low-income list"));
    });
    ledger.submit(vec![sign_message(&keys.submitter, body("sel-ok", "Selected"), &other_way).unwrap()]).unwrap();
}

#[test]
fn the_evaluation_gives_each_criterion_one_result_and_a_value_only_with_a_result() {
    let (_dir, keys, ledger) = fresh();
    type Edit = fn(&mut std::collections::BTreeMap<String, Evaluation>);
    let cases: [(Edit, &str, &str); 4] =
        [
            (|e| drop(e.remove("c2")), "personal.evaluation.c2", "is missing"),
            (|e| drop(e.insert("c9".into(), Evaluation::not_evaluated())), "personal.evaluation.c9", "not a criterion id"),
            (|e| drop(e.insert("c4".into(), Evaluation::matched("page about rent"))), "personal.evaluation.c4", "contextual criterion"),
            (
                |e| {
                    drop(e.insert(
                        "c2".into(),
                        Evaluation { result: sightline_ledger::audience::Outcome::NotEvaluated, value: Some("x".into()) },
                    ))
                },
                "personal.evaluation.c2.value",
                "must be null",
            ),
        ];
    for (i, (edit, path, words)) in cases.into_iter().enumerate() {
        let sub = sign_message(&keys.submitter, body(&format!("eval-{i}"), "Evaluation"), &evaluated("e@example.org", &edit)).unwrap();
        let (field, why) = refused_at(&ledger, sub);
        assert_eq!(field, path);
        assert!(why.contains(words), "{path}: {why}");
    }
}

#[test]
fn the_audience_and_every_revision_3_field_is_refused_at_its_own_path() {
    let (_dir, keys, ledger) = fresh();
    let cases: [(&str, &str, Change); 16] = [
        ("targeting.audience", "is missing", |b| drop(b["targeting"].as_object_mut().unwrap().remove("audience"))),
        ("targeting.audience", "is null, but the record has criteria", |b| b["targeting"]["audience"] = Value::Null),
        ("targeting.audience", "does not use criterion `c2`", |b| {
            b["targeting"]["audience"] = json!({"all_of": ["c1", "c4", {"none_of": ["c3"]}]})
        }),
        ("targeting.audience", "an exclusion stands under none_of", |b| {
            b["targeting"]["audience"] = json!({"all_of": ["c1", "c2", "c3", "c4"]})
        }),
        ("targeting.audience", "exactly one operator", |b| b["targeting"]["audience"] = json!({"all_of": ["c1"], "any_of": ["c2"]})),
        ("delivery.creative.visibility", "is missing", |b| drop(b["delivery"]["creative"].as_object_mut().unwrap().remove("visibility"))),
        ("delivery.creative.content", "must hold the creative's text", |b| b["delivery"]["creative"]["content"] = Value::Null),
        ("delivery.creative.content.assets[0].url", "https", |b| {
            b["delivery"]["creative"]["content"]["assets"][0]["url"] = json!("http://x.example/a")
        }),
        ("delivery.address_lineage", "must be null unless channel is email", |b| b["delivery"]["address_lineage"] = json!(["s-broker"])),
        ("targeting.criteria[2].art9_condition", "must be null when special_category is null", |b| {
            b["targeting"]["criteria"][2]["special_category"] = Value::Null
        }),
        ("targeting.criteria[1].match_keys", "an uploaded list or a lookalike must name the identifiers", |b| {
            b["targeting"]["criteria"][1]["match_keys"] = Value::Null
        }),
        ("targeting.criteria[0].seed_audience", "must be null unless type is lookalike", |b| {
            b["targeting"]["criteria"][0]["seed_audience"] = json!({"description": "d", "lineage": ["s-broker"], "size": 1})
        }),
        ("targeting.criteria[0].lineage", "every criterion but a contextual one", |b| b["targeting"]["criteria"][0]["lineage"] = json!([])),
        ("lineage[0].entry", "must be null unless kind is earlier_message", |b| b["lineage"][0]["entry"] = json!(3)),
        ("sponsor.political.report_url", "must say where to report", |b| b["sponsor"]["political"]["report_url"] = Value::Null),
        ("sponsor.political.period.to", "is before `from`", |b| {
            b["sponsor"]["political"]["period"] = json!({"from": "2026-11-30", "to": "2026-11-01"})
        }),
    ];
    for (i, (path, words, edit)) in cases.into_iter().enumerate() {
        let mut b = body(&format!("r3-{i}"), "Revision 3");
        edit(&mut b);
        let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("r@example.org")).unwrap());
        assert_eq!(field, path, "{why}");
        assert!(why.contains(words), "{path}: {why}");
    }
    // An e-mail must say how the address was obtained.
    let mut email = body("r3-email", "Email");
    email["delivery"]["channel"] = json!("email");
    email["delivery"]["email_headers"] = json!({"list_unsubscribe": "<mailto:u@civic.example>", "list_unsubscribe_post": "not_disclosed"});
    let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, email.clone(), &personal("r@example.org")).unwrap());
    assert_eq!(field, "delivery.address_lineage", "{why}");
    email["delivery"]["address_lineage"] = json!(["s-broker"]);
    ledger.submit(vec![sign_message(&keys.submitter, email, &personal("r@example.org")).unwrap()]).expect("with its address lineage");
}

/// A follow-up of `earlier` (an entry index) for `who`, signed by `key` as `signer`.
fn follow_up(key: &ed25519_dalek::SigningKey, signer: &str, id: &str, earlier: u64, who: &str) -> Submission {
    let mut b = body(id, "More of the same");
    b["signer"] = json!(signer);
    b["lineage"][3]["kind"] = json!("earlier_message");
    b["lineage"][3]["entry"] = json!(earlier);
    sign_message(key, b, &personal(who)).unwrap()
}

#[test]
fn a_follow_up_names_an_earlier_message_of_its_submitter_to_the_same_recipient() {
    let (_dir, keys, ledger) = fresh();
    let first = ledger.submit(vec![submission(&keys, "first", "alice@example.org")]).unwrap().acks[0].index;
    let to_bob = ledger.submit(vec![submission(&keys, "to-bob", "bob@example.org")]).unwrap().acks[0].index;
    let betas = ledger.submit(vec![submission_by_beta(&keys, "beta-1", "alice@example.org")]).unwrap().acks[0].index;

    // The same recipient (case and spaces do not matter): accepted, and the entry names it.
    let ok = ledger.submit(vec![follow_up(&keys.submitter, "acme", "again-1", first, " Alice@Example.org")]).unwrap();
    let bytes = ledger.entry(ok.acks[0].index).unwrap().unwrap();
    let Body::Message(m) = sightline_ledger::entry::LoggedEntry::parse(&bytes).unwrap().body else { panic!("a message") };
    assert_eq!(m.lineage[3].entry, Some(first));

    let size = ledger.size();
    for (case, sub, words) in [
        ("another recipient", follow_up(&keys.submitter, "acme", "again-2", to_bob, "alice@example.org"), "went to another recipient"),
        (
            "another submitter's message",
            follow_up(&keys.submitter, "acme", "again-3", betas, "alice@example.org"),
            "is not a message of submitter `acme`",
        ),
        ("not a message", follow_up(&keys.submitter, "acme", "again-4", 1, "alice@example.org"), "is not a message of submitter `acme`"),
        ("not in the log", follow_up(&keys.submitter, "acme", "again-5", size + 10, "alice@example.org"), "is not in this log yet"),
    ] {
        let (field, why) = refused_at(&ledger, sub);
        assert_eq!(field, "lineage[3].entry", "{case}");
        assert!(why.contains(words), "{case}: {why}");
        assert!(!why.contains("bob@example.org"), "{case}: the refusal names no recipient: {why}");
    }
    // Once the earlier message's personal data is erased, the log cannot check it.
    ledger.erase_recipient_of(to_bob, "bob@example.org").unwrap();
    let (field, why) = refused_at(&ledger, follow_up(&keys.submitter, "acme", "again-6", to_bob, "bob@example.org"));
    assert_eq!(field, "lineage[3].entry");
    assert!(why.contains("was erased"), "{why}");
}

#[test]
fn an_entry_logged_under_revision_2_still_reads_and_says_what_it_leaves_out() {
    // A revision-2 body: the fixture without every field revision 3 added.
    let mut b = body("old-1", "Old");
    for f in ["visibility", "content"] {
        b["delivery"]["creative"].as_object_mut().unwrap().remove(f);
    }
    b["delivery"].as_object_mut().unwrap().remove("address_lineage");
    b["targeting"].as_object_mut().unwrap().remove("audience");
    for c in b["targeting"]["criteria"].as_array_mut().unwrap() {
        for f in ["art9_condition", "match_keys", "seed_audience"] {
            c.as_object_mut().unwrap().remove(f);
        }
    }
    for l in b["lineage"].as_array_mut().unwrap() {
        for f in ["entry", "audience_size", "precision", "id_types", "onboarder"] {
            l.as_object_mut().unwrap().remove(f);
        }
    }
    for f in ["period", "other_benefits", "funding_source", "repository_url", "report_url", "suspension"] {
        b["sponsor"]["political"].as_object_mut().unwrap().remove(f);
    }
    let (body, omitted) = Body::parse_logged_noting(&b.to_string()).expect("a revision-2 entry reads");
    let Body::Message(m) = body else { panic!("a message") };
    assert!(m.targeting.audience.is_none() && m.delivery.creative.content.is_none());
    for path in [
        "targeting.audience",
        "delivery.creative.visibility",
        "sponsor.political.period",
        "targeting.criteria[1].match_keys",
        "targeting.criteria[2].art9_condition",
        "lineage[1].onboarder",
    ] {
        assert!(omitted.iter().any(|o| o == path), "{path} not reported: {omitted:?}");
    }
    // Where `null` is what the rules ask for anyway, filling it in states nothing new.
    for path in
        ["delivery.address_lineage", "targeting.criteria[0].art9_condition", "targeting.criteria[0].seed_audience", "lineage[0].entry"]
    {
        assert!(!omitted.iter().any(|o| o == path), "{path} reported: {omitted:?}");
    }
}

/// The one JSON block that follows `heading` in SPEC.md.
fn spec_block(heading: &str) -> Value {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../SPEC.md")).unwrap();
    let after = &spec[spec.find(heading).unwrap_or_else(|| panic!("SPEC.md has no {heading}"))..];
    let start = after.find("```json\n").unwrap() + "```json\n".len();
    let end = start + after[start..].find("\n```").unwrap();
    serde_json::from_str(&after[start..end]).unwrap_or_else(|e| panic!("the example after {heading} is not JSON: {e}"))
}

#[test]
fn spec_examples_are_the_shared_fixture_and_the_log_accepts_them() {
    let fixture: Value = serde_json::from_str(sightline_ledger::fuzzing::example::FIXTURE_JSON).unwrap();
    assert_eq!(spec_block("### 3.4 `message`"), fixture["body"], "SPEC.md §3.4 differs from tests/fixtures/message.json");
    let mut part = spec_block("## 7. Personal parts");
    assert_eq!(part["v"], json!(1));
    for member in ["v", "salt"] {
        part.as_object_mut().unwrap().remove(member);
    }
    assert_eq!(part, fixture["personal"], "SPEC.md §7 differs from tests/fixtures/message.json");
    // The example, exactly as written, is a record the log accepts.
    let (_dir, keys, ledger) = fresh();
    let mut b = sightline_ledger::fuzzing::example::body();
    b["signer"] = json!("acme");
    let p = sightline_ledger::fuzzing::example::personal(sightline_ledger::fuzzing::example::recipient());
    ledger.submit(vec![sign_message(&keys.submitter, b, &p).unwrap()]).expect("SPEC.md's example is accepted");
}
