//! A backend that keeps everything in memory: the whole contract of [`Store`] (a commit is
//! applied whole or refused whole, records are positional, wipes zero what they name) except
//! durability, since nothing survives the process. It backs tests and the fuzz bodies, where a
//! copy of a whole store, damaged value by value (`damage.rs`, `fuzzing` feature), costs
//! microseconds.
//!
//! The head is kept as the sled backend stores it (`Head::encode`: the size, then the
//! checkpoint) and lookup records as plain bytes, so that damage can reach them as it would
//! reach bytes on a disk: a lookup record of the wrong length reads back cut or padded with
//! zeros.

#[cfg(feature = "fuzzing")]
pub(crate) mod damage;

use std::collections::BTreeMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::{Error, Result};
use crate::store::{Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES, LOOKUP_PRIVATE};

/// A [`Store`] in memory.
#[derive(Default)]
pub struct MemoryStore(RwLock<Mem>);

/// Everything a [`MemoryStore`] holds.
#[derive(Clone, Default)]
pub(crate) struct Mem {
    head: Option<Vec<u8>>,
    entries: Vec<Vec<u8>>,
    private: Vec<Vec<u8>>,
    /// Lookup records, as bytes so that damage can change their length (read back padded or cut).
    lookup: Vec<Vec<u8>>,
    tiles: BTreeMap<(u8, u64), Vec<u8>>,
    index: BTreeMap<Vec<u8>, Vec<u8>>,
    secret: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Mem {
    fn space(&self, space: Space) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        match space {
            Space::Index => &self.index,
            Space::Private => &self.secret,
        }
    }

    fn space_mut(&mut self, space: Space) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        match space {
            Space::Index => &mut self.index,
            Space::Private => &mut self.secret,
        }
    }
}

fn nth(records: &[Vec<u8>], index: u64) -> Option<Vec<u8>> {
    usize::try_from(index).ok().and_then(|i| records.get(i)).cloned()
}

fn poisoned() -> Error {
    Error::Storage("the in-memory store's lock was poisoned by a panic".into())
}

impl MemoryStore {
    fn read(&self) -> Result<RwLockReadGuard<'_, Mem>> {
        self.0.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Mem>> {
        self.0.write().map_err(|_| poisoned())
    }

    /// A copy of everything the store holds.
    #[cfg(feature = "fuzzing")]
    pub(crate) fn snapshot(&self) -> Result<Mem> {
        Ok(self.read()?.clone())
    }

    /// A store holding `mem` (a snapshot, perhaps damaged).
    #[cfg(feature = "fuzzing")]
    pub(crate) fn holding(mem: Mem) -> MemoryStore {
        MemoryStore(RwLock::new(mem))
    }
}

impl Store for MemoryStore {
    fn head(&self) -> Result<Option<Head>> {
        self.read()?.head.as_deref().map(Head::decode).transpose()
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(nth(&self.read()?.entries, index))
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let m = self.read()?;
        Ok((start..end).map_while(|i| nth(&m.entries, i)).collect())
    }

    fn private(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(nth(&self.read()?.private, index))
    }

    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>> {
        let m = self.read()?;
        let fixed = |r: &Vec<u8>| {
            let mut out = [0u8; LOOKUP_BYTES];
            let n = r.len().min(LOOKUP_BYTES);
            out[..n].copy_from_slice(&r[..n]);
            out
        };
        Ok((start..end).map_while(|i| nth(&m.lookup, i)).map(|r| fixed(&r)).collect())
    }

    fn lookup_count(&self) -> Result<u64> {
        Ok(self.read()?.lookup.len() as u64)
    }

    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()> {
        let mut m = self.write()?;
        let size = m.head.as_deref().map(Head::decode).transpose()?.map_or(0, |h| h.size);
        if records.len() as u64 != size {
            return Err(Error::Storage(format!("{} lookup records for a head of {size} entries; this is a bug", records.len())));
        }
        m.lookup = records.iter().map(|r| r.to_vec()).collect();
        Ok(())
    }

    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        let mut m = self.write()?;
        // Checked before anything is written, so a refused call changes nothing.
        for (i, head) in heads {
            if usize::try_from(*i).ok().and_then(|i| m.private.get(i)).is_none_or(|r| r.len() < head.len()) {
                return Err(Error::Storage(format!("private record {i} is missing or shorter than its new head")));
            }
        }
        for (i, head) in heads {
            if let Some(r) = usize::try_from(*i).ok().and_then(|i| m.private.get_mut(i)) {
                r[..head.len()].copy_from_slice(head);
            }
        }
        Ok(())
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.tiles.get(&(level, index)).cloned())
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.space(space).get(key).cloned())
    }

    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        let m = self.read()?;
        Ok(keys.iter().map(|k| m.space(space).get(k).cloned()).collect())
    }

    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let m = self.read()?;
        Ok(m.space(space)
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(&self, c: &Commit) -> Result<()> {
        c.unshared()?;
        let mut m = self.write()?;
        let (entries, private, lookup) = (m.entries.len() as u64, m.private.len() as u64, m.lookup.len() as u64);
        let positional = c.entries.iter().zip(0..).all(|((i, _), k)| *i == entries + k && *i == private + k && *i == lookup + k);
        let one_each = |n: usize| n == 0 || n == c.entries.len();
        if !positional || !one_each(c.private.len()) || !one_each(c.lookup.len()) {
            return Err(Error::Storage("records are append-only and positional; the commit does not follow the stored ones".into()));
        }
        m.entries.extend(c.entries.iter().map(|(_, e)| e.clone()));
        if c.private.is_empty() {
            m.private.extend(c.entries.iter().map(|_| Vec::new()));
        } else {
            m.private.extend(c.private.iter().cloned());
        }
        if c.lookup.is_empty() {
            m.lookup.extend(c.entries.iter().map(|_| vec![0; LOOKUP_BYTES]));
        } else {
            m.lookup.extend(c.lookup.iter().map(|r| r.to_vec()));
        }
        for ((level, index), bytes) in &c.tiles {
            m.tiles.insert((*level, *index), bytes.clone());
        }
        for (space, k, v) in &c.puts {
            m.space_mut(*space).insert(k.clone(), v.clone());
        }
        for (space, k) in &c.deletes {
            m.space_mut(*space).remove(k);
        }
        m.head = Some(Head::encode(c.size, &c.checkpoint));
        for &i in &c.wipe {
            if let Some(r) = usize::try_from(i).ok().and_then(|i| m.private.get_mut(i)) {
                r.fill(0);
            }
            if let Some(r) = usize::try_from(i).ok().and_then(|i| m.lookup.get_mut(i)) {
                r.iter_mut().skip(LOOKUP_PRIVATE.start).for_each(|b| *b = 0);
            }
        }
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let m = self.read()?;
        Ok(m.entries.iter().chain(&m.private).chain(m.tiles.values()).map(Vec::len).sum::<usize>() as u64)
    }
}
