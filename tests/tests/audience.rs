//! Audience logic end to end (SPEC.md §3.4, §7, §11, revision 3), over real HTTP against the
//! real server and through the real verifier: a record whose own evaluation says its recipient
//! was not in the audience is refused with `422` naming the criterion and writes nothing; the
//! records that are accepted, exported with their personal parts, verify, evaluations included;
//! and the why page of each of two recipients names only the branch that selected them.

use serde_json::{json, Value};
use sightline_e2e::*;

/// The fixture's personal part for `who`, with the results in `changes` instead.
fn evaluated(who: &str, changes: &[(&str, &str, Option<&str>)]) -> Value {
    let mut p = political_personal(who);
    for (id, result, value) in changes {
        p["evaluation"][id] = json!({ "result": result, "value": value });
    }
    p
}

#[test]
fn a_record_whose_evaluation_contradicts_its_audience_is_422_naming_the_criterion_and_writes_nothing() {
    let (server, acme) = operator_setup();
    let size = server.tree_size();
    // The fixture's audience: (c1 or c2) and c4 (contextual) and not c3.
    for (case, changes, criterion) in [
        ("an exclusion that matched", vec![("c3", "matched", Some("follows the party's page"))], "c3"),
        ("no way in", vec![("c1", "not_matched", Some("neuroticism 0.3 (low)"))], "c1"),
        ("an unchecked exclusion", vec![("c3", "not_evaluated", None)], "c3"),
    ] {
        let record = acme
            .record(political_message("acme-ads", &format!("aud/{criterion}-{}", case.len()), "No"), &evaluated("x@example.org", &changes));
        let p = server.post_submission_json(&json!({ "records": [record] })).problem(422);
        assert_eq!((p["record"].clone(), p["field"].clone()), (json!(0), json!(format!("personal.evaluation.{criterion}"))), "{case}: {p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&format!("`{criterion}`")) && !detail.contains("Evaluation"), "{case}: {detail}");
        assert_eq!(server.tree_size(), size, "{case} wrote to the log");
    }
}

#[test]
fn accepted_evaluations_verify_in_an_export_and_each_page_names_its_own_branch() {
    let (server, acme) = operator_setup();
    // Alice was selected by the model (c1), Bob by the uploaded list (c2).
    let alice = acme.record(political_message("acme-ads", "aud/alice", "To Alice"), &political_personal("alice@example.org"));
    let bob = acme.record(
        political_message("acme-ads", "aud/bob", "To Bob"),
        &evaluated("bob@example.org", &[("c1", "not_evaluated", None), ("c2", "matched", Some("household on the low-income list"))]),
    );
    let ack = server.submit(&[alice, bob]);
    let page = |i: usize| server.get(why_path(&server, ack["receipts"][i]["why_url"].as_str().expect("why_url"))).text();
    let (alice_page, bob_page) = (page(0), page(1));
    assert!(alice_page.contains(&html_escape(
        "You were selected because criterion 1 (“Personality score: high neuroticism (OCEAN model)”) held for you."
    )));
    assert!(alice_page.contains(&html_escape(
        "Criterion 2 (“Low-income households list”) was another way into this audience, and it did not apply to you."
    )));
    assert!(bob_page.contains(&html_escape("You were selected because criterion 2 (“Low-income households list”) held for you.")));
    assert!(!bob_page.contains("You were selected because criterion 1"), "Bob's page names Alice's branch");
    assert!(!bob_page.contains("neuroticism score 0.82"), "Bob's page shows a value that is not his");

    // The export with personal parts verifies, the evaluations checked against the audience.
    let bundle = server.get_auth("/api/v1/export?format=bundle&include_personal=true", COMPLIANCE_TOKEN);
    assert_eq!(bundle.status, 200, "{}", bundle.text());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("export.sightline-bundle.jsonl");
    std::fs::write(&file, &bundle.body).expect("write bundle");
    let (code, out, err) = verifier(&["verify", file.to_str().expect("UTF-8"), "--vkey", &server.vkey, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(report["summary"]["personal_parts_checked"], json!(2), "{report}");
}
