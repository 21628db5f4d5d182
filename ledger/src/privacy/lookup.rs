//! The two indexes the sequencer consults for every appended record: message key → entry
//! (idempotency, SPEC.md §3.4) and recipient → key and latest entry (the private recipient
//! index, SPEC.md §7).
//!
//! Both are rows of the store (`mk/` in the Index space, `rc/` in the Private space:
//! `store/keys.rs`), written in the same atomic commit as the entries they name
//! ([`Change::rows`]), so a crash can never leave one without the other. A recipient's row
//! names only their latest entry: their key is read from that entry's lookup record, the one
//! place it is stored and where erasure overwrites it in place (a row's old versions may
//! linger in a log-structured store until it reclaims them, so no row ever holds a key). The ledger holds
//! no index of its own: opening reads none of them, memory does not grow with the log, and
//! any backend (or several front ends sharing one) sees the same rows. What it does hold are
//! two bounded caches of the rows that durable commits wrote, the recipients and messages
//! most likely to come again; a group's other rows are read with one [`Store::get_many`].
//!
//! The caches are filled where a durable commit is published (under the state's write lock),
//! and by readers only while they hold the state's read lock ([`Lookup::recipient_locked`]):
//! a commit's rows are in the store before it is published, so a row read then is never older
//! than what the cache will be given. A reader without the lock, racing a commit, could
//! otherwise put back a row the commit replaced, or the key of a recipient it erased.
//!
//! Both are keyed by keyed hashes (HMAC-SHA256 under the server secret), which are uniform and
//! cannot be chosen by a submitter; the sequencer's own maps of staged records take their first
//! 8 bytes as the hash instead of hashing them again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::error::{Error, Result};
use crate::privacy::RecipientKey;
use crate::store::{keys, LookupRecord, Space, Store, LOOKUP_BYTES};

/// Messages and recipients each cache holds at most (about 3 and 6 MiB).
const CACHED: usize = 1 << 16;

/// A keyed digest of a message's `(signer, message_id)` (see `ServerSecret::message_key`).
pub(crate) type MessageKey = [u8; 16];

/// A recipient's private handle (see `ServerSecret::recipient_handle`).
pub(crate) type Handle = [u8; 32];

/// What the ledger knows of a recipient: their key and their latest entry.
#[derive(Clone)]
pub(crate) struct Recipient {
    pub(crate) key: RecipientKey,
    pub(crate) last: u64,
}

/// Hashes an already uniform digest by taking its first 8 bytes.
#[derive(Default)]
pub(crate) struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut b = [0u8; 8];
        let n = bytes.len().min(8);
        b[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(b);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub(crate) type DigestMap<K, V> = HashMap<K, V, BuildHasherDefault<DigestHasher>>;

/// The indexes: rows of the store, with bounded caches (see the module docs).
pub(crate) struct Lookup {
    store: Arc<dyn Store>,
    messages: Cache<MessageKey, u64>,
    recipients: Cache<Handle, Recipient>,
}

/// What one durable commit changes in the indexes.
#[derive(Default)]
pub(crate) struct Change {
    pub(crate) messages: Vec<(MessageKey, u64)>,
    pub(crate) recipients: Vec<(Handle, Recipient)>,
    /// Recipients erased by the commit.
    pub(crate) forget: Vec<Handle>,
}

impl Change {
    /// The rows the commit writes for this change: a row per new message key and per
    /// recipient whose latest entry moved (the last one wins), and the erased recipients'
    /// rows deleted.
    #[allow(clippy::type_complexity)]
    pub(crate) fn rows(&self) -> (Vec<(Space, Vec<u8>, Vec<u8>)>, Vec<(Space, Vec<u8>)>) {
        let mut puts = Vec::with_capacity(self.messages.len() + self.recipients.len());
        puts.extend(self.messages.iter().map(|(m, index)| (Space::Index, keys::message_key(m), index.to_be_bytes().to_vec())));
        puts.extend(self.recipients.iter().map(|(h, r)| (Space::Private, keys::recipient(h), recipient_row(r))));
        let deletes = self.forget.iter().map(|h| (Space::Private, keys::recipient(h))).collect();
        (puts, deletes)
    }
}

/// A recipient's row: their latest entry.
fn recipient_row(r: &Recipient) -> Vec<u8> {
    r.last.to_be_bytes().to_vec()
}

/// The entry a recipient's row names.
fn parse_latest(row: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(row).map(u64::from_be_bytes).map_err(|_| damaged("a recipient"))
}

fn damaged(what: &str) -> Error {
    Error::Corrupt(format!("{what} row of the private index is damaged; restore the data folder from a backup"))
}

/// The lookup record of a message entry.
pub(crate) fn record(message: &MessageKey, handle: &Handle, key: &RecipientKey) -> LookupRecord {
    let mut r = [0u8; LOOKUP_BYTES];
    r[..16].copy_from_slice(message);
    r[16..48].copy_from_slice(handle);
    r[48..].copy_from_slice(&key.0);
    r
}

/// The parts of a lookup record: its message key and its recipient, `None` where zeros.
pub(crate) fn parts(r: &LookupRecord) -> (Option<MessageKey>, Option<(Handle, [u8; 32])>) {
    let zero = |b: &[u8]| b.iter().all(|&x| x == 0);
    let message = (!zero(&r[..16])).then(|| r[..16].try_into().unwrap_or_default());
    let recipient = (!zero(&r[16..48])).then(|| (r[16..48].try_into().unwrap_or_default(), r[48..].try_into().unwrap_or_default()));
    (message, recipient)
}

impl Lookup {
    /// The indexes of `store`, with empty caches.
    pub(crate) fn new(store: Arc<dyn Store>) -> Lookup {
        Lookup { store, messages: Cache::new(CACHED), recipients: Cache::new(CACHED) }
    }

    /// The entry of each acknowledged message, in the order of `keys`.
    pub(crate) fn messages(&self, keys: &[MessageKey]) -> Result<Vec<Option<u64>>> {
        self.cached(&self.messages, keys, Space::Index, keys::message_key, false, |_, row| {
            <[u8; 8]>::try_from(row).map(u64::from_be_bytes).map_err(|_| damaged("a message id"))
        })
    }

    /// The entry of an acknowledged message.
    pub(crate) fn message(&self, key: &MessageKey) -> Result<Option<u64>> {
        Ok(self.messages(std::slice::from_ref(key))?.pop().flatten())
    }

    /// What the ledger knows of each recipient, in the order of `handles` (`None`: never
    /// seen, or erased).
    pub(crate) fn recipients(&self, handles: &[Handle]) -> Result<Vec<Option<Recipient>>> {
        self.recipients_filling(handles, false)
    }

    /// [`Lookup::recipients`], keeping what it read from the store in the cache when `fill`.
    fn recipients_filling(&self, handles: &[Handle], fill: bool) -> Result<Vec<Option<Recipient>>> {
        self.cached(&self.recipients, handles, Space::Private, keys::recipient, fill, |handle, row| {
            let last = parse_latest(row)?;
            // The key, from the lookup record of the recipient's latest entry.
            let record = self.store.lookups(last, last.saturating_add(1))?.pop();
            match record.as_ref().map(parts) {
                Some((_, Some((h, key)))) if h == *handle => Ok(Recipient { key: RecipientKey(key), last }),
                _ => Err(damaged("a recipient (it names an entry whose lookup record is not theirs)")),
            }
        })
    }

    /// What the ledger knows of a recipient, for a reader that holds the state's read lock:
    /// a row read from the store is kept in the cache (see the module docs), so that why pages
    /// warm it as commits do.
    pub(crate) fn recipient_locked(&self, handle: &Handle) -> Result<Option<Recipient>> {
        Ok(self.recipients_filling(std::slice::from_ref(handle), true)?.pop().flatten())
    }

    /// The values of `keys`: from `cache`, else their rows (`row_key`, in `space`), read with
    /// one [`Store::get_many`] and decoded by `parse` (and kept in `cache` when `fill`).
    fn cached<K, V: Clone>(
        &self,
        cache: &Cache<K, V>,
        keys: &[K],
        space: Space,
        row_key: fn(&K) -> Vec<u8>,
        fill: bool,
        parse: impl Fn(&K, &[u8]) -> Result<V>,
    ) -> Result<Vec<Option<V>>>
    where
        K: Eq + std::hash::Hash + Clone,
    {
        let mut out: Vec<Option<V>> = keys.iter().map(|k| cache.get(k)).collect();
        let missing: Vec<usize> = (0..keys.len()).filter(|&i| out[i].is_none()).collect();
        if missing.is_empty() {
            return Ok(out);
        }
        let rows = self.store.get_many(space, &missing.iter().map(|&i| row_key(&keys[i])).collect::<Vec<_>>())?;
        for (i, row) in missing.into_iter().zip(rows) {
            out[i] = row.map(|v| parse(&keys[i], &v)).transpose()?;
            if let (true, Some(v)) = (fill, &out[i]) {
                cache.insert(keys[i].clone(), v.clone());
            }
        }
        Ok(out)
    }

    /// What the ledger knows of a recipient (`None`: never seen, or erased).
    pub(crate) fn recipient(&self, handle: &Handle) -> Result<Option<Recipient>> {
        Ok(self.recipients(std::slice::from_ref(handle))?.pop().flatten())
    }

    /// Forgets every cached recipient (a front end catching up with an erasure another one
    /// committed, which deleted rows no lookup record names any more: `cluster/follow.rs`).
    pub(crate) fn forget_recipients(&self) {
        self.recipients.clear();
    }

    /// Forgets everything cached: a front end about to sequence a log another one wrote reads
    /// every row it plans with from the store, never a row a reader cached (`cluster/lease.rs`).
    pub(crate) fn forget_all(&self) {
        self.messages.clear();
        self.recipients.clear();
    }

    /// Applies what a durable commit changed to the caches (its rows are in the store).
    pub(crate) fn apply(&self, change: &Change) {
        for (m, index) in &change.messages {
            self.messages.insert(*m, *index);
        }
        for (h, r) in &change.recipients {
            self.recipients.insert(*h, r.clone());
        }
        for h in &change.forget {
            self.recipients.remove(h);
        }
    }
}

/// Converts a store whose indexes lived only in its lookup records (layout 4, rebuilt in
/// memory on every open) to rows: one commit of the same head per chunk of lookup records,
/// then the recipients' rows. Puts only, so a crash part way leaves rows that the next
/// conversion writes again to the same bytes. Returns the number of messages and recipients.
pub(crate) fn write_rows(
    store: &dyn Store,
    size: u64,
    mut commit: impl FnMut(Vec<(Space, Vec<u8>, Vec<u8>)>) -> Result<()>,
) -> Result<(u64, usize)> {
    let have = store.lookup_count()?;
    if have != size {
        return Err(Error::Corrupt(format!(
            "the lookup records cover {have} of the log's {size} entries, so the private indexes cannot be rebuilt; restore the data folder from a backup"
        )));
    }
    let (mut latest, mut messages): (HashMap<Handle, Recipient>, u64) = (HashMap::new(), 0);
    let mut start = 0;
    while start < size {
        let records = store.lookups(start, (start + CHUNK).min(size))?;
        if records.is_empty() {
            return Err(Error::Corrupt(format!("the lookup record of entry {start} cannot be read")));
        }
        let mut change = Change::default();
        for (index, r) in (start..).zip(&records) {
            let (message, recipient) = parts(r);
            change.messages.extend(message.map(|m| (m, index)));
            if let Some((handle, key)) = recipient {
                latest.insert(handle, Recipient { key: RecipientKey(key), last: index });
            }
        }
        messages += change.messages.len() as u64;
        commit(change.rows().0)?;
        start += records.len() as u64;
    }
    let recipients = latest.len();
    let all: Vec<(Handle, Recipient)> = latest.into_iter().collect();
    for chunk in all.chunks(CHUNK as usize) {
        commit(Change { recipients: chunk.to_vec(), ..Change::default() }.rows().0)?;
    }
    Ok((messages, recipients))
}

/// Checks the rows against what the lookup records say (`fsck`): every live recipient's row
/// names their latest entry, and no other recipient has a row.
pub(crate) fn check_recipient_rows(store: &dyn Store, latest: &HashMap<Handle, (u64, [u8; 32])>) -> Result<()> {
    let rows = store.scan(Space::Private, keys::RECIPIENT)?;
    if rows.len() != latest.len() {
        return Err(Error::Corrupt(format!(
            "the private index has {} recipient rows but the lookup records name {} recipients; restore the data folder from a backup",
            rows.len(),
            latest.len()
        )));
    }
    for (key, value) in rows {
        let handle = key.get(keys::RECIPIENT.len()..).and_then(|h| <[u8; 32]>::try_from(h).ok()).ok_or_else(|| damaged("a recipient"))?;
        match latest.get(&handle) {
            Some((last, _)) if *last == parse_latest(&value)? => {}
            _ => return Err(damaged("a recipient (its latest entry differs from the lookup records)")),
        }
    }
    Ok(())
}

/// How many lookup records a conversion reads, and rows it writes, at a time.
const CHUNK: u64 = 1 << 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_splits_into_what_it_holds_and_zeros_into_nothing() {
        let key = RecipientKey([5; 32]);
        let r = record(&[1; 16], &[2; 32], &key);
        assert_eq!(parts(&r), (Some([1; 16]), Some(([2; 32], [5; 32]))));
        let mut wiped = r;
        wiped[crate::store::LOOKUP_PRIVATE].fill(0);
        assert_eq!(parts(&wiped), (Some([1; 16]), None), "a wipe keeps the message key");
        assert_eq!(parts(&[0; LOOKUP_BYTES]), (None, None));
    }

    #[test]
    fn changes_write_rows_that_the_indexes_read_and_forget_the_erased() {
        use crate::store::memory::MemoryStore;
        use crate::store::Commit;
        let store = Arc::new(MemoryStore::default());
        let l = Lookup::new(store.clone());
        let key = RecipientKey([5; 32]);
        let change = Change {
            messages: vec![([1; 16], 4), ([2; 16], 5)],
            recipients: vec![([9; 32], Recipient { key: key.clone(), last: 5 })],
            forget: vec![],
        };
        let (puts, deletes) = change.rows();
        assert!(puts.iter().all(|(_, _, v)| !v.windows(32).any(|w| w == key.0)), "no row holds a key");
        let mut lookup = vec![[0; LOOKUP_BYTES]; 6];
        lookup[4] = record(&[1; 16], &[7; 32], &RecipientKey([6; 32]));
        lookup[5] = record(&[2; 16], &[9; 32], &key);
        let entries = (0..6).map(|i| (i, vec![b'e'])).collect();
        store.commit(&Commit { size: 6, entries, lookup, puts, deletes, ..Commit::default() }).unwrap();
        // Read from the store (nothing cached yet), then from the cache.
        for _ in 0..2 {
            assert_eq!(l.messages(&[[1; 16], [3; 16], [2; 16]]).unwrap(), vec![Some(4), None, Some(5)]);
            assert_eq!(l.recipient(&[9; 32]).unwrap().map(|r| (r.last, r.key.0)), Some((5, [5; 32])));
            l.apply(&change);
        }
        let erased = Change { forget: vec![[9; 32]], ..Change::default() };
        let (puts, deletes) = erased.rows();
        store.commit(&Commit { size: 6, puts, deletes, ..Commit::default() }).unwrap();
        l.apply(&erased);
        assert!(l.recipient(&[9; 32]).unwrap().is_none(), "neither the row nor the cache holds the erased key");
        let row = |v: Vec<u8>| Commit { size: 6, puts: vec![(Space::Private, keys::recipient(&[8; 32]), v)], ..Commit::default() };
        store.commit(&row(vec![1; 7])).unwrap();
        assert!(matches!(l.recipient(&[8; 32]), Err(Error::Corrupt(_))), "a row of the wrong length");
        store.commit(&row(4u64.to_be_bytes().to_vec())).unwrap();
        assert!(matches!(l.recipient(&[8; 32]), Err(Error::Corrupt(_))), "a row naming another recipient's entry");
    }

    #[test]
    fn only_a_reader_under_the_state_lock_fills_the_cache() {
        use crate::store::memory::MemoryStore;
        use crate::store::Commit;
        let store = Arc::new(MemoryStore::default());
        let l = Lookup::new(store.clone());
        let lookup = vec![record(&[1; 16], &[7; 32], &RecipientKey([6; 32]))];
        let (puts, _) =
            Change { recipients: vec![([7; 32], Recipient { key: RecipientKey([6; 32]), last: 0 })], ..Change::default() }.rows();
        store.commit(&Commit { size: 1, entries: vec![(0, vec![b'e'])], lookup, puts, ..Commit::default() }).unwrap();
        assert!(l.recipient(&[7; 32]).unwrap().is_some());
        assert!(l.recipients.get(&[7; 32]).is_none(), "a plain read leaves the cache alone");
        assert_eq!(l.recipient_locked(&[7; 32]).unwrap().map(|r| r.last), Some(0));
        assert!(l.recipients.get(&[7; 32]).is_some(), "a read under the lock keeps the row");
    }
}
