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

/// A [`SledStore`] whose commits fail while `full` is set, as a full disk would.
struct FullDisk {
    inner: SledStore,
    full: AtomicBool,
    refused: AtomicUsize,
}

impl Store for FullDisk {
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
    fn tile(&self, level: u8, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
        self.inner.tile(level, index)
    }
    fn get(&self, space: Space, key: &[u8]) -> sightline_ledger::Result<Option<Vec<u8>>> {
        self.inner.get(space, key)
    }
    fn scan(&self, space: Space, prefix: &[u8]) -> sightline_ledger::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(space, prefix)
    }
    fn commit(&self, commit: &Commit) -> sightline_ledger::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Storage("No space left on device (os error 28)".into()));
        }
        self.inner.commit(commit)
    }
    fn size_on_disk(&self) -> sightline_ledger::Result<u64> {
        self.inner.size_on_disk()
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
    let err = ledger.erase_recipient_of(first.acks[0].index, "recipient").expect_err("log records fail the same way");
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
