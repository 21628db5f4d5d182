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
//!   the message key, the recipient's handle and their key;
//! - layout 5: the store holds, as rows written in the commit of their entries,
//!   handle → key and latest entry, and message key → entry (`lookup.rs`);
//! - layout 6: the same rows, which a store may keep outside its key space (the sled
//!   store's `rows.dat`); the marker changed so that older versions refuse the folder.
//!
//! Erasure overwrites a recipient's private records and the handle and key of
//! their lookup records with zeros, in the commit of the `erasure` entry.
//!
//! Erasure also keeps, per erased message, a suppression tag (`sup/` index, Private
//! space): the recipient who gives the address can still object (SPEC.md §7).
//!
//! Older layouts, converted once when a store is opened (`migrate.rs`):
//! - layout 4 had no rows: the ledger rebuilt both indexes in memory from the
//!   lookup records on every open (time and memory that grew with the log);
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
use crate::privacy::lookup::{self, Handle};
use crate::store::{keys, Space, Store};

/// The link of a private record that ends its recipient's chain.
pub(crate) const NONE: u64 = u64::MAX;

pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
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

    /// A layout whose private records are chained from entry `chained_from` on.
    pub(crate) const fn chained_from_entry(chained_from: u64) -> Layout {
        Layout { chained_from }
    }

    /// The put that records this layout (layout 6: layout 5's rows, which a store may keep
    /// outside its key space, as the sled store does in `rows.dat`).
    pub(crate) fn put(&self) -> (Space, Vec<u8>, Vec<u8>) {
        self.marker(b'6')
    }

    /// The put that records layout `digit` with this layout's first chained entry.
    pub(crate) fn marker(&self, digit: u8) -> (Space, Vec<u8>, Vec<u8>) {
        (Space::Private, keys::LAYOUT.to_vec(), [&[digit][..], &self.chained_from.to_be_bytes()].concat())
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
        let mut all = match store.get(Space::Private, &keys::legacy_list(handle))? {
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
        Ok(Erasure { deletes: vec![(Space::Private, keys::legacy_list(handle))], wipe })
    }

    /// Checks the private records and the recipient part of the lookup records of a
    /// store of `size` entries against each other (`fsck`): both name the same
    /// recipient, every chained record links to its recipient's previous one, a
    /// chain keeps one key, and each live recipient's row holds their key and latest entry.
    /// Returns the number of recipients. A chain may start afresh (an erasure ends the old one).
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
        lookup::check_recipient_rows(store, &latest)?;
        Ok(latest.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
