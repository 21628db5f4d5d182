//! A front end's part in a shared log ([`Member`]): its options, its role and the switches
//! between roles, one catch-up at a time, and the jobs it waits for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::cluster::follow::catch_up;
use crate::error::{Error, Result};
use crate::pipeline::jobs::{Durable, Job};
use crate::pipeline::state::Shared;
use crate::store::Coordination;

/// How a front end takes part in a log that several share.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// This front end's id in the lease: unique per process (host, process id and a random part).
    pub holder: String,
    /// How long a lease lasts unless its holder renews it: a sequencer that died is replaced
    /// about this long after it stopped renewing.
    pub lease_ttl: Duration,
    /// Whether this process may sequence (`false` for a tool that only reads: export, fsck).
    pub may_sequence: bool,
    /// How long a handed-over job waits for the sequencer's answer before its caller is told
    /// to try again.
    pub answer_timeout: Duration,
}

impl ClusterOptions {
    /// A front end `holder` that may sequence, with a lease of three seconds.
    pub fn new(holder: impl Into<String>) -> ClusterOptions {
        ClusterOptions {
            holder: holder.into(),
            lease_ttl: Duration::from_secs(3),
            may_sequence: true,
            answer_timeout: Duration::from_secs(30),
        }
    }
}

/// What a front end on a shared store does at the moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrontEndRole {
    /// It holds the lease and sequences: its own jobs and those handed over.
    Sequencer,
    /// It hands its jobs to the sequencer and follows the log it writes.
    Follower,
    /// It is taking over or handing over the sequencing; jobs wait.
    Switching,
}

/// This front end's part in a shared log: its role, its threads, the jobs it waits for.
pub(crate) struct Member {
    pub(crate) coordination: Arc<dyn Coordination>,
    pub(crate) options: ClusterOptions,
    role: Mutex<FrontEndRole>,
    changed: Condvar,
    /// One catch-up at a time, and when the last on-demand one started.
    following: Mutex<Option<Instant>>,
    /// This front end's handed-over jobs waiting for their answers.
    pub(super) waiting: Waiting,
    stop: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// How often a front end that does not sequence reads the store's head, and how often the
/// threads look at their stop flag.
pub(super) const TICK: Duration = Duration::from_millis(100);

/// The shortest time between two catch-ups a reader asks for (a flood of requests for an
/// entry that does not exist asks the store at most this often).
const ON_DEMAND: Duration = Duration::from_millis(20);

impl Member {
    pub(crate) fn new(coordination: Arc<dyn Coordination>, options: ClusterOptions, role: FrontEndRole) -> Member {
        Member {
            coordination,
            options,
            role: Mutex::new(role),
            changed: Condvar::new(),
            following: Mutex::new(None),
            waiting: Waiting::default(),
            stop: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Keeps the handles of the threads [`super::start`] started, to stop them.
    pub(super) fn keep(&self, threads: Vec<JoinHandle<()>>) {
        if let Ok(mut t) = self.threads.lock() {
            t.extend(threads);
        }
    }

    /// Stops the threads (the lease thread lets the lease go) and waits for them.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.changed.notify_all();
        self.waiting.wake();
        let threads = self.threads.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The role at this moment.
    pub(crate) fn role(&self) -> FrontEndRole {
        self.role.lock().map(|r| *r).unwrap_or(FrontEndRole::Switching)
    }

    pub(super) fn set_role(&self, role: FrontEndRole) {
        if let Ok(mut r) = self.role.lock() {
            if *r != role {
                tracing::info!(holder = %self.options.holder, ?role, "front end role");
            }
            *r = role;
        }
        self.changed.notify_all();
    }

    /// The role once it is not [`FrontEndRole::Switching`], waiting up to `wait` for that.
    pub(crate) fn settled_role(&self, wait: Duration) -> Result<FrontEndRole> {
        let deadline = Instant::now() + wait;
        let mut role = self.role.lock().map_err(|_| crate::pipeline::state::lock_poisoned())?;
        while *role == FrontEndRole::Switching && !self.stopping() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unavailable("the front ends are handing the sequencing of the log from one to another".into()));
            }
            role = self.changed.wait_timeout(role, left).map_err(|_| crate::pipeline::state::lock_poisoned())?.0;
        }
        if self.stopping() {
            return Err(Error::ShuttingDown);
        }
        Ok(*role)
    }

    /// Catches up with the store's head now, if this front end does not sequence and did not
    /// try within [`ON_DEMAND`]. For a reader that asked for something this front end has not
    /// seen yet (a why link or a submitter registered through another front end a moment ago).
    pub(crate) fn follow_now(&self, shared: &Shared) {
        if self.role() != FrontEndRole::Follower {
            return;
        }
        let Ok(mut last) = self.following.lock() else { return };
        if last.is_some_and(|t| t.elapsed() < ON_DEMAND) {
            return;
        }
        *last = Some(Instant::now());
        if let Err(e) = catch_up(shared) {
            tracing::warn!(error = %e, "catching up with the shared log failed");
        }
    }

    /// Catches up (one at a time with [`Member::follow_now`]), whatever the role; for the lease
    /// thread.
    pub(super) fn follow(&self, shared: &Shared) -> Result<bool> {
        let _one_at_a_time = self.following.lock().map_err(|_| crate::pipeline::state::lock_poisoned())?;
        catch_up(shared)
    }
}

/// Waits until the local pipeline has published or failed everything queued before now.
pub(super) fn barrier(jobs: &mpsc::Sender<Job>) {
    let (done, wait) = mpsc::sync_channel(1);
    if jobs.send(Job::Barrier(done)).is_ok() {
        let _ = wait.recv_timeout(Duration::from_secs(60));
    }
}

/// Whether a pipeline's reply is one the commit of its entries answered already.
pub(super) fn answered_in_commit(reply: &Result<Durable>) -> bool {
    reply.as_ref().is_ok_and(|d| d.answered)
}

/// The jobs this front end waits for: their ids and where to wake their callers.
#[derive(Default)]
pub(crate) struct Waiting {
    pub(super) callers: Mutex<HashMap<u64, mpsc::SyncSender<String>>>,
    pub(super) some: Condvar,
}

impl Waiting {
    pub(super) fn add(&self, id: u64, caller: mpsc::SyncSender<String>) {
        if let Ok(mut c) = self.callers.lock() {
            c.insert(id, caller);
        }
        self.some.notify_all();
    }

    pub(super) fn remove(&self, id: u64) {
        if let Ok(mut c) = self.callers.lock() {
            c.remove(&id);
        }
    }

    pub(super) fn wake(&self) {
        self.some.notify_all();
    }
}
