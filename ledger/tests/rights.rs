//! A recipient's rights through a why link (SPEC.md §3.5–§3.7, §7): recipients are
//! scoped to the submitter that reported their messages, every right needs the
//! address the message was sent to, objections are idempotent and survive an
//! erasure, and compliance erasure reaches every scope.

mod common;

use common::{open, register, register_beta, submission, submission_by_beta, Keys};
use sightline_ledger::entry::Entry;
use sightline_ledger::{Error, Ledger, PersonalState};

const ALICE: &str = "alice@example.org";

fn body_of(ledger: &Ledger, index: u64) -> serde_json::Value {
    Entry::parse(&ledger.entry(index).unwrap().unwrap()).unwrap().body
}

fn flags_of(ledger: &Ledger, index: u64) -> Vec<String> {
    Entry::parse(&ledger.entry(index).unwrap().unwrap()).unwrap().flags
}

fn present(ledger: &Ledger, index: u64) -> bool {
    matches!(ledger.personal(index).unwrap(), Some(PersonalState::Present(_)))
}

/// A ledger with two submitters: `acme` sent two messages to alice and one to bob, `beta`
/// one to "  ALICE@Example.org " (the spelling) and one to carol.
struct TwoScopes {
    _dir: tempfile::TempDir,
    keys: Keys,
    ledger: Ledger,
    a1: u64,
    a2: u64,
    bob: u64,
    b1: u64,
    carol: u64,
}

fn two_scopes() -> TwoScopes {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    register_beta(&ledger, &keys);
    let acme = ledger
        .submit(vec![
            submission(&keys, "a-1", ALICE),
            submission(&keys, "a-2", "Alice@Example.org"),
            submission(&keys, "a-3", "bob@example.org"),
        ])
        .unwrap();
    let beta = ledger
        .submit(vec![submission_by_beta(&keys, "b-1", "  ALICE@Example.org "), submission_by_beta(&keys, "b-2", "carol@example.org")])
        .unwrap();
    let [a1, a2, bob] = [0, 1, 2].map(|i| acme.acks[i].index);
    let [b1, carol] = [0, 1].map(|i| beta.acks[i].index);
    TwoScopes { _dir: dir, keys, ledger, a1, a2, bob, b1, carol }
}

#[test]
fn the_same_identifier_at_two_submitters_is_two_recipients() {
    let t = two_scopes();
    assert_eq!(t.ledger.recipient_entries(t.a1, ALICE).unwrap(), vec![t.a1, t.a2], "within a scope, case and spaces do not matter");
    assert_eq!(t.ledger.recipient_entries(t.a2, " ALICE@example.ORG").unwrap(), vec![t.a1, t.a2]);
    assert_eq!(t.ledger.recipient_entries(t.b1, ALICE).unwrap(), vec![t.b1], "beta's alice never sees acme's messages");
    assert_eq!(t.ledger.recipient_entries(t.bob, "bob@example.org").unwrap(), vec![t.bob]);
    assert_eq!(t.ledger.recipient_entries(t.carol, "carol@example.org").unwrap(), vec![t.carol]);
}

#[test]
fn a_wrong_address_gets_nothing_and_writes_nothing() {
    let t = two_scopes();
    let size = t.ledger.size();
    for (index, address) in
        [(t.a1, "bob@example.org"), (t.b1, "carol@example.org"), (t.a1, ""), (t.bob, ALICE), (t.a1, "alice@example.org.")]
    {
        let list = t.ledger.recipient_entries(index, address).unwrap_err();
        assert!(matches!(list, Error::NotTheRecipient), "{index} {address:?}: {list}");
        assert!(matches!(t.ledger.object(index, address), Err(Error::NotTheRecipient)), "{index} {address:?}");
        assert!(matches!(t.ledger.erase_recipient_of(index, address), Err(Error::NotTheRecipient)), "{index} {address:?}");
    }
    assert_eq!(t.ledger.size(), size, "nothing was appended");
    assert!([t.a1, t.a2, t.bob, t.b1, t.carol].iter().all(|&i| present(&t.ledger, i)), "nothing was erased");
    let err = t.ledger.recipient_entries(0, ALICE).unwrap_err();
    assert!(matches!(err, Error::OutOfRange(_)), "entry 0 is the log key, not a message: {err}");
}

#[test]
fn erasing_through_one_submitters_message_leaves_the_other_scope_readable() {
    let t = two_scopes();
    // The attack: beta logged a message "to" acme's recipient and erases through it.
    let ack = t.ledger.erase_recipient_of(t.b1, ALICE).unwrap();
    let erasure = body_of(&t.ledger, ack.acks[0].index);
    assert_eq!((erasure["by"].as_str(), erasure["records"].as_u64()), (Some("link_holder"), Some(1)), "{erasure}");
    assert!(!present(&t.ledger, t.b1));
    for i in [t.a1, t.a2, t.bob, t.carol] {
        assert!(present(&t.ledger, i), "entry {i} is another scope's and stays readable");
    }
    assert_eq!(t.ledger.recipient_entries(t.a1, ALICE).unwrap(), vec![t.a1, t.a2]);
    assert_eq!(t.ledger.fsck(&|_| {}).unwrap(), t.ledger.size());
    // And the other way: acme's erasure leaves beta's carol and bob alone.
    let ack = t.ledger.erase_recipient_of(t.a2, ALICE).unwrap();
    assert_eq!(body_of(&t.ledger, ack.acks[0].index)["records"], 2);
    assert!(!present(&t.ledger, t.a1) && !present(&t.ledger, t.a2) && present(&t.ledger, t.bob) && present(&t.ledger, t.carol));
    assert!(matches!(t.ledger.erase_recipient_of(t.a1, ALICE), Err(Error::Erased)), "nothing is left to erase");
}

#[test]
fn an_objection_flags_later_messages_of_its_own_scope_only() {
    let t = two_scopes();
    let objection = t.ledger.object(t.a1, ALICE).unwrap().acks[0].index;
    assert_eq!(body_of(&t.ledger, objection)["advertiser"], "p-civic-future");
    let later_a = t.ledger.submit(vec![submission(&t.keys, "a-9", ALICE)]).unwrap().acks.remove(0);
    let later_b = t.ledger.submit(vec![submission_by_beta(&t.keys, "b-9", ALICE)]).unwrap().acks.remove(0);
    assert_eq!(flags_of(&t.ledger, later_a.index), vec![format!("objected:{objection}")]);
    assert_eq!(later_a.warnings.len(), 1);
    assert!(flags_of(&t.ledger, later_b.index).is_empty(), "beta's message to the same address is not acme's recipient");
    assert!(later_b.warnings.is_empty(), "and beta is not told of acme's recipient's objection");
}

#[test]
fn an_objection_is_recorded_once_per_recipient_and_advertiser() {
    let t = two_scopes();
    let first = t.ledger.object(t.a1, ALICE).unwrap().acks.remove(0);
    assert!(!first.duplicate);
    let size = t.ledger.size();
    // Again through the same link, through the recipient's other message, and in another spelling.
    for (index, address) in [(t.a1, ALICE), (t.a2, ALICE), (t.a1, " Alice@example.org ")] {
        let again = t.ledger.object(index, address).unwrap().acks.remove(0);
        assert!(again.duplicate, "{index} {address:?}");
        assert_eq!(again.index, first.index, "the answer names the objection on file");
    }
    // Many at once: the check runs where log records are appended, one at a time.
    let ledger = std::sync::Arc::new(t.ledger);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let ledger = std::sync::Arc::clone(&ledger);
            std::thread::spawn(move || ledger.object(t.a2, ALICE).unwrap().acks.remove(0))
        })
        .collect();
    for th in threads {
        assert_eq!(th.join().unwrap().index, first.index);
    }
    assert_eq!(ledger.size(), size, "no second objection entry");
    // Another recipient, and the same person in another scope, object on their own.
    assert!(!ledger.object(t.bob, "bob@example.org").unwrap().acks[0].duplicate);
    assert!(!ledger.object(t.b1, ALICE).unwrap().acks[0].duplicate);
    assert_eq!(ledger.size(), size + 2);
}

#[test]
fn an_objection_after_an_erasure_is_recorded_and_still_flags_later_messages() {
    let t = two_scopes();
    t.ledger.erase_recipient_of(t.a1, ALICE).unwrap();
    assert!(matches!(t.ledger.object(t.a1, "bob@example.org"), Err(Error::NotTheRecipient)), "the erased message still checks the address");
    assert!(t.ledger.recipient_entries(t.a2, ALICE).unwrap().is_empty(), "an erased recipient's list is empty");
    let objection = t.ledger.object(t.a2, " ALICE@example.org").unwrap().acks.remove(0);
    assert!(!objection.duplicate);
    let later = t.ledger.submit(vec![submission(&t.keys, "a-9", ALICE)]).unwrap().acks.remove(0);
    assert_eq!(flags_of(&t.ledger, later.index), vec![format!("objected:{}", objection.index)]);
    assert_eq!(t.ledger.recipient_entries(t.a1, ALICE).unwrap(), vec![later.index], "later messages are listed again");
    // The objection made after the erasure is the one on file, also across a restart.
    let TwoScopes { _dir: dir, keys, ledger, a1, .. } = t;
    drop(ledger);
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(ledger.object(a1, ALICE).unwrap().acks[0].index, objection.index);
    let after = ledger.submit(vec![submission(&keys, "a-10", ALICE)]).unwrap().acks.remove(0);
    assert_eq!(flags_of(&ledger, after.index), vec![format!("objected:{}", objection.index)]);
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
}

#[test]
fn an_objection_made_before_an_erasure_keeps_flagging_after_it() {
    let t = two_scopes();
    let objection = t.ledger.object(t.a1, ALICE).unwrap().acks[0].index;
    t.ledger.erase_recipient_of(t.a1, ALICE).unwrap();
    let later = t.ledger.submit(vec![submission(&t.keys, "a-9", ALICE)]).unwrap().acks.remove(0);
    assert_eq!(flags_of(&t.ledger, later.index), vec![format!("objected:{objection}")]);
    let again = t.ledger.object(t.a1, ALICE).unwrap().acks.remove(0);
    assert_eq!((again.duplicate, again.index), (true, objection), "through the erased message, the same objection");
}

#[test]
fn compliance_erasure_reaches_every_submitters_scope_in_one_entry() {
    let t = two_scopes();
    let size = t.ledger.size();
    let ack = t.ledger.erase_recipient(" Alice@EXAMPLE.org").unwrap();
    assert_eq!(t.ledger.size(), size + 1, "one erasure entry");
    let erasure = body_of(&t.ledger, ack.acks[0].index);
    assert_eq!((erasure["by"].as_str(), erasure["records"].as_u64()), (Some("compliance"), Some(3)), "{erasure}");
    for i in [t.a1, t.a2, t.b1] {
        assert!(!present(&t.ledger, i), "entry {i} is erased");
    }
    assert!(present(&t.ledger, t.bob) && present(&t.ledger, t.carol));
    // The person can still object through any of their links.
    assert!(!t.ledger.object(t.b1, ALICE).unwrap().acks[0].duplicate);
    assert!(matches!(t.ledger.erase_recipient(ALICE), Err(Error::OutOfRange(_))), "nothing left");
    assert_eq!(t.ledger.fsck(&|_| {}).unwrap(), t.ledger.size());
}
