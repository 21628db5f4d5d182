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
use crate::pipeline::tree::Tiles;
use crate::pipeline::{committer, sequencer};
use crate::privacy::lookup::Lookup;
use crate::privacy::migrate::migrate;
use crate::privacy::recipients::Layout;
use crate::privacy::ServerSecret;
use crate::store::{keys, Commit, Space, Store};
use crate::tlog::edge::Edge;
use crate::tlog::merkle::leaf_hash;
use crate::tlog::note::{Checkpoint, NoteSigner, SignedNote};

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
        let tiles = Tiles::new(Arc::clone(&store));
        let (state, layout) = match store.head()? {
            None => (genesis(&*store, &signer)?, Layout::NEW),
            Some(head) => {
                let state = load(&*store, &tiles, &signer, head.size, head.checkpoint.clone())?;
                let tree = tiles.view(Arc::clone(&state.published));
                let layout = migrate(&*store, &head, &secret, &|i| tree.leaf(i))?;
                (state, layout)
            }
        };
        let objectors = objectors(&*store)?;
        let shared = Arc::new(Shared {
            lookup: Lookup::new(Arc::clone(&store)),
            store,
            tiles,
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
    let mut edge = Edge::default();
    let full = edge.extend(&[leaf_hash(&bytes)]);
    let checkpoint = sign_checkpoint(signer, edge.root(), 1)?;
    let mut registry = Registry::default();
    registry.apply(0, &Body::LogKey(body))?;
    let commit = Commit {
        size: 1,
        checkpoint: checkpoint.clone(),
        entries: vec![(0, bytes)],
        tiles: edge.changed_tiles(0, &full),
        puts: vec![(Space::Index, keys::registry(0), Vec::new()), Layout::NEW.put()],
        ..Commit::default()
    };
    store.commit(&commit)?;
    let published = Arc::new(edge.clone());
    Ok(State { edge, published, size: 1, checkpoint, registry: Arc::new(registry), epoch: 0 })
}

/// Loads an existing store and checks it against its signed checkpoint: the tree's right edge
/// is read from the partial tiles of each level and its root compared with the checkpoint's;
/// the tree's other tiles are read, and checked against it, when they are needed
/// (`pipeline/tree.rs`). Nothing here reads every entry or every tile.
fn load(store: &dyn Store, tiles: &Tiles, signer: &NoteSigner, size: u64, checkpoint: String) -> Result<State> {
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
    let last = store.entry(size - 1)?.ok_or_else(|| Error::Corrupt(format!("entry {} is missing", size - 1)))?;
    // The last leaf ends a full tile when the size is a multiple of 256: then no partial tile
    // holds it, and it is taken from the entry, checked below against that full tile.
    let edge = Edge::load(size, |level, index| store.tile(level, index), Some(leaf_hash(&last)))?;
    if edge.root() != cp.root {
        return Err(Error::Corrupt(format!(
            "the tree's right edge read from the stored tiles has root {} but the signed checkpoint of size {size} says {}",
            hex::encode(edge.root()),
            hex::encode(cp.root)
        )));
    }
    let published = Arc::new(edge.clone());
    let tree = tiles.view(Arc::clone(&published));
    if leaf_hash(&last) != tree.leaf(size - 1)? {
        return Err(Error::Corrupt(format!("entry {} does not hash to its leaf in the stored tree", size - 1)));
    }
    for (index, leaf) in registry_leaves {
        if tree.leaf(index).ok() != Some(leaf) {
            return Err(Error::Corrupt(format!(
                "registry entry {index} (a log key, submitter or party) does not hash to its leaf in the signed tree"
            )));
        }
    }
    if store.entry(size)?.is_some() && store.head()?.is_none_or(|h| h.size <= size) {
        return Err(Error::Corrupt(format!("an entry {size} exists beyond the checkpointed size")));
    }
    Ok(State { edge, published, size, checkpoint, registry: Arc::new(registry), epoch: 0 })
}
