//! Static tiles: the log's read API (c2sp.org/tlog-tiles) written as files into a folder that
//! any static web server or CDN serves, as Sunlight writes it to object storage: `checkpoint`,
//! `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, each path spelled by
//! [`sightline_ledger::tiles`] (the one place paths are spelled), each file byte for byte what
//! the server's own `/checkpoint` and `/tile/…` routes answer (SPEC.md §9).
//!
//! **A reader never sees a half-written file, nor a checkpoint whose tiles are not there.**
//! Each file is written under a temporary name in its folder, synced, and renamed into place;
//! the folders are synced; the checkpoint goes last, the same way. A crash leaves the previous
//! checkpoint and everything it needs, and at worst a temporary file (`.*.tmp`), which the next
//! write of that path replaces.
//!
//! Full tiles and bundles never change once written. A partial one is written at the width
//! each published checkpoint needs; once its tile is full and a checkpoint covering the full
//! tile is in place, the tile's `.p/` folder is removed (the server stops serving those
//! partial widths at that moment too).
//!
//! `sightline serve --publish DIR` keeps the folder current from a thread of its own
//! ([`Publisher`]), never on the write path: it catches up to the newest checkpoint each round,
//! so a burst of commits costs one round. `sightline publish` brings a stopped server's folder
//! up to date once ([`publish`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use sightline_ledger::tiles::{entries_path, tile_path, TILE_WIDTH};
use sightline_ledger::Ledger;

use crate::durable;
use crate::error::WebError;

/// How often the publishing thread looks for a new checkpoint.
const ROUND: Duration = Duration::from_millis(200);
/// Tile levels a log of up to 2^64 entries has.
const LEVELS: u8 = 8;

fn io(what: &str, path: &Path, e: std::io::Error) -> WebError {
    WebError::Setup(format!("cannot {what} {}: {e}; check that the publish folder is writable and has room", path.display()))
}

/// What one round of [`publish`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// The size of the checkpoint the folder now holds.
    pub size: u64,
    /// Files written (tiles, bundles and the checkpoint).
    pub files: u64,
}

/// The files of one round: written one by one, their folders synced together.
struct Round<'a> {
    dir: &'a Path,
    folders: BTreeSet<PathBuf>,
    files: u64,
}

impl Round<'_> {
    /// Writes `bytes` to `rel` under the folder: a temporary name, synced, then renamed.
    fn write(&mut self, rel: &str, bytes: &[u8]) -> Result<(), WebError> {
        let path = self.dir.join(rel);
        let folder = path.parent().unwrap_or(self.dir).to_path_buf();
        std::fs::create_dir_all(&folder).map_err(|e| io("create", &folder, e))?;
        durable::write_and_rename(&path, bytes, false).map_err(|e| io("write", &path, e))?;
        self.folders.insert(folder);
        self.files += 1;
        Ok(())
    }

    /// Syncs every folder a file was renamed into, so the names are durable.
    fn sync_folders(&mut self) -> Result<(), WebError> {
        for folder in std::mem::take(&mut self.folders) {
            durable::sync_folder(&folder).map_err(|e| io("sync", &folder, e))?;
        }
        Ok(())
    }
}

/// The size of the checkpoint `dir` publishes, if it is a checkpoint of this log (its origin,
/// and the root of this log's tree at its size); 0 otherwise, and everything is written again.
pub fn published_size(ledger: &Ledger, dir: &Path) -> u64 {
    let Ok(note) = std::fs::read_to_string(dir.join("checkpoint")) else { return 0 };
    match ledger.check_checkpoint(&note) {
        Ok(cp) => cp.size,
        Err(e) => {
            tracing::warn!(folder = %dir.display(), error = %e, "the publish folder holds a checkpoint of another log or history; writing every tile again");
            0
        }
    }
}

/// Brings `dir` from size `from` (what it publishes now, see [`published_size`]) to the
/// ledger's newest checkpoint: the tiles and bundles that changed, then the checkpoint, then
/// the partial tiles that became full are removed.
pub fn publish(ledger: &Ledger, dir: &Path, from: u64) -> Result<Published, WebError> {
    let (size, checkpoint) = ledger.head()?;
    if size == from && dir.join("checkpoint").exists() {
        return Ok(Published { size, files: 0 });
    }
    let from = if from > size { 0 } else { from };
    let mut round = Round { dir, folders: BTreeSet::new(), files: 0 };
    let mut superseded = Vec::new();
    for level in 0..LEVELS {
        let shift = 8 * u32::from(level);
        let (old, new) = (from >> shift, size >> shift);
        if new == 0 {
            break;
        }
        if new == old {
            continue;
        }
        for t in old / TILE_WIDTH..new / TILE_WIDTH {
            round.write(&tile_path(level, t, TILE_WIDTH as u16), &ledger.tile_at(level, t, TILE_WIDTH as u16, size)?)?;
            if level == 0 {
                round.write(&entries_path(t, TILE_WIDTH as u16), &ledger.entry_bundle_at(t, TILE_WIDTH as u16, size)?)?;
            }
            if old > t * TILE_WIDTH {
                superseded.push((level, t));
            }
        }
        let width = (new % TILE_WIDTH) as u16;
        if width > 0 {
            let t = new / TILE_WIDTH;
            round.write(&tile_path(level, t, width), &ledger.tile_at(level, t, width, size)?)?;
            if level == 0 {
                round.write(&entries_path(t, width), &ledger.entry_bundle_at(t, width, size)?)?;
            }
        }
    }
    round.sync_folders()?;
    round.write("checkpoint", checkpoint.as_bytes())?;
    round.sync_folders()?;
    for (level, t) in superseded {
        let mut partials = vec![tile_path(level, t, 1)];
        if level == 0 {
            partials.push(entries_path(t, 1));
        }
        for p in partials {
            // `…/NNN.p/1` → the folder `…/NNN.p` with every partial width of that tile.
            if let Some(folder) = dir.join(p).parent() {
                match std::fs::remove_dir_all(folder) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!(folder = %folder.display(), error = %e, "cannot remove the partial tiles of a full tile"),
                }
            }
        }
    }
    Ok(Published { size, files: round.files })
}

/// `sightline serve --publish DIR`: a thread that keeps `DIR` at the newest checkpoint.
pub struct Publisher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Publisher {
    /// Starts publishing `ledger` into `dir` (created if missing), from what it already holds.
    pub fn start(ledger: Arc<Ledger>, dir: PathBuf) -> Result<Publisher, WebError> {
        std::fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sightline-publish".into())
            .spawn(move || {
                let mut at = published_size(&ledger, &dir);
                tracing::info!(folder = %dir.display(), from = at, "publishing the log as static tiles");
                loop {
                    let last = stopping.load(Ordering::Relaxed);
                    match publish(&ledger, &dir, at) {
                        Ok(p) => at = p.size,
                        Err(e) => tracing::error!(error = %e, "publishing static tiles failed; the next round tries again"),
                    }
                    if last {
                        return;
                    }
                    std::thread::sleep(ROUND);
                }
            })
            .map_err(|e| WebError::Setup(format!("cannot start the publishing thread: {e}")))?;
        Ok(Publisher { stop, thread: Some(thread) })
    }

    /// Publishes the last checkpoint and stops.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
