//! Catching up with what another front end appended ([`catch_up`]): this front end's copy of
//! the log (the tree's right edge, the signed checkpoint, the registry, the cached message-id
//! and recipient rows, the objections) brought to the store's head, checked as `Ledger::open`
//! checks a store: the new leaves come from the level-0 hash tiles, and the right edge they
//! extend must have the root the signed checkpoint holds, under a log key the log registered.
//! Nothing is published before that holds. No index is rebuilt: the message-id and recipient
//! rows are the store's (written in the commit of their entries), and only bounded caches of
//! them are kept here. What a catch-up reads grows with what was appended since, never with
//! the log.
//!
//! The log's own records among the new entries are found by their lookup record (a message or
//! a tally always has a message key; a registration, an objection or an erasure has none), and
//! only they are read: a registration joins the registry, an objection reloads the objections,
//! an erasure empties the cache of recipients (their rows are the store's; it deleted some).
//! The new lookup records update the caches of message ids and recipients as a commit would.
//! The new entries then go to the commit listener (the library), each checked against its leaf.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::entry::Entry;
use crate::pipeline::state::{check_leaf, lock_poisoned, objectors, Shared};
use crate::privacy::lookup::{parts, Change, Recipient};
use crate::privacy::RecipientKey;
use crate::store::{LookupRecord, Store};
use crate::tlog::merkle::Hash;
use crate::tlog::note::{Checkpoint, SignedNote};

/// How many entries a catch-up reads at a time.
const CHUNK: u64 = 4096;

/// Brings this front end's copy of the log to the store's head; whether it grew. Call it only
/// while nothing is staged in this front end's pipeline (it does not sequence, or its pipeline
/// passed a barrier).
pub(crate) fn catch_up(shared: &Shared) -> Result<bool> {
    let store = shared.store.as_ref();
    let Some(head) = store.head()? else { return Ok(false) };
    let (from, mut edge) = {
        let st = shared.read()?;
        (st.size, (*st.published).clone())
    };
    if head.size < from {
        return Err(Error::Corrupt(format!(
            "the store's log has {} entries but this front end served {from}; the database was restored from an older backup or another log was put in its place",
            head.size
        )));
    }
    if head.size == from {
        return Ok(false);
    }
    let size = head.size;
    let leaves = leaves(store, from, size)?;
    let full = edge.extend(&leaves);
    let lookups = lookups(store, from, size)?;
    // The log's own records: no message key in their lookup record.
    let mut registry = (*shared.read()?.registry).clone();
    let (mut erased, mut objected) = (false, false);
    for (index, r) in (from..).zip(&lookups) {
        if r[..16].iter().any(|&b| b != 0) {
            continue;
        }
        let bytes = store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is missing from the store")))?;
        check_leaf(index, &bytes, &leaves[(index - from) as usize])?;
        match Entry::parse(&bytes)?.body.get("kind").and_then(|k| k.as_str()).unwrap_or_default() {
            "log_key" | "submitter" | "party" => registry.apply_entry(index, &bytes)?,
            "erasure" => erased = true,
            "objection" => objected = true,
            _ => {}
        }
    }
    let note = SignedNote::parse(&head.checkpoint).map_err(|e| Error::Corrupt(format!("the store's checkpoint: {e}")))?;
    note.verify(&registry.all_log_keys()).map_err(|e| Error::Corrupt(format!("the store's checkpoint: {e}")))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| Error::Corrupt(format!("the store's checkpoint: {e}")))?;
    if cp.size != size || cp.root != edge.root() {
        return Err(Error::Corrupt(format!(
            "the store's tiles make a tree of root {} at size {size}, but its signed checkpoint says {} at size {}",
            hex::encode(edge.root()),
            hex::encode(cp.root),
            cp.size
        )));
    }
    let objections = if objected { Some(objectors(store)?) } else { None };
    let mut change = Change::default();
    for (index, r) in (from..).zip(&lookups) {
        let (message, recipient) = parts(r);
        change.messages.extend(message.map(|m| (m, index)));
        change.recipients.extend(recipient.map(|(h, key)| (h, Recipient { key: RecipientKey(key), last: index })));
    }
    {
        let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
        if st.size != from {
            return Ok(false);
        }
        st.edge = edge.clone();
        st.published = Arc::new(edge);
        st.size = size;
        st.checkpoint = head.checkpoint;
        st.registry = Arc::new(registry);
        // What the sequencer had staged on this front end's copy, if anything, is void.
        st.epoch = st.epoch.wrapping_add(1);
        shared.tiles.remember(&full);
        // As a commit publishes: in the same critical section as the size. An erasure deleted
        // rows of recipients that no lookup record names any more: forget every cached one.
        if erased {
            shared.lookup.forget_recipients();
        }
        shared.lookup.apply(&change);
    }
    if let Some(o) = objections {
        *shared.objectors.lock().map_err(|_| lock_poisoned())? = o;
    }
    tell_listener(shared, from, size)?;
    Ok(true)
}

/// The leaf hashes of entries `from..to`, from the level-0 hash tiles.
fn leaves(store: &dyn Store, from: u64, to: u64) -> Result<Vec<Hash>> {
    let mut out = Vec::with_capacity((to - from) as usize);
    let mut i = from;
    while i < to {
        let t = i / 256;
        let end = ((t + 1) * 256).min(to);
        let tile = store.tile(0, t)?.ok_or_else(|| Error::Corrupt(format!("hash tile 0/{t} is missing")))?;
        let (a, b) = (((i - t * 256) * 32) as usize, ((end - t * 256) * 32) as usize);
        let hashes = tile.get(a..b).ok_or_else(|| Error::Corrupt(format!("hash tile 0/{t} is shorter than the tree size needs")))?;
        out.extend(hashes.chunks_exact(32).map(|c| <Hash>::try_from(c).unwrap_or([0; 32])));
        i = end;
    }
    Ok(out)
}

/// The lookup records of entries `from..to`, every one of them.
fn lookups(store: &dyn Store, from: u64, to: u64) -> Result<Vec<LookupRecord>> {
    let mut out = Vec::with_capacity((to - from) as usize);
    while from + (out.len() as u64) < to {
        let start = from + out.len() as u64;
        let chunk = store.lookups(start, (start + CHUNK).min(to))?;
        if chunk.is_empty() {
            return Err(Error::Corrupt(format!("the lookup record of entry {start} is missing")));
        }
        out.extend(chunk);
    }
    Ok(out)
}

/// Hands entries `from..to` to the commit listener, as a commit of this front end would.
fn tell_listener(shared: &Shared, from: u64, to: u64) -> Result<()> {
    if shared.listener.read().map_or(true, |l| l.is_none()) {
        return Ok(());
    }
    let mut start = from;
    while start < to {
        let end = (start + CHUNK).min(to);
        let entries = checked_entries(shared, start, end)?;
        if let Ok(l) = shared.listener.read() {
            if let Some(f) = l.as_ref() {
                f(start, &entries);
            }
        }
        start = end;
    }
    Ok(())
}

/// Published entries `start..end` from the store, each checked against its leaf.
pub(crate) fn checked_entries(shared: &Shared, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
    let entries = shared.store.entries(start, end)?;
    if entries.len() as u64 != end - start {
        return Err(Error::Corrupt(format!("entry {} is missing from the store", start + entries.len() as u64)));
    }
    let leaves = shared.tree()?.leaves(start, end)?;
    if leaves.len() != entries.len() {
        return Err(Error::Corrupt(format!("entry {} is not in the tree", start + leaves.len() as u64)));
    }
    for ((index, bytes), leaf) in (start..).zip(&entries).zip(&leaves) {
        check_leaf(index, bytes, leaf)?;
    }
    Ok(entries)
}
