//! The library index kept beside the log, as one of the ledger's derived indexes
//! ([`Ledger::save_derived`]: rows `d/library/…` of the store's Index space), so that start-up
//! reads the campaigns and the entries logged since the last save instead of every entry.
//!
//! Rows: `meta`, JSON: the format version, the last entry indexed and its leaf hash (which ties
//! the rows to this log), the message count, the names of parties and submitters, and the
//! tallies of campaigns with no message yet; and `c/<slot>` (the slot as u64 big-endian), JSON:
//! one campaign's aggregate. A save writes the campaigns changed since the previous save and
//! the meta row in one atomic commit, so the rows always describe the log up to meta's entry.
//!
//! Start-up ([`load`]): rows of this version whose entry is in the log with the same leaf hash
//! are read back, and the entries after it indexed. Anything else (no rows, as in a data folder
//! written before this file; another version; damage) is rebuilt from every entry once, with a
//! log line saying why, and saved. The server saves every [`SAVE_EVERY`] while it runs
//! ([`keep_saved`]) and when it stops.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sightline_ledger::Ledger;

use super::index::Campaign;
use super::tallies::CampaignTallies;
use super::LibraryIndex;
use crate::error::WebError;

/// The derived index's name.
const NAME: &str = "library";
/// The rows' format; rows of another are rebuilt.
const VERSION: u64 = 1;
/// How often a running server saves what changed.
pub const SAVE_EVERY: Duration = Duration::from_secs(10);
/// Entries read from the ledger at a time when indexing.
const CHUNK: u64 = 4096;

/// The `meta` row.
#[derive(Serialize, Deserialize)]
struct Meta {
    version: u64,
    /// The last entry indexed, and its leaf hash in hex.
    through: Option<u64>,
    leaf: Option<String>,
    campaigns: usize,
    messages: u64,
    parties: HashMap<String, String>,
    submitters: HashMap<String, String>,
    pending_tallies: HashMap<String, HashMap<String, CampaignTallies>>,
}

/// Rows as `(key, value)`.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

fn campaign_key(slot: usize) -> Vec<u8> {
    [b"c/".as_slice(), &(slot as u64).to_be_bytes()].concat()
}

impl LibraryIndex {
    /// The rows that save what changed since the last save, `leaf` being the leaf hash of the
    /// last entry indexed; empty when nothing did. Forgets what changed: the caller puts
    /// [`LibraryIndex::unsaved`] back if the save fails.
    fn rows_to_save(&mut self, leaf: Option<String>) -> Result<Rows, String> {
        if self.unsaved.is_empty() && self.last_added == self.saved_through {
            return Ok(Vec::new());
        }
        let mut rows = Vec::with_capacity(self.unsaved.len() + 1);
        for &slot in &self.unsaved {
            if let Some(c) = self.campaigns.get(slot) {
                rows.push((campaign_key(slot), json(c)?));
            }
        }
        let meta = Meta {
            version: VERSION,
            through: self.last_added,
            leaf,
            campaigns: self.campaigns.len(),
            messages: self.messages,
            parties: self.parties.clone(),
            submitters: self.submitters.clone(),
            pending_tallies: self.pending_tallies.clone(),
        };
        rows.push((b"meta".to_vec(), json(&meta)?));
        Ok(rows)
    }

    /// The index the rows of a save hold, with the leaf hash of its last entry.
    fn from_rows(rows: Rows) -> Result<(LibraryIndex, Option<String>), String> {
        let mut meta: Option<Meta> = None;
        let mut campaigns: BTreeMap<u64, Campaign> = BTreeMap::new();
        for (key, value) in rows {
            if key == b"meta" {
                meta = Some(serde_json::from_slice(&value).map_err(|e| format!("its meta row does not parse: {e}"))?);
            } else if let Some(slot) = key.strip_prefix(b"c/").and_then(|s| <[u8; 8]>::try_from(s).ok()).map(u64::from_be_bytes) {
                let c = serde_json::from_slice(&value).map_err(|e| format!("the row of campaign {slot} does not parse: {e}"))?;
                campaigns.insert(slot, c);
            } else {
                return Err(format!("it holds a row it does not know ({})", String::from_utf8_lossy(&key)));
            }
        }
        let meta = meta.ok_or("it has no meta row")?;
        if meta.version != VERSION {
            return Err(format!("its rows are of format {}, not {VERSION}", meta.version));
        }
        if campaigns.len() != meta.campaigns || campaigns.keys().zip(0..).any(|(slot, n)| *slot != n) {
            return Err(format!("it holds {} campaign rows where its meta row says {}", campaigns.len(), meta.campaigns));
        }
        let campaigns: Vec<Campaign> = campaigns.into_values().collect();
        let mut by_key: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (slot, c) in campaigns.iter().enumerate() {
            by_key.entry(c.submitter.clone()).or_default().insert(c.campaign_id.clone(), slot);
        }
        let lib = LibraryIndex {
            campaigns,
            by_key,
            parties: meta.parties,
            submitters: meta.submitters,
            messages: meta.messages,
            last_added: meta.through,
            pending_tallies: meta.pending_tallies,
            unsaved: Default::default(),
            saved_through: meta.through,
        };
        Ok((lib, meta.leaf))
    }
}

/// A row's value as JSON.
fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|e| format!("the library index cannot be written as JSON: {e}"))
}

/// The leaf hash of entry `index` in hex, as the meta row holds it.
fn leaf_of(ledger: &Ledger, index: Option<u64>) -> Result<Option<String>, WebError> {
    Ok(index.map(|i| ledger.leaf_hash(i)).transpose()?.map(hex::encode))
}

/// What [`load`] built.
pub struct Loaded {
    /// The library index, current to the ledger's size when it was loaded.
    pub index: LibraryIndex,
    /// Whether it was read back from saved rows (else rebuilt from every entry).
    pub from_saved: bool,
    /// Entries indexed: those logged since the last save, or every entry.
    pub indexed: u64,
}

/// The library of `ledger` at start-up: saved rows read back and the entries logged since
/// indexed, or every entry indexed when there are no usable rows (see the module docs).
pub fn load(ledger: &Ledger) -> Result<Loaded, WebError> {
    let started = Instant::now();
    let size = ledger.size();
    let rows = ledger.derived(NAME)?;
    let restored = if rows.is_empty() {
        tracing::info!("the ad library has not been saved in this data folder yet: indexing every entry once");
        None
    } else {
        match LibraryIndex::from_rows(rows) {
            Ok((lib, leaf)) => match lib.last_added {
                Some(through) if through < size && leaf_of(ledger, Some(through))? == leaf => Some(lib),
                None if leaf.is_none() => Some(lib),
                _ => {
                    tracing::warn!("the saved ad library is not of this log (its last entry differs): indexing every entry again");
                    None
                }
            },
            Err(why) => {
                tracing::warn!(%why, "the saved ad library cannot be read back: indexing every entry again");
                None
            }
        }
    };
    let (mut lib, from_saved) = match restored {
        Some(lib) => (lib, true),
        None => (LibraryIndex::default(), false),
    };
    let from = lib.last_added.map_or(0, |i| i + 1);
    index_entries(&mut lib, ledger, from, size)?;
    tracing::info!(
        campaigns = lib.campaigns(),
        from_saved_rows = from_saved,
        entries_indexed = size - from,
        millis = started.elapsed().as_millis() as u64,
        "the ad library is ready"
    );
    Ok(Loaded { index: lib, from_saved, indexed: size - from })
}

/// Indexes entries `from..size`: one thread reads and checks the next chunk while this one
/// indexes the last.
fn index_entries(lib: &mut LibraryIndex, ledger: &Ledger, from: u64, size: u64) -> Result<(), WebError> {
    std::thread::scope(|s| -> Result<(), WebError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        s.spawn(move || {
            for start in (from..size).step_by(CHUNK as usize) {
                let chunk = ledger.entries(start, (start + CHUNK).min(size)).map(|e| (start, e));
                if tx.send(chunk).is_err() {
                    break;
                }
            }
        });
        for chunk in rx {
            let (start, entries) = chunk?;
            lib.add_all(start, &entries);
        }
        Ok(())
    })
}

/// One save at a time: two saves committed out of order could leave campaign rows of a later
/// save under the meta row of an earlier one. (The library's own lock cannot be held across
/// the commit: the commit waits for the committer, which takes that lock to index.)
static SAVING: Mutex<()> = Mutex::new(());

/// Saves what changed in `library` since its last save, in one commit beside the log.
pub fn save(library: &RwLock<LibraryIndex>, ledger: &Ledger) -> Result<(), WebError> {
    // One of several front ends that does not sequence: the sequencer saves; what changed here
    // stays to be saved should this front end sequence later.
    if !ledger.saves_derived() {
        return Ok(());
    }
    let poisoned = || WebError::Setup("the library index's lock was poisoned by a panic; restart the server".into());
    let _one_at_a_time = SAVING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let (rows, unsaved, through) = {
        let mut lib = library.write().map_err(|_| poisoned())?;
        let leaf = leaf_of(ledger, lib.last_added)?;
        let rows = lib.rows_to_save(leaf).map_err(WebError::Setup)?;
        (rows, std::mem::take(&mut lib.unsaved), lib.last_added)
    };
    if rows.is_empty() {
        return Ok(());
    }
    match ledger.save_derived(NAME, rows, Vec::new()) {
        Ok(()) => {
            library.write().map_err(|_| poisoned())?.saved_through = through;
            Ok(())
        }
        Err(e) => {
            library.write().map_err(|_| poisoned())?.unsaved.extend(unsaved);
            Err(e.into())
        }
    }
}

/// Saves `library` every [`SAVE_EVERY`] on a thread of its own, for as long as both it and
/// `ledger` exist elsewhere.
pub fn keep_saved(library: Weak<RwLock<LibraryIndex>>, ledger: Weak<Ledger>) {
    let spawned = std::thread::Builder::new().name("sightline-library".into()).spawn(move || loop {
        std::thread::sleep(SAVE_EVERY);
        let (Some(library), Some(ledger)) = (library.upgrade(), ledger.upgrade()) else { return };
        match save(&library, &ledger) {
            // The server is stopping: it saves the library itself.
            Ok(()) | Err(WebError::Ledger(sightline_ledger::Error::ShuttingDown)) => {}
            Err(e) => tracing::warn!(error = %e, "saving the ad library failed; the next save tries again"),
        }
        drop((library, ledger));
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the thread that saves the ad library; it is saved when the server stops");
    }
}

/// The library of `ledger` as the server shares it: loaded ([`load`]), saved at once if that
/// indexed anything, and kept saved ([`keep_saved`]).
pub fn start(ledger: &Arc<Ledger>) -> Result<Arc<RwLock<LibraryIndex>>, WebError> {
    let loaded = load(ledger)?;
    let library = Arc::new(RwLock::new(loaded.index));
    if loaded.indexed > 0 {
        save(&library, ledger)?;
    }
    keep_saved(Arc::downgrade(&library), Arc::downgrade(ledger));
    Ok(library)
}
