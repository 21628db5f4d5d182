//! The private recipient index (SPEC.md §7, "storage apart"): per recipient
//! handle, their encryption key and the entries sent to them. It lives outside
//! the public log, is never exported, and erasure destroys all of it.
//!
//! Layout 2, O(1) per append whatever the recipient's history:
//! - the row `rk/` handle (Private space) is `key (32 bytes) || last (u64)`:
//!   the recipient's key and their latest entry;
//! - the private record of each of their entries (positional, `private.dat`)
//!   is `handle (32) || previous (u64) || nonce || ciphertext`, so their
//!   entries form a chain from `last` back to the first (`u64::MAX` ends it).
//!
//! Layout 1 kept every entry index in the row (`key || index ...`), so each
//! append rewrote a row that grew with the recipient's history and every why
//! page read all of it. [`migrate`] converts such a store once, atomically,
//! when it is opened: the old lists move, frozen, to `rl/` handle, and private
//! records from the store's size at that moment on are chained. The layout
//! marker remembers that index, so both record forms stay readable.

use crate::error::{Error, Result};
use crate::privacy::RecipientKey;
use crate::store::{Commit, Head, Space, Store};

/// The marker of the layout in the Private space: `2` and the first chained entry.
const LAYOUT: &[u8] = b"layout/recipients";
const NONE: u64 = u64::MAX;

fn key_row(handle: &[u8]) -> Vec<u8> {
    [b"rk/".as_slice(), handle].concat()
}

fn key_legacy(handle: &[u8]) -> Vec<u8> {
    [b"rl/".as_slice(), handle].concat()
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes)
}

/// A recipient's row: their key and their latest entry.
pub(crate) struct Row {
    pub(crate) key: RecipientKey,
    pub(crate) last: Option<u64>,
}

impl Row {
    pub(crate) fn new() -> Self {
        Row { key: RecipientKey::generate(), last: None }
    }

    fn parse(raw: &[u8]) -> Result<Self> {
        let (Some(key), Some(last), 40) = (raw.get(..32).and_then(|k| <[u8; 32]>::try_from(k).ok()), u64_at(raw, 32), raw.len()) else {
            return Err(Error::Corrupt(
                "a recipient's key row is damaged (not a 32-byte key and an 8-byte index); restore the data folder from a backup".into(),
            ));
        };
        Ok(Row { key: RecipientKey(key), last: (last != NONE).then_some(last) })
    }

    /// The put that stores this row for recipient `handle`.
    pub(crate) fn put(&self, handle: &[u8]) -> (Space, Vec<u8>, Vec<u8>) {
        (Space::Private, key_row(handle), [self.key.0.as_slice(), &self.last.unwrap_or(NONE).to_be_bytes()].concat())
    }
}

/// The row of recipient `handle`, `None` if they have none (never seen, or erased).
pub(crate) fn row(store: &dyn Store, handle: &[u8]) -> Result<Option<Row>> {
    store.get(Space::Private, &key_row(handle))?.map(|raw| Row::parse(&raw)).transpose()
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
    /// Their row (and with it their key) and their layout 1 list.
    pub(crate) deletes: Vec<(Space, Vec<u8>)>,
    /// Their entries, whose private records are overwritten with zeros.
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

    /// The put that records this layout.
    pub(crate) fn put(&self) -> (Space, Vec<u8>, Vec<u8>) {
        (Space::Private, LAYOUT.to_vec(), [b"2".as_slice(), &self.chained_from.to_be_bytes()].concat())
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

    /// Every entry sent to recipient `handle`, in log order (empty once erased).
    pub(crate) fn entries(self, store: &dyn Store, handle: &[u8]) -> Result<Vec<u64>> {
        let Some(row) = row(store, handle)? else { return Ok(Vec::new()) };
        let mut chain = Vec::new();
        let mut next = row.last;
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

    /// What erasing recipient `handle` destroys.
    pub(crate) fn erasure(self, store: &dyn Store, handle: &[u8]) -> Result<Erasure> {
        let wipe = self.entries(store, handle)?;
        Ok(Erasure { deletes: vec![(Space::Private, key_row(handle)), (Space::Private, key_legacy(handle))], wipe })
    }
}

impl Layout {
    /// Checks the whole index against the private records of a store of `size`
    /// entries (`fsck`): every chained record links to its recipient's previous
    /// one, and every row names its recipient's latest. Returns the number of
    /// recipients. Sealed records whose row is gone are erased (an erasure that
    /// stopped before overwriting them); they are not an error, and a chain may
    /// start afresh after them.
    pub(crate) fn check(self, store: &dyn Store, size: u64) -> Result<usize> {
        let mut latest: std::collections::HashMap<[u8; 32], u64> = std::collections::HashMap::new();
        for index in self.chained_from..size {
            let record = store.private(index)?.ok_or_else(|| Error::Corrupt(format!("the private record of entry {index} is missing")))?;
            let Some(part) = self.split(index, &record)? else { continue };
            let handle: [u8; 32] =
                part.handle.try_into().map_err(|_| Error::Corrupt(format!("the private record of entry {index} is truncated")))?;
            let want = latest.insert(handle, index);
            // A chain may start afresh (`None`) after an erasure whose overwrite never ran.
            if part.previous.is_some() && part.previous != want {
                return Err(Error::Corrupt(format!(
                    "the private record of entry {index} links to {} but its recipient's previous message is {}; the private index is damaged, restore the data folder from a backup",
                    part.previous.map_or("none".to_string(), |p| format!("entry {p}")),
                    want.map_or("none".to_string(), |p| format!("entry {p}")),
                )));
            }
        }
        let rows = store.scan(Space::Private, b"rk/")?;
        for (k, raw) in &rows {
            let handle: [u8; 32] = k.get(3..).and_then(|h| h.try_into().ok()).ok_or_else(damaged_key)?;
            let row = Row::parse(raw)?;
            if row.last != latest.remove(&handle) {
                return Err(Error::Corrupt(format!(
                    "a recipient's row names {} as their latest message, which their private records contradict; the private index is damaged, restore the data folder from a backup",
                    row.last.map_or("none".to_string(), |p| format!("entry {p}"))
                )));
            }
        }
        Ok(rows.len())
    }
}

fn damaged_key() -> Error {
    Error::Corrupt("a recipient row's key in the store is damaged".into())
}

/// The store's layout, converting a layout 1 index first (one atomic commit of
/// the same head, so a crash leaves either layout whole).
pub(crate) fn migrate(store: &dyn Store, head: &Head) -> Result<Layout> {
    if let Some(marker) = store.get(Space::Private, LAYOUT)? {
        return match (marker.first(), u64_at(&marker, 1), marker.len()) {
            (Some(b'2'), Some(chained_from), 9) => Ok(Layout { chained_from }),
            _ => Err(Error::Corrupt(
                "the private recipient index has an unknown layout marker; this data folder was written by a newer Sightline, or is damaged".into(),
            )),
        };
    }
    let layout = Layout { chained_from: head.size };
    let (mut puts, mut converted) = (Vec::new(), 0);
    for (k, row) in store.scan(Space::Private, b"rk/")? {
        let (Some(key), 0) = (row.get(..32).and_then(|k| <[u8; 32]>::try_from(k).ok()), row.len().saturating_sub(32) % 8) else {
            return Err(Error::Corrupt(
                "a layout 1 recipient row is damaged (not a 32-byte key and 8-byte indexes); restore the data folder from a backup".into(),
            ));
        };
        let handle = &k[3..];
        if row.len() > 32 {
            puts.push((Space::Private, key_legacy(handle), row[32..].to_vec()));
        }
        puts.push(Row { key: RecipientKey(key), last: None }.put(handle));
        converted += 1;
    }
    if converted > 0 {
        tracing::info!(recipients = converted, "converting the private recipient index to layout 2 (one chain per recipient)");
    }
    puts.push(layout.put());
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, ..Commit::default() })?;
    Ok(layout)
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
        let puts = vec![(Space::Private, key_row(&[1; 32]), vec![0; 35])];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(matches!(migrate(&store, &head), Err(Error::Corrupt(_))));
        assert!(matches!(row(&store, &[1; 32]), Err(Error::Corrupt(_))));

        let puts = vec![(Space::Private, LAYOUT.to_vec(), b"3".to_vec())];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(matches!(migrate(&store, &head), Err(Error::Corrupt(m)) if m.contains("newer")));
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
