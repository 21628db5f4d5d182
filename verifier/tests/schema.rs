//! The content rules the verifier re-applies (SPEC §1, §3.4): a revision-2 rule an entry breaks
//! (a nullable field left out, a code not on its list) fails verification naming the entry and
//! the field; a revision-3 rule (a formatting character in a string) is a warning, and the log
//! still verifies.

mod common;

use std::process::Command;

use common::*;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_sightline-verifier");

/// A complete bundle of the demo log (entries 0–3: genesis, submitter, two parties) with one
/// more message (entry 4) changed by `change`, signed as changed.
fn bundle_with(change: impl Fn(&mut Value)) -> (tempfile::TempDir, std::path::PathBuf) {
    let (mut log, acme) = Log::demo(0);
    let (mut body, personal) = message("acme-ads", 1);
    change(&mut body);
    log.append_signed(&body, &acme, Some(personal));
    bundle_file(&log, false)
}

fn fails_at(change: impl Fn(&mut Value), field: &str) {
    let (_dir, path) = bundle_with(change);
    let e = verify_bundle_file(&path).expect_err("the entry verified");
    assert_eq!((e.index(), e.exit_code()), (Some(4), 1), "{e}");
    assert!(e.to_string().contains(field), "{e} does not name {field}");
}

#[test]
fn a_missing_nullable_field_fails_naming_entry_and_field() {
    fails_at(|b| drop(b["delivery"].as_object_mut().unwrap().remove("email_headers")), "body.delivery.email_headers is missing");
    fails_at(|b| drop(b["sponsor"].as_object_mut().unwrap().remove("political")), "body.sponsor.political is missing");
    fails_at(
        |b| drop(b["targeting"]["criteria"][0].as_object_mut().unwrap().remove("special_category")),
        "body.targeting.criteria[0].special_category is missing",
    );
    fails_at(|b| drop(b["lineage"][0].as_object_mut().unwrap().remove("model")), "body.lineage[0].model is missing");
    // Present and null is a statement: it verifies.
    let (_dir, path) = bundle_with(|b| b["sponsor"]["political"] = Value::Null);
    verify_bundle_file(&path).unwrap();
}

#[test]
fn a_fake_code_fails_naming_entry_and_field() {
    fails_at(|b| b["delivery"]["creative"]["language"] = json!("xx"), "body.delivery.creative.language");
    fails_at(|b| b["delivery"]["member_state"] = json!("GR"), "body.delivery.member_state");
    fails_at(
        |b| {
            b["sponsor"]["political"] = json!({ "kind": "election", "linked_to": "X", "date": "not_disclosed",
                "amount": { "value": "10.00", "currency": "XYZ" }, "funding_origin": "not_disclosed", "notice_url": "https://x.example/n" })
        },
        "body.sponsor.political.amount.currency",
    );
    // A party established in a country that does not exist.
    let (mut log, _) = Log::demo(0);
    log.log_body(json!({"kind":"party","signer":"log","party":"p-nowhere","name":"Nowhere","contact":"x@x.example",
        "established_in":"XX","ultimately_controlled_by":"self"}));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sightline-bundle.jsonl");
    write_lines(&path, &log.bundle_lines(&log.checkpoint(), None, false));
    let e = verify_bundle_file(&path).expect_err("XX verified");
    assert_eq!(e.index(), Some(4));
    assert!(e.to_string().contains("body.established_in \"XX\""), "{e}");
}

#[test]
fn a_bidi_control_warns_and_passes() {
    let (_dir, path) = bundle_with(|b| b["delivery"]["creative"]["brand"] = json!("Civic\u{202E}erutuF"));
    let s = verify_bundle_file(&path).expect("a revision-2 log with a bidi control still verifies");
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    let w = &s.warnings[0];
    assert!(w.starts_with("entry 4: field body.delivery.creative.brand holds U+202E"), "{w}");
    // The command line reports it, and prints no raw formatting character.
    let out = Command::new(BIN).args(["verify", path.to_str().unwrap(), "--vkey", &skey(1).vkey().to_text()]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("warning:    entry 4: field body.delivery.creative.brand holds U+202E"), "{stdout}");
    assert!(!stdout.contains('\u{202E}'));
}

#[test]
fn what_the_verifier_prints_of_an_entry_is_neutralised() {
    use sightline_verifier::content::neutralise;
    assert_eq!(neutralise("p-\u{202E}evil\u{2066}"), "p-[U+202E]evil[U+2066]");
    for ok in ["plain", "“quoted” — text", "Grüße 😀"] {
        assert_eq!(neutralise(ok), ok);
    }
}
