//! Several front ends on one store, one sequencer at a time (SPEC.md §12.2). Every front end
//! checks the submissions it receives on its own cores and serves reads from its copy of the
//! log; the one that holds the store's lease ([`Coordination`]) sequences, and the others hand
//! it their checked jobs through the store and wait for its answer.
//!
//! | file | thread | what it does |
//! |---|---|---|
//! | `lease.rs` | `sightline-lease` | takes, keeps and loses the lease; catches up before sequencing and after a failed commit; follows the log while not sequencing |
//! | `follow.rs` | (any) | brings this front end's copy of the log to the store's head: the tree's right edge, checkpoint, registry, cached message-id and recipient rows, objections, library |
//! | `drain.rs` | `sightline-drain` | while sequencing: feeds the jobs other front ends handed over to the pipeline, answers the ones no commit answered |
//! | `answers.rs` | `sightline-answers` | while not sequencing: hands this front end's jobs over and brings back their answers |
//!
//! A front end's [`FrontEndRole`] decides where a job goes: its own pipeline when it
//! sequences, the store's queue when it does not; while it switches (taking over, catching up
//! after a failed commit, handing over), callers wait.

mod answers;
mod drain;
mod follow;
mod lease;
mod member;

use std::sync::{mpsc, Arc};

use crate::error::{Error, Result};
use crate::pipeline::jobs::Job;
use crate::pipeline::state::Shared;
use crate::store::Lease;

pub(crate) use answers::hand_over;
pub(crate) use member::Member;
pub use member::{ClusterOptions, FrontEndRole};

/// Starts the lease, drain and answer threads. With `held`, this front end already holds
/// the lease (it wrote the log's first entry under it).
pub(crate) fn start(member: &Arc<Member>, shared: &Arc<Shared>, jobs: mpsc::Sender<Job>, held: Option<Lease>) -> Result<()> {
    let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
        std::thread::Builder::new().name(name.into()).spawn(f).map_err(|e| Error::Storage(format!("cannot start the {name} thread: {e}")))
    };
    let mut threads = Vec::new();
    {
        let (member, shared, jobs) = (Arc::clone(member), Arc::clone(shared), jobs.clone());
        threads.push(spawn("sightline-lease", Box::new(move || lease::run(&member, &shared, &jobs, held)))?);
    }
    {
        let (member, jobs) = (Arc::clone(member), jobs);
        threads.push(spawn("sightline-drain", Box::new(move || drain::run(&member, &jobs)))?);
    }
    {
        let member = Arc::clone(member);
        threads.push(spawn("sightline-answers", Box::new(move || answers::run(&member)))?);
    }
    member.keep(threads);
    Ok(())
}
