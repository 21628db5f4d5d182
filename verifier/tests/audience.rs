//! SPEC §3.4 and §7, revision 3, as the verifier checks them by its own code: a revision-3 body
//! holds every field revision 3 added and an audience that uses each criterion as its effect
//! says; a personal part shipped in a bundle must prove, by its evaluation, that the audience held
//! for the person, or verification fails naming the entry and the criterion. Revision-2 entries
//! and their personal parts (`matched`, no audience) still verify.
//!
//! The messages are the one shared fixture file, `tests/fixtures/message.json`, read as data.

mod common;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The shared fixture: `{body, personal}` (the personal part without `v` and `salt`).
fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/message.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("tests/fixtures/message.json")).expect("JSON")
}

/// The fixture message `n`, its personal part edited by `personal` and its body by `body`, both
/// committed as SPEC §7 says: what a submitter (or a log that did not check) would log.
fn committed(n: u8, personal: impl Fn(&mut Value), body: impl Fn(&mut Value)) -> (Value, Value) {
    let f = fixture();
    let (mut b, mut p) = (f["body"].clone(), f["personal"].clone());
    let salt = [n; 32];
    p["v"] = json!(1);
    p["salt"] = json!(B64.encode(salt));
    personal(&mut p);
    body(&mut b);
    let who = p["recipient"].as_str().unwrap().to_string();
    b["message_id"] = json!(format!("ocean-2026/{n}"));
    b["recipient"]["commitment"] =
        json!(hex::encode(Sha256::digest([b"sightline/recipient/v1\n".as_slice(), &salt, who.as_bytes()].concat())));
    b["personal_commitment"] =
        json!(hex::encode(Sha256::digest([b"sightline/personal/v1\n".as_slice(), &serde_jcs::to_vec(&p).unwrap()].concat())));
    (b, p)
}

/// A complete bundle with personal parts: the standard head (genesis, submitter, two parties),
/// then `messages`.
fn bundle_of(messages: &[(Value, Value)]) -> (tempfile::TempDir, std::path::PathBuf) {
    let (mut log, acme) = Log::demo(0);
    for (b, p) in messages {
        log.append_signed(b, &acme, Some(p.clone()));
    }
    bundle_file(&log, true)
}

fn same(_: &mut Value) {}

#[test]
fn a_personal_part_whose_evaluation_proves_the_audience_verifies_next_to_a_revision_2_one() {
    let proving = committed(1, same, same);
    let other_way = committed(
        2,
        |p| {
            p["evaluation"]["c1"] = json!({"result": "not_evaluated", "value": null});
            p["evaluation"]["c2"] = json!({"result": "matched", "value": "on the list"});
        },
        same,
    );
    let (old_body, old_personal) = message("acme-ads", 3);
    let (_dir, path) = bundle_of(&[proving, other_way, (old_body, old_personal)]);
    let s = verify_bundle_file(&path).expect("verifies");
    assert_eq!(s.personal_parts_checked, 3);
}

#[test]
fn a_personal_part_whose_evaluation_contradicts_the_audience_fails_naming_entry_and_criterion() {
    for (case, edit, criterion) in [
        ("an exclusion held", json!({"c3": {"result": "matched", "value": "follows the page"}}), "criterion \"c3\" held"),
        (
            "no way in held",
            json!({"c1": {"result": "not_matched", "value": null}, "c2": {"result": "not_matched", "value": null}}),
            "criterion \"c1\" did not hold",
        ),
        ("an exclusion left unchecked", json!({"c3": {"result": "not_evaluated", "value": null}}), "criterion \"c3\" was not evaluated"),
    ] {
        let contradicting = committed(
            4,
            |p| {
                for (id, r) in edit.as_object().unwrap() {
                    p["evaluation"][id] = r.clone();
                }
            },
            same,
        );
        let (_dir, path) = bundle_of(&[committed(1, same, same), contradicting]);
        let e = verify_bundle_file(&path).expect_err(case);
        assert_eq!((e.index(), e.exit_code()), (Some(5), 1), "{case}: {e}");
        let text = e.to_string();
        assert!(text.contains("evaluation contradicts the record's audience") && text.contains(criterion), "{case}: {text}");
    }
}

#[test]
fn a_revision_3_body_holds_every_new_field_and_a_well_formed_audience() {
    for (case, edit, words) in [
        (
            "a field left out",
            Box::new(|b: &mut Value| drop(b["lineage"][1].as_object_mut().unwrap().remove("onboarder"))) as Box<dyn Fn(&mut Value)>,
            "body.lineage[1].onboarder is missing",
        ),
        (
            "an exclusion that lets people in",
            Box::new(|b: &mut Value| b["targeting"]["audience"] = json!({"all_of": ["c1", "c2", "c3", "c4"]})),
            "\"c3\" (effect exclude)",
        ),
        (
            "a criterion left out",
            Box::new(|b: &mut Value| b["targeting"]["audience"] = json!({"all_of": ["c1", "c4", {"none_of": ["c3"]}]})),
            "does not use criterion \"c2\"",
        ),
    ] {
        let (_dir, path) = bundle_of(&[committed(1, same, edit)]);
        let e = verify_bundle_file(&path).expect_err(case);
        assert_eq!((e.index(), e.exit_code()), (Some(4), 1), "{case}: {e}");
        assert!(e.to_string().contains(words), "{case}: {e}");
    }
}
