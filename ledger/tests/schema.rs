//! The strict schema of SPEC.md §1, §3 and §7 (revision 3), one test per rule: what a submitter
//! leaves out, repeats, misspells or hides in a record is refused naming the record and the
//! field, and nothing is appended.

mod common;

use common::*;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use sightline_ledger::privacy::{recipient_commitment, Personal};
use sightline_ledger::submitter::{sign_body, sign_message};
use sightline_ledger::{BatchText, Error, Submission, Submissions};

/// A change made to a message body before it is signed.
type Change = fn(&mut Value);

/// `body` with its commitments for `p`, as a value (not yet signed).
fn committed(mut body: Value, p: &Personal) -> Value {
    let salt = p.salt_bytes().unwrap();
    body["recipient"] = json!({ "commitment": recipient_commitment(&salt, &p.recipient) });
    body["personal_commitment"] = json!(p.commitment().unwrap());
    body
}

/// A submission of exactly `body_text`, signed over `JCS(signed)`.
fn raw_submission(keys: &Keys, body_text: String, signed: &Value, personal_text: String) -> Submission {
    Submission {
        body: RawValue::from_string(body_text).unwrap(),
        sig: sign_body(&keys.submitter, signed).unwrap(),
        personal: Some(RawValue::from_string(personal_text).unwrap()),
    }
}

#[test]
fn each_missing_nullable_field_is_refused_at_its_own_path() {
    let (_dir, keys, ledger) = fresh();
    let cases: [(&str, Change); 4] = [
        ("delivery.email_headers", |b| drop(b["delivery"].as_object_mut().unwrap().remove("email_headers"))),
        ("sponsor.political", |b| drop(b["sponsor"].as_object_mut().unwrap().remove("political"))),
        ("targeting.criteria[1].special_category", |b| {
            drop(b["targeting"]["criteria"][1].as_object_mut().unwrap().remove("special_category"))
        }),
        ("lineage[2].model", |b| drop(b["lineage"][2].as_object_mut().unwrap().remove("model"))),
    ];
    for (i, (path, remove)) in cases.into_iter().enumerate() {
        let mut b = body(&format!("nullable-{i}"), "Silence");
        remove(&mut b);
        // Signed as sent: the signature is good, only the schema is not.
        let sub = sign_message(&keys.submitter, b, &personal("n@example.org")).unwrap();
        let (field, why) = refused_at(&ledger, sub);
        assert_eq!(field, path);
        assert!(why.starts_with("is missing") && !why.contains("Option"), "{why}");
    }
    // `null` is a statement, and is accepted where the schema allows it.
    let mut b = body("nullable-ok", "Stated");
    b["sponsor"]["political"] = Value::Null;
    ledger.submit(vec![sign_message(&keys.submitter, b, &personal("n@example.org")).unwrap()]).unwrap();
}

#[test]
fn a_repeated_key_is_refused_naming_its_field() {
    let (_dir, keys, ledger) = fresh();
    let p = personal("r@example.org");
    let b = committed(body("repeat-1", "Twice"), &p);
    let canonical = String::from_utf8(sightline_ledger::canonical::jcs(&b).unwrap()).unwrap();
    // A brand written twice; the signature covers what a last-wins parser would log.
    let twice = canonical.replacen("\"brand\":\"Civic Future\"", "\"brand\":\"Someone Else\",\"brand\":\"Civic Future\"", 1);
    assert_ne!(twice, canonical);
    let sub = raw_submission(&keys, twice, &b, String::from_utf8(p.canonical().unwrap()).unwrap());
    let (field, why) = refused_at(&ledger, sub);
    assert_eq!(field, "delivery.creative.brand");
    assert!(why.contains("repeat"), "{why}");
    // A key repeated inside the personal part's `evaluation` (a map, where a decoder keeps the last).
    let personal_text = String::from_utf8(p.canonical().unwrap()).unwrap().replacen(
        "\"evaluation\":{",
        "\"evaluation\":{\"c1\":{\"result\":\"not_matched\",\"value\":null},",
        1,
    );
    let sub = raw_submission(&keys, canonical.clone(), &b, personal_text);
    assert_eq!(refused_at(&ledger, sub).0, "personal.evaluation.c1");
    // In the envelope: both parse paths refuse it, naming record and member.
    let sig = sign_body(&keys.submitter, &b).unwrap();
    let personal_text = String::from_utf8(p.canonical().unwrap()).unwrap();
    let batch = format!(r#"{{"records":[{{"body":{canonical},"sig":"{sig}","sig":"{sig}","personal":{personal_text}}}]}}"#);
    assert!(BatchText::split(&batch).is_none(), "the one-pass split took a repeated member");
    match Submissions::parse(&batch) {
        Err(Error::BadBatch { record: Some(0), field: Some(f), why }) => {
            assert_eq!(f, "sig");
            assert!(why.contains("repeat"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    let ok = format!(r#"{{"records":[{{"body":{canonical},"sig":"{sig}","personal":{personal_text}}}]}}"#);
    assert_eq!(ledger.submit_batch(&BatchText::split(&ok).expect("canonical batch")).unwrap().acks.len(), 1);
}

#[test]
fn codes_must_be_on_their_lists() {
    let (_dir, keys, ledger) = fresh();
    let cases: [(&str, Change); 4] = [
        ("delivery.creative.language", |b| b["delivery"]["creative"]["language"] = json!("xx")),
        ("sponsor.political.amount.currency", |b| b["sponsor"]["political"]["amount"]["currency"] = json!("XYZ")),
        ("delivery.member_state", |b| b["delivery"]["member_state"] = json!("XX")),
        ("delivery.member_state", |b| b["delivery"]["member_state"] = json!("GR")),
    ];
    for (i, (path, change)) in cases.into_iter().enumerate() {
        let mut b = body(&format!("code-{i}"), "Codes");
        change(&mut b);
        let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("c@example.org")).unwrap());
        assert_eq!(field, path, "{why}");
    }
    match ledger.register_party("p-nowhere", "Nowhere Ltd", "x@nowhere.example", "XX", "self") {
        Err(Error::InvalidRecord { field, why, .. }) => assert!(field == "established_in" && why.contains("`XX`"), "{field}: {why}"),
        other => panic!("{other:?}"),
    }
    ledger.register_party("p-athens", "Athens Ltd", "x@athens.example", "EL", "self").unwrap();
}

#[test]
fn bidi_and_zero_width_characters_are_refused_in_free_text() {
    let (_dir, keys, ledger) = fresh();
    let mut b = body("bidi-1", "Mirror");
    b["delivery"]["creative"]["brand"] = json!("Civic\u{202E}erutuF");
    let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("b@example.org")).unwrap());
    assert_eq!(field, "delivery.creative.brand");
    assert!(why.contains("U+202E"), "{why}");
    let mut b = body("bidi-2", "Hidden");
    b["lineage"][0]["provider"] = json!("Quiz\u{200B}app");
    assert_eq!(refused_at(&ledger, sign_message(&keys.submitter, b, &personal("b@example.org")).unwrap()).0, "lineage[0].provider");
    let sub = sign_message(&keys.submitter, body("bidi-3", "Recipient"), &personal("b\u{2066}@example.org")).unwrap();
    assert_eq!(refused_at(&ledger, sub).0, "personal.recipient");
    assert!(matches!(ledger.register_party("p-rtl", "Acme\u{202E}", "x@x.example", "DE", "self"), Err(Error::InvalidRecord { .. })));
}

#[test]
fn numbers_are_written_as_integers_within_their_field_range() {
    let (_dir, keys, ledger) = fresh();
    let p = personal("i@example.org");
    let b = committed(body("int-1", "Numbers"), &p);
    let personal_text = String::from_utf8(p.canonical().unwrap()).unwrap();
    let canonical = String::from_utf8(sightline_ledger::canonical::jcs(&b).unwrap()).unwrap();
    // `90.0` canonicalises to `90`, the value signed; it is refused all the same.
    let mut signed = b.clone();
    signed["lineage"][3]["lookback_days"] = json!(90);
    let text = canonical.replacen("\"lookback_days\":30", "\"lookback_days\":90.0", 1);
    let (field, why) = refused_at(&ledger, raw_submission(&keys, text, &signed, personal_text.clone()));
    assert_eq!(field, "lineage[3].lookback_days");
    assert!(why.contains("written as an integer"), "{why}");
    for (value, words) in [("4294967296", "from 0 to 4294967295"), ("-1", "from 0 to 4294967295")] {
        let text = canonical.replacen("\"lookback_days\":30", &format!("\"lookback_days\":{value}"), 1);
        let v: Value = serde_json::from_str(&text).unwrap();
        let (field, why) = refused_at(&ledger, raw_submission(&keys, text, &v, personal_text.clone()));
        assert_eq!(field, "lineage[3].lookback_days");
        assert!(why.contains(words) && !why.contains("u32"), "{why}");
    }
}

#[test]
fn the_personal_part_keeps_every_member_and_hashes_the_raw_salt() {
    // SPEC.md §7's worked example.
    let salt: [u8; 32] = std::array::from_fn(|i| i as u8);
    assert_eq!(recipient_commitment(&salt, "alice@example.org"), "b2b9d34f76583008bfd4b96ab1a25daa79ec0359fdd1d599cb3cfac8469fb412");
    // Revision 2's form, `matched`, still opens its commitment; revision 3 writes `evaluation`.
    let revision_2 = Personal {
        v: 1,
        salt: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into(),
        recipient: "alice@example.org".into(),
        matched: Some(Default::default()),
        evaluation: None,
        consent: Default::default(),
    };
    assert_eq!(revision_2.salt_bytes().unwrap(), salt);
    assert_eq!(revision_2.commitment().unwrap(), "c9dc763673ebd370d0714b15f0cc67d2dab68ff017b04c7c87c8f28241a904cf");
    let p = Personal { matched: None, evaluation: Some(Default::default()), ..revision_2.clone() };
    assert_eq!(p.commitment().unwrap(), "59a021924076909aba1b98c61d1977db7de90ede4db9a5e7cb298a8a3dc1e2b3");

    let (_dir, keys, ledger) = fresh();
    let mut plain = body("members-1", "Members");
    plain["targeting"]["criteria"] = json!([]);
    plain["targeting"]["audience"] = json!(null);
    let b = committed(plain, &p);
    let canonical = String::from_utf8(sightline_ledger::canonical::jcs(&b).unwrap()).unwrap();
    // A new record in revision 2's form is refused, naming `matched`.
    let old = committed(b.clone(), &revision_2);
    let old_text = String::from_utf8(sightline_ledger::canonical::jcs(&old).unwrap()).unwrap();
    let (field, why) = refused_at(&ledger, raw_submission(&keys, old_text, &old, serde_json::to_string(&revision_2).unwrap()));
    assert_eq!(field, "personal.matched");
    assert!(why.contains("evaluation"), "{why}");
    for member in ["evaluation", "consent"] {
        let mut v = serde_json::to_value(&p).unwrap();
        v.as_object_mut().unwrap().remove(member);
        let (field, _) = refused_at(&ledger, raw_submission(&keys, canonical.clone(), &b, v.to_string()));
        assert_eq!(field, format!("personal.{member}"));
    }
    // A message whose `personal` member is missing or `null` is refused as an envelope error
    // naming the record and `personal` (a tally, SPEC.md §3.8, is the one record without one).
    let sig = sign_body(&keys.submitter, &b).unwrap();
    for personal in ["", r#","personal":null"#] {
        let batch = Submissions::parse(&format!(r#"{{"records":[{{"body":{canonical},"sig":"{sig}"{personal}}}]}}"#)).unwrap();
        match ledger.submit(batch.records) {
            Err(Error::BadBatch { record: Some(0), field: Some(f), why }) => {
                assert!(f == "personal" && why.starts_with("is missing"), "{why}")
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_record_repeated_in_one_batch_is_a_duplicate_after_its_first_copy() {
    let (_dir, keys, ledger) = fresh();
    let a = submission(&keys, "twice-1", "t@example.org");
    let size = ledger.size();
    let first = ledger.submit(vec![a.clone(), a.clone()]).unwrap();
    assert_eq!(ledger.size(), size + 1, "one entry for the two copies");
    assert_eq!((first.acks[0].duplicate, first.acks[1].duplicate), (false, true));
    assert_eq!(first.acks[0].index, first.acks[1].index);
    assert_eq!(first.acks[0].receipt.entry, first.acks[1].receipt.entry);
    // The whole batch again (a lost response): the same entries, every record a duplicate.
    let again = ledger.submit(vec![a.clone(), a.clone()]).unwrap();
    assert_eq!(ledger.size(), size + 1);
    for (x, y) in first.acks.iter().zip(&again.acks) {
        assert!(y.duplicate);
        assert_eq!((x.index, &x.why_token, &x.receipt.entry), (y.index, &y.why_token, &y.receipt.entry));
    }
    // The same message id with another body in one batch is a conflict, and appends nothing.
    let other = sign_message(&keys.submitter, body("twice-2", "One"), &personal("t@example.org")).unwrap();
    let changed = sign_message(&keys.submitter, body("twice-2", "Two"), &personal("t@example.org")).unwrap();
    assert!(matches!(ledger.submit(vec![other, changed]), Err(Error::MessageIdReused { record: 1, .. })));
    assert_eq!(ledger.size(), size + 1);
}

#[test]
fn a_party_is_registered_once_and_a_submitter_again_is_a_re_key() {
    let (_dir, keys, ledger) = fresh();
    let earlier = ledger.registry().unwrap().parties["p-civic-future"].index;
    let size = ledger.size();
    match ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic.example", "DE", "self") {
        Err(e @ Error::PartyExists { .. }) => {
            assert!(matches!(e, Error::PartyExists { index, .. } if index == earlier));
            assert!(e.to_string().contains(&format!("entry {earlier}")), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ledger.size(), size);
    let new_key = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    ledger.register_submitter("acme", "Acme Ads GmbH", "dpo@acme.example", &sightline_ledger::submitter::public_key_b64(&new_key)).unwrap();
    assert_eq!(ledger.size(), size + 1);
    assert!(matches!(ledger.submit(vec![submission(&keys, "old-key", "k@example.org")]), Err(Error::RecordSignature { record: 0, .. })));
}

#[test]
fn objection_warnings_carry_no_recipient_identifier() {
    let (_dir, keys, ledger) = fresh();
    let recipient = "objector.person@example.org";
    let first = ledger.submit(vec![submission(&keys, "obj-1", recipient)]).unwrap();
    ledger.object(first.acks[0].index, recipient).unwrap();
    let flagged = ledger.submit(vec![submission(&keys, "obj-2", recipient)]).unwrap();
    let warnings = &flagged.acks[0].warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    for w in warnings {
        assert!(w.contains("p-civic-future"), "the warning names the advertiser: {w}");
        for part in [recipient, "objector", "example.org"] {
            assert!(!w.to_lowercase().contains(part), "the warning carries the recipient: {w}");
        }
    }
}

#[test]
fn decoding_errors_name_their_own_field_in_plain_words() {
    let (_dir, keys, ledger) = fresh();
    let mut b = body("words-1", "Words");
    b["targeting"]["criteria"][0]["minor"] = json!("yes");
    let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("w@example.org")).unwrap());
    assert_eq!((field.as_str(), why.as_str()), ("targeting.criteria[0].minor", "is the text \"yes\"; expected a boolean"));
    let mut b = body("words-2", "Words");
    b["delivery"]["creative"].as_object_mut().unwrap().remove("ad_id");
    let (field, _) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("w@example.org")).unwrap());
    assert_eq!(field, "delivery.creative.ad_id");
    let mut b = body("words-3", "Words");
    b["delivery"]["extra"] = json!(1);
    let (field, why) = refused_at(&ledger, sign_message(&keys.submitter, b, &personal("w@example.org")).unwrap());
    assert_eq!(field, "delivery.extra");
    for jargon in ["struct", "Delivery", "`"] {
        assert!(!why.contains(jargon), "{why}");
    }
}
