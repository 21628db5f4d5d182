//! What the ledger costs does not grow with the log: opening reads the tree's right edge and
//! the registry, never every entry, tile or lookup record; the message-id and recipient
//! indexes are store rows (layout 5), which an older store gets once, on open.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{open, register, submission, Keys, ORIGIN};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::store::{Commit, Head, LookupRecord, Space, Store};
use sightline_ledger::{Error, Ledger, LedgerOptions, PersonalState};

/// A store that counts what is read from it.
struct Counting {
    inner: SledStore,
    entries: AtomicU64,
    lookups: AtomicU64,
    private: AtomicU64,
    tiles: Mutex<BTreeSet<(u8, u64)>>,
    rows: AtomicU64,
}

impl Store for Counting {
    fn head(&self) -> sightline_ledger::Result<Option<Head>> {
        self.inner.head()
    }
    fn entry(&self, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
        self.entries.fetch_add(1, Ordering::Relaxed);
        self.inner.entry(index)
    }
    fn entries(&self, start: u64, end: u64) -> sightline_ledger::Result<Vec<Vec<u8>>> {
        let got = self.inner.entries(start, end)?;
        self.entries.fetch_add(got.len() as u64, Ordering::Relaxed);
        Ok(got)
    }
    fn private(&self, index: u64) -> sightline_ledger::Result<Option<Vec<u8>>> {
        self.private.fetch_add(1, Ordering::Relaxed);
        self.inner.private(index)
    }
    fn lookups(&self, start: u64, end: u64) -> sightline_ledger::Result<Vec<LookupRecord>> {
        let got = self.inner.lookups(start, end)?;
        self.lookups.fetch_add(got.len() as u64, Ordering::Relaxed);
        Ok(got)
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
        self.tiles.lock().unwrap().insert((level, index));
        self.inner.tile(level, index)
    }
    fn get(&self, space: Space, key: &[u8]) -> sightline_ledger::Result<Option<Vec<u8>>> {
        self.rows.fetch_add(1, Ordering::Relaxed);
        self.inner.get(space, key)
    }
    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> sightline_ledger::Result<Vec<Option<Vec<u8>>>> {
        self.rows.fetch_add(keys.len() as u64, Ordering::Relaxed);
        self.inner.get_many(space, keys)
    }
    fn scan(&self, space: Space, prefix: &[u8]) -> sightline_ledger::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let got = self.inner.scan(space, prefix)?;
        self.rows.fetch_add(got.len() as u64, Ordering::Relaxed);
        Ok(got)
    }
    fn commit(&self, commit: &Commit) -> sightline_ledger::Result<()> {
        self.inner.commit(commit)
    }
    fn size_on_disk(&self) -> sightline_ledger::Result<u64> {
        self.inner.size_on_disk()
    }
}

fn counting(dir: &std::path::Path) -> Arc<Counting> {
    Arc::new(Counting {
        inner: SledStore::open(dir).unwrap(),
        entries: AtomicU64::new(0),
        lookups: AtomicU64::new(0),
        private: AtomicU64::new(0),
        tiles: Mutex::new(BTreeSet::new()),
        rows: AtomicU64::new(0),
    })
}

fn open_on(store: Arc<Counting>, keys: &Keys) -> Ledger {
    let log = NoteSigner::from_skey(&keys.log.skey()).unwrap();
    Ledger::open(store, log, keys.secret.clone(), LedgerOptions { origin: ORIGIN.into(), ..LedgerOptions::default() }).unwrap()
}

/// A log of `batches` batches of 500 messages to 50 recipients, after its registrations.
fn log_of(dir: &std::path::Path, keys: &Keys, batches: usize) -> Vec<u64> {
    let ledger = open(dir, keys).unwrap();
    register(&ledger, keys);
    let mut indexes = Vec::new();
    for b in 0..batches {
        let subs = (0..500).map(|i| submission(keys, &format!("m-{b}-{i}"), &format!("r{}@example.org", i % 50))).collect();
        indexes.extend(ledger.submit(subs).unwrap().acks.iter().map(|a| a.index));
    }
    indexes
}

#[test]
fn opening_reads_the_right_edge_and_the_registry_not_every_entry_tile_or_lookup_record() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let indexes = log_of(dir.path(), &keys, 6);
    let size = indexes.last().unwrap() + 1;
    assert!(size > 3000);
    let store = counting(dir.path());
    let ledger = open_on(store.clone(), &keys);
    assert_eq!(ledger.size(), size);
    let registry = ledger.registry().unwrap();
    let registrations = (registry.submitters.len() + registry.parties.len() + 1) as u64;
    // The registry's entries (each checked against its leaf), the last entry and the one past the head.
    assert!(store.entries.load(Ordering::Relaxed) <= registrations + 2, "{} entries read", store.entries.load(Ordering::Relaxed));
    assert_eq!(store.lookups.load(Ordering::Relaxed), 0, "no lookup record is read");
    assert_eq!(store.private.load(Ordering::Relaxed), 0, "no private record is read");
    // The partial tile of each level, and the level-0 tiles that hold registrations (here the
    // first one): not the size / 256 tiles of the tree.
    let tiles = store.tiles.lock().unwrap().clone();
    assert!(tiles.len() <= 4, "tiles read on open: {tiles:?}");
    assert!(store.rows.load(Ordering::Relaxed) < 20, "{} rows read", store.rows.load(Ordering::Relaxed));

    // What a why page needs, read from tiles on demand: the entry's tile, checked.
    let at = indexes[1234];
    assert!(matches!(ledger.personal(at).unwrap(), Some(PersonalState::Present(_))));
    let snapshot = ledger.snapshot(at).unwrap().unwrap();
    assert_eq!(snapshot.leaf, ledger.leaf_hash(at).unwrap());
    ledger.receipt(at).unwrap().verify(&ledger.registry().unwrap().all_log_keys()).unwrap();
    assert!(store.tiles.lock().unwrap().contains(&(0, at / 256)));
    // A message id used again is found through its row (another body: refused, naming its
    // entry), a recipient's list through theirs.
    let again = ledger.submit(vec![submission(&keys, "m-2-34", "r34@example.org")]).unwrap_err();
    assert!(matches!(again, Error::MessageIdReused { index, .. } if index == indexes[1034]), "{again}");
    let listed = ledger.recipient_entries(indexes[7], "r7@example.org").unwrap();
    assert_eq!(listed.len(), 6 * 10, "r7 received one in fifty of 3000 messages");
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), size);
}

/// Turns a layout 6 store back into layout 4, as Sightline wrote it: no `mk/` or `rc/` rows.
fn downgrade_to_layout_4(dir: &std::path::Path) {
    let store = SledStore::open(dir).unwrap();
    let head = store.head().unwrap().unwrap();
    let mut c = Commit { size: head.size, checkpoint: head.checkpoint, ..Commit::default() };
    c.deletes.extend(store.scan(Space::Index, b"mk/").unwrap().into_iter().map(|(k, _)| (Space::Index, k)));
    c.deletes.extend(store.scan(Space::Private, b"rc/").unwrap().into_iter().map(|(k, _)| (Space::Private, k)));
    let marker = store.get(Space::Private, b"layout/recipients").unwrap().unwrap();
    assert_eq!(marker[0], b'6');
    c.puts.push((Space::Private, b"layout/recipients".to_vec(), [b"4".as_slice(), &marker[1..]].concat()));
    store.commit(&c).unwrap();
}

/// A key space's rows, `(key, value)`.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// The `mk/` and `rc/` rows of the store in `dir`.
fn rows(dir: &std::path::Path) -> (Rows, Rows) {
    let store = SledStore::open(dir).unwrap();
    (store.scan(Space::Index, b"mk/").unwrap(), store.scan(Space::Private, b"rc/").unwrap())
}

#[test]
fn a_layout_4_store_gets_its_index_rows_once_on_open_even_after_a_crash_mid_way() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let indexes = log_of(dir.path(), &keys, 2);
    {
        let ledger = open(dir.path(), &keys).unwrap();
        ledger.erase_recipient_of(indexes[3], "r3@example.org").unwrap();
    }
    let written = rows(dir.path());
    assert_eq!((written.0.len(), written.1.len()), (1000, 49), "a row per message, and per recipient not erased");
    downgrade_to_layout_4(dir.path());
    // A conversion that wrote some rows, then died before marking itself done.
    {
        let store = SledStore::open(dir.path()).unwrap();
        let head = store.head().unwrap().unwrap();
        let puts = written.0[..300].iter().map(|(k, v)| (Space::Index, k.clone(), v.clone())).collect();
        store.commit(&Commit { size: head.size, checkpoint: head.checkpoint, puts, ..Commit::default() }).unwrap();
    }
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
    drop(ledger);
    assert_eq!(rows(dir.path()), written, "the rows a layout 6 store writes, the erased recipient's left out");
    let ledger = open(dir.path(), &keys).unwrap();
    let again = ledger.submit(vec![submission(&keys, "m-1-7", "r7@example.org")]).unwrap_err();
    assert!(matches!(again, Error::MessageIdReused { index, .. } if index == indexes[507]), "message ids are known: {again}");
    let next = ledger.submit(vec![submission(&keys, "m-9", "r8@example.org")]).unwrap().acks[0].index;
    let listed = ledger.recipient_entries(next, "r8@example.org").unwrap();
    let want: Vec<u64> = (0..1000).filter(|i| i % 50 == 8).map(|i| indexes[i]).chain([next]).collect();
    assert_eq!(listed, want);
    assert!(matches!(ledger.personal(indexes[3]).unwrap(), Some(PersonalState::Erased)));
    drop(ledger);
    assert_eq!(SledStore::open(dir.path()).unwrap().get(Space::Private, b"layout/recipients").unwrap().unwrap()[0], b'6');
}

#[test]
fn a_derived_index_keeps_its_own_rows_across_restarts_and_leaves_the_log_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let head = ledger.head().unwrap();
        ledger.save_derived("library", vec![(b"meta".to_vec(), b"1".to_vec()), (b"c/a".to_vec(), b"x".to_vec())], vec![]).unwrap();
        assert_eq!(ledger.head().unwrap(), head, "the log did not move");
        ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap();
        ledger.save_derived("library", vec![(b"meta".to_vec(), b"2".to_vec())], vec![b"c/a".to_vec()]).unwrap();
        ledger.save_derived("other", vec![(b"meta".to_vec(), b"apart".to_vec())], vec![]).unwrap();
        for bad in ["", "a/b"] {
            assert!(matches!(ledger.save_derived(bad, vec![], vec![]), Err(Error::Malformed { .. })), "{bad:?}");
        }
    }
    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(ledger.derived("library").unwrap(), vec![(b"meta".to_vec(), b"2".to_vec())]);
    assert_eq!(ledger.derived("other").unwrap(), vec![(b"meta".to_vec(), b"apart".to_vec())]);
    assert!(ledger.derived("none").unwrap().is_empty());
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size(), "the ledger's own rows are untouched");
}
