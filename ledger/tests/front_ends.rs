//! Several front ends on one PostgreSQL database, in one process (SPEC.md §12.2): the one that
//! holds the lease sequences, the others hand it their batches and serve what it appended; a
//! front end that stops lets another take over; a front end whose lease was taken cannot
//! commit. Skipped, saying why, where PostgreSQL is not installed (not under `CI`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{register, submission, Keys, ORIGIN};
use sightline_e2e::postgres::PgCluster;
use sightline_ledger::note::NoteSigner;
use sightline_ledger::store::postgres::PgStore;
use sightline_ledger::store::{Commit, Coordination, Store};
use sightline_ledger::{ClusterOptions, Error, FrontEndRole, Ledger, LedgerOptions};

fn front_end(url: &str, keys: &Keys, holder: &str) -> Ledger {
    let store = Arc::new(PgStore::open(url).expect("open the PostgreSQL store"));
    let log = NoteSigner::from_skey(&keys.log.skey()).unwrap();
    let options = LedgerOptions { origin: ORIGIN.into(), max_batch_records: 20_000 };
    let mut cluster = ClusterOptions::new(holder);
    cluster.lease_ttl = Duration::from_secs(1);
    Ledger::open_shared(store, log, keys.secret.clone(), options, cluster).expect("open a front end")
}

fn role(l: &Ledger) -> FrontEndRole {
    l.front_end().expect("a front end of a shared log").1
}

/// Waits until `l` has role `want`, at most `secs` seconds.
fn wait_for_role(l: &Ledger, want: FrontEndRole, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while role(l) != want {
        assert!(Instant::now() < deadline, "{:?} is still {:?} after {secs} s, not {want:?}", l.front_end(), role(l));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_follower_hands_its_batches_to_the_sequencer_and_serves_what_either_appended() {
    let Some(pg) = PgCluster::start("a_follower_hands_its_batches_to_the_sequencer_and_serves_what_either_appended") else { return };
    let url = pg.database("handoff");
    let keys = Keys::fixed();
    let a = front_end(&url, &keys, "front-end-a");
    let b = front_end(&url, &keys, "front-end-b");
    assert_eq!(role(&a), FrontEndRole::Sequencer, "the front end that wrote the first entry sequences");
    assert_eq!(role(&b), FrontEndRole::Follower);

    // Registrations and batches sent to the follower are appended by the sequencer.
    register(&b, &keys);
    let (mb1, ma1) = (submission(&keys, "m-b-1", "bea@example.org"), submission(&keys, "m-a-1", "al@example.org"));
    let through_b = b.submit(vec![mb1.clone(), submission(&keys, "m-b-2", "bea@example.org")]).unwrap();
    let through_a = a.submit(vec![ma1.clone()]).unwrap();
    assert!(through_b.acks.iter().all(|a| !a.duplicate), "{:?}", through_b.acks);
    let (b0, a0) = (through_b.acks[0].index, through_a.acks[0].index);
    assert_ne!(b0, a0);

    // Each front end serves what the other appended: the entry, its personal part, a proof.
    let on_a = a.snapshot(b0).unwrap().expect("A serves B's entry");
    assert!(matches!(on_a.personal, Some(sightline_ledger::PersonalState::Present(_))), "A opens B's personal part");
    assert_eq!(b.entry(a0).unwrap().expect("B serves A's entry"), a.entry(a0).unwrap().unwrap());
    let size = a.size();
    assert_eq!(b.inclusion_proof(a0, size).unwrap(), a.inclusion_proof(a0, size).unwrap());
    assert_eq!(b.check_why_token(&a.why_token(a0)), Some(a0), "B knows the why link of a message appended through A");

    // A batch sent again through the other front end is a duplicate with the same entries.
    let again = a.submit(vec![mb1]).unwrap();
    assert_eq!((again.acks[0].index, again.acks[0].duplicate), (b0, true));
    let again = b.submit(vec![ma1]).unwrap();
    assert_eq!((again.acks[0].index, again.acks[0].duplicate), (a0, true));

    // A reused message id is refused through the follower as through the sequencer.
    let changed = common::body("m-a-1", "Another subject under the same message id");
    let changed = sightline_ledger::submitter::sign_message(&keys.submitter, changed, &common::personal("al@example.org")).unwrap();
    let refused = b.submit(vec![changed]);
    assert!(matches!(refused, Err(Error::MessageIdReused { index, .. }) if index == a0), "{refused:?}");

    // An objection through one front end flags a later message appended through the other.
    b.object(b0, "bea@example.org").unwrap();
    let later = a.submit(vec![submission(&keys, "m-a-2", "bea@example.org")]).unwrap();
    assert_eq!(later.acks[0].warnings.len(), 1, "the objection made through B flags the message sent through A: {:?}", later.acks[0]);

    // An erasure through the sequencer: the follower forgets the recipient as well.
    a.erase_recipient_of(b0, "bea@example.org").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while b.size() < a.size() {
        assert!(Instant::now() < deadline, "B did not catch up with A's erasure");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(b.recipient_entries(b0, "bea@example.org").unwrap(), Vec::<u64>::new(), "B lists nothing of the erased recipient");
    assert!(matches!(b.snapshot(b0).unwrap().unwrap().personal, Some(sightline_ledger::PersonalState::Erased)));
    assert_eq!(a.head().unwrap(), b.head().unwrap(), "both front ends end at the same signed head");
}

#[test]
fn when_the_sequencer_stops_a_follower_takes_over_and_appends() {
    let Some(pg) = PgCluster::start("when_the_sequencer_stops_a_follower_takes_over_and_appends") else { return };
    let url = pg.database("takeover");
    let keys = Keys::fixed();
    let a = front_end(&url, &keys, "front-end-a");
    let b = front_end(&url, &keys, "front-end-b");
    register(&a, &keys);
    // A submitter registered through the sequencer a moment ago is known to the follower.
    let zeroth = b.submit(vec![submission(&keys, "m-0", "al@example.org")]).expect("the follower catches up with the registration");
    let m1 = submission(&keys, "m-1", "al@example.org");
    let first = a.submit(vec![m1.clone()]).unwrap();
    a.shutdown();
    // A stopping front end lets the lease go: the follower takes it at its next try.
    wait_for_role(&b, FrontEndRole::Sequencer, 10);
    let second = b.submit(vec![submission(&keys, "m-2", "al@example.org")]).unwrap();
    assert_eq!(second.acks[0].index, first.acks[0].index + 1, "the new sequencer appends after what the old one appended");
    assert!(b.entry(first.acks[0].index).unwrap().is_some(), "the new sequencer serves what the old one appended");
    // The new sequencer plans with the store's message-id and recipient rows (no map rebuilt in
    // memory): the old sequencer's message is a duplicate, and the recipient's chain runs
    // through the entries both appended.
    let again = b.submit(vec![m1]).unwrap();
    assert_eq!((again.acks[0].index, again.acks[0].duplicate), (first.acks[0].index, true));
    let listed = b.recipient_entries(second.acks[0].index, "al@example.org").unwrap();
    let mut want = vec![zeroth.acks[0].index, first.acks[0].index, second.acks[0].index];
    want.sort_unstable();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort_unstable();
    assert_eq!(listed_sorted, want, "the recipient's list holds what either sequencer appended: {listed:?}");
}

#[test]
fn a_front_end_whose_lease_was_taken_cannot_commit() {
    let Some(pg) = PgCluster::start("a_front_end_whose_lease_was_taken_cannot_commit") else { return };
    let url = pg.database("fencing");
    let (old, new) = (PgStore::open(&url).unwrap(), PgStore::open(&url).unwrap());
    let lease = old.take_lease("old", Duration::from_millis(200)).unwrap().expect("a free lease is taken");
    assert_eq!(new.take_lease("new", Duration::from_secs(5)).unwrap(), None, "a running lease is not taken");
    old.fence(Some(lease.clone()));
    let first = Commit { size: 1, checkpoint: "cp 1".into(), entries: vec![(0, b"entry 0".to_vec())], ..Commit::default() };
    old.commit(&first).expect("the holder commits");
    std::thread::sleep(Duration::from_millis(300));
    let taken = new.take_lease("new", Duration::from_secs(5)).unwrap().expect("an expired lease is taken");
    assert!(taken.epoch > lease.epoch);
    assert!(!old.keep_lease(&lease, Duration::from_secs(5)).unwrap(), "the old holder cannot renew a lease taken from it");
    let late = Commit { size: 2, checkpoint: "cp 2".into(), entries: vec![(1, b"entry 1".to_vec())], ..Commit::default() };
    let refused = old.commit(&late).expect_err("a commit by a holder whose lease was taken is refused");
    assert!(matches!(refused, Error::Unavailable(_)), "{refused}");
    assert_eq!(new.head().unwrap().map(|h| h.size), Some(1), "nothing of the refused commit was written");
    assert_eq!(new.entry(1).unwrap(), None);
    new.fence(Some(taken));
    new.commit(&late).expect("the new holder commits");
}

#[test]
fn only_the_sequencing_front_end_saves_derived_rows() {
    let Some(pg) = PgCluster::start("only_the_sequencing_front_end_saves_derived_rows") else { return };
    let url = pg.database("derived");
    let keys = Keys::fixed();
    let a = front_end(&url, &keys, "front-end-a");
    let b = front_end(&url, &keys, "front-end-b");
    assert!(a.saves_derived() && !b.saves_derived(), "the sequencer saves, the follower does not");
    let row = |v: &str| vec![(b"meta".to_vec(), v.as_bytes().to_vec())];
    let refused = b.save_derived("library", row("from b"), vec![]);
    assert!(matches!(refused, Err(Error::Unavailable(_))), "{refused:?}");
    assert!(a.derived("library").unwrap().is_empty(), "nothing of the follower's save was written");
    a.save_derived("library", row("from a"), vec![]).unwrap();
    assert_eq!(b.derived("library").unwrap(), row("from a"), "every front end reads the rows the sequencer saved");
    // Once the follower sequences, it saves.
    a.shutdown();
    wait_for_role(&b, FrontEndRole::Sequencer, 10);
    b.save_derived("library", row("from b"), vec![]).unwrap();
    assert_eq!(b.derived("library").unwrap(), row("from b"));
}
