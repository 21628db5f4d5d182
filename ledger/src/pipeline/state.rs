//! The state every thread of the ledger shares ([`Shared`]): the store, the keys, the tree and
//! what is published of it ([`State`]), the in-memory indexes, the counters.
//!
//! Two steps change it, each in one function, whichever thread takes them:
//! [`Shared::extend_and_sign`] grows the tree and signs the checkpoint of the new size (the tree
//! then runs ahead of the published size), and [`Shared::store_and_publish`] writes a commit
//! durably and only then publishes it, or rolls the tree back and voids everything staged on
//! top of it. Readers see only what is published.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::registry::Registry;
use crate::pipeline::tree::{Tiles, TreeView};
use crate::privacy::lookup::{Change, Lookup};
use crate::privacy::recipients;
use crate::privacy::ServerSecret;
use crate::store::{keys, Commit, Space, Store};
use crate::tlog::edge::{Edge, FullTile};
use crate::tlog::merkle::{leaf_hash, Hash};
use crate::tlog::note::{Checkpoint, NoteSigner};

/// Options of a ledger.
#[derive(Clone, Debug)]
pub struct LedgerOptions {
    /// The log's origin (checkpoint first line and key name), e.g. `sightline.example/log`.
    pub origin: String,
    /// Most records one group commit takes.
    pub max_batch_records: usize,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions { origin: "sightline.localhost/log".into(), max_batch_records: 20_000 }
    }
}

/// Upper bounds of the group-commit size histogram, in records.
pub const BATCH_SIZE_BUCKETS: [u64; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

/// Counters for `/metrics`.
#[derive(Default, Debug)]
pub struct Metrics {
    /// Entries made durable, in all.
    pub records_appended: AtomicU64,
    /// Groups the sequencer handed to the committer (message groups; log records are not staged).
    pub groups_sequenced: AtomicU64,
    /// Durable commits, in all.
    pub batches_committed: AtomicU64,
    /// Time spent extending the tree, signing and committing, in microseconds, over all commits.
    pub commit_micros_total: AtomicU64,
    /// Most entries one commit made durable.
    pub largest_batch: AtomicU64,
    /// Group commits with at most `BATCH_SIZE_BUCKETS[i]` records (cumulative, as Prometheus `le`).
    pub batch_size_buckets: [AtomicU64; 6],
    /// Inclusion and consistency proofs served.
    pub proofs_served: AtomicU64,
}

impl Metrics {
    /// Counts one durable group commit of `records` records that took `micros`.
    pub(crate) fn observe_commit(&self, records: u64, micros: u64) {
        self.records_appended.fetch_add(records, Ordering::Relaxed);
        self.batches_committed.fetch_add(1, Ordering::Relaxed);
        self.commit_micros_total.fetch_add(micros, Ordering::Relaxed);
        self.largest_batch.fetch_max(records, Ordering::Relaxed);
        for (bound, count) in BATCH_SIZE_BUCKETS.iter().zip(&self.batch_size_buckets) {
            if records <= *bound {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Called after each durable commit with the index of the first new entry and the new entries' bytes.
pub type CommitListener = Box<dyn Fn(u64, &[Vec<u8>]) + Send + Sync>;

/// The tree, what is published of it, and what readers look up, behind one lock.
pub(crate) struct State {
    /// The right edge of the tree as sequenced: it runs ahead of the published size while
    /// groups are staged.
    pub(crate) edge: Edge,
    /// The right edge at the published size: what readers see (`tree.rs`).
    pub(crate) published: Arc<Edge>,
    /// Published (durable, signed) size and checkpoint.
    pub(crate) size: u64,
    pub(crate) checkpoint: String,
    /// Shared with readers; a registration replaces it (copy on write).
    pub(crate) registry: Arc<Registry>,
    /// Moves on when a group commit fails: every group sequenced before that, on top of
    /// the failed one, is void (see `pipeline/sequencer/`).
    pub(crate) epoch: u64,
}

/// What the ledger's threads share: the caller's, the sequencer and the committer.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    /// The store's full tiles, read, checked and cached.
    pub(crate) tiles: Tiles,
    /// Message ids and recipients: store rows, with caches that each durable commit updates.
    pub(crate) lookup: Lookup,
    pub(crate) secret: ServerSecret,
    pub(crate) signer: RwLock<NoteSigner>,
    pub(crate) state: RwLock<State>,
    pub(crate) options: LedgerOptions,
    pub(crate) metrics: Metrics,
    pub(crate) listener: RwLock<Option<CommitListener>>,
    /// Which private records link to their recipient's previous entry.
    pub(crate) layout: recipients::Layout,
    /// The recipient handles with an objection on file, so that the sequencer looks an
    /// objection up in the store only for them.
    pub(crate) objectors: Mutex<HashSet<[u8; 32]>>,
    /// Set when a commit failed: with several front ends on one store, a commit whose answer
    /// was lost may still have landed, so the sequencer reads the store's head again before it
    /// goes on (`cluster/`).
    pub(crate) commit_failed: AtomicBool,
}

/// The handles of every recipient with an objection on file (objections are few). The
/// sequencer then asks the store about objections only for these recipients, instead of one
/// store read per appended record.
pub(crate) fn objectors(store: &dyn Store) -> Result<HashSet<[u8; 32]>> {
    store
        .scan(Space::Private, keys::OBJECTION)?
        .into_iter()
        .map(|(key, _)| {
            keys::objection_parts(&key)
                .map(|(handle, _)| handle)
                .ok_or_else(|| Error::Corrupt("an objection row's key is too short to hold a recipient handle".into()))
        })
        .collect()
}

/// The error of a lock that a panicking thread left poisoned.
pub(crate) fn lock_poisoned() -> Error {
    Error::Corrupt("an internal lock was poisoned by a panic; restart the server".into())
}

/// Refuses entry bytes that do not hash to their leaf in the signed tree.
pub(crate) fn check_leaf(index: u64, bytes: &[u8], leaf: &Hash) -> Result<()> {
    if leaf_hash(bytes) == *leaf {
        Ok(())
    } else {
        Err(Error::Corrupt(format!("entry {index} in the store does not hash to its leaf in the signed tree")))
    }
}

/// Signs the checkpoint of a tree of `size` leaves with root `root`.
pub(crate) fn sign_checkpoint(signer: &NoteSigner, root: Hash, size: u64) -> Result<String> {
    let cp = Checkpoint { origin: signer.name().to_string(), size, root, extensions: Vec::new() };
    signer.sign_note(&cp.to_text())
}

/// What one commit's growth of the tree leaves: the edge after it, and the tiles it filled.
pub(crate) struct Growth {
    pub(crate) edge: Arc<Edge>,
    pub(crate) full: Vec<FullTile>,
}

impl Shared {
    /// The published state, for reading.
    pub(crate) fn read(&self) -> Result<std::sync::RwLockReadGuard<'_, State>> {
        self.state.read().map_err(|_| lock_poisoned())
    }

    /// The published tree (its full tiles read from the store), with its size.
    pub(crate) fn tree(&self) -> Result<TreeView<'_>> {
        let edge = Arc::clone(&self.read()?.published);
        Ok(self.tiles.view(edge))
    }

    /// Extends the tree at `base` (which must be its size, in `epoch`) and signs the checkpoint
    /// of the new size, with `checkpoint_signer` if given (a key rotation's new key) or the
    /// current key; returns it with the hash tiles that changed and the tree's growth.
    #[allow(clippy::type_complexity)]
    pub(crate) fn extend_and_sign(
        &self,
        epoch: u64,
        base: u64,
        leaves: &[Hash],
        checkpoint_signer: Option<&NoteSigner>,
    ) -> Result<(String, Vec<((u8, u64), Vec<u8>)>, Growth)> {
        let new_size = base + leaves.len() as u64;
        let mut st = self.state.write().map_err(|_| lock_poisoned())?;
        if st.epoch != epoch {
            return Err(Error::Storage("a group commit failed while this batch was being sequenced, so none of it was written".into()));
        }
        if st.edge.size() != base {
            return Err(Error::Corrupt(format!("tree size {} differs from the expected {base}", st.edge.size())));
        }
        let mut edge = st.edge.clone();
        let full = edge.extend(leaves);
        let signer = self.signer.read().map_err(|_| lock_poisoned())?;
        let checkpoint = sign_checkpoint(checkpoint_signer.unwrap_or(&signer), edge.root(), new_size)?;
        let tiles = edge.changed_tiles(base, &full);
        st.edge = edge.clone();
        Ok((checkpoint, tiles, Growth { edge: Arc::new(edge), full }))
    }

    /// Writes a commit durably and publishes it; on failure rolls the tree back to the
    /// published size and moves the epoch on, so that nothing staged on top of it survives.
    /// Returns the new entries' bytes.
    pub(crate) fn store_and_publish(&self, commit: Commit, change: Change, growth: Growth, micros_so_far: u64) -> Result<Vec<Vec<u8>>> {
        let started = Instant::now();
        let base = commit.entries.first().map_or(commit.size, |(i, _)| *i);
        let mut commit = commit;
        let (puts, deletes) = change.rows();
        commit.puts.extend(puts);
        commit.deletes.extend(deletes);
        let stored = self.store.commit(&commit);
        let mut st = self.state.write().map_err(|_| lock_poisoned())?;
        if let Err(e) = stored {
            st.edge = (*st.published).clone();
            st.epoch = st.epoch.wrapping_add(1);
            self.commit_failed.store(true, Ordering::SeqCst);
            tracing::error!(error = %e, entries = commit.entries.len(), first = base, "group commit failed; nothing of it acknowledged");
            return Err(e);
        }
        let Commit { size, checkpoint, entries, .. } = commit;
        st.size = size;
        st.checkpoint = checkpoint;
        st.published = growth.edge;
        self.tiles.remember(&growth.full);
        // In the same critical section as the size: a reader that sees an entry finds its
        // recipient, and no reader sees an erased key in the cache once the erasure is published.
        self.lookup.apply(&change);
        drop(st);
        let entries: Vec<Vec<u8>> = entries.into_iter().map(|(_, e)| e).collect();
        self.metrics.observe_commit(entries.len() as u64, micros_so_far + started.elapsed().as_micros() as u64);
        if let Ok(l) = self.listener.read() {
            if let Some(f) = l.as_ref() {
                f(base, &entries);
            }
        }
        Ok(entries)
    }
}
