//! `Ledger::snapshot`: one published entry and what a page shows beside it (its personal part,
//! the registry, the log's size), read in one look at the state, agreeing with the separate
//! reads and with each other.

mod common;

use common::{open, register, submission, Keys};
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::PersonalState;

#[test]
fn a_snapshot_holds_the_entry_its_personal_part_the_registry_and_the_size_of_one_moment() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let ack = ledger.submit(vec![submission(&keys, "snap-1", "alice@example.org")]).unwrap();
    let index = ack.acks[0].index;

    let snap = ledger.snapshot(index).unwrap().expect("a published entry has a snapshot");
    assert_eq!(snap.index, index);
    assert_eq!(Some(snap.bytes.clone()), ledger.entry(index).unwrap(), "the entry's bytes");
    assert_eq!(snap.leaf, leaf_hash(&snap.bytes), "the entry's leaf");
    assert_eq!(snap.size, ledger.size(), "the published size");
    assert!(snap.registry.submitters.contains_key("acme") && snap.registry.parties.contains_key("p-civic-future"), "the registry");
    let Some(PersonalState::Present(p)) = &snap.personal else { panic!("the personal part: {:?}", snap.personal) };
    assert_eq!(p.recipient, "alice@example.org");

    // A registration logged since is in the next snapshot, not in the one already taken.
    ledger.register_party("p-later", "Later Ltd", "info@later.example", "FR", "self").unwrap();
    assert!(!snap.registry.parties.contains_key("p-later"));
    let again = ledger.snapshot(index).unwrap().unwrap();
    assert!(again.registry.parties.contains_key("p-later") && again.size == snap.size + 1);

    // An erased personal part reads as erased; a registry entry has none; past the log, nothing.
    ledger.erase_recipient_of(index, "alice@example.org").unwrap();
    assert!(matches!(ledger.snapshot(index).unwrap().unwrap().personal, Some(PersonalState::Erased)));
    assert!(ledger.snapshot(0).unwrap().unwrap().personal.is_none(), "the genesis entry has no personal part");
    assert!(ledger.snapshot(ledger.size()).unwrap().is_none(), "an entry not yet published");
}

#[test]
fn a_snapshot_of_a_damaged_entry_is_refused_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let index = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let damaged = ledger.submit(vec![submission(&keys, "snap-2", "bob@example.org")]).unwrap().acks[0].index;
        // A later entry, so that the damaged one is not the last, which opening checks.
        ledger.submit(vec![submission(&keys, "snap-3", "bob@example.org")]).unwrap();
        damaged
    };
    // One byte of the entry's message id changed on disk.
    let data = dir.path().join("entries.dat");
    let mut bytes = std::fs::read(&data).unwrap();
    let at = bytes.windows(6).position(|w| w == b"snap-2").unwrap();
    bytes[at] = b'S';
    std::fs::write(&data, &bytes).unwrap();
    let ledger = open(dir.path(), &keys).unwrap();
    let err = ledger.snapshot(index).unwrap_err();
    assert!(matches!(err, sightline_ledger::Error::Corrupt(_)), "{err}");
}
