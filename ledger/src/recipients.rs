//! The private recipient index on disk (SPEC.md §7, "storage apart"): per
//! recipient, their encryption key and the entries sent to them. It lives
//! outside the public log, is never exported, and erasure destroys all of it.
//!
//! Layout 4, nothing rewritten per append whatever the recipient's history; a
//! recipient is one identifier **in one submitter's scope** (its handle is keyed by
//! the message's signer, `ServerSecret::recipient_handle`):
//! - the private record of each message entry (positional, `private.dat`) is
//!   `handle (32) || previous (u64) || nonce || ciphertext`, so a recipient's
//!   entries form a chain from their latest back to their first (`u64::MAX`
//!   ends it);
//! - the lookup record of each message entry (positional, `lookup.dat`) holds
//!   the message key, the recipient's handle and their key; the ledger keeps
//!   handle → key and latest entry, and message key → entry, in memory
//!   (`lookup.rs`), rebuilt from the lookup records on open.
//!
//! Erasure overwrites a recipient's private records and the handle and key of
//! their lookup records with zeros, in the commit of the `erasure` entry.
//!
//! Erasure also keeps, per erased message, a suppression tag (`sup/` index, Private
//! space): the recipient who gives the address can still object (SPEC.md §7).
//!
//! Older layouts, converted once when a store is opened ([`migrate`]):
//! - layout 3 had the same records, but one handle per identifier across every
//!   submitter, so one submitter could reach another's recipients by naming them;
//!   `rescope.rs` converts it;
//! - layout 2 kept the key and latest entry in a row `rk/` handle (Private
//!   space), rewritten on every append, and each message id in a row `msg/`
//!   (Index space), read on every append;
//! - layout 1 also kept every entry index in the `rk/` row, and its private
//!   records had no link to the previous one. Its lists move, frozen, to
//!   `rl/` handle; records from that conversion on are chained, and the layout
//!   marker remembers where, so both record forms stay readable.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::lookup::{self, Handle};
use crate::merkle::Tree;
use crate::privacy::ServerSecret;
use crate::store::{Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES};

/// The marker of the layout in the Private space: the layout's digit and the first chained entry.
const LAYOUT: &[u8] = b"layout/recipients";
/// The link of a private record that ends its recipient's chain.
pub(crate) const NONE: u64 = u64::MAX;

fn key_row(handle: &[u8]) -> Vec<u8> {
    [b"rk/".as_slice(), handle].concat()
}

/// The frozen layout 1 list of a recipient's entries before `chained_from`.
pub(crate) fn key_legacy(handle: &[u8]) -> Vec<u8> {
    [LEGACY, handle].concat()
}
pub(crate) const LEGACY: &[u8] = b"rl/";

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes)
}

/// A private record, split.
pub(crate) struct Sealed<'a> {
    pub(crate) handle: &'a [u8],
    previous: Option<u64>,
    pub(crate) sealed: &'a [u8],
}

/// The private record of entry `index`: recipient `handle`, their previous entry, the sealed part.
pub(crate) fn private_record(handle: &[u8], previous: Option<u64>, sealed: &[u8]) -> Vec<u8> {
    [handle, &previous.unwrap_or(NONE).to_be_bytes(), sealed].concat()
}

/// What erasing a recipient destroys.
pub(crate) struct Erasure {
    /// Their layout 1 list, if they have one.
    pub(crate) deletes: Vec<(Space, Vec<u8>)>,
    /// Their entries, whose private records and lookup records are overwritten with zeros.
    pub(crate) wipe: Vec<u64>,
}

/// Which private records are chained: where the store's layout changed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    chained_from: u64,
}

impl Layout {
    /// A new store: every private record is chained.
    pub(crate) const NEW: Layout = Layout { chained_from: 0 };

    /// The put that records this layout (layout 4).
    pub(crate) fn put(&self) -> (Space, Vec<u8>, Vec<u8>) {
        (Space::Private, LAYOUT.to_vec(), [b"4".as_slice(), &self.chained_from.to_be_bytes()].concat())
    }

    /// The first entry whose private record links to its recipient's previous one.
    pub(crate) fn chained_from(self) -> u64 {
        self.chained_from
    }

    /// Splits the private record of entry `index`; `None` when it holds no
    /// sealed part (an entry without one: empty; an erased one: zeros).
    pub(crate) fn split(self, index: u64, record: &[u8]) -> Result<Option<Sealed<'_>>> {
        if record.is_empty() || record.iter().all(|&b| b == 0) {
            return Ok(None);
        }
        let chained = index >= self.chained_from;
        let head = if chained { 40 } else { 32 };
        if record.len() < head + 12 {
            return Err(Error::Corrupt(format!("the private record of entry {index} is truncated")));
        }
        let previous = if chained { u64_at(record, 32).filter(|&p| p != NONE) } else { None };
        Ok(Some(Sealed { handle: &record[..32], previous, sealed: &record[head..] }))
    }

    /// Every entry sent to recipient `handle`, whose latest is `last`, in log order
    /// (empty once erased).
    pub(crate) fn entries(self, store: &dyn Store, handle: &[u8], last: Option<u64>) -> Result<Vec<u64>> {
        let Some(last) = last else { return Ok(Vec::new()) };
        let mut chain = Vec::new();
        let mut next = self.link(last);
        while let Some(index) = next {
            let broken = |what: &str| Error::Corrupt(format!("the private index of a recipient is damaged at entry {index}: {what}"));
            if chain.last().is_some_and(|&later| index >= later) || index < self.chained_from {
                return Err(broken("the chain does not run backwards through chained records"));
            }
            let record = store.private(index)?.ok_or_else(|| broken("the entry does not exist"))?;
            let part = self.split(index, &record)?.ok_or_else(|| broken("its private record is empty"))?;
            if part.handle != handle {
                return Err(broken("its private record belongs to another recipient"));
            }
            chain.push(index);
            next = part.previous;
        }
        let mut all = match store.get(Space::Private, &key_legacy(handle))? {
            Some(list) => list
                .chunks(8)
                .map(|c| u64_at(c, 0).ok_or_else(|| Error::Corrupt("a recipient's layout 1 entry list is damaged".into())))
                .collect::<Result<Vec<u64>>>()?,
            None => Vec::new(),
        };
        all.extend(chain.into_iter().rev());
        Ok(all)
    }

    /// The link a new private record holds to its recipient's latest entry `last`: none to
    /// a record before the layout change (those are listed in the recipient's `rl/` row).
    pub(crate) fn link(self, last: u64) -> Option<u64> {
        (last >= self.chained_from).then_some(last)
    }

    /// What erasing recipient `handle`, whose latest entry is `last`, destroys.
    pub(crate) fn erasure(self, store: &dyn Store, handle: &[u8], last: Option<u64>) -> Result<Erasure> {
        let wipe = self.entries(store, handle, last)?;
        Ok(Erasure { deletes: vec![(Space::Private, key_legacy(handle))], wipe })
    }

    /// Checks the private records and the recipient part of the lookup records of a
    /// store of `size` entries against each other (`fsck`): both name the same
    /// recipient, every chained record links to its recipient's previous one, and a
    /// chain keeps one key. Returns the number of recipients. A chain may start
    /// afresh (an erasure ends the old one).
    pub(crate) fn check(self, store: &dyn Store, size: u64) -> Result<usize> {
        let damaged = |index: u64, what: String| {
            Error::Corrupt(format!("entry {index}: {what}; the private index is damaged, restore the data folder from a backup"))
        };
        let mut latest: HashMap<Handle, (u64, [u8; 32])> = HashMap::new();
        let mut start = 0;
        while start < size {
            let end = (start + 4096).min(size);
            let lookups = store.lookups(start, end)?;
            if lookups.len() as u64 != end - start {
                return Err(Error::Corrupt(format!("the lookup record of entry {} is missing", start + lookups.len() as u64)));
            }
            for (index, l) in (start..).zip(&lookups) {
                let record = store.private(index)?.ok_or_else(|| damaged(index, "its private record is missing".into()))?;
                let part = self.split(index, &record)?;
                let (_, recipient) = lookup::parts(l);
                let (part, (handle, key)) = match (part, recipient) {
                    (None, None) => continue,
                    (Some(part), Some(r)) if part.handle == r.0 => (part, r),
                    (Some(_), Some(_)) => {
                        return Err(damaged(index, "its lookup record names another recipient than its private record".into()))
                    }
                    (Some(_), None) => {
                        return Err(damaged(index, "its private record names a recipient but its lookup record does not".into()))
                    }
                    (None, Some(_)) => {
                        return Err(damaged(index, "its lookup record names a recipient but it has no private record".into()))
                    }
                };
                let before = latest.insert(handle, (index, key));
                if index < self.chained_from {
                    continue;
                }
                // A chain may start afresh (`None`): after an erasure, or a layout 1 list.
                if part.previous.is_some() && part.previous != before.map(|(i, _)| i) {
                    return Err(damaged(
                        index,
                        format!(
                            "its private record links to {} but its recipient's previous message is {}",
                            part.previous.map_or("none".to_string(), |p| format!("entry {p}")),
                            before.map_or("none".to_string(), |(p, _)| format!("entry {p}")),
                        ),
                    ));
                }
                if part.previous.is_some() && before.is_some_and(|(_, k)| k != key) {
                    return Err(damaged(index, "its lookup record holds another key than its recipient's previous message".into()));
                }
            }
            start = end;
        }
        Ok(latest.len())
    }
}

/// The store's layout, converting an older one first: layout 1 to 2 in one atomic
/// commit of the same head, then layout 2 to 3 (its lookup records are written
/// whole first, then one atomic commit marks the conversion done; a crash in
/// between leaves layout 2 whole, converted again on the next open), then layout 3
/// to 4 the same way (`rescope.rs`). `tree` is the signed tree the store was
/// checked against: the conversion to layout 4 reads entries.
pub(crate) fn migrate(store: &dyn Store, head: &Head, secret: &ServerSecret, tree: &Tree) -> Result<Layout> {
    let (layout, from) = match store.get(Space::Private, LAYOUT)? {
        Some(marker) => match (marker.first(), u64_at(&marker, 1), marker.len()) {
            (Some(b'4'), Some(chained_from), 9) => return Ok(Layout { chained_from }),
            (Some(b'3'), Some(chained_from), 9) => (Layout { chained_from }, 3),
            (Some(b'2'), Some(chained_from), 9) => (Layout { chained_from }, 2),
            _ => {
                return Err(Error::Corrupt(
                    "the private recipient index has an unknown layout marker; this data folder was written by a newer Sightline, or is damaged"
                        .into(),
                ))
            }
        },
        None => (to_layout_2(store, head)?, 2),
    };
    if from == 2 {
        to_layout_3(store, head, layout, secret)?;
    }
    crate::rescope::to_layout_4(store, head, layout, secret, tree)?;
    Ok(layout)
}

/// Layout 1 → 2: each row's entry list moves to `rl/`, the row keeps the key.
fn to_layout_2(store: &dyn Store, head: &Head) -> Result<Layout> {
    let layout = Layout { chained_from: head.size };
    let (mut puts, mut converted) = (Vec::new(), 0);
    for (k, row) in store.scan(Space::Private, b"rk/")? {
        let (Some(key), 0) = (row.get(..32), row.len().saturating_sub(32) % 8) else {
            return Err(Error::Corrupt(
                "a layout 1 recipient row is damaged (not a 32-byte key and 8-byte indexes); restore the data folder from a backup".into(),
            ));
        };
        let handle = &k[3..];
        if row.len() > 32 {
            puts.push((Space::Private, key_legacy(handle), row[32..].to_vec()));
        }
        puts.push((Space::Private, key_row(handle), [key, &NONE.to_be_bytes()].concat()));
        converted += 1;
    }
    if converted > 0 {
        tracing::info!(recipients = converted, "converting the private recipient index to layout 2 (one chain per recipient)");
    }
    puts.push((Space::Private, LAYOUT.to_vec(), [b"2".as_slice(), &layout.chained_from.to_be_bytes()].concat()));
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, ..Commit::default() })?;
    Ok(layout)
}

/// Layout 2 → 3: the `msg/` and `rk/` rows become lookup records, then go.
fn to_layout_3(store: &dyn Store, head: &Head, layout: Layout, secret: &ServerSecret) -> Result<()> {
    let size = usize::try_from(head.size).map_err(|_| Error::Corrupt(format!("the head's size {} is absurd", head.size)))?;
    let mut records: Vec<LookupRecord> = vec![[0; LOOKUP_BYTES]; size];
    let mut deletes = Vec::new();
    let damaged = |what: &str| Error::Corrupt(format!("a layout 2 {what} is damaged; restore the data folder from a backup"));
    let messages = store.scan(Space::Index, b"msg/")?;
    for (k, v) in &messages {
        let rest = &k[4..];
        let nul = rest.iter().position(|&b| b == 0).ok_or_else(|| damaged("message id row"))?;
        let (signer, id) = (std::str::from_utf8(&rest[..nul]), std::str::from_utf8(&rest[nul + 1..]));
        let (Ok(signer), Ok(id), Some(index)) = (signer, id, u64_at(v, 0).filter(|_| v.len() == 8)) else {
            return Err(damaged("message id row"));
        };
        let slot = records.get_mut(index as usize).ok_or_else(|| damaged("message id row (it names an entry past the head)"))?;
        slot[..16].copy_from_slice(&secret.message_key(signer, id));
        deletes.push((Space::Index, k.clone()));
    }
    let mut keys: HashMap<Vec<u8>, [u8; 32]> = HashMap::new();
    for (k, row) in store.scan(Space::Private, b"rk/")? {
        let key =
            row.get(..32).and_then(|k| <[u8; 32]>::try_from(k).ok()).filter(|_| row.len() == 40).ok_or_else(|| damaged("recipient row"))?;
        keys.insert(k[3..].to_vec(), key);
        deletes.push((Space::Private, k));
    }
    let mut unwiped = Vec::new();
    for (index, slot) in (0u64..).zip(records.iter_mut()) {
        let record = store.private(index)?.ok_or_else(|| damaged("store (a private record is missing)"))?;
        if let Some(part) = layout.split(index, &record)? {
            match keys.get(part.handle) {
                Some(key) => {
                    slot[16..48].copy_from_slice(part.handle);
                    slot[48..].copy_from_slice(key);
                }
                // The row is gone but not the sealed record: an erasure whose overwrite never
                // ran. The conversion's commit finishes it.
                None => unwiped.push(index),
            }
        }
    }
    tracing::info!(
        messages = messages.len(),
        recipients = keys.len(),
        unfinished_erasures = unwiped.len(),
        "converting the private indexes to layout 3 (lookup records instead of a store row per message and per recipient)"
    );
    store.replace_lookups(&records)?;
    let puts = vec![(Space::Private, LAYOUT.to_vec(), [b"3".as_slice(), &layout.chained_from.to_be_bytes()].concat())];
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, deletes, wipe: unwiped, ..Commit::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sled::SledStore;

    #[test]
    fn rows_and_markers_of_the_wrong_shape_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let head = Head { size: 0, checkpoint: String::new() };
        let secret = ServerSecret([1; 32]);
        let puts = vec![(Space::Private, key_row(&[1; 32]), vec![0; 35])];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(matches!(migrate(&store, &head, &secret, &Tree::new()), Err(Error::Corrupt(_))));

        let puts = vec![(Space::Private, LAYOUT.to_vec(), b"5".to_vec())];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(matches!(migrate(&store, &head, &secret, &Tree::new()), Err(Error::Corrupt(m)) if m.contains("newer")));
    }

    #[test]
    fn private_records_before_the_layout_change_have_no_link() {
        let layout = Layout { chained_from: 10 };
        let old = [vec![7u8; 32], vec![1; 20]].concat();
        let part = layout.split(9, &old).unwrap().unwrap();
        assert_eq!((part.handle, part.previous, part.sealed.len()), (&[7u8; 32][..], None, 20));
        let new = private_record(&[7; 32], Some(9), &[1; 20]);
        let part = layout.split(10, &new).unwrap().unwrap();
        assert_eq!((part.previous, part.sealed), (Some(9), &[1u8; 20][..]));
        assert!(layout.split(10, &vec![0; new.len()]).unwrap().is_none(), "a wiped record");
        assert!(layout.split(10, &new[..50]).is_err(), "a truncated record");
    }
}
