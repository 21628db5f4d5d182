//! A ledger on a store that several front ends share ([`Ledger::open_shared`], SPEC.md §12.2):
//! where its jobs go (its own pipeline while it sequences, the store's queue otherwise), and
//! the reads that first catch up with the store when they ask for something this front end
//! has not seen yet (a why link, a tree size, a submitter another front end registered a
//! moment ago).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{self, hand_over, ClusterOptions, FrontEndRole, Member};
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::pipeline::jobs::{Durable, Job};
use crate::pipeline::state::LedgerOptions;
use crate::privacy::ServerSecret;
use crate::store::{Coordination, Lease, Store};
use crate::tlog::note::NoteSigner;

/// How long a job waits for this front end to finish switching roles (taking over, catching up
/// after a failed commit) before its caller is told to try again.
const SWITCH_WAIT: Duration = Duration::from_secs(10);

/// How long a new front end waits for another one to write the first entry of a new log.
const FIRST_ENTRY_WAIT: Duration = Duration::from_secs(30);

impl Ledger {
    /// Opens a ledger on a store that other front ends may share at the same time: each checks
    /// and serves on its own, and the one that holds the store's lease sequences (SPEC.md
    /// §12.2). A new store's first entry is written by whichever front end takes the lease first.
    pub fn open_shared<S: Store + Coordination>(
        store: Arc<S>,
        signer: NoteSigner,
        secret: ServerSecret,
        options: LedgerOptions,
        cluster: ClusterOptions,
    ) -> Result<Ledger> {
        let coordination: Arc<dyn Coordination> = store.clone();
        let held = first_entry_lease(&*store, &*coordination, &cluster)?;
        let role = if held.is_some() { FrontEndRole::Sequencer } else { FrontEndRole::Follower };
        let mut ledger = Ledger::open(store, signer, secret, options)?;
        let member = Arc::new(Member::new(coordination, cluster, role));
        let jobs = ledger.jobs.lock().ok().and_then(|j| j.clone()).ok_or(Error::ShuttingDown)?;
        cluster::start(&member, &ledger.shared, jobs, held)?;
        ledger.member = Some(member);
        Ok(ledger)
    }

    /// On a shared store: this front end's id and what it does at the moment.
    pub fn front_end(&self) -> Option<(&str, FrontEndRole)> {
        self.member.as_ref().map(|m| (m.options.holder.as_str(), m.role()))
    }

    /// Sends a job to whoever sequences and waits until it is durable: this front end's own
    /// pipeline, or, when another front end sequences, the store's queue.
    pub(crate) fn sequence(&self, job: Job, local: impl FnOnce(Job) -> Result<Durable>) -> Result<Durable> {
        let Some(member) = &self.member else { return local(job) };
        match member.settled_role(SWITCH_WAIT)? {
            FrontEndRole::Follower => hand_over(member, &self.shared, job),
            _ => local(job),
        }
    }

    /// Runs `read`; when it fails in a way `missed` says catching up could mend (what it asked
    /// for is newer than this front end's copy of a shared log), catches up and runs it again.
    pub(crate) fn fresh<T>(&self, read: impl Fn() -> Result<T>, missed: impl Fn(&Result<T>) -> bool) -> Result<T> {
        let Some(member) = &self.member else { return read() };
        let before = self.size();
        let first = read();
        if !missed(&first) {
            return first;
        }
        // Whoever caught up (this call, or the lease thread meanwhile), the log grew since the
        // first read: read again.
        member.follow_now(&self.shared);
        if self.size() > before {
            read()
        } else {
            first
        }
    }
}

/// When the store holds no log yet, takes the lease (waiting while another front end holds it
/// and writes the first entry) and fences commits with it, so that one front end writes it.
fn first_entry_lease(store: &dyn Store, coordination: &dyn Coordination, cluster: &ClusterOptions) -> Result<Option<Lease>> {
    let deadline = Instant::now() + FIRST_ENTRY_WAIT;
    while store.head()?.is_none() {
        if !cluster.may_sequence {
            return Err(Error::OutOfRange(
                "the database holds no log yet; start `sightline serve` on it first, which writes its first entry".into(),
            ));
        }
        if let Some(lease) = coordination.take_lease(&cluster.holder, cluster.lease_ttl)? {
            coordination.fence(Some(lease.clone()));
            if store.head()?.is_none() {
                return Ok(Some(lease));
            }
            // Another front end wrote it between the two looks: follow it.
            coordination.give_up_lease(&lease)?;
            return Ok(None);
        }
        if Instant::now() > deadline {
            return Err(Error::Unavailable("another front end holds the lease of this new database but wrote no first entry".into()));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(None)
}
