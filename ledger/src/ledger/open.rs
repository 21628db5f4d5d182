//! Opening a ledger: a new store gets its genesis entry; an existing one is checked against its
//! last signed checkpoint and refused if its tree differs, its older layouts are converted, and
//! its in-memory indexes are rebuilt. Then the two write threads start.

use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc, Mutex, RwLock};

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::model::canonical::{jcs, signed_message};
use crate::model::entry::Entry;
use crate::model::record::{format_time, Body, Kind, LogKeyBody};
use crate::model::registry::Registry;
use crate::pipeline::state::{objectors, sign_checkpoint, LedgerOptions, Metrics, Shared, State};
use crate::pipeline::{committer, sequencer};
use crate::privacy::lookup::Lookup;
use crate::privacy::migrate::migrate;
use crate::privacy::recipients::Layout;
use crate::privacy::ServerSecret;
use crate::store::{keys, Commit, Space, Store};
use crate::tlog::merkle::{leaf_hash, Tree};
use crate::tlog::note::{Checkpoint, NoteSigner, SignedNote};
use crate::tlog::tiles::changed_tiles;

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
            None => (genesis(&*store, &signer)?, Layout::NEW),
            Some(head) => {
                let mut state = load(&*store, &signer, head.size, head.checkpoint.clone())?;
                let layout = migrate(&*store, &head, &secret, &state.tree)?;
                state.lookup = Lookup::load(&*store, head.size)?;
                (state, layout)
            }
        };
        let objectors = objectors(&*store)?;
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
            commit_failed: AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel();
        // The sequencer hands groups to the committer through a queue of one.
        let (stage, staged) = mpsc::sync_channel(1);
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| Error::Storage(format!("cannot start the {name} thread: {e}")))
        };
        let committer = {
            let shared = Arc::clone(&shared);
            spawn("sightline-commit", Box::new(move || committer::run(&shared, staged)))?
        };
        let thread = {
            let shared = Arc::clone(&shared);
            spawn("sightline-append", Box::new(move || sequencer::run(&shared, rx, stage, committer)))?
        };
        Ok(Ledger { shared, jobs: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)), member: None })
    }
}

/// A new log: entry 0 announces the log key, signed by itself (SPEC.md §3.1).
fn genesis(store: &dyn Store, signer: &NoteSigner) -> Result<State> {
    let body = LogKeyBody {
        kind: Kind::LogKey,
        signer: "log".into(),
        vkey: signer.vkey(),
        announced_at: format_time(time::OffsetDateTime::now_utc()),
    };
    let body_value = serde_json::to_value(&body).map_err(|e| Error::malformed("genesis", e.to_string()))?;
    let body_jcs = jcs(&body_value)?;
    let sig = signer.sign_bytes(&signed_message(&body_jcs));
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
        tiles: changed_tiles(&tree, 0, 1),
        puts: vec![(Space::Index, keys::registry(0), Vec::new()), Layout::NEW.put()],
        ..Commit::default()
    };
    store.commit(&commit)?;
    Ok(State { tree, size: 1, checkpoint, registry: Arc::new(registry), lookup: Lookup::default(), epoch: 0 })
}

/// Loads an existing store and checks it against its signed checkpoint.
fn load(store: &dyn Store, signer: &NoteSigner, size: u64, checkpoint: String) -> Result<State> {
    let mut registry = Registry::default();
    // The registry is needed to verify the checkpoint; its entries are checked against the tree
    // once the tree has matched that checkpoint, below.
    let mut registry_leaves = Vec::new();
    for (k, _) in store.scan(Space::Index, keys::REGISTRY)? {
        let index = keys::registry_index(&k).ok_or_else(|| Error::Corrupt("a registry index key is malformed".into()))?;
        if index >= size {
            // Appended since the head was read, by another front end sharing the store: the
            // front end catches up with it later (`cluster/follow.rs`).
            continue;
        }
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
    if store.entry(size)?.is_some() && store.head()?.is_none_or(|h| h.size <= size) {
        return Err(Error::Corrupt(format!("an entry {size} exists beyond the checkpointed size")));
    }
    Ok(State { tree, size, checkpoint, registry: Arc::new(registry), lookup: Lookup::default(), epoch: 0 })
}
