//! The two indexes the sequencer consults for every appended record, kept in
//! memory: message id → entry (idempotency, SPEC.md §3.4) and recipient →
//! key and latest entry (the private recipient index, SPEC.md §7).
//!
//! They are rebuilt on open from the store's positional lookup records (one
//! sequential read of 80 bytes per entry), and changed only by the write pipeline,
//! after the commit that wrote the matching lookup records is durable. So an
//! append neither reads nor writes a key space per record.
//!
//! Both maps are keyed by keyed hashes (HMAC-SHA256 under the server secret),
//! which are uniform and cannot be chosen by a submitter; their hasher takes
//! the first 8 bytes instead of hashing them again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};
use crate::privacy::RecipientKey;
use crate::store::{LookupRecord, Store, LOOKUP_BYTES};

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

/// The in-memory indexes.
#[derive(Default)]
pub(crate) struct Lookup {
    messages: DigestMap<MessageKey, u64>,
    recipients: DigestMap<Handle, Recipient>,
}

/// What one durable commit changes in the indexes.
#[derive(Default)]
pub(crate) struct Change {
    pub(crate) messages: Vec<(MessageKey, u64)>,
    pub(crate) recipients: Vec<(Handle, Recipient)>,
    /// Recipients erased by the commit.
    pub(crate) forget: Vec<Handle>,
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

/// How many lookup records the rebuild reads at a time.
const CHUNK: u64 = 1 << 16;

impl Lookup {
    /// Rebuilds the indexes from the lookup records of a store of `size` entries.
    pub(crate) fn load(store: &dyn Store, size: u64) -> Result<Lookup> {
        let have = store.lookup_count()?;
        // More than `size` only in a store another front end appends to meanwhile.
        if have < size {
            return Err(Error::Corrupt(format!(
                "the lookup records cover {have} of the log's {size} entries, so the private indexes cannot be rebuilt; restore the data folder from a backup"
            )));
        }
        Lookup::read(store, size)
    }

    /// Builds the indexes from the lookup records of entries `0..size` (the store may hold more).
    pub(crate) fn read(store: &dyn Store, size: u64) -> Result<Lookup> {
        let mut lookup = Lookup::default();
        lookup.messages.reserve(size as usize);
        let mut start = 0;
        while start < size {
            let records = store.lookups(start, (start + CHUNK).min(size))?;
            if records.is_empty() {
                return Err(Error::Corrupt(format!("the lookup record of entry {start} cannot be read")));
            }
            lookup.add_records(start, &records)?;
            start += records.len() as u64;
        }
        Ok(lookup)
    }

    /// Adds the lookup records of entries `start..`, as written after the ones the indexes hold
    /// (a front end catching up with what another one appended, `cluster/follow.rs`).
    pub(crate) fn add_records(&mut self, start: u64, records: &[LookupRecord]) -> Result<()> {
        for (index, r) in (start..).zip(records) {
            let (message, recipient) = parts(r);
            if let Some(m) = message {
                if let Some(first) = self.messages.insert(m, index) {
                    return Err(Error::Corrupt(format!(
                        "entries {first} and {index} have the same message key in their lookup records; the private index is damaged, restore the data folder from a backup"
                    )));
                }
            }
            if let Some((handle, key)) = recipient {
                self.recipients.insert(handle, Recipient { key: RecipientKey(key), last: index });
            }
        }
        Ok(())
    }

    /// The entry of an acknowledged message.
    pub(crate) fn message(&self, key: &MessageKey) -> Option<u64> {
        self.messages.get(key).copied()
    }

    /// What the ledger knows of a recipient (`None`: never seen, or erased).
    pub(crate) fn recipient(&self, handle: &Handle) -> Option<&Recipient> {
        self.recipients.get(handle)
    }

    /// Applies what a durable commit changed.
    pub(crate) fn apply(&mut self, change: Change) {
        self.messages.extend(change.messages);
        self.recipients.extend(change.recipients);
        for h in &change.forget {
            self.recipients.remove(h);
        }
    }
}

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
    fn changes_add_messages_move_a_recipients_latest_and_forget_the_erased() {
        let mut l = Lookup::default();
        let key = RecipientKey([5; 32]);
        l.apply(Change {
            messages: vec![([1; 16], 4), ([2; 16], 5)],
            recipients: vec![([9; 32], Recipient { key: key.clone(), last: 4 }), ([9; 32], Recipient { key: key.clone(), last: 5 })],
            forget: vec![],
        });
        assert_eq!((l.message(&[1; 16]), l.message(&[2; 16]), l.message(&[3; 16])), (Some(4), Some(5), None));
        assert_eq!(l.recipient(&[9; 32]).map(|r| r.last), Some(5));
        l.apply(Change { forget: vec![[9; 32]], ..Change::default() });
        assert!(l.recipient(&[9; 32]).is_none());
    }
}
