//! The sequencer: the first of the ledger's two write threads (the committer, in
//! `committer.rs`, is the second).
//!
//! It drains every queued job into one group, deduplicates the group's records
//! against the log and each other, gives each new record its index, chains it
//! to the previous entry (`prev` is that entry's leaf hash), extends the
//! in-memory tree and signs the checkpoint of the new size (`plan.rs`), then hands the group
//! to the committer and starts on the next one. So group N+1 is planned while
//! group N is being made durable; with one group staged at a time, a slow disk
//! holds the sequencer back instead of piling up memory.
//!
//! Planning sees staged groups as if they were in the log (`plan::InFlight`): their
//! message ids, and their recipients' keys and latest entries. A group the
//! committer cannot make durable takes every group planned on top of it down
//! with it (their entries chain to entries never written): the committer rolls
//! the tree back and bumps the state's epoch, and the sequencer, seeing the new
//! epoch, forgets what it had staged.
//!
//! Log-signed records (registrations, key rotation, objections, erasures) and tallies
//! change what planning reads: the registry, the objections, the recipients, the message ids.
//! The sequencer first waits until every staged group is published or failed,
//! then commits such a record on its own, on this thread (`log_records.rs`, `tallies.rs`).
//! A derived index's rows (`Ledger::save_derived`) are committed the same way, with the
//! published head: only this thread writes to the store, so no commit moves the head back.

mod log_records;
mod plan;
mod tallies;

use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::Error;
use crate::pipeline::group::{fail_all, Stage};
use crate::pipeline::jobs::{Job, Waiting};
use crate::pipeline::state::Shared;
use plan::InFlight;

/// The sequencer's loop: runs until the job queue closes, then lets the committer finish
/// what it was given and waits for it.
pub(crate) fn run(shared: &Shared, jobs: mpsc::Receiver<Job>, committer: mpsc::SyncSender<Stage>, thread: JoinHandle<()>) {
    let mut flight = InFlight::default();
    while let Ok(first) = jobs.recv() {
        let mut group = Vec::new();
        let mut records = 0;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Messages { records: r, reply, handoff } => {
                    records += r.len();
                    group.push((r, reply, handoff));
                }
                // Each of these is committed alone, once every group before it is published.
                alone => {
                    if !group.is_empty() {
                        stage(shared, &mut flight, std::mem::take(&mut group), &committer);
                        records = 0;
                    }
                    drain(&committer);
                    commit_alone(shared, alone);
                }
            }
            if records < shared.options.max_batch_records {
                next = jobs.try_recv().ok();
            }
        }
        if !group.is_empty() {
            stage(shared, &mut flight, group, &committer);
        }
    }
    drop(committer);
    let _ = thread.join();
}

/// Commits a job that is not a group of messages on its own, on this thread, and answers it.
fn commit_alone(shared: &Shared, job: Job) {
    match job {
        Job::Log { body, effect, reply, handoff } => {
            let _ = reply.send(log_records::log_record(shared, body, effect, handoff));
        }
        Job::Tallies { records, reply, handoff } => {
            let _ = reply.send(tallies::append(shared, records, handoff));
        }
        Job::Rows { puts, deletes, reply } => {
            let _ = reply.send(log_records::derived_rows(shared, puts, deletes));
        }
        // Everything before it is published or failed now: that is all it waits for.
        Job::Barrier(done) => {
            let _ = done.send(());
        }
        Job::Messages { reply, .. } => {
            let _ = reply.send(Err(Error::Storage("a group of messages was committed alone; this is a bug".into())));
        }
    }
}

/// Waits until the committer has published (or failed) every group staged so far.
fn drain(committer: &mpsc::SyncSender<Stage>) {
    let (done, wait) = mpsc::sync_channel(1);
    if committer.send(Stage::Barrier(done)).is_ok() {
        let _ = wait.recv();
    }
}

/// Plans a group and hands it to the committer; a group that cannot be planned fails its
/// callers here.
fn stage(shared: &Shared, flight: &mut InFlight, jobs: Vec<Waiting>, committer: &mpsc::SyncSender<Stage>) {
    match plan::plan(shared, flight, jobs) {
        // Every job of the group failed its checks and has been answered.
        Ok(group) if group.planned.is_empty() => {}
        Ok(group) => {
            shared.metrics.groups_sequenced.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Err(mpsc::SendError(Stage::Group(group))) = committer.send(Stage::Group(group)) {
                group.fail(&Error::Storage("the commit thread stopped (the server log says why); restart the server".into()));
            }
        }
        Err((e, planned)) => {
            tracing::error!(error = %e, "sequencing a group commit failed");
            fail_all(planned, &e);
        }
    }
}
