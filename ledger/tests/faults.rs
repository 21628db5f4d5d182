//! Fault injection: a store whose commits fail (a full disk, an I/O error)
//! must cost the failed batch and nothing else. Nothing of it is acknowledged
//! or served, the in-memory tree rolls back, the next commit succeeds, and a
//! reopened store holds exactly the acknowledged entries.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use common::{register, submission, Keys, ORIGIN};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::store::{Commit, Head, LookupRecord, Space, Store};
use sightline_ledger::{Error, Ledger, LedgerOptions, PersonalState};

/// The read half of [`Store`], passed through to the wrapped `inner` store: the faults
/// below are all on the commit path.
macro_rules! forward_reads {
    () => {
        fn head(&self) -> sightline_ledger::Result<Option<Head>> {
            self.inner.head()
        }
        fn entry(&self, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
            self.inner.entry(index)
        }
        fn entries(&self, start: u64, end: u64) -> sightline_ledger::Result<Vec<Vec<u8>>> {
            self.inner.entries(start, end)
        }
        fn private(&self, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
            self.inner.private(index)
        }
        fn lookups(&self, start: u64, end: u64) -> sightline_ledger::Result<Vec<LookupRecord>> {
            self.inner.lookups(start, end)
        }
        fn lookup_count(&self) -> sightline_ledger::Result<u64> {
            self.inner.lookup_count()
        }
        fn replace_lookups(&self, records: &[LookupRecord]) -> sightline_ledger::Result<()> {
            self.inner.replace_lookups(records)
        }
        fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> sightline_ledger::Result<()> {
            self.inner.rewrite_private_heads(heads)
        }
        fn tile(&self, level: u8, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
            self.inner.tile(level, index)
        }
        fn get(&self, space: Space, key: &[u8]) -> sightline_ledger::Result<Option<Vec<u8>>> {
            self.inner.get(space, key)
        }
        fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> sightline_ledger::Result<Vec<Option<Vec<u8>>>> {
            self.inner.get_many(space, keys)
        }
        fn scan(&self, space: Space, prefix: &[u8]) -> sightline_ledger::Result<Vec<(Vec<u8>, Vec<u8>)>> {
            self.inner.scan(space, prefix)
        }
        fn size_on_disk(&self) -> sightline_ledger::Result<u64> {
            self.inner.size_on_disk()
        }
    };
}

/// A [`SledStore`] whose commits fail while `full` is set, as a full disk would.
struct FullDisk {
    inner: SledStore,
    full: AtomicBool,
    refused: AtomicUsize,
}

impl Store for FullDisk {
    forward_reads!();
    fn commit(&self, commit: &Commit) -> sightline_ledger::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Storage("No space left on device (os error 28)".into()));
        }
        self.inner.commit(commit)
    }
}

fn open_on(store: Arc<dyn Store>, keys: &Keys) -> Ledger {
    let log = NoteSigner::from_skey(&keys.log.skey()).unwrap();
    Ledger::open(store, log, keys.secret.clone(), LedgerOptions { origin: ORIGIN.into(), max_batch_records: 20_000 }).unwrap()
}

#[test]
fn a_failed_commit_acknowledges_nothing_and_the_next_one_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let store =
        Arc::new(FullDisk { inner: SledStore::open(dir.path()).unwrap(), full: AtomicBool::new(false), refused: AtomicUsize::new(0) });
    let ledger = open_on(store.clone(), &keys);
    register(&ledger, &keys);
    let first = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap();
    let (size, checkpoint) = ledger.head().unwrap();

    store.full.store(true, Ordering::SeqCst);
    let err = ledger
        .submit(vec![submission(&keys, "m-2", "bob@example.org"), submission(&keys, "m-3", "carol@example.org")])
        .expect_err("a full disk must fail the batch");
    assert!(matches!(err, Error::Storage(ref m) if m.contains("No space left")), "{err}");
    assert!(err.to_string().contains("nothing was acknowledged"), "the message says what it means: {err}");
    let err = ledger.erase_recipient_of(first.acks[0].index, "alice@example.org").expect_err("log records fail the same way");
    assert!(matches!(err, Error::Storage(_)), "{err}");
    assert_eq!(store.refused.load(Ordering::SeqCst), 2);
    assert_eq!(ledger.head().unwrap(), (size, checkpoint.clone()), "the published head did not move");
    assert!(ledger.entry(size).unwrap().is_none(), "nothing of the failed batch is served");
    assert!(matches!(ledger.personal(first.acks[0].index).unwrap(), Some(PersonalState::Present(_))), "the erasure did not happen");

    store.full.store(false, Ordering::SeqCst);
    // The same message ids are not taken by the failed batch: they append now, at the same place.
    let retry = ledger
        .submit(vec![submission(&keys, "m-2", "bob@example.org"), submission(&keys, "m-3", "carol@example.org")])
        .expect("the disk has room again");
    assert_eq!(retry.acks.iter().map(|a| (a.index, a.duplicate)).collect::<Vec<_>>(), vec![(size, false), (size + 1, false)]);
    for ack in &retry.acks {
        ack.receipt.verify(&[sightline_ledger::note::NoteVerifier::from_vkey(&ledger.vkey()).unwrap()]).unwrap();
    }
    let acknowledged = ledger.size();
    drop(ledger);
    drop(store);

    let reopened = open_on(Arc::new(SledStore::open(dir.path()).unwrap()), &keys);
    assert_eq!(reopened.size(), acknowledged, "exactly the acknowledged entries");
    assert_eq!(reopened.fsck(&|_| {}).unwrap(), acknowledged, "and the log verifies");
    assert!(matches!(reopened.personal(size + 1).unwrap(), Some(PersonalState::Present(_))));
}

/// A [`SledStore`] whose commits can be held (to stage groups on top of one in flight) and
/// made to fail.
struct Gated {
    inner: SledStore,
    held: std::sync::Mutex<bool>,
    released: std::sync::Condvar,
    waiting: AtomicUsize,
    fail: AtomicBool,
    attempts: AtomicUsize,
}

impl Gated {
    fn new(dir: &std::path::Path) -> Arc<Gated> {
        Arc::new(Gated {
            inner: SledStore::open(dir).unwrap(),
            held: std::sync::Mutex::new(false),
            released: std::sync::Condvar::new(),
            waiting: AtomicUsize::new(0),
            fail: AtomicBool::new(false),
            attempts: AtomicUsize::new(0),
        })
    }

    fn hold(&self, on: bool) {
        *self.held.lock().unwrap() = on;
        self.released.notify_all();
    }
}

impl Store for Gated {
    forward_reads!();
    fn commit(&self, commit: &Commit) -> sightline_ledger::Result<()> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        {
            let mut held = self.held.lock().unwrap();
            self.waiting.fetch_add(1, Ordering::SeqCst);
            while *held {
                held = self.released.wait(held).unwrap();
            }
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::Storage("Input/output error (os error 5)".into()));
        }
        self.inner.commit(commit)
    }
}

/// Polls `what` until it holds (the ledger's threads run on their own).
fn wait_until(what: &str, f: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn groups_sequenced(ledger: &Ledger) -> u64 {
    ledger.metrics().groups_sequenced.load(Ordering::SeqCst)
}

/// A registered ledger on a [`Gated`] store in a fresh folder.
fn gated() -> (tempfile::TempDir, Keys, Arc<Gated>, Arc<Ledger>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let store = Gated::new(dir.path());
    let ledger = Arc::new(open_on(store.clone(), &keys));
    register(&ledger, &keys);
    (dir, keys, store, ledger)
}

fn submit_in_background(
    ledger: &Arc<Ledger>,
    subs: Vec<sightline_ledger::Submission>,
) -> std::thread::JoinHandle<sightline_ledger::Result<sightline_ledger::BatchAck>> {
    let ledger = Arc::clone(ledger);
    std::thread::spawn(move || ledger.submit(subs))
}

#[test]
fn a_failed_group_takes_down_every_group_sequenced_on_top_of_it_and_nothing_else() {
    let (dir, keys, store, ledger) = gated();
    let size = ledger.size();
    let groups = groups_sequenced(&ledger);

    // Group A is held in its commit, which will fail; B (new) and C (a repeat of A's first
    // message) are sequenced on top of it while it is in flight.
    store.fail.store(true, Ordering::SeqCst);
    store.hold(true);
    let attempts = store.attempts.load(Ordering::SeqCst);
    let submit = |subs| submit_in_background(&ledger, subs);
    let a1 = submission(&keys, "a-1", "alice@example.org");
    let a = submit(vec![a1.clone(), submission(&keys, "a-2", "bob@example.org")]);
    wait_until("group A is in its commit", || store.waiting.load(Ordering::SeqCst) == 1);
    let b = submit(vec![submission(&keys, "b-1", "carol@example.org")]);
    wait_until("group B is sequenced", || groups_sequenced(&ledger) == groups + 2);
    let c = submit(vec![a1]);
    wait_until("group C is sequenced", || groups_sequenced(&ledger) == groups + 3);
    store.hold(false);

    let err = a.join().unwrap().expect_err("A's commit failed");
    assert!(matches!(err, Error::Storage(ref m) if m.contains("os error 5")), "{err}");
    for (name, r) in [("B", b.join().unwrap()), ("C", c.join().unwrap())] {
        let err = r.expect_err("a group sequenced on a failed one fails");
        assert!(matches!(err, Error::Storage(ref m) if m.contains("an earlier group commit failed")), "{name}: {err}");
        assert!(err.to_string().contains("nothing was acknowledged"), "{err}");
    }
    assert_eq!(store.attempts.load(Ordering::SeqCst), attempts + 1, "B and C never reached the store");
    assert_eq!(ledger.size(), size, "nothing was published");
    assert!(ledger.entry(size).unwrap().is_none());

    // The disk is healthy again: the same messages append at the same places, as new entries.
    store.fail.store(false, Ordering::SeqCst);
    let retry = ledger.submit(vec![submission(&keys, "a-1", "alice@example.org"), submission(&keys, "b-1", "carol@example.org")]).unwrap();
    assert_eq!(retry.acks.iter().map(|a| (a.index, a.duplicate)).collect::<Vec<_>>(), vec![(size, false), (size + 1, false)]);
    let acknowledged = ledger.size();
    drop(ledger);
    drop(store);
    let reopened = open_on(Arc::new(SledStore::open(dir.path()).unwrap()), &keys);
    assert_eq!(reopened.size(), acknowledged, "exactly the acknowledged entries");
    assert_eq!(reopened.fsck(&|_| {}).unwrap(), acknowledged);
}

#[test]
fn a_message_staged_but_not_yet_durable_is_neither_appended_twice_nor_reused() {
    let (_dir, keys, store, ledger) = gated();
    let size = ledger.size();
    let groups = groups_sequenced(&ledger);
    store.hold(true);
    let submit = |subs| submit_in_background(&ledger, subs);
    let first = submission(&keys, "m-1", "alice@example.org");
    let a = submit(vec![first.clone()]);
    wait_until("group A is in its commit", || store.waiting.load(Ordering::SeqCst) == 1);
    // The same message while A is in flight, and the same id with another body.
    let again = submit(vec![first, submission(&keys, "m-2", "bob@example.org")]);
    wait_until("the repeat is sequenced", || groups_sequenced(&ledger) == groups + 2);
    // A fresh personal part (a new salt) makes another body under the same message id.
    let other = submission(&keys, "m-1", "alice@example.org");
    let reused = ledger.submit(vec![other]).expect_err("a message id staged for another body");
    assert!(matches!(reused, Error::MessageIdReused { index, .. } if index == size), "{reused}");
    store.hold(false);

    let a = a.join().unwrap().unwrap();
    let again = again.join().unwrap().unwrap();
    assert_eq!((a.acks[0].index, a.acks[0].duplicate), (size, false));
    assert_eq!((again.acks[0].index, again.acks[0].duplicate), (size, true), "the repeat names the staged entry");
    assert_eq!(again.acks[0].receipt.entry, a.acks[0].receipt.entry);
    assert_eq!((again.acks[1].index, again.acks[1].duplicate), (size + 1, false));
    assert_eq!(ledger.size(), size + 2, "one entry each");
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), size + 2);
}
