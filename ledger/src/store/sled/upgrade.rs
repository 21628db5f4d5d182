//! What a store from before `rows.dat` goes through once when it opens: its message key and
//! recipient rows move out of sled's keys into the hash tables (`hashed_rows.rs`), and sled's
//! files are rebuilt without them, which is what gives back their memory.
//!
//! Sled keeps a record in memory for every page its tree ever had, and deleting keys does not
//! give them back (measured: a tree of 2 M keys holds the same memory after every key is
//! deleted, or the tree dropped). So a store written before `rows.dat`, whose sled tree held a
//! key per message, is not converted by deleting those keys: its tree is copied, without them,
//! into a new sled folder, and the old files are removed.
//!
//! A store written before this layout keeps sled's files (`db`, `conf`, `snap.*`, `blobs/`) in
//! the store folder itself; every store since keeps them in `sled/` inside it. The rebuild
//! writes the copy into `.sled-rebuild/`, syncs it, renames it to `sled/` (the commit point),
//! then removes the old files. A crash before the rename leaves the old files whole (the
//! half-made copy is removed on the next open, which rebuilds again); after it, the next open
//! uses `sled/` and removes whatever old files are left.

use std::path::{Path, PathBuf};

use super::hashed_rows::HashedRows;
use super::sled_keys::{is_hashed_sled_key, read_u64, space_key, storage};
use crate::error::{Error, Result};
use crate::store::{keys, Space};

/// The sled folder of a store created by this version, inside the store folder.
const FOLDER: &str = "sled";
/// Where a rebuild writes its copy before the rename.
const REBUILDING: &str = ".sled-rebuild";
/// Sled's files in a store folder from before [`FOLDER`].
const OLD_FILES: [&str; 3] = ["db", "conf", "blobs"];

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

/// The folder sled's files are in, for store folder `dir`, after removing what a crash left of
/// a rebuild: `dir/sled` for a new store or a rebuilt one, `dir` itself for an older one.
pub(crate) fn sled_folder(dir: &Path) -> Result<PathBuf> {
    let rebuilding = dir.join(REBUILDING);
    if rebuilding.exists() {
        std::fs::remove_dir_all(&rebuilding).map_err(|e| io("cannot remove the unfinished rebuild", &rebuilding, e))?;
    }
    let folder = dir.join(FOLDER);
    if folder.exists() {
        remove_old_files(dir)?;
        return Ok(folder);
    }
    Ok(if dir.join(OLD_FILES[0]).exists() { dir.to_path_buf() } else { folder })
}

/// Removes sled's files from the store folder itself (they are in [`FOLDER`] now).
fn remove_old_files(dir: &Path) -> Result<()> {
    let mut names: Vec<PathBuf> = OLD_FILES.iter().map(|n| dir.join(n)).collect();
    for e in std::fs::read_dir(dir).map_err(|e| io("cannot list", dir, e))? {
        let path = e.map_err(|e| io("cannot list", dir, e))?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("snap.")) {
            names.push(path);
        }
    }
    for path in names.into_iter().filter(|p| p.exists()) {
        let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(|e| io("cannot remove the old sled file", &path, e))?;
    }
    Ok(())
}

/// Copies tree `tree` of the sled database in store folder `dir` (an old one, closed) into a new
/// one in `dir/sled`, leaving out the keys `skip` names, and removes the old files. Returns the
/// number of keys copied.
pub(crate) fn rebuild(dir: &Path, tree: &str, skip: impl Fn(&[u8]) -> bool, open: impl Fn(&Path) -> Result<sled::Db>) -> Result<u64> {
    let storage = |e: sled::Error| Error::Storage(format!("rebuilding the sled store in {}: {e}", dir.display()));
    let rebuilding = dir.join(REBUILDING);
    let mut copied = 0u64;
    {
        let old = open(dir)?;
        let new = open(&rebuilding)?;
        let (from, to) = (old.open_tree(tree).map_err(storage)?, new.open_tree(tree).map_err(storage)?);
        let mut batch = sled::Batch::default();
        for kv in from.iter() {
            let (k, v) = kv.map_err(storage)?;
            if skip(&k) {
                continue;
            }
            batch.insert(k, v);
            copied += 1;
            if copied % 4096 == 0 {
                to.apply_batch(std::mem::take(&mut batch)).map_err(storage)?;
            }
        }
        to.apply_batch(batch).map_err(storage)?;
        new.flush().map_err(storage)?;
    }
    sync_tree(&rebuilding)?;
    let folder = dir.join(FOLDER);
    std::fs::rename(&rebuilding, &folder).map_err(|e| io("cannot rename the rebuilt sled store to", &folder, e))?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("cannot sync", dir, e))?;
    remove_old_files(dir)?;
    Ok(copied)
}

/// Syncs every file and folder under `path`, and `path` itself.
fn sync_tree(path: &Path) -> Result<()> {
    for e in std::fs::read_dir(path).map_err(|e| io("cannot list", path, e))? {
        let p = e.map_err(|e| io("cannot list", path, e))?.path();
        if p.is_dir() {
            sync_tree(&p)?;
        } else {
            std::fs::File::open(&p).and_then(|f| f.sync_all()).map_err(|e| io("cannot sync", &p, e))?;
        }
    }
    std::fs::File::open(path).and_then(|d| d.sync_all()).map_err(|e| io("cannot sync", path, e))
}

/// Moves the message key and recipient rows that a store from before `rows.dat` kept as
/// sled keys into the hash tables (when they were `created` by this open) and checkpoints
/// them. Returns whether sled's files must then be rebuilt without them (`rebuild.rs`: they
/// are in the store folder itself, `old_files`); else deletes them. A crash before the
/// checkpoint leaves no `rows.dir`, so the next open starts the move again on an empty
/// `rows.dat`; a crash after it leaves sled keys that are already moved, which are only
/// left out or deleted.
pub(super) fn move_rows_out_of_sled(db: &sled::Db, tree: &sled::Tree, rows: &HashedRows, created: bool, old_files: bool) -> Result<bool> {
    let started = std::time::Instant::now();
    let mut moved = 0u64;
    if created {
        for t in 0..2 {
            for_each_sled_row(tree, t, |chunk| {
                if let Some(planned) = rows.plan(chunk, &[])? {
                    rows.apply_unjournaled(planned)?;
                }
                moved += chunk.len() as u64;
                Ok(())
            })?;
        }
        rows.checkpoint()?;
        if moved > 0 {
            tracing::info!(
                rows = moved,
                millis = started.elapsed().as_millis() as u64,
                "moved the message key and recipient rows out of sled into rows.dat: memory no longer grows with the log"
            );
        }
    }
    // Layout 5 becomes 6 (`privacy/migrate.rs`): an older version refuses the folder
    // instead of looking for the rows among sled's keys.
    let marker = space_key(Space::Private, keys::LAYOUT);
    if let Some(v) = tree.get(&marker).map_err(storage)?.filter(|v| v.first() == Some(&b'5')) {
        tree.insert(marker, [&b"6"[..], &v[1..]].concat()).map_err(storage)?;
        db.flush().map_err(storage)?;
    }
    let left = (0..2).try_fold(false, |any, t| {
        let (space, prefix) = keys::hashed_prefix(t);
        let mut rows = tree.scan_prefix(space_key(space, prefix)).keys();
        Ok::<bool, Error>(any || rows.any(|k| k.is_ok_and(|k| is_hashed_sled_key(&k))))
    })?;
    if !left || old_files {
        return Ok(left);
    }
    for t in 0..2 {
        let (space, prefix) = keys::hashed_prefix(t);
        for_each_sled_row(tree, t, |chunk| {
            let mut batch = sled::Batch::default();
            for (_, key, _) in chunk {
                batch.remove([&space_key(space, prefix)[..], key].concat());
            }
            tree.apply_batch(batch).map_err(storage)
        })?;
    }
    db.flush().map_err(storage)?;
    Ok(false)
}

/// Calls `f` with the sled keys of hash table `t`'s rows (a store from before `rows.dat`),
/// `(table, key, value)`, 65,536 at a time.
#[allow(clippy::type_complexity)]
fn for_each_sled_row(tree: &sled::Tree, t: usize, mut f: impl FnMut(&[(usize, &[u8], [u8; 8])]) -> Result<()>) -> Result<()> {
    let (space, prefix) = keys::hashed_prefix(t);
    let mut rows = tree.scan_prefix(space_key(space, prefix)).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<(sled::IVec, sled::IVec)> = rows.by_ref().take(1 << 16).collect::<std::result::Result<_, _>>().map_err(storage)?;
        let mut parsed = Vec::with_capacity(chunk.len());
        for (key, value) in &chunk {
            if let Some((table, k)) = keys::hashed(space, &key[1..]) {
                parsed.push((table, k, read_u64(value)?.to_be_bytes()));
            }
        }
        f(&parsed)?;
    }
    Ok(())
}
