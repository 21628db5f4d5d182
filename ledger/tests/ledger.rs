//! The ledger's rules, one test per rule, against a real sled store.

mod common;

use std::sync::Arc;

use common::{open, register, submission, Keys};
use sightline_ledger::note::{NoteSigner, NoteVerifier};
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::store::{Commit, Space, Store};
use sightline_ledger::{Error, PersonalState};

fn log_vkeys(ledger: &sightline_ledger::Ledger) -> Vec<NoteVerifier> {
    ledger.registry().unwrap().all_log_keys()
}

#[test]
fn every_acknowledged_record_has_a_receipt_that_verifies_offline() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let subs: Vec<_> = (0..25).map(|i| submission(&keys, &format!("m-{i}"), &format!("r{i}@example.org"))).collect();
    let ack = ledger.submit(subs).unwrap();
    assert_eq!(ack.acks.len(), 25);
    for a in &ack.acks {
        let (entry, cp) = a.receipt.verify(&log_vkeys(&ledger)).unwrap();
        assert_eq!(entry.index, a.index);
        assert_eq!(cp.size, ledger.size());
        assert!(!a.duplicate);
    }
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
}

#[test]
fn resubmitting_a_message_returns_the_original_entry_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let s = submission(&keys, "m-1", "alice@example.org");
    let first = ledger.submit(vec![s.clone()]).unwrap();
    let size = ledger.size();
    let again = ledger.submit(vec![s.clone(), s]).unwrap();
    assert_eq!(ledger.size(), size);
    for a in &again.acks {
        assert!(a.duplicate);
        assert_eq!(a.index, first.acks[0].index);
        assert_eq!(a.why_token, first.acks[0].why_token);
    }
}

#[test]
fn a_message_repeated_within_one_batch_is_appended_once() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    let s = submission(&keys, "m-1", "alice@example.org");
    let ack = ledger.submit(vec![s.clone(), submission(&keys, "m-2", "bob@example.org"), s]).unwrap();
    assert_eq!(ledger.size(), size + 2);
    let indexes: Vec<u64> = ack.acks.iter().map(|a| a.index).collect();
    assert_eq!(indexes, vec![size, size + 1, size]);
    for a in &ack.acks {
        let (entry, _) = a.receipt.verify(&log_vkeys(&ledger)).unwrap();
        assert_eq!(entry.index, a.index, "each receipt carries its own entry");
    }
    assert_eq!(ack.acks[0].receipt.entry, ack.acks[2].receipt.entry);
}

#[test]
fn a_message_id_is_never_reused_for_a_different_record() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap();
    let size = ledger.size();
    let other = submission(&keys, "m-1", "bob@example.org");
    assert!(matches!(ledger.submit(vec![other]), Err(Error::MessageIdReused { .. })));
    assert_eq!(ledger.size(), size);
}

#[test]
fn a_batch_with_one_bad_record_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    let mut bad = submission(&keys, "m-2", "bob@example.org");
    let mut body: serde_json::Value = serde_json::from_str(bad.body.get()).unwrap();
    body["delivery"]["creative"]["subject"] = "changed after signing".into();
    bad.body = serde_json::value::to_raw_value(&body).unwrap();
    let batch = vec![submission(&keys, "m-1", "alice@example.org"), bad];
    let err = ledger.submit(batch).unwrap_err();
    assert!(matches!(err, Error::RecordSignature { record: 1, ref signer } if signer == "acme"), "{err}");
    assert_eq!(ledger.size(), size);
}

/// A body may arrive in any JSON form; what is signed, checked and logged is its canonical form.
#[test]
fn a_body_in_another_json_form_is_logged_in_canonical_form() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let canonical = submission(&keys, "m-1", "alice@example.org");
    let mut pretty = submission(&keys, "m-2", "bob@example.org");
    let value: serde_json::Value = serde_json::from_str(pretty.body.get()).unwrap();
    let signed_bytes = pretty.body.get().to_string();
    pretty.body = serde_json::value::RawValue::from_string(serde_json::to_string_pretty(&value).unwrap()).unwrap();
    assert_ne!(pretty.body.get(), signed_bytes, "the test sends another form");
    let acks = ledger.submit(vec![canonical.clone(), pretty]).unwrap().acks;
    for (ack, sent) in acks.iter().zip([canonical.body.get().to_string(), signed_bytes]) {
        let entry = sightline_ledger::entry::Entry::parse(&ledger.entry(ack.index).unwrap().unwrap()).unwrap();
        assert_eq!(sightline_ledger::canonical::jcs(&entry.body).unwrap(), sent.as_bytes());
    }

    // The same record, pretty or canonical, fails the same rule with the same message.
    let mut wrong = submission(&keys, "m-3", "carol@example.org");
    let mut value: serde_json::Value = serde_json::from_str(wrong.body.get()).unwrap();
    value["delivery"]["member_state"] = "XX".into();
    wrong.body =
        serde_json::value::RawValue::from_string(String::from_utf8(sightline_ledger::canonical::jcs(&value).unwrap()).unwrap()).unwrap();
    let fast = ledger.submit(vec![wrong.clone()]).unwrap_err().to_string();
    wrong.body = serde_json::value::RawValue::from_string(serde_json::to_string_pretty(&value).unwrap()).unwrap();
    let general = ledger.submit(vec![wrong]).unwrap_err().to_string();
    assert!(fast.contains("member_state"), "{fast}");
    assert_eq!(fast, general);
}

/// JSON whose syntax passes but whose text is not Unicode is malformed, as it was before the
/// body was kept as text, and nothing is appended.
#[test]
fn a_body_with_a_lone_surrogate_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    let mut bad = submission(&keys, "m-1", "alice@example.org");
    bad.body = serde_json::value::RawValue::from_string(r#"{"kind":"message","signer":"\ud800"}"#.to_string()).unwrap();
    let err = ledger.submit(vec![submission(&keys, "m-2", "bob@example.org"), bad]).unwrap_err();
    assert!(matches!(err, Error::Malformed { .. }) && err.to_string().contains("record 1"), "{err}");
    assert_eq!(ledger.size(), size);
}

#[test]
fn unknown_submitters_and_unregistered_parties_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    let err = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap_err();
    assert!(matches!(err, Error::UnknownSubmitter(ref s) if s == "acme"), "{err}");
    ledger.register_submitter("acme", "Acme", "dpo@acme.example", &sightline_ledger::submitter::public_key_b64(&keys.submitter)).unwrap();
    let err = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap_err();
    assert!(matches!(err, Error::InvalidRecord { ref field, .. } if field == "sponsor.on_behalf_of"), "{err}");
}

#[test]
fn commitments_must_match_the_personal_part() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let mut s = submission(&keys, "m-1", "alice@example.org");
    let original = s.personal.clone().unwrap();
    let mut p: serde_json::Value = serde_json::from_str(original.get()).unwrap();
    p["recipient"] = "mallory@example.org".into();
    for form in [serde_json::to_string(&p).unwrap(), serde_json::to_string_pretty(&p).unwrap()] {
        s.personal = Some(serde_json::value::RawValue::from_string(form).unwrap());
        let err = ledger.submit(vec![s.clone()]).unwrap_err();
        assert!(matches!(err, Error::InvalidRecord { ref field, .. } if field == "recipient.commitment"), "{err}");
    }
    assert_eq!(ledger.size(), 4, "nothing appended");
    // The genuine part in another JSON form is accepted, and sealed as its canonical bytes.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(original.get()).unwrap()).unwrap();
    assert_ne!(pretty, original.get());
    s.personal = Some(serde_json::value::RawValue::from_string(pretty).unwrap());
    let index = ledger.submit(vec![s]).unwrap().acks[0].index;
    let Some(PersonalState::Present(opened)) = ledger.personal(index).unwrap() else { panic!("the personal part opens") };
    assert_eq!(opened.canonical().unwrap(), original.get().as_bytes());
}

#[test]
fn the_public_log_never_holds_the_recipient_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    ledger.submit(vec![submission(&keys, "m-1", "alice.secret@example.org")]).unwrap();
    for e in ledger.entries(0, ledger.size()).unwrap() {
        let text = String::from_utf8(e).unwrap();
        assert!(!text.contains("alice.secret"));
        assert!(!text.contains("neuroticism score 0.82"), "matched values are personal data");
    }
}

#[test]
fn a_restart_serves_the_same_log() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let (size, cp) = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        ledger.submit((0..300).map(|i| submission(&keys, &format!("m-{i}"), "a@example.org")).collect()).unwrap();
        (ledger.size(), ledger.checkpoint().unwrap())
    };
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!((ledger.size(), ledger.checkpoint().unwrap()), (size, cp));
    ledger.receipt(size - 1).unwrap().verify(&log_vkeys(&ledger)).unwrap();
}

/// Replaces the first `from` in the entry file with `to` (same length), as a damaged disk would:
/// the head, tiles and signed checkpoint stay as they are.
fn damage_entry_file(dir: &std::path::Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len(), "the damage keeps the file's length");
    let path = dir.join("entries.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(from.len()).position(|w| w == from.as_bytes()).unwrap_or_else(|| panic!("`{from}` is not in {path:?}"));
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    std::fs::write(&path, bytes).unwrap();
}

/// Changes stored bytes behind the ledger's back, as a damaged disk would: the head and its signed
/// checkpoint stay as they are.
fn tamper_on_disk(dir: &std::path::Path, change: impl FnOnce(&SledStore) -> Commit) {
    let store = SledStore::open(dir).unwrap();
    let head = store.head().unwrap().unwrap();
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint, ..change(&store) }).unwrap();
}

#[test]
fn a_store_whose_tree_differs_from_its_checkpoint_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        ledger.submit(vec![submission(&keys, "m-1", "a@example.org")]).unwrap();
    }
    tamper_on_disk(dir.path(), |store| {
        let mut tile = store.tile(0, 0).unwrap().unwrap();
        tile[40] ^= 1;
        Commit { tiles: vec![((0, 0), tile)], ..Commit::default() }
    });
    let err = open(dir.path(), &keys).err().expect("a corrupted store must be refused");
    assert!(matches!(err, Error::Corrupt(ref m) if m.contains("root")), "{err}");
}

#[test]
fn an_entry_changed_on_disk_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let index = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let index = ledger.submit(vec![submission(&keys, "m-1", "a@example.org")]).unwrap().acks[0].index;
        // A later entry, so the changed one is not the last (start-up checks the last one).
        ledger.submit(vec![submission(&keys, "m-2", "b@example.org")]).unwrap();
        index
    };
    // Change one character inside a string: the entry stays valid, canonical JSON, and the
    // hash tiles and checkpoint are untouched, so only its leaf hash can tell.
    assert!(String::from_utf8(SledStore::open(dir.path()).unwrap().entry(index).unwrap().unwrap()).unwrap().contains("Civic Future"));
    damage_entry_file(dir.path(), "\"brand\":\"Civic Future\"", "\"brand\":\"Civic Fixtur\"");
    let ledger = open(dir.path(), &keys).expect("the tiles still match the checkpoint, so the store opens");
    let err = ledger.entry(index).expect_err("a changed entry must not be served");
    assert!(matches!(err, Error::Corrupt(ref m) if m.contains(&format!("entry {index}"))), "{err}");
    let err = ledger.entries(0, ledger.size()).expect_err("nor in a range");
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    assert!(ledger.entry(index - 1).unwrap().is_some(), "the intact entries are still served");
    assert!(matches!(ledger.fsck(&|_| {}), Err(Error::Corrupt(_))), "fsck finds it too");
    // A re-submission of that message gets no receipt built from the changed bytes.
    let err = ledger.submit(vec![submission(&keys, "m-1", "a@example.org")]).expect_err("no receipt of a changed entry");
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    let width = u16::try_from(ledger.size()).unwrap();
    assert!(matches!(ledger.entry_bundle(0, width), Err(Error::Corrupt(_))), "nor an entry bundle that holds it");
}

#[test]
fn a_registry_entry_changed_on_disk_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        ledger.submit(vec![submission(&keys, "m-1", "a@example.org")]).unwrap();
    }
    // Entry 1 registers the submitter; rename it, keeping the JSON valid and canonical.
    let entry = String::from_utf8(SledStore::open(dir.path()).unwrap().entry(1).unwrap().unwrap()).unwrap();
    assert!(entry.contains("\"kind\":\"submitter\""), "{entry}");
    let name = entry.split("\"name\":\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    damage_entry_file(dir.path(), &format!("\"name\":\"{name}\""), &format!("\"name\":\"X{}\"", &name[1..]));
    let err = open(dir.path(), &keys).err().expect("a changed registry entry must be refused");
    assert!(matches!(err, Error::Corrupt(ref m) if m.contains("registry entry 1")), "{err}");
}

#[test]
fn the_wrong_log_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    drop(open(dir.path(), &keys).unwrap());
    let store = SledStore::open(dir.path()).unwrap();
    let other = NoteSigner::generate(common::ORIGIN).unwrap();
    let err = sightline_ledger::Ledger::open(
        Arc::new(store),
        other,
        keys.secret.clone(),
        sightline_ledger::LedgerOptions { origin: common::ORIGIN.into(), max_batch_records: 100 },
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("not the log's current key"), "{err}");
}

#[test]
fn erasure_shreds_personal_parts_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let ack = ledger
        .submit(vec![
            submission(&keys, "m-1", "alice@example.org"),
            submission(&keys, "m-2", "Alice@Example.org "),
            submission(&keys, "m-3", "bob@example.org"),
        ])
        .unwrap();
    let (a1, a2, b) = (ack.acks[0].index, ack.acks[1].index, ack.acks[2].index);
    assert_eq!(ledger.recipient_entries(a1, "alice@example.org").unwrap(), vec![a1, a2]);
    assert!(matches!(ledger.personal(a1).unwrap(), Some(PersonalState::Present(_))));
    let private_before = std::fs::read(dir.path().join("private.dat")).unwrap();
    let lookup_before = std::fs::read(dir.path().join("lookup.dat")).unwrap();
    let alices_key = lookup_before[a1 as usize * 80 + 48..][..32].to_vec();
    assert_eq!(alices_key, lookup_before[a2 as usize * 80 + 48..][..32], "one key per recipient");
    let erased = ledger.erase_recipient_of(a1, "alice@example.org").unwrap();
    let lookup_after = std::fs::read(dir.path().join("lookup.dat")).unwrap();
    assert!(!lookup_after.windows(32).any(|w| w == alices_key.as_slice()), "her key is gone from the lookup records");
    for i in [a1, a2] {
        let r = &lookup_after[i as usize * 80..][..80];
        assert_eq!(
            (&r[..16], &r[16..]),
            (&lookup_before[i as usize * 80..][..16], &[0u8; 64][..]),
            "message key kept, handle and key zeros"
        );
    }
    let private_after = std::fs::read(dir.path().join("private.dat")).unwrap();
    assert_eq!(private_after.len(), private_before.len(), "records are overwritten in place");
    let changed: Vec<u8> = private_before.iter().zip(&private_after).filter(|(b, a)| b != a).map(|(_, a)| *a).collect();
    assert!(changed.len() >= 2 * 44, "both sealed records are overwritten, {} bytes changed", changed.len());
    assert!(changed.iter().all(|&b| b == 0), "with zeros");
    let entry = sightline_ledger::entry::Entry::parse(&ledger.entry(erased.acks[0].index).unwrap().unwrap()).unwrap();
    assert_eq!(entry.body["records"], 2);
    assert!(matches!(ledger.personal(a1).unwrap(), Some(PersonalState::Erased)));
    assert!(matches!(ledger.personal(a2).unwrap(), Some(PersonalState::Erased)));
    assert!(matches!(ledger.personal(b).unwrap(), Some(PersonalState::Present(_))));
    assert!(ledger.recipient_entries(a1, "alice@example.org").unwrap().is_empty());
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
    ledger.receipt(a1).unwrap().verify(&log_vkeys(&ledger)).unwrap();
}

#[test]
fn fsck_finds_a_damaged_link_key_handle_or_message_key_in_the_private_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ([a1, a2, a3], b) = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let ids = ["m-1", "m-2", "m-3"].map(|m| ledger.submit(vec![submission(&keys, m, "alice@example.org")]).unwrap().acks[0].index);
        let b = ledger.submit(vec![submission(&keys, "m-4", "bob@example.org")]).unwrap().acks[0].index;
        assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size(), "intact indexes pass");
        (ids, b)
    };
    let fsck_error = || open(dir.path(), &keys).unwrap().fsck(&|_| {}).unwrap_err().to_string();

    // Alice's third private record now links to her first instead of her second.
    let record = SledStore::open(dir.path()).unwrap().private(a3).unwrap().unwrap();
    assert_eq!(record[32..40], a2.to_be_bytes());
    let path = dir.path().join("private.dat");
    let original = std::fs::read(&path).unwrap();
    let at = original.windows(record.len()).position(|w| w == record.as_slice()).unwrap();
    let mut damaged = original.clone();
    damaged[at + 32..at + 40].copy_from_slice(&a1.to_be_bytes());
    std::fs::write(&path, &damaged).unwrap();
    let err = fsck_error();
    assert!(
        err.contains(&format!("entry {a3}: its private record links to entry {a1} but its recipient's previous message is entry {a2}")),
        "{err}"
    );
    std::fs::write(&path, &original).unwrap();

    // One bit of a lookup record: in the key of alice's second message, the handle of bob's
    // message, the message key of alice's first.
    let path = dir.path().join("lookup.dat");
    let original = std::fs::read(&path).unwrap();
    for (index, byte, want) in [
        (a2, 60, format!("entry {a2}: its lookup record holds another key than its recipient's previous message")),
        (b, 20, format!("entry {b}: its lookup record names another recipient than its private record")),
        (a1, 3, format!("entry {a1}: its lookup record does not hold its message key")),
    ] {
        let mut damaged = original.clone();
        damaged[index as usize * 80 + byte] ^= 1;
        std::fs::write(&path, &damaged).unwrap();
        let err = fsck_error();
        assert!(err.contains(&want), "{err}");
        std::fs::write(&path, &original).unwrap();
    }
    assert_eq!(open(dir.path(), &keys).unwrap().fsck(&|_| {}).unwrap(), b + 1);

    // The rows of the indexes: alice's latest entry, and the entry of bob's message id.
    let rows = |f: &dyn Fn(&SledStore) -> Commit| tamper_on_disk(dir.path(), |s| f(s));
    let alice_row = |s: &SledStore| s.scan(Space::Private, b"rc/").unwrap().into_iter().find(|(_, v)| *v == a3.to_be_bytes()).unwrap();
    let (row_key, row) = alice_row(&SledStore::open(dir.path()).unwrap());
    let stale = a2.to_be_bytes().to_vec();
    rows(&|_| Commit { puts: vec![(Space::Private, row_key.clone(), stale.clone())], ..Commit::default() });
    assert!(fsck_error().contains("its latest entry differs from the lookup records"), "a recipient row naming an older entry");
    rows(&|_| Commit { puts: vec![(Space::Private, row_key.clone(), row.clone())], ..Commit::default() });
    let (bob_key, bob_row) =
        SledStore::open(dir.path()).unwrap().scan(Space::Index, b"mk/").unwrap().into_iter().find(|(_, v)| *v == b.to_be_bytes()).unwrap();
    rows(&|_| Commit { deletes: vec![(Space::Index, bob_key.clone())], ..Commit::default() });
    let err = fsck_error();
    assert!(err.contains(&format!("entry {b}: the message id index names no entry instead")), "{err}");
    rows(&|_| Commit { puts: vec![(Space::Index, bob_key.clone(), bob_row.clone())], ..Commit::default() });
    assert_eq!(open(dir.path(), &keys).unwrap().fsck(&|_| {}).unwrap(), b + 1);

    // Lookup records missing for acknowledged entries: opening does not read them (the
    // indexes are rows), fsck refuses the store.
    std::fs::write(&path, &original[..original.len() - 80]).unwrap();
    let err = fsck_error();
    assert!(err.contains(&format!("the lookup record of entry {b} is missing")), "{err}");
}

/// Rewrites a store's private indexes into an older layout, as Sightline wrote them.
/// Layout 2 (before 2026-12-02): no lookup records; one row `rk/` per recipient holding their
/// key and latest entry, one row `msg/` per message. Layout 1 (before 2026-11-25): the `rk/`
/// row holds the key and every entry index, private records are `handle || sealed` (no link
/// to the recipient's previous entry), and there is no layout marker. Neither had the rows of
/// layout 5 (`mk/`, `rc/`).
fn downgrade(dir: &std::path::Path, layout: u8) {
    let lookup = std::fs::read(dir.join("lookup.dat")).unwrap();
    let mut records = Vec::new();
    tamper_on_disk(dir, |store| {
        let size = store.head().unwrap().unwrap().size;
        let mut rows: std::collections::BTreeMap<Vec<u8>, (Vec<u8>, Vec<u64>)> = Default::default();
        let mut c = Commit::default();
        c.deletes.extend(store.scan(Space::Index, b"mk/").unwrap().into_iter().map(|(k, _)| (Space::Index, k)));
        c.deletes.extend(store.scan(Space::Private, b"rc/").unwrap().into_iter().map(|(k, _)| (Space::Private, k)));
        for i in 0..size {
            let l = &lookup[i as usize * 80..][..80];
            let mut r = store.private(i).unwrap().unwrap();
            if l[16..48] != [0; 32] {
                rows.entry(l[16..48].to_vec()).or_insert_with(|| (l[48..].to_vec(), Vec::new())).1.push(i);
                if layout == 1 {
                    r.drain(32..40);
                }
            }
            records.push(r);
            let entry = sightline_ledger::entry::Entry::parse(&store.entry(i).unwrap().unwrap()).unwrap();
            if entry.body["kind"] == "message" {
                let (signer, id) = (entry.body["signer"].as_str().unwrap(), entry.body["message_id"].as_str().unwrap());
                let key = [b"msg/".as_slice(), signer.as_bytes(), &[0], id.as_bytes()].concat();
                c.puts.push((Space::Index, key, i.to_be_bytes().to_vec()));
            }
        }
        for (handle, (key, list)) in rows {
            let tail: Vec<u8> = match layout {
                1 => list.iter().flat_map(|i| i.to_be_bytes()).collect(),
                _ => list.last().unwrap().to_be_bytes().to_vec(),
            };
            c.puts.push((Space::Private, [b"rk/".as_slice(), &handle].concat(), [key, tail].concat()));
        }
        match layout {
            1 => c.deletes.push((Space::Private, b"layout/recipients".to_vec())),
            _ => c.puts.push((Space::Private, b"layout/recipients".to_vec(), [b"2".as_slice(), &0u64.to_be_bytes()].concat())),
        }
        c
    });
    if layout == 1 {
        let (mut end, mut ends) = (0u64, Vec::new());
        for r in &records {
            end += r.len() as u64;
            ends.extend_from_slice(&end.to_le_bytes());
        }
        std::fs::write(dir.join("private.dat"), records.concat()).unwrap();
        std::fs::write(dir.join("private.idx"), ends).unwrap();
    }
    std::fs::remove_file(dir.join("lookup.dat")).unwrap();
}

#[test]
fn a_store_with_the_layout_2_indexes_is_converted_when_opened_even_after_a_crash_mid_way() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let subs: Vec<_> = ["alice", "bob", "alice", "carol"]
        .iter()
        .enumerate()
        .map(|(i, r)| submission(&keys, &format!("m-{i}"), &format!("{r}@example.org")))
        .collect();
    let (a1, a2, b, c) = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let ack = ledger.submit(subs.clone()).unwrap();
        (ack.acks[0].index, ack.acks[2].index, ack.acks[1].index, ack.acks[3].index)
    };
    let mut converted_lookup = std::fs::read(dir.path().join("lookup.dat")).unwrap();
    let carol = converted_lookup[c as usize * 80 + 16..][..32].to_vec();
    downgrade(dir.path(), 2);
    // Carol's erasure stopped after deleting her row, before overwriting her sealed record: a
    // state layout 2 could be left in by a crash. The conversion finishes the erasure.
    tamper_on_disk(dir.path(), |_| Commit { deletes: vec![(Space::Private, [b"rk/".as_slice(), &carol].concat())], ..Commit::default() });
    converted_lookup[c as usize * 80 + 16..][..64].fill(0);
    {
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!((store.scan(Space::Private, b"rk/").unwrap().len(), store.scan(Space::Index, b"msg/").unwrap().len()), (2, 4));
        assert_eq!(store.lookup_count().unwrap(), 0);
        assert!(store.private(c).unwrap().unwrap().iter().any(|&x| x != 0), "carol's sealed record is still there");
    }
    // A conversion that wrote its lookup records, damaged here, but died before marking itself done.
    std::fs::write(dir.path().join("lookup.dat"), vec![0xAA; converted_lookup.len()]).unwrap();
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(std::fs::read(dir.path().join("lookup.dat")).unwrap(), converted_lookup, "a new store's lookup records, carol's erased");
    assert_eq!(ledger.recipient_entries(a1, "alice@example.org").unwrap(), vec![a1, a2]);
    for i in [a1, a2, b] {
        assert!(matches!(ledger.personal(i).unwrap(), Some(PersonalState::Present(_))), "entry {i} still opens");
    }
    assert!(matches!(ledger.personal(c).unwrap(), Some(PersonalState::Erased)));
    let again = ledger.submit(vec![subs[1].clone()]).unwrap();
    assert_eq!((again.acks[0].index, again.acks[0].duplicate), (b, true), "message ids are still known");
    let a3 = ledger.submit(vec![submission(&keys, "m-9", "alice@example.org")]).unwrap().acks[0].index;
    assert_eq!(ledger.recipient_entries(a3, "alice@example.org").unwrap(), vec![a1, a2, a3]);
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
    drop(ledger);
    let store = SledStore::open(dir.path()).unwrap();
    assert!(
        store.scan(Space::Private, b"rk/").unwrap().is_empty() && store.scan(Space::Index, b"msg/").unwrap().is_empty(),
        "the rows are gone"
    );
    assert!(store.private(c).unwrap().unwrap().iter().all(|&x| x == 0), "carol's sealed record is overwritten");
}

#[test]
fn a_recipients_entries_are_listed_in_log_order_across_batches_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let mut want: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for round in 0..3 {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        for batch in 0..4 {
            let who: Vec<String> = (0..7).map(|i| format!("r{}@example.org", (i * (batch + 1) + round) % 5)).collect();
            let subs = who.iter().enumerate().map(|(i, r)| submission(&keys, &format!("m-{round}-{batch}-{i}"), r)).collect();
            for (a, r) in ledger.submit(subs).unwrap().acks.iter().zip(&who) {
                want.entry(r.clone()).or_default().push(a.index);
            }
        }
        for (r, list) in &want {
            assert_eq!(&ledger.recipient_entries(*list.last().unwrap(), r).unwrap(), list);
        }
    }
}

#[test]
fn a_store_with_the_version_1_recipient_index_is_converted_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let (a1, a2, b) = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let ack = ledger
            .submit(vec![
                submission(&keys, "m-1", "alice@example.org"),
                submission(&keys, "m-2", "bob@example.org"),
                submission(&keys, "m-3", "alice@example.org"),
            ])
            .unwrap();
        (ack.acks[0].index, ack.acks[2].index, ack.acks[1].index)
    };
    downgrade(dir.path(), 1);
    {
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.scan(Space::Private, b"rk/").unwrap().iter().map(|(_, v)| v.len()).max(), Some(32 + 2 * 8));
        assert!(store.get(Space::Private, b"layout/recipients").unwrap().is_none());
    }
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(ledger.recipient_entries(a1, "alice@example.org").unwrap(), vec![a1, a2]);
    assert_eq!(ledger.recipient_entries(b, "bob@example.org").unwrap(), vec![b]);
    for i in [a1, a2, b] {
        assert!(matches!(ledger.personal(i).unwrap(), Some(PersonalState::Present(_))), "entry {i} still opens");
    }
    let a3 = ledger.submit(vec![submission(&keys, "m-4", "alice@example.org")]).unwrap().acks[0].index;
    assert_eq!(ledger.recipient_entries(a3, "alice@example.org").unwrap(), vec![a1, a2, a3], "old and new entries in one list");
    let erased = ledger.erase_recipient_of(a1, "alice@example.org").unwrap();
    let entry = sightline_ledger::entry::Entry::parse(&ledger.entry(erased.acks[0].index).unwrap().unwrap()).unwrap();
    assert_eq!(entry.body["records"], 3);
    for i in [a1, a2, a3] {
        assert!(matches!(ledger.personal(i).unwrap(), Some(PersonalState::Erased)), "entry {i} is erased");
    }
    assert!(matches!(ledger.personal(b).unwrap(), Some(PersonalState::Present(_))));
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
    drop(ledger);
    let store = SledStore::open(dir.path()).unwrap();
    let left: Vec<Vec<u8>> = store.scan(Space::Private, b"rl/").unwrap().into_iter().map(|(_, v)| v).collect();
    assert_eq!(left, vec![b.to_be_bytes().to_vec()], "bob's frozen layout 1 list (`rl/`) remains, alice's is gone");
    assert!(store.scan(Space::Private, b"rk/").unwrap().is_empty(), "no `rk/` row");
    let rows: Vec<Vec<u8>> = store.scan(Space::Private, b"rc/").unwrap().into_iter().map(|(_, v)| v).collect();
    assert_eq!(rows, vec![b.to_be_bytes().to_vec()], "bob's row names his latest entry; alice's went with her erasure");
}

#[test]
fn a_message_after_an_objection_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let first = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap().acks[0].index;
    let objection = ledger.object(first, "alice@example.org").unwrap().acks[0].index;
    let later = ledger.submit(vec![submission(&keys, "m-2", "alice@example.org"), submission(&keys, "m-3", "bob@example.org")]).unwrap();
    assert_eq!(later.acks[0].warnings.len(), 1);
    assert!(later.acks[1].warnings.is_empty());
    let entry = sightline_ledger::entry::Entry::parse(&ledger.entry(later.acks[0].index).unwrap().unwrap()).unwrap();
    assert_eq!(entry.flags, vec![format!("objected:{objection}")]);
    // The ledger remembers who objected across a restart.
    drop(ledger);
    let ledger = open(dir.path(), &keys).unwrap();
    let after = ledger.submit(vec![submission(&keys, "m-4", "bob@example.org"), submission(&keys, "m-5", "alice@example.org")]).unwrap();
    assert!(after.acks[0].warnings.is_empty());
    assert_eq!(after.acks[1].warnings.len(), 1);
    let entry = sightline_ledger::entry::Entry::parse(&ledger.entry(after.acks[1].index).unwrap().unwrap()).unwrap();
    assert_eq!(entry.flags, vec![format!("objected:{objection}")]);
}

#[test]
fn the_log_key_rotates_without_a_new_log() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let next = NoteSigner::generate(common::ORIGIN).unwrap();
    let next_skey = next.skey();
    let next_vkey = NoteVerifier::from_vkey(&next.vkey()).unwrap();
    ledger.rotate_log_key(next).unwrap();
    let ack = ledger.submit(vec![submission(&keys, "m-1", "a@example.org")]).unwrap();
    ack.acks[0].receipt.verify(std::slice::from_ref(&next_vkey)).unwrap();
    assert!(ack.acks[0].receipt.verify(&[NoteVerifier::from_vkey(&keys.log.vkey()).unwrap()]).is_err());
    drop(ledger);
    assert!(open(dir.path(), &keys).is_err(), "the old key no longer opens the log");
    let store = SledStore::open(dir.path()).unwrap();
    let options = sightline_ledger::LedgerOptions { origin: common::ORIGIN.into(), max_batch_records: 100 };
    let reopened =
        sightline_ledger::Ledger::open(Arc::new(store), NoteSigner::from_skey(&next_skey).unwrap(), keys.secret.clone(), options).unwrap();
    assert_eq!(reopened.registry().unwrap().log_keys.len(), 2);
    reopened.receipt(0).unwrap().verify(&[next_vkey]).unwrap();
}

#[test]
fn a_record_too_large_for_an_entry_is_refused_at_submission_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let size = ledger.size();
    // Every field is within its own rule (≤ 64 criteria, ≤ 2000 characters each), but the whole
    // record cannot fit the 65,535-byte tlog-tiles entry.
    let mut big = common::body("m-big", "Long");
    let criteria: Vec<serde_json::Value> = (0..40)
        .map(|i| {
            serde_json::json!({ "id": format!("c{i}"), "effect": "include", "type": "contextual",
                "description": "x".repeat(1900), "special_category": null, "art9_condition": null, "minor": false,
                "ai_selected": false, "match_keys": null, "seed_audience": null, "lineage": [] })
        })
        .collect();
    let ids: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
    big["targeting"]["criteria"] = criteria.into();
    big["targeting"]["audience"] = serde_json::json!({ "all_of": ids });
    let evaluation = ids.iter().map(|id| (id.clone(), sightline_ledger::audience::Evaluation::not_evaluated())).collect();
    let big = sightline_ledger::submitter::sign_message(
        &keys.submitter,
        big,
        &sightline_ledger::privacy::Personal::new("a@example.org", evaluation, Default::default()),
    )
    .unwrap();
    let err = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org"), big]).unwrap_err();
    assert!(matches!(err, Error::InvalidRecord { record: 1, ref field, ref why } if field == "body" && why.contains("65023")), "{err}");
    assert_eq!(ledger.size(), size, "nothing of the batch was appended");
    // The log goes on: the next ordinary batch is acknowledged.
    assert_eq!(ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap().acks.len(), 1);
}

#[test]
fn the_csv_export_has_one_quoted_row_per_message_and_guards_formulas() {
    use sightline_ledger::export::{export, ExportFilter, ExportFormat};
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let tricky = sightline_ledger::submitter::sign_message(
        &keys.submitter,
        common::body("m-2", "=HYPERLINK(\"x\"), then more"),
        &common::personal("b@example.org"),
    )
    .unwrap();
    ledger.submit(vec![submission(&keys, "m-1", "a@example.org"), tricky]).unwrap();
    let mut out = Vec::new();
    let summary = export(&ledger, &ExportFilter::default(), ExportFormat::Csv, &mut out, &|_, _| {}).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(summary.records, 2, "only messages are rows");
    assert_eq!(lines.len(), 3, "a header and two rows:\n{text}");
    assert!(lines[0].starts_with("index,logged_at,submitter,message_id,"), "{}", lines[0]);
    assert!(lines[1].contains(",m-1,"), "{}", lines[1]);
    // The subject starts with `=`: guarded by a leading quote, and quoted for its comma and quotes.
    assert!(lines[2].contains(r#","'=HYPERLINK(""x""), then more","#), "{}", lines[2]);
    assert!(!text.contains("a@example.org") && !text.contains("b@example.org"), "no personal data in CSV");
}

#[test]
fn a_logged_entry_decodes_to_what_the_full_parse_gives() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let first = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap().acks[0].index;
    ledger.object(first, "alice@example.org").unwrap();
    ledger.submit(vec![submission(&keys, "m-2", "alice@example.org")]).unwrap();
    ledger.erase_recipient_of(first, "alice@example.org").unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    for bytes in ledger.entries(0, ledger.size()).unwrap() {
        let full = sightline_ledger::entry::Entry::parse(&bytes).unwrap();
        let body = sightline_ledger::record::Body::parse(&full.body, 0).unwrap();
        let logged = sightline_ledger::entry::LoggedEntry::parse(&bytes).unwrap();
        assert_eq!(
            (logged.index, &logged.prev, &logged.logged_at, &logged.flags, &logged.sig),
            (full.index, &full.prev, &full.logged_at, &full.flags, &full.sig)
        );
        assert_eq!(format!("{:?}", logged.body), format!("{body:?}"));
        kinds.insert(body.kind().as_str());
    }
    assert_eq!(kinds.len(), 6, "every kind of record was compared: {kinds:?}");
    assert!(sightline_ledger::entry::LoggedEntry::parse(b"{\"v\":1}").is_err());
}

/// `sub` re-signed with `R + T`, `T` of order 8: valid under the cofactored ZIP 215 rules of
/// SPEC.md §4 (alone or in a batch), invalid under RFC 8032's cofactorless check.
fn with_torsioned_signature(keys: &Keys, mut sub: sightline_ledger::Submission) -> sightline_ledger::Submission {
    use base64::Engine as _;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    let msg = sightline_ledger::canonical::signed_message(sub.body.get().as_bytes());
    let r = Scalar::from(4242u64);
    let big_r = (r * B + EIGHT_TORSION[5]).compress();
    let k = Scalar::from_hash(
        Sha512::new().chain_update(big_r.as_bytes()).chain_update(keys.submitter.verifying_key().as_bytes()).chain_update(&msg),
    );
    let s = r + k * keys.submitter.to_scalar();
    sub.sig = base64::engine::general_purpose::STANDARD.encode([big_r.to_bytes(), s.to_bytes()].concat());
    sub
}

#[test]
fn record_signatures_follow_zip_215_alone_and_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let alone = with_torsioned_signature(&keys, submission(&keys, "t-0", "alice@example.org"));
    assert!(!ledger.submit(vec![alone]).unwrap().acks[0].duplicate);
    // Inside a batch of 300 (two signature batches), at the end of the first.
    let mut subs: Vec<_> = (1..300).map(|i| submission(&keys, &format!("t-{i}"), "bob@example.org")).collect();
    subs[255] = with_torsioned_signature(&keys, subs[255].clone());
    assert_eq!(ledger.submit(subs).unwrap().acks.len(), 299);
    // The same kind of signature over another body is refused, and names its record.
    let mut forged = submission(&keys, "t-901", "carol@example.org");
    forged.sig = with_torsioned_signature(&keys, submission(&keys, "t-900", "carol@example.org")).sig;
    let size = ledger.size();
    let err = ledger.submit(vec![submission(&keys, "t-902", "carol@example.org"), forged]).unwrap_err();
    assert!(matches!(err, Error::RecordSignature { record: 1, .. }), "{err}");
    assert_eq!(ledger.size(), size, "nothing of the batch was appended");
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
}

#[test]
fn a_submitter_key_of_small_order_is_refused() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    let size = ledger.size();
    for t in curve25519_dalek::constants::EIGHT_TORSION.iter() {
        let weak = base64::engine::general_purpose::STANDARD.encode(t.compress().to_bytes());
        let err = ledger.register_submitter("forgeable", "F", "f@example.org", &weak).unwrap_err();
        assert!(
            matches!(err, Error::InvalidRecord { ref field, ref why, .. } if field == "public_key" && why.contains("small order")),
            "{err}"
        );
    }
    assert_eq!(ledger.size(), size);
}

/// The lineage graph's rules (SPEC.md §3.4): ids unique, every `derived_from` and every
/// criterion's `lineage` a lineage id of the record, no node derived from itself through any
/// path. Each refusal names the first offending field, in record order; up to the 64-node
/// limit, a long chain is accepted and a ring is refused.
#[test]
fn the_lineage_graph_rules_name_the_offending_link() {
    use serde_json::{json, Value};
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let signed = |id: &str, edit: &dyn Fn(&mut Value)| {
        let mut body = common::body(id, "They don't want you to know what's coming");
        edit(&mut body);
        sightline_ledger::submitter::sign_message(&keys.submitter, body, &common::personal("alice@example.org")).unwrap()
    };
    let refused = |edit: &dyn Fn(&mut Value)| ledger.submit(vec![signed("m-bad", edit)]).unwrap_err().to_string();
    /// What a case is, its edit of the fixture body, the field named and the message.
    type Case<'a> = (&'a str, &'a dyn Fn(&mut Value), &'a str, &'a str);
    let cases: [Case; 7] = [
        ("duplicate id", &|b| b["lineage"][2]["id"] = json!("s-quiz-app"), "lineage[2].id", "duplicate lineage id `s-quiz-app`"),
        (
            "unknown parent",
            &|b| b["lineage"][0]["derived_from"] = json!(["s-nope"]),
            "lineage[0].derived_from",
            "`s-nope` is not a lineage id of this record",
        ),
        (
            "two-node cycle",
            &|b| b["lineage"][0]["derived_from"] = json!(["s-quiz-model"]),
            "lineage[0].derived_from",
            "`s-quiz-app` is derived from itself (a cycle)",
        ),
        (
            "self-loop",
            &|b| b["lineage"][3]["derived_from"] = json!(["s-page-follows"]),
            "lineage[3].derived_from",
            "`s-page-follows` is derived from itself (a cycle)",
        ),
        (
            // s-quiz-app leads into the s-broker <-> s-page-follows cycle but is not on it.
            "a node that reaches a cycle",
            &|b| {
                b["lineage"][0]["derived_from"] = json!(["s-broker"]);
                b["lineage"][1]["derived_from"] = json!(["s-page-follows"]);
                b["lineage"][3]["derived_from"] = json!(["s-broker"]);
            },
            "lineage[1].derived_from",
            "`s-broker` is derived from itself (a cycle)",
        ),
        (
            "criterion from an unknown source",
            &|b| b["targeting"]["criteria"][1]["lineage"] = json!(["s-broker", "s-nope"]),
            "targeting.criteria[1].lineage",
            "`s-nope` is not a lineage id of this record",
        ),
        (
            "duplicate criterion id",
            &|b| b["targeting"]["criteria"][1]["id"] = json!("c1"),
            "targeting.criteria[1].id",
            "duplicate criterion id `c1`",
        ),
    ];
    for (case, edit, field, message) in cases {
        let err = refused(edit);
        assert!(err.contains(field) && err.contains(message), "{case}: {err}");
    }

    // 64 sources: the four of the fixture, then s-4 .. s-63, each derived from the one before.
    let chain = |ring: bool| {
        move |b: &mut Value| {
            let mut lineage = b["lineage"].as_array().unwrap().clone();
            for i in 4..64 {
                let mut l = lineage[2].clone();
                l["id"] = json!(format!("s-{i}"));
                lineage.push(l);
            }
            for i in 1..64 {
                let before = lineage[i - 1]["id"].clone();
                lineage[i]["derived_from"] = json!([before]);
            }
            if ring {
                lineage[0]["derived_from"] = json!(["s-63"]);
            }
            b["lineage"] = Value::Array(lineage);
        }
    };
    let size = ledger.size();
    ledger.submit(vec![signed("m-chain", &chain(false))]).expect("a 64-source chain is accepted");
    assert_eq!(ledger.size(), size + 1);
    let err = refused(&chain(true));
    assert!(err.contains("lineage[0].derived_from") && err.contains("`s-quiz-app` is derived from itself (a cycle)"), "{err}");
    let err = refused(&|b: &mut Value| {
        chain(false)(b);
        let mut extra = b["lineage"][63].clone();
        extra["id"] = json!("s-64");
        b["lineage"].as_array_mut().unwrap().push(extra);
    });
    assert!(err.contains("at most 64"), "{err}");
}
