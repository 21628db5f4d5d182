//! The lease thread ([`run`], `sightline-lease`): one per front end, deciding its role.
//!
//! - Not holding the lease: follow the log every tick, and try to take the lease (it is taken
//!   only once it expired, so a live sequencer keeps it).
//! - Just took it, or a commit failed: **switch** (callers wait): let the pipeline settle
//!   (a barrier), fence every commit with the lease, catch up with the store's head (what the
//!   last sequencer committed, or a commit whose answer was lost but that landed), check that
//!   this front end's log key is the log's current one, and only then sequence.
//! - Holding it: renew it every third of its lifetime. Renewal refused (another front end took
//!   it after it expired): switch back to following once the pipeline settled; every commit
//!   made meanwhile was refused by the fence, since the lease's epoch moved on.

use std::sync::mpsc;
use std::time::Instant;

use crate::cluster::member::{barrier, FrontEndRole, Member, TICK};
use crate::pipeline::jobs::Job;
use crate::pipeline::state::Shared;
use crate::store::Lease;

/// The lease thread. `held`: this front end took the lease to write the log's first entry.
pub(super) fn run(member: &Member, shared: &Shared, jobs: &mpsc::Sender<Job>, mut held: Option<Lease>) {
    let ttl = member.options.lease_ttl;
    let mut may_sequence = member.options.may_sequence;
    // A front end that wrote the first entry is caught up already.
    let mut synced = held.is_some();
    let mut renewed = Instant::now();
    let mut next_try = Instant::now();
    let mut complained = false;
    while !member.stopping() {
        match held.clone() {
            None => {
                match member.follow(shared) {
                    Ok(_) => complained = false,
                    Err(e) if !complained => {
                        complained = true;
                        tracing::warn!(error = %e, "following the shared log failed; this front end serves what it has and tries again");
                    }
                    Err(_) => {}
                }
                if may_sequence && Instant::now() >= next_try {
                    next_try = Instant::now() + ttl / 6;
                    match member.coordination.take_lease(&member.options.holder, ttl) {
                        Ok(Some(lease)) => {
                            tracing::info!(holder = %lease.holder, epoch = lease.epoch, "took the sequencing lease");
                            member.coordination.fence(Some(lease.clone()));
                            (held, synced, renewed) = (Some(lease), false, Instant::now());
                            continue;
                        }
                        Ok(None) => {}
                        Err(e) => tracing::debug!(error = %e, "taking the sequencing lease failed"),
                    }
                }
            }
            Some(lease) => {
                if renewed.elapsed() >= ttl / 3 {
                    match member.coordination.keep_lease(&lease, ttl) {
                        Ok(true) => renewed = Instant::now(),
                        Ok(false) => {
                            tracing::warn!(
                                epoch = lease.epoch,
                                "another front end took the sequencing lease; this one follows the log again"
                            );
                            member.set_role(FrontEndRole::Switching);
                            barrier(jobs);
                            member.set_role(FrontEndRole::Follower);
                            held = None;
                            continue;
                        }
                        Err(e) => tracing::warn!(error = %e, "renewing the sequencing lease failed; commits stay fenced by it"),
                    }
                }
                if shared.commit_failed.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    synced = false;
                }
                if !synced {
                    member.set_role(FrontEndRole::Switching);
                    barrier(jobs);
                    match member.follow(shared) {
                        Ok(_) if signs_for_the_log(shared) => {
                            synced = true;
                            // Readers cached rows while another front end wrote them: plan
                            // with the store's rows only.
                            shared.lookup.forget_all();
                            member.set_role(FrontEndRole::Sequencer);
                        }
                        Ok(_) => {
                            tracing::error!(
                                "this front end's log key is not the log's current key (it was rotated through another front end); it will not sequence until it is restarted with the data folder's new log.key"
                            );
                            may_sequence = false;
                            let _ = member.coordination.give_up_lease(&lease);
                            member.set_role(FrontEndRole::Follower);
                            held = None;
                        }
                        Err(e) => tracing::warn!(error = %e, "catching up before sequencing failed; trying again"),
                    }
                }
            }
        }
        std::thread::sleep(TICK);
    }
    if let Some(lease) = held {
        member.set_role(FrontEndRole::Switching);
        barrier(jobs);
        // The next front end takes over at once instead of after the lease expired.
        let _ = member.coordination.give_up_lease(&lease);
    }
}

/// Whether this front end signs with the log's current key.
fn signs_for_the_log(shared: &Shared) -> bool {
    let current = shared.read().ok().and_then(|st| st.registry.current_log_key().map(|k| k.vkey()));
    let ours = shared.signer.read().ok().map(|s| s.vkey());
    current.is_some() && current == ours
}
