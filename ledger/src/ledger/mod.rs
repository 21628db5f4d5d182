//! The [`Ledger`]: the public face of the crate, and the one place that starts the write
//! threads (`crate::pipeline`) and hands them work.
//!
//! | file | what the ledger does |
//! |---|---|
//! | `open.rs` | opens a store: a new log's genesis, or an existing one checked against its signed checkpoint and refused if it differs |
//! | `read.rs` | reads what is published: entries (each checked against its leaf), proofs, tiles, receipts, tokens, personal parts, one why page's snapshot |
//! | `write.rs` | submitters' batches and the operator's records, each blocking until durable |
//! | `rights.rs` | a recipient's rights through a why link (address checked), and compliance erasure |
//! | `witnessed.rs` | receipts at an older checkpoint that witnesses cosigned |
//! | `fsck.rs` | re-reads and checks the whole store |
//! | `derived.rs` | rows a server derives from the log and keeps beside it (the ad library) |
//! | `front_ends.rs` | a store several front ends share: opening it, where a job goes, catching up on demand |

mod derived;
mod front_ends;
mod fsck;
mod open;
mod read;
mod rights;
mod witnessed;
mod write;

use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use crate::cluster::Member;
use crate::error::Result;
use crate::pipeline::jobs::Job;
use crate::pipeline::state::{CommitListener, Metrics, Shared, State};
use crate::privacy::Personal;

pub use read::EntrySnapshot;

/// An open ledger. Cheap to share behind an `Arc`; dropping it stops its threads.
pub struct Ledger {
    shared: Arc<Shared>,
    /// Where callers queue jobs for the sequencer; `None` once shut down.
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// The sequencer's thread (which waits for the committer's when it stops).
    thread: Mutex<Option<JoinHandle<()>>>,
    /// This front end's part in a log that several share (`front_ends.rs`); `None` for a store
    /// no other front end uses.
    member: Option<Arc<Member>>,
}

/// What the ledger holds of a message's personal part.
#[derive(Clone, Debug)]
pub enum PersonalState {
    /// The personal part, decrypted.
    Present(Personal),
    /// It was erased (crypto-shredded): nothing of it can be read any more.
    Erased,
}

impl Ledger {
    /// Registers a function called after each durable commit.
    pub fn set_listener(&self, f: CommitListener) {
        if let Ok(mut l) = self.shared.listener.write() {
            *l = Some(f);
        }
    }

    /// Registers a function called with the new entries after each durable commit (and, on a
    /// store several front ends share, each time this one catches up), called first with the
    /// published entries from `from` on: what a caller that read the log up to `from` has not
    /// seen yet, so that it misses no entry appended meanwhile by another front end.
    pub fn set_listener_from(&self, from: u64, f: CommitListener) -> Result<()> {
        let mut l = self.shared.listener.write().map_err(|_| crate::pipeline::state::lock_poisoned())?;
        let size = self.size();
        let mut start = from;
        while start < size {
            let end = (start + 4096).min(size);
            f(start, &self.entries(start, end)?);
            start = end;
        }
        *l = Some(f);
        Ok(())
    }

    /// The write path's counters, for `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The log's origin: the first line of its checkpoints, and its key's name.
    pub fn origin(&self) -> &str {
        &self.shared.options.origin
    }

    /// The current log key as a C2SP vkey.
    pub fn vkey(&self) -> String {
        self.shared.signer.read().map(|s| s.vkey()).unwrap_or_default()
    }

    /// The published state, for reading.
    fn state(&self) -> Result<std::sync::RwLockReadGuard<'_, State>> {
        self.shared.read()
    }

    /// Stops the write threads after they have finished the work already queued (and, on a
    /// shared store, lets the sequencing lease go).
    pub fn shutdown(&self) {
        if let Some(m) = &self.member {
            m.stop();
        }
        if let Ok(mut j) = self.jobs.lock() {
            j.take();
        }
        if let Ok(mut t) = self.thread.lock() {
            if let Some(t) = t.take() {
                let _ = t.join();
            }
        }
    }

    /// Bytes the store occupies on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.shared.store.size_on_disk()
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.shutdown();
    }
}
