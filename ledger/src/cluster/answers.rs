//! A front end that does not sequence: its jobs, checked on its own cores, go to the store's
//! queue ([`hand_over`]), and one thread (`sightline-answers`, [`run`]) reads the answers of all
//! of them at once and wakes their callers. A caller whose answer says "durable" first brings
//! its copy of the log up to the answer's size, then builds the receipts from the entries it
//! reads back, each checked against its leaf, as a caller of the sequencing front end would.
//!
//! No answer within [`ClusterOptions::answer_timeout`](super::ClusterOptions) (no front end
//! sequences, or the database is down): the job is withdrawn and the caller told to try again.
//! If the sequencer appended it meanwhile, the same request sent again is a duplicate and gets
//! the same receipts.

use std::sync::mpsc;
use std::time::Duration;

use crate::cluster::follow::checked_entries;
use crate::cluster::member::{FrontEndRole, Member, TICK};
use crate::error::{Error, Result};
use crate::pipeline::handoff::{read_answer, to_handed};
use crate::pipeline::jobs::{Durable, Job};
use crate::pipeline::state::Shared;

/// How often the answers of waiting jobs are read.
const POLL: Duration = Duration::from_millis(3);

/// Hands `job` to the sequencer through the store and waits for its answer; the durable
/// records with their entries' bytes, ready for their receipts.
pub(crate) fn hand_over(member: &Member, shared: &Shared, job: Job) -> Result<Durable> {
    let Some(handed) = to_handed(job) else {
        return Err(Error::Unavailable(
            "a key rotation is done by the front end that sequences the log (its /healthz says `role: sequencer`), which is not this one; send it there"
                .into(),
        ));
    };
    let id = member.coordination.hand_over(&handed)?;
    let (caller, answer) = mpsc::sync_channel(1);
    member.waiting.add(id, caller);
    let text = match answer.recv_timeout(member.options.answer_timeout) {
        Ok(text) => text,
        Err(_) => {
            member.waiting.remove(id);
            let _ = member.coordination.withdraw(&[id]);
            return Err(Error::Unavailable(format!(
                "no front end sequenced the log within {} seconds (it is being replaced, or the database is unreachable)",
                member.options.answer_timeout.as_secs()
            )));
        }
    };
    let (checkpoint, size, records) = read_answer(&text)?;
    // The receipts prove inclusion in the tree of `size`: this front end's copy must hold it.
    // (Only a front end that does not sequence catches up: one that took the lease meanwhile
    // caught up before it sequenced, to a head that holds the answer's entries.)
    let mut tries = 0;
    while shared.read()?.size < size {
        tries += 1;
        if tries > 100 {
            return Err(Error::Unavailable(format!("this front end could not read entry {} the sequencer answered with", size - 1)));
        }
        if !(member.role() == FrontEndRole::Follower && member.follow(shared)?) {
            std::thread::sleep(POLL);
        }
    }
    let records = records
        .into_iter()
        .map(|a| {
            let bytes = checked_entries(shared, a.index, a.index + 1)?
                .pop()
                .ok_or_else(|| Error::Corrupt(format!("entry {} is missing", a.index)))?;
            Ok(a.settled(bytes))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Durable { checkpoint, size, records, answered: true })
}

/// The answer thread: while jobs wait, reads their answers every [`POLL`], wakes their callers
/// and removes the answered jobs from the store.
pub(super) fn run(member: &Member) {
    while !member.stopping() {
        let ids: Vec<u64> = {
            let Ok(callers) = member.waiting.callers.lock() else { return };
            if callers.is_empty() {
                let _ = member.waiting.some.wait_timeout(callers, TICK);
                continue;
            }
            callers.keys().copied().collect()
        };
        match member.coordination.answers(&ids) {
            Ok(answers) if !answers.is_empty() => {
                let mut done = Vec::with_capacity(answers.len());
                if let Ok(mut callers) = member.waiting.callers.lock() {
                    for (id, text) in answers {
                        if let Some(caller) = callers.remove(&id) {
                            let _ = caller.send(text);
                        }
                        done.push(id);
                    }
                }
                if let Err(e) = member.coordination.withdraw(&done) {
                    tracing::warn!(error = %e, "removing answered jobs failed; the sequencer removes them later");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "reading the answers of handed-over jobs failed");
                std::thread::sleep(TICK);
            }
        }
        std::thread::sleep(POLL);
    }
}
