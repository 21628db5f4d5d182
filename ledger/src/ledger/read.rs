//! Everything that reads what the log published. Every entry read back is checked against its
//! leaf in the tree whose root the signed checkpoint holds, so bytes changed or damaged in
//! storage are refused ([`Error::Corrupt`]), never served.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::evidence::receipt::Receipt;
use crate::ledger::{Ledger, PersonalState};
use crate::model::registry::Registry;
use crate::model::request_auth::RequestAuth;
use crate::pipeline::state::check_leaf;
use crate::privacy::lookup::Handle;
use crate::privacy::{Personal, RecipientKey};
use crate::tlog::merkle::{self, leaf_hash, Hash, Subtrees};
use crate::tlog::tiles;

/// One published entry and what a page shows beside it, read in one look at the published
/// state ([`Ledger::snapshot`]): the entry, its personal part, the registry and the log's size
/// as they were at the same moment, so that a page never mixes two states of the log.
#[derive(Clone, Debug)]
pub struct EntrySnapshot {
    /// The entry's index.
    pub index: u64,
    /// The entry's bytes, checked against its leaf in the signed tree.
    pub bytes: Vec<u8>,
    /// The entry's leaf hash, which its reference names (SPEC.md §10.2).
    pub leaf: Hash,
    /// Its personal part, decrypted or erased; `None` if it has none.
    pub personal: Option<PersonalState>,
    /// The registry (log keys, submitters, parties) at that moment.
    pub registry: Arc<Registry>,
    /// The published size at that moment.
    pub size: u64,
}

impl Ledger {
    /// The published tree size.
    pub fn size(&self) -> u64 {
        self.state().map(|s| s.size).unwrap_or(0)
    }

    /// The published size and its signed checkpoint, read together.
    pub fn head(&self) -> Result<(u64, String)> {
        let st = self.state()?;
        Ok((st.size, st.checkpoint.clone()))
    }

    /// The latest signed checkpoint (note text).
    pub fn checkpoint(&self) -> Result<String> {
        Ok(self.state()?.checkpoint.clone())
    }

    /// A snapshot of the registry.
    pub fn registry(&self) -> Result<Arc<Registry>> {
        Ok(Arc::clone(&self.state()?.registry))
    }

    /// Checks a request's `Authorization` signature (SPEC.md §12) against the key this log
    /// registered for its submitter, bound to this log's origin; see [`crate::request_auth`].
    pub fn verify_request(&self, auth: &RequestAuth, request: &str) -> Result<()> {
        self.fresh(
            || self.state()?.registry.verify_request(self.origin(), auth, request),
            |r| matches!(r, Err(Error::UnknownSubmitter(_) | Error::BadSignature(_))),
        )
    }

    /// Entry bytes at `index`, if published.
    ///
    /// Every entry read is checked against its leaf in the tree whose root the signed checkpoint
    /// holds, so bytes changed or damaged in storage are refused (`Error::Corrupt`), never served.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        self.fresh(|| self.published_entry(index), |r| matches!(r, Ok(None)))
    }

    fn published_entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let Some(leaf) = self.published_leaves(index, index.saturating_add(1))?.pop() else { return Ok(None) };
        let bytes = self.shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("published entry {index} is missing")))?;
        check_leaf(index, &bytes, &leaf)?;
        Ok(Some(bytes))
    }

    /// Published entries `start..end`, each checked like [`Ledger::entry`].
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let leaves = self.published_leaves(start, end)?;
        if leaves.is_empty() {
            return Ok(Vec::new());
        }
        let batch = self.shared.store.entries(start, start + leaves.len() as u64)?;
        if batch.len() < leaves.len() {
            return Err(Error::Corrupt(format!("published entry {} is missing", start + batch.len() as u64)));
        }
        // Checked on all cores; the first bad entry is the one reported.
        if let Some(k) = batch.par_iter().zip(&leaves).position_first(|(bytes, leaf)| leaf_hash(bytes) != *leaf) {
            check_leaf(start + k as u64, &batch[k], &leaves[k])?;
        }
        Ok(batch)
    }

    /// The leaf hashes of published entries `start..end` (clipped to the published size).
    fn published_leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        self.shared.tree()?.leaves(start, end)
    }

    /// RFC 9162 inclusion proof of `index` in the tree of `size` (≤ published size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.fresh(|| self.published_inclusion_proof(index, size), |r| matches!(r, Err(Error::OutOfRange(_))))
    }

    fn published_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let tree = self.shared.tree()?;
        if size > tree.size() {
            return Err(Error::OutOfRange(format!("size {size} is beyond the published checkpoint size {}", tree.size())));
        }
        self.shared.metrics.proofs_served.fetch_add(1, Ordering::Relaxed);
        merkle::inclusion_proof(&tree, index, size)
    }

    /// RFC 9162 consistency proof between two published sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        self.fresh(|| self.published_consistency_proof(old, new), |r| matches!(r, Err(Error::OutOfRange(_))))
    }

    fn published_consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        let tree = self.shared.tree()?;
        if new > tree.size() {
            return Err(Error::OutOfRange(format!("size {new} is beyond the published checkpoint size {}", tree.size())));
        }
        self.shared.metrics.proofs_served.fetch_add(1, Ordering::Relaxed);
        merkle::consistency_proof(&tree, old, new)
    }

    /// Leaf hash of a published entry.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash> {
        let tree = self.shared.tree()?;
        if index >= tree.size() {
            return Err(Error::OutOfRange(format!("entry {index} does not exist; the log has {} entries", tree.size())));
        }
        tree.leaf(index)
    }

    /// A C2SP hash tile, if it exists at the published size.
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>> {
        let tile = || {
            let tree = self.shared.tree()?;
            tiles::tile_bytes(&tree, level, index, width, tree.size())
        };
        self.fresh(tile, Result::is_err)
    }

    /// A C2SP hash tile as it is at tree size `size` (no larger than the published size): what
    /// a reader of that size's checkpoint fetches, also once the log has grown past it.
    pub fn tile_at(&self, level: u8, index: u64, width: u16, size: u64) -> Result<Vec<u8>> {
        let tree = self.shared.tree()?;
        if size > tree.size() {
            return Err(Error::OutOfRange(format!("size {size} is beyond the published checkpoint size {}", tree.size())));
        }
        tiles::tile_bytes(&tree, level, index, width, size)
    }

    /// A C2SP entry bundle, if it exists at the published size.
    pub fn entry_bundle(&self, index: u64, width: u16) -> Result<Vec<u8>> {
        self.fresh(|| self.entry_bundle_at(index, width, self.size()), |r| matches!(r, Err(Error::OutOfRange(_))))
    }

    /// A C2SP entry bundle as it is at tree size `size` (no larger than the published size).
    pub fn entry_bundle_at(&self, index: u64, width: u16, size: u64) -> Result<Vec<u8>> {
        if size > self.size() {
            return Err(Error::OutOfRange(format!("size {size} is beyond the published checkpoint size {}", self.size())));
        }
        let start = index.checked_mul(256).ok_or_else(|| Error::OutOfRange("tile index overflows".into()))?;
        let avail = size.saturating_sub(start).min(256);
        let exists = if width == 256 { avail == 256 } else { width > 0 && avail < 256 && u64::from(width) <= avail };
        if !exists {
            return Err(Error::OutOfRange(format!("entry bundle {index} of width {width} does not exist at tree size {size}")));
        }
        let end = start + u64::from(width);
        let entries = self.entries(start, end)?;
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        tiles::encode_entry_bundle(&refs)
    }

    /// The offline receipt of a published entry, at the current checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Receipt> {
        let (tree, checkpoint) = {
            let st = self.state()?;
            (self.shared.tiles.view(Arc::clone(&st.published)), st.checkpoint.clone())
        };
        let size = tree.size();
        if index >= size {
            return Err(Error::OutOfRange(format!("entry {index} does not exist; the log has {size} entries")));
        }
        let (proof, leaf) = (merkle::inclusion_proof(&tree, index, size)?, tree.leaf(index)?);
        let entry = self
            .shared
            .store
            .entry(index)?
            .ok_or_else(|| Error::Corrupt(format!("entry {index} < size {size} is missing from the store")))?;
        // A receipt for damaged bytes would not verify: refuse it as corrupt, like every read.
        check_leaf(index, &entry, &leaf)?;
        Ok(Receipt::new(&entry, index, &proof, &checkpoint))
    }

    /// The why-token of a message entry.
    pub fn why_token(&self, index: u64) -> String {
        self.shared.secret.why_token(index)
    }

    /// The form token of a why link, which the recipient forms of its page carry (SPEC.md §12
    /// "Recipients").
    pub fn form_token(&self, why_token: &str) -> String {
        self.shared.secret.form_token(why_token)
    }

    /// Whether `given` is the form token of `why_token`.
    pub fn check_form_token(&self, why_token: &str, given: &str) -> bool {
        self.shared.secret.check_form_token(why_token, given)
    }

    /// The entry index a why-token names, if genuine and published.
    pub fn check_why_token(&self, token: &str) -> Option<u64> {
        let index = self.shared.secret.check_why_token(token)?;
        // A genuine token of an entry this front end has not seen yet: another front end of a
        // shared log appended it a moment ago.
        self.fresh(|| Ok(index < self.size()), |r| matches!(r, Ok(false))).ok().filter(|&published| published).map(|_| index)
    }

    /// The personal part of a message entry, decrypted; `None` if the entry has none.
    pub fn personal(&self, index: u64) -> Result<Option<PersonalState>> {
        let Some(record) = self.shared.store.private(index)? else { return Ok(None) };
        self.open_personal(index, &record, |handle| {
            let _published = self.state()?;
            Ok(self.shared.lookup.recipient_locked(handle)?.map(|r| r.key))
        })
    }

    /// The personal part a private record holds, opened with the key `key_of` gives its
    /// recipient (`None`: erased).
    fn open_personal(
        &self,
        index: u64,
        record: &[u8],
        key_of: impl FnOnce(&Handle) -> Result<Option<RecipientKey>>,
    ) -> Result<Option<PersonalState>> {
        let Some(part) = self.shared.layout.split(index, record)? else {
            return Ok(if record.is_empty() { None } else { Some(PersonalState::Erased) });
        };
        let handle: Handle = part.handle.try_into().map_err(|_| Error::Corrupt(format!("private record {index} is truncated")))?;
        let Some(key) = key_of(&handle)? else { return Ok(Some(PersonalState::Erased)) };
        let plain = key.open(index, part.sealed)?;
        let corrupt = |e: &dyn std::fmt::Display| Error::Corrupt(format!("personal part of entry {index}: {e}"));
        // UTF-8 checked once, not again for every string by the decoder.
        let text = std::str::from_utf8(&plain).map_err(|e| corrupt(&e))?;
        let p: Personal = serde_json::from_str(text).map_err(|e| corrupt(&e))?;
        Ok(Some(PersonalState::Present(p)))
    }

    /// Published entry `index` and what a page shows beside it, read in one look at the
    /// published state so that they agree with each other (see [`EntrySnapshot`]); `None` if
    /// the entry is not published. The entry is checked against its leaf like [`Ledger::entry`].
    pub fn snapshot(&self, index: u64) -> Result<Option<EntrySnapshot>> {
        self.fresh(|| self.published_snapshot(index), |r| matches!(r, Ok(None)))
    }

    fn published_snapshot(&self, index: u64) -> Result<Option<EntrySnapshot>> {
        let store = &self.shared.store;
        let (bytes, tree, record, key, registry, size) = {
            let st = self.state()?;
            if index >= st.size {
                return Ok(None);
            }
            let tree = self.shared.tiles.view(Arc::clone(&st.published));
            let bytes = store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("published entry {index} is missing")))?;
            let record = store.private(index)?;
            // The recipient's key as this state holds it; an erasure published since is not seen.
            let handle =
                record.as_deref().and_then(|r| self.shared.layout.split(index, r).ok().flatten()).map(|p| Handle::try_from(p.handle));
            let key = match handle {
                // `st` is held: the row read may enter the cache.
                Some(Ok(h)) => self.shared.lookup.recipient_locked(&h)?.map(|r| r.key),
                _ => None,
            };
            (bytes, tree, record, key, Arc::clone(&st.registry), st.size)
        };
        let leaf = tree.leaf(index)?;
        check_leaf(index, &bytes, &leaf)?;
        let personal = match record {
            Some(record) => self.open_personal(index, &record, |_| Ok(key))?,
            None => None,
        };
        Ok(Some(EntrySnapshot { index, bytes, leaf, personal, registry, size }))
    }

    /// The latest entry of the recipient with `handle`, if they have personal data on file.
    pub(crate) fn latest_of(&self, handle: &[u8]) -> Result<Option<u64>> {
        let Ok(handle) = Handle::try_from(handle) else { return Ok(None) };
        Ok(self.shared.lookup.recipient(&handle)?.map(|r| r.last))
    }
}
