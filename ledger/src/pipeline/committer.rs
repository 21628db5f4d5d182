//! The committer: the second of the ledger's two write threads (the sequencer, in
//! `sequencer/`, is the first). It takes the groups the sequencer staged, in order, writes each
//! group in **one atomic, fsynced store commit**, publishes the new size and checkpoint, and
//! only then answers the callers.
//!
//! Nothing is acknowledged before [`Store::commit`](crate::store::Store::commit) returned `Ok`.
//! If it fails, the tree is rolled back to the published size and the state's epoch moves on
//! ([`Shared::store_and_publish`]), so every group staged on top of the failed one fails too,
//! and every waiting caller gets the error: nothing half-written is ever served.

use std::sync::mpsc;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::pipeline::group::{fail_all, Group, Planned, Slot, Stage};
use crate::pipeline::handoff::{durable_text, Answered};
use crate::pipeline::jobs::{Durable, Settled};
use crate::pipeline::state::{check_leaf, lock_poisoned, Shared};
use crate::store::Commit;

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
    let Group { base, entries, private, lookup, change, planned, checkpoint, tiles, growth, extend_micros, .. } = group;
    let Some(growth) = growth.filter(|_| !entries.is_empty()) else {
        // Only duplicates: answered in order, once what they repeat is published.
        return respond(shared, planned, Vec::new(), base);
    };
    let stored = {
        let t = Instant::now();
        let size = base + entries.len() as u64;
        let answers = answers(&planned, &checkpoint, size, base);
        let commit =
            Commit { size, checkpoint, entries: (base..).zip(entries).collect(), private, lookup, tiles, answers, ..Commit::default() };
        shared.store_and_publish(commit, change, growth, extend_micros + t.elapsed().as_micros() as u64)
    };
    match stored {
        Ok(entries) => respond(shared, planned, entries, base),
        Err(e) => fail_all(planned, &e),
    }
}

/// The answers of the group's handed-over jobs, written in its commit (`handoff.rs`).
fn answers(planned: &[Planned], checkpoint: &str, size: u64, base: u64) -> Vec<(u64, String)> {
    planned
        .iter()
        .filter_map(|p| {
            let records = p
                .slots
                .iter()
                .map(|(slot, message_id, warnings, channel)| {
                    let (index, duplicate) = slot.place(base);
                    Answered {
                        index,
                        message_id: message_id.clone(),
                        duplicate,
                        warnings: warnings.clone(),
                        why_link: true,
                        channel: *channel,
                    }
                })
                .collect();
            Some((p.handoff?, durable_text(checkpoint, size, records)))
        })
        .collect()
}

/// Sends each caller its settled records. An entry's bytes move into the last record that
/// uses them (a message repeated within the group shares its entry).
fn respond(shared: &Shared, planned: Vec<Planned>, entries: Vec<Vec<u8>>, base: u64) {
    let Ok(st) = shared.state.read() else { return };
    // A group that appended nothing had no commit to answer its handed-over jobs in.
    let entries_were_empty = entries.is_empty();
    let (checkpoint, size) = (st.checkpoint.clone(), st.size);
    let tree = shared.tiles.view(std::sync::Arc::clone(&st.published));
    drop(st);
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
                let (index, duplicate) = slot.place(base);
                let bytes = match slot {
                    Slot::New(i) | Slot::Repeat(i) => take(i).ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?,
                    Slot::Existing(_) => {
                        let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?;
                        check_leaf(index, &stored, &tree.leaf(index)?)?;
                        stored
                    }
                };
                Ok(Settled { index, message_id, duplicate, warnings, bytes, why_link: true, channel })
            })
            .collect();
        let answered = job.handoff.is_some() && !entries_were_empty;
        let _ = job.reply.send(records.map(|records| Durable { checkpoint: checkpoint.clone(), size, records, answered }));
    }
}
