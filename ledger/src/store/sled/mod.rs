//! The embedded default backend: one sled tree with prefixed keys, plus the
//! append-only record files of `entry_log.rs` (entries, private records) and
//! `fixed_log.rs` (lookup records), and the hash tables of `hashed_rows.rs` (the two rows
//! written for every message) in the same folder, synced side by side by `syncer.rs`.
//!
//! Sled's keys are spelled in `sled_keys.rs`. Entries live in `entries.dat`/`entries.idx`, private
//! records in `private.dat`/`private.idx`, lookup records in `lookup.dat`, and the rows
//! `keys::hashed` names (message keys, recipients) in `rows.dat` with its journal.
//! Sled holds only what does not grow with every message, so its memory (a record per
//! page of its tree) does not grow with the log.
//!
//! A group commit is: write the new entries, private records and lookup records to their
//! files and the row change to its journal, and sync them side by side; then one atomic
//! sled batch (tiles, the other index and private puts, the head, the row change's number,
//! a wipe marker) and one sled flush; then the row change made in `rows.dat`, the wipes of
//! erasure and the removal of their marker. The head is the commit point; the record files
//! are cut back to it on open, the row journal is replayed up to it, and wipes whose
//! marker is still there are done again. A store from before `rows.dat` is converted once
//! (`upgrade.rs`); sled's own files are in `sled/` (in the store folder itself before that).
//!
//! Over 400 lines because the crashes between a commit's steps are tested here, beside them.

use std::path::Path;

pub(crate) mod entry_log;
mod fixed_log;
mod hash_table;
mod hashed_rows;
mod row_journal;
mod sled_keys;
mod syncer;
mod upgrade;

use crate::error::{Error, Result};
use crate::store::{keys, Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES, LOOKUP_PRIVATE};
use entry_log::EntryLog;
use fixed_log::FixedLog;
use hashed_rows::HashedRows;
use sled_keys::{read_u64, space_key, storage, tile_key, wipe_key, ROW_CHANGE, TREE, WIPE};
use syncer::Syncer;

/// A sled-backed [`Store`].
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
    entries: EntryLog,
    private: EntryLog,
    lookup: FixedLog<LOOKUP_BYTES>,
    /// The message key and recipient rows.
    rows: HashedRows,
    /// Commits one at a time (the record files and the row journal are appended in order).
    committing: std::sync::Mutex<()>,
    /// Threads that sync the record files of a commit side by side. They live as long as
    /// the store: a thread started per commit cost more than the fsync it saved (start-up,
    /// and the allocator returning its pages on exit).
    syncer: Syncer,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let sled_dir = upgrade::sled_folder(dir)?;
        let db = open_db(&sled_dir)?;
        let tree = db.open_tree(TREE).map_err(storage)?;
        let size = read_head(&tree)?.map_or(0, |h| h.size);
        for name in [ENTRIES, PRIVATE] {
            if size > 0 && !EntryLog::exists(dir, name) {
                return Err(Error::Corrupt(format!(
                    "{} has a signed head of {size} entries but no {name}.idx (a pre-release layout, or files lost); restore the whole data folder, or start a new one",
                    dir.display()
                )));
            }
        }
        let entries = EntryLog::open(dir, ENTRIES, size)?;
        let private = EntryLog::open(dir, PRIVATE, size)?;
        let lookup = FixedLog::open(dir, LOOKUP, size)?;
        let journaled = tree.get(ROW_CHANGE).map_err(storage)?.map_or(Ok(0), |v| read_u64(&v))?;
        let (rows, created) = HashedRows::open(dir, journaled)?;
        // Six files are synced per commit; the committing thread takes one of them.
        let syncer = Syncer::start(5)?;
        let store = SledStore { db, tree, entries, private, lookup, rows, committing: std::sync::Mutex::new(()), syncer };
        if upgrade::move_rows_out_of_sled(&store.db, &store.tree, &store.rows, created, sled_dir == dir)? {
            drop(store);
            let started = std::time::Instant::now();
            let copied = upgrade::rebuild(dir, TREE, sled_keys::is_hashed_sled_key, open_db)?;
            tracing::info!(
                keys = copied,
                millis = started.elapsed().as_millis() as u64,
                "rebuilt the sled store without the rows that moved to rows.dat (sled does not give back the memory of deleted keys)"
            );
            return SledStore::open(dir);
        }
        store.finish_wipes()?;
        Ok(store)
    }

    /// Wipes the entries of every marker still in the tree (a crash or an I/O error
    /// stopped them after their commit), then removes the markers.
    fn finish_wipes(&self) -> Result<()> {
        for marker in self.tree.scan_prefix(WIPE) {
            let (key, list) = marker.map_err(storage)?;
            if list.len() % 8 != 0 {
                return Err(Error::Corrupt("a pending erasure's list of entries is damaged; restore the data folder from a backup".into()));
            }
            let indexes: Vec<u64> = list.chunks_exact(8).map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default())).collect();
            tracing::warn!(records = indexes.len(), "finishing an erasure that a crash or an I/O error interrupted");
            self.wipe(&indexes)?;
            self.tree.remove(key).map_err(storage)?;
        }
        self.db.flush().map_err(storage)?;
        Ok(())
    }

    /// Overwrites the private records and the private part of the lookup records of `indexes`.
    fn wipe(&self, indexes: &[u64]) -> Result<()> {
        self.private.wipe(indexes)?;
        self.lookup.zero(indexes, LOOKUP_PRIVATE)
    }
}

/// Opens sled, waiting up to two seconds for a lock still held by a handle
/// being dropped in this process (sled releases it from a background thread).
fn open_db(dir: &Path) -> Result<sled::Db> {
    let mut attempts = 0;
    loop {
        match sled::Config::new().path(dir).cache_capacity(256 * 1024 * 1024).open() {
            Ok(db) => return Ok(db),
            Err(e) if e.to_string().contains("could not acquire lock") => {
                attempts += 1;
                if attempts == 40 {
                    return Err(Error::Storage(format!(
                        "cannot open the sled store in {}: another process holds it; stop the other `sightline` using this data folder ({e})",
                        dir.display()
                    )));
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(Error::Storage(format!("cannot open the sled store in {}: {e}", dir.display()))),
        }
    }
}

const ENTRIES: &str = "entries";
const PRIVATE: &str = "private";
const LOOKUP: &str = "lookup.dat";

fn read_head(tree: &sled::Tree) -> Result<Option<Head>> {
    let Some(v) = tree.get(b"H").map_err(storage)? else { return Ok(None) };
    Head::decode(&v).map(Some)
}

impl Store for SledStore {
    fn head(&self) -> Result<Option<Head>> {
        read_head(&self.tree)
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.entries.read(index, index.saturating_add(1))?.pop())
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        self.entries.read(start, end)
    }

    fn private(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.private.read(index, index.saturating_add(1))?.pop())
    }

    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>> {
        self.lookup.read(start, end)
    }

    fn lookup_count(&self) -> Result<u64> {
        self.lookup.count()
    }

    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()> {
        let size = read_head(&self.tree)?.map_or(0, |h| h.size);
        if records.len() as u64 != size {
            return Err(Error::Storage(format!("{} lookup records for a head of {size} entries; this is a bug", records.len())));
        }
        self.lookup.replace(records)
    }

    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        self.private.overwrite_heads(heads)
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.tree.get(tile_key(level, index)).map_err(storage)?.map(|v| v.to_vec()))
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some((t, k)) = keys::hashed(space, key) {
            return Ok(self.rows.get_many(t, &[k])?.pop().flatten().map(|v| v.to_vec()));
        }
        Ok(self.tree.get(space_key(space, key)).map_err(storage)?.map(|v| v.to_vec()))
    }

    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        // A group's rows of one hash table are read under one lock; any other key from sled.
        let mut out = vec![None; keys.len()];
        let mut tables: [Vec<(usize, &[u8])>; 2] = Default::default();
        for (i, k) in keys.iter().enumerate() {
            match keys::hashed(space, k) {
                Some((t, key)) => tables[t].push((i, key)),
                None => out[i] = self.tree.get(space_key(space, k)).map_err(storage)?.map(|v| v.to_vec()),
            }
        }
        for (t, rows) in tables.iter().enumerate().filter(|(_, rows)| !rows.is_empty()) {
            let keys: Vec<&[u8]> = rows.iter().map(|(_, k)| *k).collect();
            for ((i, _), value) in rows.iter().zip(self.rows.get_many(t, &keys)?) {
                out[*i] = value.map(|v| v.to_vec());
            }
        }
        Ok(out)
    }

    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .tree
            .scan_prefix(space_key(space, prefix))
            .map(|kv| kv.map(|(k, v)| (k[1..].to_vec(), v.to_vec())).map_err(storage))
            .collect::<Result<_>>()?;
        let mut merged = false;
        for t in 0..2 {
            let (table_space, table_prefix) = keys::hashed_prefix(t);
            if table_space == space && (table_prefix.starts_with(prefix) || prefix.starts_with(table_prefix)) {
                let hashed = self.rows.scan(t)?.into_iter().map(|(k, v)| ([table_prefix, &k].concat(), v));
                rows.extend(hashed.filter(|(k, _)| k.starts_with(prefix)));
                merged = true;
            }
        }
        if merged {
            rows.sort();
        }
        Ok(rows)
    }

    fn commit(&self, c: &Commit) -> Result<()> {
        c.unshared()?;
        let _one_at_a_time = self
            .committing
            .lock()
            .map_err(|_| Error::Storage("the store's commit lock was poisoned by a panic; restart the server".into()))?;
        // The rows of the hash tables, planned as one change (puts, then deletes, as a sled batch
        // does); the other puts and deletes go into the sled batch below.
        let (mut row_puts, mut sled_puts) = (Vec::new(), Vec::new());
        for (space, k, v) in &c.puts {
            match keys::hashed(*space, k) {
                Some((t, key)) => {
                    let value = <[u8; 8]>::try_from(v.as_slice())
                        .map_err(|_| Error::Storage(format!("a {}-byte value for a row that holds 8; this is a bug", v.len())))?;
                    row_puts.push((t, key, value));
                }
                None => sled_puts.push((space_key(*space, k), v.as_slice())),
            }
        }
        let (mut row_deletes, mut sled_deletes) = (Vec::new(), Vec::new());
        for (space, k) in &c.deletes {
            match keys::hashed(*space, k) {
                Some(row) => row_deletes.push(row),
                None => sled_deletes.push(space_key(*space, k)),
            }
        }
        let rows = self.rows.plan(&row_puts, &row_deletes)?;
        let private: Vec<(u64, &[u8])> = match c.private.len() {
            0 => c.entries.iter().map(|(i, _)| (*i, [].as_slice())).collect(),
            n if n == c.entries.len() => c.entries.iter().map(|(i, _)| *i).zip(c.private.iter().map(Vec::as_slice)).collect(),
            n => return Err(Error::Storage(format!("a commit of {} entries carries {n} private records; this is a bug", c.entries.len()))),
        };
        let lookup: Vec<LookupRecord> = match c.lookup.len() {
            0 => vec![[0; LOOKUP_BYTES]; c.entries.len()],
            n if n == c.entries.len() => c.lookup.clone(),
            n => return Err(Error::Storage(format!("a commit of {} entries carries {n} lookup records; this is a bug", c.entries.len()))),
        };
        let first = c.entries.first().map_or(c.size, |(i, _)| *i);
        // The record files are written (into the page cache), then synced side by side: a
        // commit waits for the slowest fsync, not for the sum of them.
        let written =
            (self.entries.write_unsynced(&c.entries)?, self.private.write_unsynced(&private)?, self.lookup.write_unsynced(first, &lookup)?);
        let mut files = Vec::with_capacity(6);
        if let Some(planned) = &rows {
            self.rows.append(planned)?;
            files.push(self.rows.journal_file());
        }
        if !c.entries.is_empty() {
            let [entries_dat, entries_idx] = self.entries.files();
            let [private_dat, private_idx] = self.private.files();
            files.extend([entries_dat, private_dat, self.lookup.file(), entries_idx, private_idx]);
        }
        self.syncer.sync_all(&files)?;
        let mut batch = sled::Batch::default();
        for ((level, index), bytes) in &c.tiles {
            batch.insert(&tile_key(*level, *index), bytes.as_slice());
        }
        for (key, value) in sled_puts {
            batch.insert(key, value);
        }
        for key in sled_deletes {
            batch.remove(key);
        }
        if !c.wipe.is_empty() {
            batch.insert(wipe_key(c.size), c.wipe.iter().flat_map(|i| i.to_be_bytes()).collect::<Vec<u8>>());
        }
        if let Some(planned) = &rows {
            batch.insert(ROW_CHANGE, &planned.seq.to_be_bytes());
        }
        batch.insert(b"H", Head::encode(c.size, &c.checkpoint));
        let durable = self.tree.apply_batch(batch).and_then(|()| self.db.flush().map(drop)).map_err(storage);
        if let Err(e) = durable {
            if rows.is_some() {
                self.rows.abandon();
            }
            return Err(e);
        }
        self.entries.confirm(written.0)?;
        self.private.confirm(written.1)?;
        self.lookup.confirm(written.2)?;
        if let Some(planned) = rows {
            self.rows.apply(planned)?;
            if self.rows.wants_checkpoint() {
                if let Err(e) = self.rows.checkpoint() {
                    tracing::error!(error = %e, "checkpointing the row index failed; its journal keeps growing until a checkpoint succeeds");
                }
            }
        }
        if !c.wipe.is_empty() {
            // The commit is durable, and with it the marker: if this fails (or the process
            // dies now), the next open finishes the wipe before anything is read.
            match self.wipe(&c.wipe) {
                Ok(()) => {
                    self.tree.remove(wipe_key(c.size)).map_err(storage)?;
                    self.db.flush().map_err(storage)?;
                }
                Err(e) => tracing::error!(error = %e, "overwriting erased records failed; the next start finishes it"),
            }
        }
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk().map_err(storage)?
            + self.entries.size_on_disk()?
            + self.private.size_on_disk()?
            + self.lookup.size_on_disk()?
            + self.rows.size_on_disk()?)
    }
}

impl Drop for SledStore {
    /// Checkpoints the row index, so that the next open replays nothing.
    fn drop(&mut self) {
        if let Err(e) = self.rows.checkpoint() {
            tracing::warn!(error = %e, "could not checkpoint the row index on close; the next open replays its journal");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wipe_that_a_crash_interrupted_is_finished_when_the_store_opens() {
        let dir = tempfile::tempdir().unwrap();
        let lookup = |i: u8| {
            let mut r = [i; LOOKUP_BYTES];
            r[..16].fill(0xEE);
            r
        };
        {
            let store = SledStore::open(dir.path()).unwrap();
            let commit = Commit {
                size: 3,
                checkpoint: "cp".into(),
                entries: (0..3).map(|i| (i, vec![b'e'; 10])).collect(),
                private: (0..3).map(|i| vec![i as u8 + 1; 50]).collect(),
                lookup: (0..3).map(|i| lookup(i as u8 + 1)).collect(),
                ..Commit::default()
            };
            store.commit(&commit).unwrap();
            // What an erasure's commit leaves when the process dies before its wipe: the marker.
            store.tree.insert(wipe_key(3), [0u64, 2].iter().flat_map(|i| i.to_be_bytes()).collect::<Vec<u8>>()).unwrap();
            store.db.flush().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.private(0).unwrap(), Some(vec![0; 50]));
        assert_eq!(store.private(1).unwrap(), Some(vec![2; 50]), "an entry not erased is untouched");
        assert_eq!(store.private(2).unwrap(), Some(vec![0; 50]));
        let wiped = {
            let mut r = [0; LOOKUP_BYTES];
            r[..16].fill(0xEE);
            r
        };
        assert_eq!(store.lookups(0, 3).unwrap(), vec![wiped, lookup(2), wiped], "handle and key zeros, the message key kept");
        assert!(store.tree.scan_prefix(WIPE).next().is_none(), "the marker is gone once done");
    }

    #[test]
    fn rows_an_older_store_kept_in_sled_move_to_the_hash_tables_once() {
        let dir = tempfile::tempdir().unwrap();
        let message = keys::message_key(&[7; 16]);
        let recipient = keys::recipient(&[8; 32]);
        {
            let store = SledStore::open(dir.path()).unwrap();
            // What a store from before `rows.dat` holds: the rows as sled keys (and a row of
            // another width under the same prefix, which stays a sled key).
            store.tree.insert(space_key(Space::Index, &message), &5u64.to_be_bytes()).unwrap();
            store.tree.insert(space_key(Space::Private, &recipient), &6u64.to_be_bytes()).unwrap();
            store.tree.insert(space_key(Space::Index, b"mk/short"), b"x").unwrap();
            store.tree.insert(space_key(Space::Private, keys::LAYOUT), [&b"5"[..], &[0; 8]].concat()).unwrap();
            store.db.flush().unwrap();
        }
        // A store from before `rows.dat` and `sled/`: sled's files in the store folder itself.
        for name in ["rows.dat", "rows.dir", "rows.journal"] {
            std::fs::remove_file(dir.path().join(name)).unwrap();
        }
        for e in std::fs::read_dir(dir.path().join("sled")).unwrap() {
            let path = e.unwrap().path();
            std::fs::rename(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
        std::fs::remove_dir(dir.path().join("sled")).unwrap();
        // And what a crash left of a rebuild that had not reached its rename.
        std::fs::create_dir_all(dir.path().join(".sled-rebuild/blobs")).unwrap();
        std::fs::write(dir.path().join(".sled-rebuild/db"), b"half a copy").unwrap();
        let reopened = || {
            let store = SledStore::open(dir.path()).unwrap();
            assert_eq!(store.get(Space::Index, &message).unwrap(), Some(5u64.to_be_bytes().to_vec()));
            assert_eq!(store.get(Space::Private, &recipient).unwrap(), Some(6u64.to_be_bytes().to_vec()));
            assert!(store.tree.get(space_key(Space::Index, &message)).unwrap().is_none(), "moved out of sled");
            assert!(store.tree.get(space_key(Space::Private, &recipient)).unwrap().is_none(), "moved out of sled");
            assert_eq!(
                store.scan(Space::Index, b"mk/").unwrap(),
                vec![(message.clone(), 5u64.to_be_bytes().to_vec()), (b"mk/short".to_vec(), b"x".to_vec())]
            );
            assert_eq!(
                store.get(Space::Private, keys::LAYOUT).unwrap(),
                Some([&b"6"[..], &[0; 8]].concat()),
                "an older version refuses it now"
            );
            store
        };
        let store = reopened();
        // Rebuilt into `sled/`, the old files and the half copy gone.
        assert!(dir.path().join("sled/db").exists());
        for gone in ["db", "conf", "blobs", ".sled-rebuild"] {
            assert!(!dir.path().join(gone).exists(), "{gone} is left");
        }
        // Rows left in `sled/` (no version writes them there; removed if found), and an old
        // file a crash left after the rebuild's rename.
        store.tree.insert(space_key(Space::Index, &message), &5u64.to_be_bytes()).unwrap();
        store.db.flush().unwrap();
        drop(store);
        std::fs::write(dir.path().join("snap.0000000000000001"), b"old").unwrap();
        drop(reopened());
        assert!(!dir.path().join("snap.0000000000000001").exists());
    }

    #[test]
    fn rows_committed_before_a_kill_are_there_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let puts = (0..3000u32)
            .map(|i| {
                (
                    Space::Index,
                    keys::message_key(&[&i.to_be_bytes()[..], &[1; 12]].concat().try_into().unwrap()),
                    u64::from(i).to_be_bytes().to_vec(),
                )
            })
            .collect();
        store.commit(&Commit { size: 0, puts, ..Commit::default() }).unwrap();
        let deletes = vec![(Space::Index, keys::message_key(&[&7u32.to_be_bytes()[..], &[1; 12]].concat().try_into().unwrap()))];
        store.commit(&Commit { size: 0, deletes, ..Commit::default() }).unwrap();
        // `kill -9`: the folder as it is on disk now, without the checkpoint a close makes.
        let copy = tempfile::tempdir().unwrap();
        for file in walk(dir.path()) {
            let to = copy.path().join(file.strip_prefix(dir.path()).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&file, to).unwrap();
        }
        assert!(std::fs::metadata(copy.path().join("rows.journal")).unwrap().len() > 0, "the changes are in the journal only");
        let store = SledStore::open(copy.path()).unwrap();
        let rows = store.scan(Space::Index, b"mk/").unwrap();
        assert_eq!(rows.len(), 2999);
        assert!(rows.iter().all(|(k, v)| k[3..7] == v[4..8] && v[4..8] != 7u32.to_be_bytes()));
    }

    fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .flat_map(|e| {
                let path = e.unwrap().path();
                if path.is_dir() {
                    walk(&path)
                } else {
                    vec![path]
                }
            })
            .collect()
    }
}
