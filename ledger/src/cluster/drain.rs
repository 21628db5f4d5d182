//! The sequencing front end's side of the queue ([`run`], thread `sightline-drain`): the jobs
//! other front ends handed over go into this front end's pipeline as if its own callers had
//! sent them, and come out answered.
//!
//! A job whose records become entries is answered in the transaction that commits them
//! (`pipeline/handoff.rs`); one refused, or whose records were all in the log already, is
//! answered here. A job whose commit failed in a way that passes by itself (the database, the
//! lease) is not answered: it stays queued and is taken again, by this front end once it caught
//! up, or by the next sequencer. So a job is answered once, and what its answer acknowledges is
//! durable.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::cluster::member::{answered_in_commit, FrontEndRole, Member};
use crate::error::{Error, Result};
use crate::pipeline::handoff::{answer_text, from_handed};
use crate::pipeline::jobs::{Durable, Job};

/// Most jobs taken from the queue at once.
const TAKE: usize = 256;

/// The longest pause between two looks at an empty queue.
const IDLE: Duration = Duration::from_millis(20);

/// How long an answer whose front end went away stays in the queue.
const KEEP_ANSWERS: Duration = Duration::from_secs(600);

/// The drain thread: while this front end sequences, takes handed-over jobs into the pipeline
/// and answers the ones no commit answered.
pub(super) fn run(member: &Member, jobs: &mpsc::Sender<Job>) {
    let mut working: Vec<(u64, mpsc::Receiver<Result<Durable>>)> = Vec::new();
    let mut pause = Duration::from_millis(1);
    let mut swept = Instant::now();
    while !member.stopping() {
        let mut moved = false;
        working.retain(|(id, reply)| match reply.try_recv() {
            Ok(reply) => {
                moved = true;
                answer(member, *id, &reply);
                false
            }
            Err(mpsc::TryRecvError::Empty) => true,
            Err(mpsc::TryRecvError::Disconnected) => false,
        });
        if member.role() == FrontEndRole::Sequencer {
            let skip: Vec<u64> = working.iter().map(|(id, _)| *id).collect();
            match member.coordination.handed_over(&skip, TAKE) {
                Ok(taken) => {
                    for (id, job) in taken {
                        moved = true;
                        let (reply, answered) = mpsc::sync_channel(1);
                        match job.and_then(|j| from_handed(j, id, reply)) {
                            Ok(job) => {
                                if jobs.send(job).is_err() {
                                    return;
                                }
                                working.push((id, answered));
                            }
                            // A job no sequencer can read is refused, not met again and again.
                            Err(e) => answer(member, id, &Err(Error::BadBatch { record: None, field: None, why: e.to_string() })),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the jobs other front ends handed over failed");
                    std::thread::sleep(IDLE);
                }
            }
            if swept.elapsed() > KEEP_ANSWERS / 10 {
                swept = Instant::now();
                if let Err(e) = member.coordination.sweep_answered(KEEP_ANSWERS) {
                    tracing::warn!(error = %e, "removing old answered jobs failed");
                }
            }
        }
        if moved {
            pause = Duration::from_millis(1);
        } else {
            std::thread::sleep(pause);
            pause = (pause * 2).min(IDLE);
        }
    }
}

/// Answers job `id` with what the pipeline replied, unless the commit of its entries did, or
/// the reply is a failure that passes by itself (then the job stays queued).
fn answer(member: &Member, id: u64, reply: &Result<Durable>) {
    if answered_in_commit(reply) {
        return;
    }
    if let Some(text) = answer_text(reply) {
        if let Err(e) = member.coordination.answer(id, &text) {
            tracing::warn!(error = %e, job = id, "answering a handed-over job failed; it is taken again");
        }
    }
}
