//! The [`Ledger`]: opening (and refusing) a store, and everything that reads the log.
//! Writes go through the batcher in `append.rs`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use rayon::prelude::*;

use crate::append::Job;
use crate::canonical::{jcs, Entry};
use crate::error::{Error, Result};
use crate::lookup::Lookup;
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::{Checkpoint, NoteSigner, SignedNote};
use crate::privacy::{Personal, ServerSecret};
use crate::receipt::Receipt;
use crate::recipients;
use crate::record::{format_time, Body, LogKeyBody};
use crate::registry::Registry;
use crate::store::{Commit, Space, Store};
use crate::tiles;
use crate::{batcher, commit};

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
    pub records_appended: AtomicU64,
    /// Groups the sequencer handed to the committer (message groups; log records are not staged).
    pub groups_sequenced: AtomicU64,
    pub batches_committed: AtomicU64,
    pub commit_micros_total: AtomicU64,
    pub largest_batch: AtomicU64,
    /// Group commits with at most `BATCH_SIZE_BUCKETS[i]` records (cumulative, as Prometheus `le`).
    pub batch_size_buckets: [AtomicU64; 6],
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

pub(crate) struct State {
    pub tree: Tree,
    /// Published (durable, signed) size and checkpoint.
    pub size: u64,
    pub checkpoint: String,
    /// Shared with readers; a registration replaces it (copy on write).
    pub registry: Arc<Registry>,
    /// Message ids and recipients, changed with the size by each durable commit.
    pub lookup: Lookup,
    /// Moves on when a group commit fails: every group sequenced before that, on top of
    /// the failed one, is void (see `batcher.rs`).
    pub epoch: u64,
}

pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub secret: ServerSecret,
    pub signer: RwLock<NoteSigner>,
    pub state: RwLock<State>,
    pub options: LedgerOptions,
    pub metrics: Metrics,
    pub listener: RwLock<Option<CommitListener>>,
    /// Which private records link to their recipient's previous entry.
    pub layout: recipients::Layout,
    /// The recipient handles with an objection on file, so that the batcher looks an objection
    /// up in the store only for them (see `commit::objectors`).
    pub objectors: Mutex<HashSet<[u8; 32]>>,
}

/// An open ledger. Cheap to share behind an `Arc`; dropping it stops the batcher.
pub struct Ledger {
    pub(crate) shared: Arc<Shared>,
    pub(crate) jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What the ledger holds of a message's personal part.
#[derive(Clone, Debug)]
pub enum PersonalState {
    Present(Personal),
    Erased,
}

pub(crate) fn lock_poisoned() -> Error {
    Error::Corrupt("an internal lock was poisoned by a panic; restart the server".into())
}

impl Ledger {
    /// Opens a ledger on `store`. A new store gets its genesis `log_key` entry;
    /// an existing one is checked against its last signed checkpoint and refused
    /// (`Error::Corrupt`) if its tree does not match.
    pub fn open(store: Arc<dyn Store>, signer: NoteSigner, secret: ServerSecret, options: LedgerOptions) -> Result<Ledger> {
        if signer.name() != options.origin {
            return Err(Error::malformed(
                "log key",
                format!(
                    "the key is named `{}` but the log origin is `{}`; a checkpoint key must be named after its origin",
                    signer.name(),
                    options.origin
                ),
            ));
        }
        let (state, layout) = match store.head()? {
            None => (genesis(&*store, &signer)?, recipients::Layout::NEW),
            Some(head) => {
                let mut state = load(&*store, &signer, head.size, head.checkpoint.clone())?;
                let layout = recipients::migrate(&*store, &head, &secret, &state.tree)?;
                state.lookup = Lookup::load(&*store, head.size)?;
                (state, layout)
            }
        };
        let objectors = commit::objectors(&*store)?;
        let shared = Arc::new(Shared {
            store,
            secret,
            signer: RwLock::new(signer),
            state: RwLock::new(state),
            options,
            metrics: Metrics::default(),
            listener: RwLock::new(None),
            layout,
            objectors: Mutex::new(objectors),
        });
        let (tx, rx) = mpsc::channel();
        // The batcher: the sequencer hands groups to the committer through a queue of one.
        let (stage, staged) = mpsc::sync_channel(1);
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| Error::Storage(format!("cannot start the {name} thread: {e}")))
        };
        let committer = {
            let shared = Arc::clone(&shared);
            spawn("sightline-commit", Box::new(move || commit::run(&shared, staged)))?
        };
        let thread = {
            let shared = Arc::clone(&shared);
            spawn("sightline-append", Box::new(move || batcher::run(&shared, rx, stage, committer)))?
        };
        Ok(Ledger { shared, jobs: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Registers a function called after each durable commit.
    pub fn set_listener(&self, f: CommitListener) {
        if let Ok(mut l) = self.shared.listener.write() {
            *l = Some(f);
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    pub fn origin(&self) -> &str {
        &self.shared.options.origin
    }

    /// The current log key as a C2SP vkey.
    pub fn vkey(&self) -> String {
        self.shared.signer.read().map(|s| s.vkey()).unwrap_or_default()
    }

    pub(crate) fn state(&self) -> Result<std::sync::RwLockReadGuard<'_, State>> {
        self.shared.state.read().map_err(|_| lock_poisoned())
    }

    /// The published tree size.
    pub fn size(&self) -> u64 {
        self.state().map(|s| s.size).unwrap_or(0)
    }

    /// The published size and its signed checkpoint, read together.
    pub fn head(&self) -> Result<(u64, String)> {
        let st = self.state()?;
        Ok((st.size, st.checkpoint.clone()))
    }

    /// The latest signed checkpoint (note text).
    pub fn checkpoint(&self) -> Result<String> {
        Ok(self.state()?.checkpoint.clone())
    }

    /// A snapshot of the registry.
    pub fn registry(&self) -> Result<Arc<Registry>> {
        Ok(Arc::clone(&self.state()?.registry))
    }

    /// Checks a request's `Authorization` signature (SPEC.md §12) against the key this log
    /// registered for its submitter, bound to this log's origin; see [`crate::request_auth`].
    pub fn verify_request(&self, auth: &crate::request_auth::RequestAuth, request: &str) -> Result<()> {
        self.state()?.registry.verify_request(self.origin(), auth, request)
    }

    /// Entry bytes at `index`, if published.
    ///
    /// Every entry read is checked against its leaf in the tree whose root the signed checkpoint
    /// holds, so bytes changed or damaged in storage are refused (`Error::Corrupt`), never served.
    pub fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let Some(leaf) = self.published_leaves(index, index + 1)?.pop() else { return Ok(None) };
        let bytes = self.shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("published entry {index} is missing")))?;
        check_leaf(index, &bytes, &leaf)?;
        Ok(Some(bytes))
    }

    /// Published entries `start..end`, each checked like [`Ledger::entry`].
    pub fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let leaves = self.published_leaves(start, end)?;
        if leaves.is_empty() {
            return Ok(Vec::new());
        }
        let batch = self.shared.store.entries(start, start + leaves.len() as u64)?;
        if batch.len() < leaves.len() {
            return Err(Error::Corrupt(format!("published entry {} is missing", start + batch.len() as u64)));
        }
        // Checked on all cores; the first bad entry is the one reported.
        if let Some(k) = batch.par_iter().zip(&leaves).position_first(|(bytes, leaf)| leaf_hash(bytes) != *leaf) {
            check_leaf(start + k as u64, &batch[k], &leaves[k])?;
        }
        Ok(batch)
    }

    /// The leaf hashes of published entries `start..end` (clipped to the published size).
    fn published_leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        let st = self.state()?;
        Ok((start..end.min(st.size)).map_while(|i| st.tree.leaf(i)).collect())
    }

    /// RFC 9162 inclusion proof of `index` in the tree of `size` (≤ published size).
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        let st = self.state()?;
        if size > st.size {
            return Err(Error::OutOfRange(format!("size {size} is beyond the published checkpoint size {}", st.size)));
        }
        self.shared.metrics.proofs_served.fetch_add(1, Ordering::Relaxed);
        st.tree.inclusion_proof(index, size)
    }

    /// RFC 9162 consistency proof between two published sizes.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        let st = self.state()?;
        if new > st.size {
            return Err(Error::OutOfRange(format!("size {new} is beyond the published checkpoint size {}", st.size)));
        }
        self.shared.metrics.proofs_served.fetch_add(1, Ordering::Relaxed);
        st.tree.consistency_proof(old, new)
    }

    /// Leaf hash of a published entry.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash> {
        let st = self.state()?;
        if index >= st.size {
            return Err(Error::OutOfRange(format!("entry {index} does not exist; the log has {} entries", st.size)));
        }
        st.tree.leaf(index).ok_or_else(|| Error::OutOfRange(format!("entry {index} does not exist")))
    }

    /// A C2SP hash tile, if it exists at the published size.
    pub fn tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>> {
        let st = self.state()?;
        tiles::tile_bytes(&st.tree, level, index, width, st.size)
    }

    /// A C2SP entry bundle, if it exists at the published size.
    pub fn entry_bundle(&self, index: u64, width: u16) -> Result<Vec<u8>> {
        let size = self.size();
        let start = index.checked_mul(256).ok_or_else(|| Error::OutOfRange("tile index overflows".into()))?;
        let avail = size.saturating_sub(start).min(256);
        let exists = if width == 256 { avail == 256 } else { width > 0 && avail < 256 && u64::from(width) <= avail };
        if !exists {
            return Err(Error::OutOfRange(format!("entry bundle {index} of width {width} does not exist at tree size {size}")));
        }
        let end = start + u64::from(width);
        let entries = self.entries(start, end)?;
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        tiles::encode_entry_bundle(&refs)
    }

    /// The offline receipt of a published entry, at the current checkpoint.
    pub fn receipt(&self, index: u64) -> Result<Receipt> {
        let (proof, checkpoint, size, leaf) = {
            let st = self.state()?;
            if index >= st.size {
                return Err(Error::OutOfRange(format!("entry {index} does not exist; the log has {} entries", st.size)));
            }
            let leaf = st.tree.leaf(index).ok_or_else(|| Error::Corrupt(format!("entry {index} is not in the tree")))?;
            (st.tree.inclusion_proof(index, st.size)?, st.checkpoint.clone(), st.size, leaf)
        };
        let entry = self
            .shared
            .store
            .entry(index)?
            .ok_or_else(|| Error::Corrupt(format!("entry {index} < size {size} is missing from the store")))?;
        // A receipt for damaged bytes would not verify: refuse it as corrupt, like every read.
        check_leaf(index, &entry, &leaf)?;
        Ok(Receipt::new(&entry, index, &proof, &checkpoint))
    }

    /// The why-token of a message entry.
    pub fn why_token(&self, index: u64) -> String {
        self.shared.secret.why_token(index)
    }

    /// The form token of a why link, which the recipient forms of its page carry (SPEC.md §12
    /// "Recipients").
    pub fn form_token(&self, why_token: &str) -> String {
        self.shared.secret.form_token(why_token)
    }

    /// Whether `given` is the form token of `why_token`.
    pub fn check_form_token(&self, why_token: &str, given: &str) -> bool {
        self.shared.secret.check_form_token(why_token, given)
    }

    /// The entry index a why-token names, if genuine and published.
    pub fn check_why_token(&self, token: &str) -> Option<u64> {
        self.shared.secret.check_why_token(token).filter(|i| *i < self.size())
    }

    /// The personal part of a message entry, decrypted; `None` if the entry has none.
    pub fn personal(&self, index: u64) -> Result<Option<PersonalState>> {
        let store = &self.shared.store;
        let Some(record) = store.private(index)? else { return Ok(None) };
        let Some(part) = self.shared.layout.split(index, &record)? else {
            return Ok(if record.is_empty() { None } else { Some(PersonalState::Erased) });
        };
        let key = {
            let handle: crate::lookup::Handle =
                part.handle.try_into().map_err(|_| Error::Corrupt(format!("private record {index} is truncated")))?;
            match self.state()?.lookup.recipient(&handle) {
                Some(r) => r.key.clone(),
                None => return Ok(Some(PersonalState::Erased)),
            }
        };
        let plain = key.open(index, part.sealed)?;
        let corrupt = |e: &dyn std::fmt::Display| Error::Corrupt(format!("personal part of entry {index}: {e}"));
        // UTF-8 checked once, not again for every string by the decoder.
        let text = std::str::from_utf8(&plain).map_err(|e| corrupt(&e))?;
        let p: Personal = serde_json::from_str(text).map_err(|e| corrupt(&e))?;
        Ok(Some(PersonalState::Present(p)))
    }

    /// The latest entry of the recipient with `handle`, if they have personal data on file.
    pub(crate) fn latest_of(&self, handle: &[u8]) -> Result<Option<u64>> {
        let Ok(handle) = crate::lookup::Handle::try_from(handle) else { return Ok(None) };
        Ok(self.state()?.lookup.recipient(&handle).map(|r| r.last))
    }

    /// Re-reads every entry and checks leaf hashes, the chain and the root, then
    /// the private recipient index against the private records (`fsck`).
    /// `progress` is called with the number of entries checked so far.
    pub fn fsck(&self, progress: &dyn Fn(u64)) -> Result<u64> {
        let (size, tree) = {
            let st = self.state()?;
            (st.size, st.tree.clone())
        };
        let mut prev = [0u8; 32];
        let mut i = 0;
        while i < size {
            let end = (i + 4096).min(size);
            let batch = self.shared.store.entries(i, end)?;
            if batch.len() as u64 != end - i {
                return Err(Error::Corrupt(format!("entry {} is missing", i + batch.len() as u64)));
            }
            let lookups = self.shared.store.lookups(i, end)?;
            if lookups.len() as u64 != end - i {
                return Err(Error::Corrupt(format!("the lookup record of entry {} is missing", i + lookups.len() as u64)));
            }
            // Parsing and hashing on all cores (each parsed entry is dropped where it was
            // built); the chain is then walked in order.
            let secret = &self.shared.secret;
            let parsed: Vec<(Result<Linked>, Hash)> = batch
                .par_iter()
                .map(|bytes| {
                    let e = Entry::parse(bytes).map(|e| {
                        let key = match (e.body.get("kind"), e.body.get("signer"), e.body.get("message_id")) {
                            (Some(k), Some(serde_json::Value::String(s)), Some(serde_json::Value::String(m))) if k == "message" => {
                                Some(secret.message_key(s, m))
                            }
                            // A tally is indexed under its campaign and day (`tally.rs`).
                            (Some(k), Some(serde_json::Value::String(s)), None) if k == "tally" => {
                                serde_json::from_value::<crate::tally::TallyBody>(e.body.clone())
                                    .ok()
                                    .map(|t| secret.message_key(s, &t.unique_id()))
                            }
                            _ => None,
                        };
                        (e.index, e.prev, key)
                    });
                    (e, leaf_hash(bytes))
                })
                .collect();
            for ((e, leaf), lookup) in parsed.into_iter().zip(&lookups) {
                let (index, prev_hex, message_key) = e.map_err(|err| Error::Corrupt(format!("entry {i}: {err}")))?;
                if index != i || prev_hex != hex::encode(prev) {
                    return Err(Error::Corrupt(format!("entry {i}: index or prev hash breaks the chain")));
                }
                if crate::lookup::parts(lookup).0 != message_key {
                    return Err(Error::Corrupt(format!(
                        "entry {i}: its lookup record does not hold its message key; the private index is damaged, restore the data folder from a backup"
                    )));
                }
                prev = leaf;
                if tree.leaf(i) != Some(prev) {
                    return Err(Error::Corrupt(format!("entry {i}: its leaf hash differs from the stored tree")));
                }
                i += 1;
            }
            progress(i);
        }
        self.shared.layout.check(self.shared.store.as_ref(), size)?;
        Ok(size)
    }

    /// Stops the batcher after it has finished the work already queued.
    pub fn shutdown(&self) {
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

/// What fsck needs of a parsed entry: its index, its `prev` and its message key (messages only).
type Linked = (u64, String, Option<crate::lookup::MessageKey>);

/// A new log: entry 0 announces the log key, signed by itself (SPEC.md §3.1).
fn genesis(store: &dyn Store, signer: &NoteSigner) -> Result<State> {
    let body = LogKeyBody {
        kind: crate::record::Kind::LogKey,
        signer: "log".into(),
        vkey: signer.vkey(),
        announced_at: format_time(time::OffsetDateTime::now_utc()),
    };
    let body_value = serde_json::to_value(&body).map_err(|e| Error::malformed("genesis", e.to_string()))?;
    let body_jcs = jcs(&body_value)?;
    let sig = signer.sign_bytes(&crate::canonical::signed_message(&body_jcs));
    let logged_at = format_time(time::OffsetDateTime::now_utc());
    let bytes = Entry::encode(0, &[0; 32], &logged_at, &[], &body_jcs, &sig)?;
    let mut tree = Tree::new();
    tree.push(leaf_hash(&bytes));
    let checkpoint = sign_checkpoint(signer, &tree, 1)?;
    let mut registry = Registry::default();
    registry.apply(0, &Body::LogKey(body))?;
    let commit = Commit {
        size: 1,
        checkpoint: checkpoint.clone(),
        entries: vec![(0, bytes)],
        tiles: commit::touched_tiles(&tree, 0, 1),
        puts: vec![(Space::Index, commit::key_registry(0), Vec::new()), recipients::Layout::NEW.put()],
        ..Commit::default()
    };
    store.commit(&commit)?;
    Ok(State { tree, size: 1, checkpoint, registry: Arc::new(registry), lookup: Lookup::default(), epoch: 0 })
}

/// Refuses entry bytes that do not hash to their leaf in the signed tree.
pub(crate) fn check_leaf(index: u64, bytes: &[u8], leaf: &Hash) -> Result<()> {
    if leaf_hash(bytes) == *leaf {
        Ok(())
    } else {
        Err(Error::Corrupt(format!("entry {index} in the store does not hash to its leaf in the signed tree")))
    }
}

/// Signs the checkpoint of `tree` at `size`.
pub(crate) fn sign_checkpoint(signer: &NoteSigner, tree: &Tree, size: u64) -> Result<String> {
    let cp = Checkpoint { origin: signer.name().to_string(), size, root: tree.root_at(size)?, extensions: Vec::new() };
    signer.sign_note(&cp.to_text())
}

/// Loads an existing store and checks it against its signed checkpoint.
fn load(store: &dyn Store, signer: &NoteSigner, size: u64, checkpoint: String) -> Result<State> {
    let mut registry = Registry::default();
    // The registry is needed to verify the checkpoint; its entries are checked against the tree
    // once the tree has matched that checkpoint, below.
    let mut registry_leaves = Vec::new();
    for (k, _) in store.scan(Space::Index, b"reg/")? {
        let index = k
            .get(4..12)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| Error::Corrupt("a registry index key is malformed".into()))?;
        let bytes = store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("registry entry {index} is missing")))?;
        registry.apply_entry(index, &bytes)?;
        registry_leaves.push((index, leaf_hash(&bytes)));
    }
    let current = registry
        .current_log_key()
        .ok_or_else(|| Error::Corrupt("the log announces no log key (entry 0 must be a log_key entry)".into()))?;
    if current.vkey() != signer.vkey() {
        return Err(Error::Corrupt(format!(
            "the log key given ({}) is not the log's current key ({}); point the server at the key file of this data folder",
            signer.vkey(),
            current.vkey()
        )));
    }
    let note = SignedNote::parse(&checkpoint).map_err(|e| Error::Corrupt(format!("stored checkpoint: {e}")))?;
    note.verify(&registry.all_log_keys()).map_err(|e| Error::Corrupt(format!("stored checkpoint: {e}")))?;
    let cp = Checkpoint::parse(&note.text).map_err(|e| Error::Corrupt(format!("stored checkpoint: {e}")))?;
    if cp.size != size {
        return Err(Error::Corrupt(format!("the head says size {size} but its checkpoint says {}", cp.size)));
    }
    let mut leaves = Vec::with_capacity(size as usize);
    for t in 0..size.div_ceil(256) {
        let want = ((size - t * 256).min(256) * 32) as usize;
        let bytes = store.tile(0, t)?.ok_or_else(|| Error::Corrupt(format!("hash tile 0/{t} is missing")))?;
        let slice = bytes.get(..want).ok_or_else(|| Error::Corrupt(format!("hash tile 0/{t} is shorter than the tree size needs")))?;
        leaves.extend(slice.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32])));
    }
    let tree = Tree::from_leaf_hashes(leaves);
    if tree.root() != cp.root {
        return Err(Error::Corrupt(format!(
            "the tree rebuilt from the stored tiles has root {} but the signed checkpoint of size {size} says {}",
            hex::encode(tree.root()),
            hex::encode(cp.root)
        )));
    }
    let last = store.entry(size - 1)?.ok_or_else(|| Error::Corrupt(format!("entry {} is missing", size - 1)))?;
    if Some(leaf_hash(&last)) != tree.leaf(size - 1) {
        return Err(Error::Corrupt(format!("entry {} does not hash to its leaf in the stored tree", size - 1)));
    }
    for (index, leaf) in registry_leaves {
        if tree.leaf(index) != Some(leaf) {
            return Err(Error::Corrupt(format!(
                "registry entry {index} (a log key, submitter or party) does not hash to its leaf in the signed tree"
            )));
        }
    }
    if store.entry(size)?.is_some() {
        return Err(Error::Corrupt(format!("an entry {size} exists beyond the checkpointed size")));
    }
    Ok(State { tree, size, checkpoint, registry: Arc::new(registry), lookup: Lookup::default(), epoch: 0 })
}
