//! The `tally` record (SPEC.md §3.8): signed by its submitter, appended all or nothing, logged
//! once per campaign and day, and found again after a restart.

mod common;

use common::{open, register, submission, Keys};
use serde_json::{json, Value};
use sightline_ledger::record::Body;
use sightline_ledger::submitter::sign_tally;
use sightline_ledger::Error;

fn tally(campaign: &str, day: &str, de: u64) -> Value {
    json!({ "kind": "tally", "signer": "acme", "campaign_id": campaign, "day": day,
            "delivered": { "DE": de, "AT": 0 }, "reported_at": "2026-11-21T02:00:00Z" })
}

#[test]
fn a_tally_is_logged_signed_by_its_submitter_with_no_personal_part() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let ack = ledger.submit(vec![sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 1200)).unwrap()]).unwrap();
    let a = &ack.acks[0];
    assert!(!a.duplicate && a.why_token.is_none() && a.reference.is_none(), "a tally is no message: no why link, no reference");
    let bytes = ledger.entry(a.index).unwrap().unwrap();
    let entry = sightline_ledger::entry::Entry::parse(&bytes).unwrap();
    assert_eq!(entry.body["signer"], "acme");
    assert_eq!(entry.body["delivered"], json!({ "AT": 0, "DE": 1200 }));
    assert!(matches!(Body::parse(&entry.body, 0).unwrap(), Body::Tally(_)));
    assert!(ledger.personal(a.index).unwrap().is_none());
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
}

#[test]
fn a_days_tally_is_logged_once_and_never_replaced_even_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let first = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let t = sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 1200)).unwrap();
        let ack = ledger.submit(vec![t.clone(), t]).unwrap();
        assert_eq!(ack.acks[0].index, ack.acks[1].index, "repeated within a batch: one entry");
        ack.acks[0].index
    };
    let ledger = open(dir.path(), &keys).unwrap();
    let size = ledger.size();
    let again = ledger.submit(vec![sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 1200)).unwrap()]).unwrap();
    assert!(again.acks[0].duplicate);
    assert_eq!(again.acks[0].index, first);
    let other = ledger.submit(vec![sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 999)).unwrap()]);
    assert!(matches!(other, Err(Error::TallyRepeated { index, .. }) if index == first), "{other:?}");
    assert_eq!(ledger.size(), size, "nothing appended");
    let next_day = ledger.submit(vec![sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-19", 3)).unwrap()]).unwrap();
    assert!(!next_day.acks[0].duplicate);
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
}

#[test]
fn a_batch_holds_messages_or_tallies_not_both() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    let mixed =
        vec![submission(&keys, "m-1", "a@example.org"), sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 1)).unwrap()];
    let err = ledger.submit(mixed).unwrap_err();
    assert!(matches!(&err, Error::InvalidRecord { record: 1, field, .. } if field == "kind"), "{err}");
    assert_eq!(ledger.size(), size);
}

#[test]
fn a_tally_with_a_bad_signature_or_an_unknown_submitter_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    let good = sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-20", 5)).unwrap();
    let mut forged = sign_tally(&keys.submitter, &tally("ocean-2026", "2026-11-21", 5)).unwrap();
    forged.body = serde_json::value::RawValue::from_string(forged.body.get().replace("\"DE\":5", "\"DE\":50")).unwrap();
    assert!(matches!(ledger.submit(vec![good.clone(), forged]), Err(Error::RecordSignature { record: 1, .. })));
    let mut stranger = tally("ocean-2026", "2026-11-20", 5);
    stranger["signer"] = json!("nobody");
    assert!(matches!(ledger.submit(vec![sign_tally(&keys.submitter, &stranger).unwrap()]), Err(Error::UnknownSubmitter(_))));
    let mut with_personal = good;
    with_personal.personal = Some(serde_json::value::RawValue::from_string("{}".into()).unwrap());
    assert!(matches!(ledger.submit(vec![with_personal]), Err(Error::InvalidRecord { field, .. }) if field == "personal"));
    assert_eq!(ledger.size(), size);
}

#[test]
fn every_acknowledged_message_carries_its_reference() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let s = submission(&keys, "m-1", "a@example.org");
    let ack = ledger.submit(vec![s.clone()]).unwrap();
    let a = &ack.acks[0];
    let r = a.reference.as_ref().expect("a message has a reference");
    let bytes = ledger.entry(a.index).unwrap().unwrap();
    assert_eq!(r.entry.index, a.index);
    assert_eq!(r.entry.origin, common::ORIGIN);
    assert_eq!(r.entry.leaf, sightline_ledger::merkle::leaf_hash(&bytes));
    assert_eq!(r.carrier(None), format!("data-sightline-entry=\"{} {} {}\"", common::ORIGIN, a.index, hex::encode(r.entry.leaf)));
    let again = ledger.submit(vec![s]).unwrap();
    assert!(again.acks[0].duplicate);
    assert_eq!(again.acks[0].reference, a.reference, "a duplicate carries the original's reference");
}
