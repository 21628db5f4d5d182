//! The committer: the second of the batcher's two threads (`batcher.rs` is the
//! first). It takes the groups the sequencer staged, in order, writes each group in **one atomic, fsynced store commit**,
//! publishes the new size and checkpoint, and only then answers the callers.
//!
//! Nothing is acknowledged before [`Store::commit`] returned `Ok`. If it fails,
//! the tree is rolled back to the published size and the state's epoch moves
//! on, so every group staged on top of the failed one fails too, and every
//! waiting caller gets the error: nothing half-written is ever served.
//!
//! Log-signed records (`log_record`) take the same two steps, extend-and-sign
//! then store-and-publish, on the sequencer's thread once nothing is staged.

use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Instant;

use serde_json::Value;

use crate::append::{Durable, Effect, Prepared, Settled};
use crate::canonical::{jcs, signed_message, Entry};
use crate::error::{Error, Result};
use crate::ledger::{check_leaf, lock_poisoned, sign_checkpoint, Shared};
use crate::lookup::Change;
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::NoteSigner;
use crate::record::{format_time, Body, Channel};
use crate::store::{Commit, LookupRecord, Space, Store};

// ---- key names of the Index and Private spaces (the only place they are spelled) ----
pub(crate) fn key_registry(index: u64) -> Vec<u8> {
    [b"reg/".as_slice(), &index.to_be_bytes()].concat()
}
pub(crate) fn key_objection(handle: &[u8], advertiser: &str) -> Vec<u8> {
    [OBJECTION, handle, advertiser.as_bytes()].concat()
}
const OBJECTION: &[u8] = b"ob/";
/// The suppression tag an erasure keeps of message `index` (SPEC.md §7).
pub(crate) fn key_suppression(index: u64) -> Vec<u8> {
    [b"sup/".as_slice(), &index.to_be_bytes()].concat()
}

/// The handles of every recipient with an objection on file (read once on open; objections
/// are few). The sequencer then asks the store about objections only for these recipients,
/// instead of one store read per appended record.
pub(crate) fn objectors(store: &dyn Store) -> Result<HashSet<[u8; 32]>> {
    store
        .scan(Space::Private, OBJECTION)?
        .into_iter()
        .map(|(key, _)| {
            key.get(OBJECTION.len()..OBJECTION.len() + 32)
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
                .ok_or_else(|| Error::Corrupt("an objection row's key is too short to hold a recipient handle".into()))
        })
        .collect()
}

/// A caller's prepared records and where to answer it.
pub(crate) type Waiting = (Vec<Prepared>, mpsc::SyncSender<Result<Durable>>);

/// What the sequencer hands the committer.
pub(crate) enum Stage {
    /// A sequenced group whose tree extension is signed.
    Group(Box<Group>),
    /// Answered once every group staged before it is published or failed.
    Barrier(mpsc::SyncSender<()>),
}

/// Where an acknowledged record lives: a new entry of its group, the same new entry again (the
/// record repeated later in its batch, or sent by another request of the group), or an older one.
/// Only `New` says `duplicate: false`: the record that appended the entry (SPEC.md §12).
pub(crate) enum Slot {
    New(usize),
    Repeat(usize),
    Existing(u64),
}

/// One acknowledged record of a caller: its slot, message id, warnings and channel (for its
/// reference, SPEC.md §10.2).
pub(crate) type Acked = (Slot, Option<String>, Vec<String>, Option<Channel>);

/// A caller's records, each with its slot, message id, warnings and channel.
pub(crate) struct Planned {
    pub(crate) slots: Vec<Acked>,
    pub(crate) reply: mpsc::SyncSender<Result<Durable>>,
}

/// A sequenced group of new entries, from the sequencer to the committer.
pub(crate) struct Group {
    /// The state's epoch it was planned in; a failed commit since makes it void.
    pub(crate) epoch: u64,
    /// Index of its first entry.
    pub(crate) base: u64,
    pub(crate) entries: Vec<Vec<u8>>,
    pub(crate) leaves: Vec<Hash>,
    /// The private record of each entry (its personal part sealed), in order.
    pub(crate) private: Vec<Vec<u8>>,
    /// One per entry, in order.
    pub(crate) lookup: Vec<LookupRecord>,
    /// Applied to the in-memory indexes when the group is published.
    pub(crate) change: Change,
    pub(crate) planned: Vec<Planned>,
    /// Set by [`Group::extend_and_sign`].
    checkpoint: String,
    tiles: Vec<((u8, u64), Vec<u8>)>,
    /// Time spent extending the tree and signing, for the commit metric.
    extend_micros: u64,
}

impl Group {
    pub(crate) fn new(epoch: u64, base: u64) -> Group {
        Group {
            epoch,
            base,
            entries: Vec::new(),
            leaves: Vec::new(),
            private: Vec::new(),
            lookup: Vec::new(),
            change: Change::default(),
            planned: Vec::new(),
            checkpoint: String::new(),
            tiles: Vec::new(),
            extend_micros: 0,
        }
    }

    /// Extends the in-memory tree by the group's leaves and signs the checkpoint of the new
    /// size. The tree then runs ahead of the published size until the committer publishes
    /// the group or rolls it back.
    pub(crate) fn extend_and_sign(&mut self, shared: &Shared) -> Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        (self.checkpoint, self.tiles) = extend_and_sign(shared, self.epoch, self.base, &self.leaves, None)?;
        self.extend_micros = t.elapsed().as_micros() as u64;
        Ok(())
    }

    /// Answers every caller of the group with `e`.
    pub(crate) fn fail(self, e: &Error) {
        fail_all(self.planned, e);
    }

    /// The callers of the group, to be answered by someone else.
    pub(crate) fn into_planned(self) -> Vec<Planned> {
        self.planned
    }
}

/// Answers each of `planned` with `e`: nothing of theirs was acknowledged.
pub(crate) fn fail_all(planned: Vec<Planned>, e: &Error) {
    for p in planned {
        let _ = p.reply.send(Err(e.clone()));
    }
}

/// The committer's loop: one staged group at a time, in order, until the sequencer is gone.
pub(crate) fn run(shared: &Shared, staged: mpsc::Receiver<Stage>) {
    for stage in staged {
        match stage {
            Stage::Barrier(done) => {
                let _ = done.send(());
            }
            Stage::Group(group) => commit_group(shared, *group),
        }
    }
}

/// Makes one group durable and answers its callers.
fn commit_group(shared: &Shared, group: Group) {
    let epoch = match shared.state.read() {
        Ok(st) => st.epoch,
        Err(_) => return group.fail(&lock_poisoned()),
    };
    if group.epoch != epoch {
        return group.fail(&Error::Storage(
            "an earlier group commit failed and this batch was sequenced after it, so none of it was written".into(),
        ));
    }
    let Group { base, entries, private, lookup, change, planned, checkpoint, tiles, extend_micros, .. } = group;
    if entries.is_empty() {
        // Only duplicates: answered in order, once what they repeat is published.
        return respond(shared, planned, Vec::new(), base);
    }
    let stored = {
        let t = Instant::now();
        let commit = Commit {
            size: base + entries.len() as u64,
            checkpoint,
            entries: (base..).zip(entries).collect(),
            private,
            lookup,
            tiles,
            ..Commit::default()
        };
        store_and_publish(shared, commit, change, extend_micros + t.elapsed().as_micros() as u64)
    };
    match stored {
        Ok(entries) => respond(shared, planned, entries, base),
        Err(e) => fail_all(planned, &e),
    }
}

/// Extends the tree at `base` (which must be its size, in `epoch`) and signs the checkpoint
/// of the new size; returns it with the hash tiles that changed.
#[allow(clippy::type_complexity)]
pub(crate) fn extend_and_sign(
    shared: &Shared,
    epoch: u64,
    base: u64,
    leaves: &[Hash],
    checkpoint_signer: Option<&NoteSigner>,
) -> Result<(String, Vec<((u8, u64), Vec<u8>)>)> {
    let new_size = base + leaves.len() as u64;
    let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
    if st.epoch != epoch {
        return Err(Error::Storage("a group commit failed while this batch was being sequenced, so none of it was written".into()));
    }
    if st.tree.size() != base {
        return Err(Error::Corrupt(format!("tree size {} differs from the expected {base}", st.tree.size())));
    }
    st.tree.extend(leaves);
    let signer = shared.signer.read().map_err(|_| lock_poisoned())?;
    match sign_checkpoint(checkpoint_signer.unwrap_or(&signer), &st.tree, new_size) {
        Ok(cp) => Ok((cp, touched_tiles(&st.tree, base, new_size))),
        Err(e) => {
            st.tree.truncate(base);
            Err(e)
        }
    }
}

/// Writes a commit durably and publishes it; on failure rolls the tree back to the
/// published size and moves the epoch on, so that nothing staged on top of it survives.
pub(crate) fn store_and_publish(shared: &Shared, commit: Commit, change: Change, micros_so_far: u64) -> Result<Vec<Vec<u8>>> {
    let started = Instant::now();
    let base = commit.entries.first().map_or(commit.size, |(i, _)| *i);
    let stored = shared.store.commit(&commit);
    let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
    if let Err(e) = stored {
        let published = st.size;
        st.tree.truncate(published);
        st.epoch = st.epoch.wrapping_add(1);
        tracing::error!(error = %e, entries = commit.entries.len(), first = base, "group commit failed; nothing of it acknowledged");
        return Err(e);
    }
    let Commit { size, checkpoint, entries, .. } = commit;
    st.size = size;
    st.checkpoint = checkpoint;
    // In the same critical section as the size: a reader that sees an entry finds its recipient.
    st.lookup.apply(change);
    drop(st);
    let entries: Vec<Vec<u8>> = entries.into_iter().map(|(_, e)| e).collect();
    shared.metrics.observe_commit(entries.len() as u64, micros_so_far + started.elapsed().as_micros() as u64);
    if let Ok(l) = shared.listener.read() {
        if let Some(f) = l.as_ref() {
            f(base, &entries);
        }
    }
    Ok(entries)
}

/// The hash tiles whose content changes when the tree grows from `old` to `new`.
pub(crate) fn touched_tiles(tree: &Tree, old: u64, new: u64) -> Vec<((u8, u64), Vec<u8>)> {
    let mut out = Vec::new();
    for level in 0u8..8 {
        let shift = 8 * u32::from(level);
        let (old_n, new_n) = (old >> shift, new >> shift);
        if new_n == 0 {
            break;
        }
        if new_n == old_n {
            continue;
        }
        let hashes = tree.level(shift as usize);
        for t in (old_n / 256)..=((new_n - 1) / 256) {
            let lo = (t * 256) as usize;
            let hi = (new_n as usize).min(lo + 256).min(hashes.len());
            out.push(((level, t), hashes[lo.min(hi)..hi].concat()));
        }
    }
    out
}

/// Sends each caller its settled records. An entry's bytes move into the last record that
/// uses them (a message repeated within the group shares its entry).
fn respond(shared: &Shared, planned: Vec<Planned>, entries: Vec<Vec<u8>>, base: u64) {
    let Ok(st) = shared.state.read() else { return };
    let (checkpoint, size) = (st.checkpoint.clone(), st.size);
    let mut uses = vec![0usize; entries.len()];
    for (slot, ..) in planned.iter().flat_map(|p| &p.slots) {
        if let Slot::New(i) | Slot::Repeat(i) = slot {
            if let Some(u) = uses.get_mut(*i) {
                *u += 1;
            }
        }
    }
    let mut entries: Vec<Option<Vec<u8>>> = entries.into_iter().map(Some).collect();
    let mut take = |i: usize| -> Option<Vec<u8>> {
        let left = uses.get_mut(i)?;
        *left = left.saturating_sub(1);
        let slot = entries.get_mut(i)?;
        if *left == 0 {
            slot.take()
        } else {
            slot.clone()
        }
    };
    for job in planned {
        let records: Result<Vec<Settled>> = job
            .slots
            .into_iter()
            .map(|(slot, message_id, warnings, channel)| {
                let (index, duplicate) = match slot {
                    Slot::New(i) => (base + i as u64, false),
                    Slot::Repeat(i) => (base + i as u64, true),
                    Slot::Existing(i) => (i, true),
                };
                let bytes = match slot {
                    Slot::New(i) | Slot::Repeat(i) => take(i).ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?,
                    Slot::Existing(_) => {
                        let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?;
                        let leaf = st.tree.leaf(index).ok_or_else(|| Error::Corrupt(format!("entry {index} is not in the tree")))?;
                        check_leaf(index, &stored, &leaf)?;
                        stored
                    }
                };
                Ok(Settled { index, message_id, duplicate, warnings, bytes, why_link: true, channel })
            })
            .collect();
        let _ = job.reply.send(records.map(|records| Durable { checkpoint: checkpoint.clone(), size, records }));
    }
}

/// Appends one log-signed record (registration, rotation, objection, erasure). Runs on the
/// sequencer's thread once nothing is staged, so the tree's size is the published size.
pub(crate) fn log_record(shared: &Shared, body_value: Value, effect: Effect) -> Result<Durable> {
    if let Effect::Objection { handle, advertiser } = &effect {
        // Checked here, on the one thread that appends log records, so that two objections
        // sent at once cannot both be new.
        if let Some(earlier) = crate::rights::objection_on_file(shared, handle, advertiser)? {
            return Ok(earlier);
        }
    }
    let body = Body::parse(&body_value, 0)?;
    let body_jcs = jcs(&body_value)?;
    let (epoch, base, prev) = {
        let st = shared.state.read().map_err(|_| lock_poisoned())?;
        (st.epoch, st.size, st.tree.leaf(st.size.wrapping_sub(1)).unwrap_or([0; 32]))
    };
    let sig = shared.signer.read().map_err(|_| lock_poisoned())?.sign_bytes(&signed_message(&body_jcs));
    let bytes = Entry::encode(base, &prev, &format_time(time::OffsetDateTime::now_utc()), &[], &body_jcs, &sig)?;
    let (mut puts, mut deletes, mut wipe, mut change) = (Vec::new(), Vec::new(), Vec::new(), Change::default());
    match &effect {
        Effect::Registry | Effect::Rotate(_) => puts.push((Space::Index, key_registry(base), Vec::new())),
        Effect::Objection { handle, advertiser } => {
            puts.push((Space::Private, key_objection(handle, advertiser), base.to_be_bytes().to_vec()))
        }
        Effect::Erase { handles } => {
            // The commit overwrites the recipients' keys (crypto-shredding), their link to
            // their entries and the sealed records with zeros, and the ledger forgets them. It
            // keeps one suppression tag per erased message, so that its recipient can still
            // object through its link (SPEC.md §7).
            for handle in handles {
                let last = shared.state.read().map_err(|_| lock_poisoned())?.lookup.recipient(handle).map(|r| r.last);
                let erasure = shared.layout.erasure(shared.store.as_ref(), handle, last)?;
                for &index in &erasure.wipe {
                    puts.push((Space::Private, key_suppression(index), shared.secret.suppression_tag(index, handle).to_vec()));
                }
                deletes.extend(erasure.deletes);
                wipe.extend(erasure.wipe);
                change.forget.push(*handle);
            }
        }
    }
    let rotate_to = match &effect {
        Effect::Rotate(s) => Some(s.as_ref()),
        _ => None,
    };
    let started = Instant::now();
    let (checkpoint, tiles) = extend_and_sign(shared, epoch, base, &[leaf_hash(&bytes)], rotate_to)?;
    let commit = Commit { size: base + 1, checkpoint, entries: vec![(base, bytes)], tiles, puts, deletes, wipe, ..Commit::default() };
    let bytes = store_and_publish(shared, commit, change, started.elapsed().as_micros() as u64)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Corrupt(format!("entry {base} is missing after its commit")))?;
    if let Effect::Objection { handle, .. } = &effect {
        shared.objectors.lock().map_err(|_| lock_poisoned())?.insert(*handle);
    }
    {
        let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
        std::sync::Arc::make_mut(&mut st.registry).apply(base, &body)?;
    }
    if let Effect::Rotate(s) = effect {
        *shared.signer.write().map_err(|_| lock_poisoned())? = *s;
    }
    let st = shared.state.read().map_err(|_| lock_poisoned())?;
    let record = Settled { index: base, message_id: None, duplicate: false, warnings: Vec::new(), bytes, why_link: false, channel: None };
    Ok(Durable { checkpoint: st.checkpoint.clone(), size: base + 1, records: vec![record] })
}
