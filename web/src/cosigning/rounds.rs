//! The threads that gather cosignatures: one coordinator that picks the checkpoint to cosign,
//! and one worker per witness that submits it (see the module docs of [`super`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sightline_ledger::note::SignedNote;
use sightline_ledger::tlog_witness::AddCheckpoint;

use super::client::{self, Outcome};
use super::{Cosig, Cosigning, Inner, Target, Witnessed};

/// How often the coordinator looks for a new checkpoint.
const POLL: Duration = Duration::from_millis(20);
/// At most one submission per witness per this interval (the public witness network's rate).
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait between retries of a failing witness.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A round that is neither met nor answered by every witness gives way to a newer checkpoint after this.
const MAX_ROUND: Duration = Duration::from_secs(10);

pub(super) fn spawn(c: &Arc<Cosigning>) {
    let start = |name: String, f: Box<dyn FnOnce() + Send>| {
        if let Err(e) = std::thread::Builder::new().name(name).spawn(f) {
            tracing::error!(error = %e, "cannot start a witness thread; checkpoints will not be cosigned");
        }
    };
    let coordinator = Arc::clone(c);
    start("sightline-witness-rounds".into(), Box::new(move || coordinate(&coordinator)));
    for i in 0..c.config.witnesses.len() {
        let worker = Arc::clone(c);
        start(format!("sightline-witness-{i}"), Box::new(move || work(&worker, i)));
    }
}

/// Which witnesses have cosigned the target.
pub(super) fn cosigned_target(g: &Inner) -> Vec<bool> {
    let note = g.target.as_ref().map(|t| t.note.as_str());
    g.per.iter().map(|p| note.is_some() && p.cosig.as_ref().map(|c| c.note.as_str()) == note).collect()
}

/// Whether every witness has cosigned or tried to cosign the target.
pub(super) fn all_answered(g: &Inner) -> bool {
    cosigned_target(g).iter().zip(&g.per).all(|(done, p)| *done || p.attempted)
}

fn coordinate(c: &Cosigning) {
    loop {
        let size = {
            let g = c.lock();
            if g.stop {
                return;
            }
            let (g, _) = c.wake.wait_timeout(g, POLL).unwrap_or_else(|p| p.into_inner());
            if g.stop {
                return;
            }
            drop(g);
            c.ledger.size()
        };
        let mut g = c.lock();
        let movable = match &g.target {
            None => true,
            Some(t) if t.size == size => false,
            Some(t) => c.config.policy.met(&cosigned_target(&g)) || all_answered(&g) || t.set_at.elapsed() > MAX_ROUND,
        };
        if !movable {
            continue;
        }
        let Ok((size, note)) = c.ledger.head() else { continue };
        let Ok(text) = SignedNote::parse(&note).map(|n| n.text) else {
            tracing::error!("the ledger's checkpoint does not parse as a signed note; it cannot be witnessed");
            continue;
        };
        g.target = Some(Target { note, text, size, set_at: Instant::now() });
        for p in &mut g.per {
            p.attempted = false;
        }
        c.wake.notify_all();
    }
}

/// The wait before a witness's next submission: the rate limit, or a back-off while it fails.
fn interval(attempted: bool, failures: u32) -> Duration {
    if !attempted || failures == 0 {
        return MIN_INTERVAL;
    }
    MIN_INTERVAL.saturating_mul(1 << failures.min(5)).min(MAX_BACKOFF)
}

/// One submission to make: the target and the old size to send.
struct Job {
    target: Target,
    old: u64,
}

/// The next job of witness `i`, or how long to wait before looking again.
fn next_job(g: &mut Inner, i: usize, now: Instant) -> Result<Job, Duration> {
    let Some(target) = g.target.clone() else { return Err(MIN_INTERVAL) };
    let p = &mut g.per[i];
    if p.cosig.as_ref().is_some_and(|c| c.note == target.note) {
        return Err(MIN_INTERVAL);
    }
    let wait = interval(p.attempted, p.failures);
    if let Some(due) = p.last_submit.map(|t| t + wait).filter(|due| *due > now) {
        return Err(due - now);
    }
    p.last_submit = Some(now);
    Ok(Job { old: p.held.unwrap_or(0), target })
}

fn work(c: &Cosigning, i: usize) {
    let agent = client::agent();
    let witness = &c.config.witnesses[i];
    loop {
        let job = {
            let mut g = c.lock();
            loop {
                if g.stop {
                    return;
                }
                match next_job(&mut g, i, Instant::now()) {
                    Ok(job) => break job,
                    Err(wait) => g = c.wake.wait_timeout(g, wait).unwrap_or_else(|p| p.into_inner()).0,
                }
            }
        };
        let outcome = if job.old > job.target.size {
            Err(format!(
                "it has cosigned size {} of this log, larger than this log's {}: this log's history was cut back (a data folder restored from a backup?)",
                job.old, job.target.size
            ))
        } else {
            match c.ledger.consistency_proof(job.old, job.target.size) {
                Ok(proof) => {
                    let req = AddCheckpoint { old_size: job.old, proof, checkpoint: job.target.note.clone() };
                    Ok(client::submit(&agent, witness, &req, &job.target.text))
                }
                Err(e) => Err(format!("no consistency proof from size {} to {}: {e}", job.old, job.target.size)),
            }
        };
        apply(c, i, &job, outcome);
        c.save();
    }
}

/// Records what a submission came to, and whether the target now meets the policy.
fn apply(c: &Cosigning, i: usize, job: &Job, outcome: Result<Outcome, String>) {
    let name = c.config.witnesses[i].name().to_string();
    let mut g = c.lock();
    let p = &mut g.per[i];
    p.attempted = true;
    let size = job.target.size;
    match outcome {
        Ok(Outcome::Cosigned { line, timestamp }) => {
            tracing::debug!(witness = %name, size, "cosigned");
            p.cosig = Some(Cosig { note: job.target.note.clone(), size, line, timestamp });
            p.held = Some(size);
            (p.failures, p.last_error, p.alarm) = (0, None, None);
            p.counts.cosigned += 1;
        }
        Ok(Outcome::Conflict(held)) if held == job.old => {
            let alarm = format!(
                "it refuses the checkpoint of size {size}: it holds a different tree of size {held} of this log. Two histories of this log exist (a split view, or a data folder restored from a backup); keep this log's checkpoint of size {held} and ask the witness's operator for the one it cosigned"
            );
            tracing::error!(witness = %name, size, held, "a witness holds another history of this log");
            p.counts.conflicts += 1;
            p.failures += 1;
            (p.alarm, p.last_error) = (Some(alarm.clone()), Some(alarm));
        }
        Ok(Outcome::Conflict(held)) => {
            tracing::info!(witness = %name, held, sent = job.old, "the witness holds another size; resubmitting from it");
            p.counts.conflicts += 1;
            p.held = Some(held);
            // Not an answer to this round yet: it is retried from the size it named.
            p.attempted = false;
            p.last_error = Some(format!("it holds size {held}, not {}; resubmitting from size {held}", job.old));
        }
        Ok(Outcome::Refused { status, said }) => {
            p.counts.refused += 1;
            p.failures += 1;
            p.last_error = Some(format!("refused with status {status}: {said}"));
        }
        Ok(Outcome::Unreachable(e)) => {
            p.counts.unreachable += 1;
            p.failures += 1;
            p.last_error = Some(format!("unreachable: {e}"));
        }
        Ok(Outcome::BadAnswer(e)) => {
            p.counts.refused += 1;
            p.failures += 1;
            p.last_error = Some(format!("answered outside the protocol: {e}"));
        }
        Err(e) => {
            p.failures += 1;
            p.last_error = Some(e);
        }
    }
    if let Some(e) = &g.per[i].last_error {
        tracing::debug!(witness = %name, error = %e, "not cosigned");
    }
    evaluate(c, &mut g);
    c.wake.notify_all();
}

/// Updates the witnessed checkpoint and the settled state after an answer.
fn evaluate(c: &Cosigning, g: &mut Inner) {
    let Some(target) = g.target.clone() else { return };
    let flags = cosigned_target(g);
    if c.config.policy.met(&flags) {
        let mut note = target.note.clone();
        let mut names = Vec::new();
        for ((w, p), f) in c.config.witnesses.iter().zip(&g.per).zip(&flags) {
            if let (true, Some(cosig)) = (*f, &p.cosig) {
                note.push_str(&cosig.line);
                names.push(w.name().to_string());
            }
        }
        g.witnessed = Some(Witnessed { note, size: target.size, names });
        g.settled = Some(true);
    } else if all_answered(g) {
        g.settled = Some(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failing_witnesses_are_retried_less_often_up_to_a_bound() {
        assert_eq!(interval(false, 9), MIN_INTERVAL, "a new checkpoint is sent at the normal rate");
        assert_eq!(interval(true, 0), MIN_INTERVAL);
        assert_eq!(interval(true, 1), Duration::from_secs(2));
        assert_eq!(interval(true, 3), Duration::from_secs(8));
        assert_eq!(interval(true, 20), MAX_BACKOFF);
    }
}
