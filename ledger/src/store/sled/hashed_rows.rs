//! The rows the ledger writes for every message (message key → entry, recipient → latest
//! entry: `store/keys.rs`), kept beside the sled tree in hash tables on disk instead of as
//! sled keys: sled holds a record in memory for every page of its tree, so one key per
//! message made its memory grow with the log (49 MiB per million messages, BENCHMARKS.md).
//! Here memory is the directory of `hash_table.rs` (a fixed 80 KiB per table) and whatever
//! the kernel caches of the files.
//!
//! Three files:
//! - `rows.dat`: the tables' extents (`hash_table.rs`), changed in place.
//! - `rows.journal`: one record per commit that changed rows, the physical [`Op`]s of the
//!   change (whole slots written, segments rehashed), numbered by a sequence number.
//! - `rows.dir`: the checkpoint, written whole and renamed into place: the directory of every
//!   table, the end of `rows.dat`, and the last sequence number it covers.
//!
//! A commit (see `sled/mod.rs`) plans its change against the tables, appends the record to the
//! journal and syncs it with the record files, then writes the record's sequence number into
//! the sled batch that moves the head: that batch is the commit point for the rows too. Only
//! then is the change made in `rows.dat`, without a sync. A checkpoint (every 64 MiB of journal,
//! and when the store is closed) syncs `rows.dat`, writes `rows.dir`, and empties the journal.
//!
//! After a crash, `rows.dat` is the checkpoint plus any part of the writes made since; each
//! slot is whole or not in the kernel's pages, and may be torn on the disk. Opening replays
//! the journal's records after the checkpoint up to the one the sled head names, in order.
//! Every write in them is a whole slot and every rehash rewrites a whole new extent from its old one (which
//! nothing wrote since it was left), so the replay ends at exactly the state the commits made,
//! whatever part of it reached the disk. Records after the head's (a commit that never
//! finished) are cut off.
//!
//! Extents a rehash left behind are freed (`fallocate` punches a hole) after the checkpoint
//! that stops the journal from needing them. The formats of the journal's records and of
//! `rows.dir` are `row_journal.rs`'s.
//!
//! Over 400 lines because each crash rule above has its test here, beside the code that keeps
//! it (the code itself is under 350 lines).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::hash_table::{self, first_layout, probe, segment_of, Op, Plan, Segment, SHAPES};
use super::row_journal::{corrupt, decode_directory, decode_record, encode_directory, encode_record, Directory, DIRECTORY};
use super::syncer::SyncFile;
use crate::error::{Error, Result};

/// A journal this long is checkpointed after the commit that made it so.
const CHECKPOINT_BYTES: u64 = 64 << 20;

const DATA: &str = "rows.dat";
const JOURNAL: &str = "rows.journal";

/// The row tables of a sled store's folder.
pub(crate) struct HashedRows {
    folder: PathBuf,
    data: Arc<File>,
    journal: Arc<File>,
    journal_label: Arc<str>,
    state: RwLock<State>,
}

struct State {
    tables: Vec<Vec<Segment>>,
    end: u64,
    /// The last sequence number applied.
    seq: u64,
    /// Where the journal's next record goes.
    journal_len: u64,
    /// Extents left behind since the last checkpoint.
    freed: Vec<(u64, u64)>,
    /// A record was written past `journal_len` by a commit that failed: the next append cuts
    /// what is left of it after its own record.
    stale_tail: bool,
    /// Why the tables can no longer be trusted in this process (a write failed after its commit).
    broken: Option<String>,
}

/// A change planned and encoded, ready to be journaled and applied.
pub(crate) struct Planned {
    pub(crate) seq: u64,
    record: Vec<u8>,
    ops: Vec<Op>,
    images: HashMap<u64, Vec<u8>>,
    freed: Vec<(u64, u64)>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

fn poisoned() -> Error {
    Error::Storage("the row index's lock was poisoned by a panic; restart the server".into())
}

impl HashedRows {
    /// Opens the tables in `folder` for a store whose sled head names journal record
    /// `committed` (0: none), replaying the journal up to it. Returns the tables and whether
    /// they were created now (no `rows.dir` yet: a new store, or one from before this file,
    /// whose rows the caller moves in and then [`HashedRows::checkpoint`]s).
    pub(crate) fn open(folder: &Path, committed: u64) -> Result<(HashedRows, bool)> {
        let open = |name: &str| {
            let path = folder.join(name);
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| io("cannot open", &path, e))
        };
        let (data, journal) = (open(DATA)?, open(JOURNAL)?);
        let dir_path = folder.join(DIRECTORY);
        let (state, created) = match std::fs::read(&dir_path) {
            Ok(bytes) => {
                let Directory { tables, end, seq } = decode_directory(&bytes)?;
                (State { tables, end, seq, journal_len: 0, freed: Vec::new(), stale_tail: false, broken: None }, false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if committed > 0 {
                    return Err(corrupt(&format!("is missing ({DIRECTORY}), though the signed head names its change {committed}")));
                }
                let (tables, end) = first_layout(&SHAPES);
                data.set_len(0).and_then(|()| data.set_len(end)).map_err(|e| io("cannot size", &folder.join(DATA), e))?;
                (State { tables, end, seq: 0, journal_len: 0, freed: Vec::new(), stale_tail: false, broken: None }, true)
            }
            Err(e) => return Err(io("cannot read", &dir_path, e)),
        };
        let len = data.metadata().map_err(|e| io("cannot read the size of", &folder.join(DATA), e))?.len();
        if len < state.end {
            return Err(corrupt(&format!("is shorter ({len} bytes) than its directory says ({} bytes)", state.end)));
        }
        let journal_label = Arc::from(folder.join(JOURNAL).display().to_string());
        let rows = HashedRows {
            folder: folder.to_path_buf(),
            data: Arc::new(data),
            journal: Arc::new(journal),
            journal_label,
            state: RwLock::new(state),
        };
        rows.replay(committed)?;
        Ok((rows, created))
    }

    /// Replays the journal's records after the checkpoint, up to `committed`, and checkpoints.
    fn replay(&self, committed: u64) -> Result<()> {
        let path = self.folder.join(JOURNAL);
        let len = self.journal.metadata().map_err(|e| io("cannot read the size of", &path, e))?.len();
        let mut bytes = vec![0u8; len as usize];
        self.journal.read_exact_at(&mut bytes, 0).map_err(|e| io("cannot read", &path, e))?;
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let checkpoint = state.seq;
        if checkpoint > committed {
            return Err(corrupt(&format!("is ahead of the signed head: it holds change {checkpoint}, the head names change {committed}")));
        }
        let mut at = 0;
        let mut replayed = 0u64;
        while let Some((seq, ops, next)) = decode_record(&bytes, at) {
            if seq > committed {
                break;
            }
            if seq > checkpoint {
                if seq != state.seq + 1 {
                    return Err(corrupt(&format!("journal skips from change {} to {seq}", state.seq)));
                }
                self.apply_ops(&mut state, &ops, None)?;
                state.seq = seq;
                replayed += 1;
            }
            at = next;
        }
        if state.seq < committed {
            return Err(corrupt(&format!("journal ends at change {}, but the signed head names change {committed}", state.seq)));
        }
        if (at as u64) < len {
            tracing::warn!(
                bytes = len - at as u64,
                "cutting off row changes of a commit that never finished (nothing of it was acknowledged)"
            );
        }
        if replayed > 0 {
            tracing::warn!(changes = replayed, "replayed the row journal after an unclean stop");
        }
        if len > 0 {
            self.checkpoint_locked(&mut state)?;
        }
        Ok(())
    }

    /// The value under each key of table `t` (`None` where absent).
    pub(crate) fn get_many(&self, t: usize, keys: &[&[u8]]) -> Result<Vec<Option<[u8; 8]>>> {
        let state = self.state.read().map_err(|_| poisoned())?;
        if let Some(why) = &state.broken {
            return Err(Error::Storage(why.clone()));
        }
        let shape = SHAPES[t];
        keys.iter()
            .map(|key| {
                if key.len() != shape.key {
                    return Ok(None);
                }
                let seg = state.tables[t][segment_of(key)];
                let found = probe(shape, &seg, key, |i| {
                    let mut s = vec![0u8; shape.slot];
                    self.read_at(seg.offset + i as u64 * shape.slot as u64, &mut s)?;
                    Ok(s)
                })?;
                Ok(found.live.map(|(_, v)| v))
            })
            .collect()
    }

    /// Every `(key, value)` of table `t`, in key order.
    pub(crate) fn scan(&self, t: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let state = self.state.read().map_err(|_| poisoned())?;
        let shape = SHAPES[t];
        let mut out = Vec::new();
        for seg in &state.tables[t] {
            let mut extent = vec![0u8; seg.capacity as usize * shape.slot];
            self.read_at(seg.offset, &mut extent)?;
            out.extend(hash_table::rows(shape, &extent)?);
        }
        out.sort();
        Ok(out)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        self.data.read_exact_at(buf, offset).map_err(|e| io("cannot read", &self.folder.join(DATA), e))
    }

    /// Plans `puts` then `deletes` (`(table, key, value)`, `(table, key)`) as one change;
    /// `None` if there are none. Nothing is written.
    #[allow(clippy::type_complexity)]
    pub(crate) fn plan(&self, puts: &[(usize, &[u8], [u8; 8])], deletes: &[(usize, &[u8])]) -> Result<Option<Planned>> {
        if puts.is_empty() && deletes.is_empty() {
            return Ok(None);
        }
        let state = self.state.read().map_err(|_| poisoned())?;
        if let Some(why) = &state.broken {
            return Err(Error::Storage(why.clone()));
        }
        let read = |offset: u64, buf: &mut [u8]| self.read_at(offset, buf);
        let mut plan = Plan::new(&SHAPES, &state.tables, state.end, &read);
        for (t, key, value) in puts {
            plan.put(*t, key, value)?;
        }
        for (t, key) in deletes {
            plan.delete(*t, key)?;
        }
        let (ops, images, freed) = plan.finish();
        let seq = state.seq + 1;
        Ok(Some(Planned { seq, record: encode_record(seq, &ops), ops, images, freed }))
    }

    /// Writes `planned`'s record into the journal, unsynced: sync [`HashedRows::journal_file`]
    /// before the commit that names it.
    pub(crate) fn append(&self, planned: &Planned) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        let path = self.folder.join(JOURNAL);
        self.journal.write_all_at(&planned.record, state.journal_len).map_err(|e| io("cannot write", &path, e))?;
        if state.stale_tail {
            self.journal.set_len(state.journal_len + planned.record.len() as u64).map_err(|e| io("cannot cut", &path, e))?;
            state.stale_tail = false;
        }
        Ok(())
    }

    /// The journal, to sync after [`HashedRows::append`].
    pub(crate) fn journal_file(&self) -> SyncFile {
        (self.journal.clone(), self.journal_label.clone())
    }

    /// Makes a journaled change whose commit is durable. If a write fails, the tables are
    /// refused until the next open replays the journal.
    pub(crate) fn apply(&self, planned: Planned) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        if let Err(e) = self.apply_ops(&mut state, &planned.ops, Some(&planned.images)) {
            let why = format!(
                "writing the row index failed after its commit was durable ({e}); restart the server, which replays the row journal"
            );
            state.broken = Some(why.clone());
            return Err(Error::Storage(why));
        }
        state.seq = planned.seq;
        state.journal_len += planned.record.len() as u64;
        state.freed.extend(planned.freed);
        Ok(())
    }

    /// Makes a change without journaling it: moving an older store's rows in, before the
    /// first checkpoint (a crash before it starts the move again on an empty file).
    pub(crate) fn apply_unjournaled(&self, planned: Planned) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        self.apply_ops(&mut state, &planned.ops, Some(&planned.images))?;
        state.freed.extend(planned.freed);
        Ok(())
    }

    /// Whether the journal has grown enough to checkpoint.
    pub(crate) fn wants_checkpoint(&self) -> bool {
        self.state.read().map(|s| s.journal_len >= CHECKPOINT_BYTES).unwrap_or(false)
    }

    /// Syncs `rows.dat`, writes `rows.dir` for the last change applied, empties the journal and
    /// frees the extents left behind.
    pub(crate) fn checkpoint(&self) -> Result<()> {
        let mut state = self.state.write().map_err(|_| poisoned())?;
        if state.broken.is_some() {
            return Ok(());
        }
        self.checkpoint_locked(&mut state)
    }

    fn checkpoint_locked(&self, state: &mut State) -> Result<()> {
        let started = std::time::Instant::now();
        let data_path = self.folder.join(DATA);
        self.data.sync_data().map_err(|e| io("cannot sync", &data_path, e))?;
        let dir_path = self.folder.join(DIRECTORY);
        let tmp = self.folder.join(format!(".{DIRECTORY}.tmp"));
        let mut f = File::create(&tmp).map_err(|e| io("cannot create", &tmp, e))?;
        f.write_all(&encode_directory(&Directory { tables: state.tables.clone(), end: state.end, seq: state.seq }))
            .and_then(|()| f.sync_all())
            .map_err(|e| io("cannot write", &tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, &dir_path).map_err(|e| io("cannot rename into place", &dir_path, e))?;
        File::open(&self.folder).and_then(|d| d.sync_all()).map_err(|e| io("cannot sync", &self.folder, e))?;
        let journal_path = self.folder.join(JOURNAL);
        self.journal.set_len(0).and_then(|()| self.journal.sync_all()).map_err(|e| io("cannot empty", &journal_path, e))?;
        state.journal_len = 0;
        for (offset, len) in state.freed.drain(..) {
            // Space, not correctness: a file system that cannot punch holes keeps the bytes.
            let _ = rustix::fs::fallocate(
                &*self.data,
                rustix::fs::FallocateFlags::PUNCH_HOLE | rustix::fs::FallocateFlags::KEEP_SIZE,
                offset,
                len,
            );
        }
        let millis = started.elapsed().as_millis() as u64;
        if millis >= 1_000 {
            tracing::warn!(millis, "checkpointing the row index (syncing rows.dat) held commits up this long; a faster disk shortens it");
        } else {
            tracing::debug!(millis, "checkpointed the row index");
        }
        Ok(())
    }

    /// Notes that a commit failed after [`HashedRows::append`]: its record stays in the journal
    /// (sled may yet have made its batch durable) until the next record takes its place.
    pub(crate) fn abandon(&self) {
        if let Ok(mut state) = self.state.write() {
            state.stale_tail = true;
        }
    }

    fn apply_ops(&self, state: &mut State, ops: &[Op], images: Option<&HashMap<u64, Vec<u8>>>) -> Result<()> {
        let path = self.folder.join(DATA);
        for op in ops {
            match op {
                Op::Write { offset, bytes } => self.data.write_all_at(bytes, *offset).map_err(|e| io("cannot write", &path, e))?,
                Op::Rehash { slot, from, from_capacity, to, to_capacity } => {
                    let image = match images.and_then(|i| i.get(to)) {
                        Some(image) => image.clone(),
                        None => {
                            let shape = SHAPES
                                .iter()
                                .find(|s| s.slot == *slot as usize)
                                .copied()
                                .ok_or_else(|| corrupt("journal names an unknown slot width"))?;
                            let mut old = vec![0u8; *from_capacity as usize * shape.slot];
                            self.read_at(*from, &mut old)?;
                            hash_table::rehash(shape, &old, *to_capacity)?.0
                        }
                    };
                    self.data.write_all_at(&image, *to).map_err(|e| io("cannot write", &path, e))?;
                }
                Op::Segment { table, segment, state: seg } => {
                    let slot = state
                        .tables
                        .get_mut(*table as usize)
                        .and_then(|t| t.get_mut(*segment as usize))
                        .ok_or_else(|| corrupt("journal names an unknown segment"))?;
                    *slot = *seg;
                }
                Op::End(end) => state.end = *end,
            }
        }
        Ok(())
    }

    /// Bytes the three files occupy (their lengths; `rows.dat` may be sparse).
    pub(crate) fn size_on_disk(&self) -> Result<u64> {
        let len =
            |f: &File, name: &str| f.metadata().map(|m| m.len()).map_err(|e| io("cannot read the size of", &self.folder.join(name), e));
        Ok(len(&self.data, DATA)? + len(&self.journal, JOURNAL)? + std::fs::metadata(self.folder.join(DIRECTORY)).map_or(0, |m| m.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type Model = [BTreeMap<Vec<u8>, [u8; 8]>; 2];

    /// A uniform key for table `t` (what a keyed digest looks like), from a counter.
    fn key(t: usize, n: u64) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        Sha256::digest(n.to_le_bytes())[..SHAPES[t].key].to_vec()
    }

    /// One journaled change, as a commit makes it: plan, append, sync, (the commit point), apply.
    /// Returns its sequence number.
    fn change(rows: &HashedRows, model: &mut Model, puts: &[(usize, u64, u64)], deletes: &[(usize, u64)]) -> u64 {
        let keyed: Vec<(usize, Vec<u8>, [u8; 8])> = puts.iter().map(|&(t, n, v)| (t, key(t, n), v.to_be_bytes())).collect();
        let put_refs: Vec<(usize, &[u8], [u8; 8])> = keyed.iter().map(|(t, k, v)| (*t, k.as_slice(), *v)).collect();
        let deleted: Vec<(usize, Vec<u8>)> = deletes.iter().map(|&(t, n)| (t, key(t, n))).collect();
        let delete_refs: Vec<(usize, &[u8])> = deleted.iter().map(|(t, k)| (*t, k.as_slice())).collect();
        let planned = rows.plan(&put_refs, &delete_refs).unwrap().expect("a change");
        rows.append(&planned).unwrap();
        rows.journal.sync_data().unwrap();
        let seq = planned.seq;
        rows.apply(planned).unwrap();
        for (t, k, v) in keyed {
            model[t].insert(k, v);
        }
        for (t, k) in deleted {
            model[t].remove(&k);
        }
        seq
    }

    fn assert_holds(rows: &HashedRows, model: &Model, absent: impl Iterator<Item = (usize, u64)>) {
        for (t, table) in model.iter().enumerate() {
            let scanned: BTreeMap<Vec<u8>, [u8; 8]> = rows.scan(t).unwrap().into_iter().map(|(k, v)| (k, v.try_into().unwrap())).collect();
            assert_eq!(&scanned, table, "table {t} scanned");
            let keys: Vec<&[u8]> = table.keys().map(Vec::as_slice).collect();
            let got = rows.get_many(t, &keys).unwrap();
            assert!(got.iter().zip(table.values()).all(|(g, v)| g.as_ref() == Some(v)), "table {t} read back");
        }
        for (t, n) in absent {
            if !model[t].contains_key(&key(t, n)) {
                assert_eq!(rows.get_many(t, &[&key(t, n)]).unwrap(), vec![None], "table {t} key {n} is absent");
            }
        }
    }

    /// Puts and deletes enough rows to rehash segments several times; returns the last change.
    fn fill(rows: &HashedRows, model: &mut Model, from: u64, to: u64) -> u64 {
        let mut seq = 0;
        for chunk in (from..to).collect::<Vec<_>>().chunks(5_000) {
            let puts: Vec<(usize, u64, u64)> = chunk.iter().flat_map(|&n| [(0, n, n), (1, n % 40_000, n)]).collect();
            let deletes: Vec<(usize, u64)> = chunk.iter().filter(|&&n| n % 7 == 0).map(|&n| (1, n / 2 % 40_000)).collect();
            seq = change(rows, model, &puts, &deletes);
        }
        seq
    }

    #[test]
    fn rows_read_back_through_rehashes_deletes_and_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut model: Model = Default::default();
        let seq = {
            let (rows, created) = HashedRows::open(dir.path(), 0).unwrap();
            assert!(created);
            rows.checkpoint().unwrap();
            let seq = fill(&rows, &mut model, 0, 120_000);
            let grown = rows.state.read().unwrap().tables[0].iter().filter(|s| s.capacity > hash_table::FIRST_CAPACITY).count();
            assert!(grown > hash_table::SEGMENTS * 9 / 10, "segments grew: {grown}");
            assert_holds(&rows, &model, (0..2).flat_map(|t| (200_000..200_100).map(move |n| (t, n))));
            seq
        };
        // Reopened without a checkpoint (the journal is replayed), then with one.
        let (rows, created) = HashedRows::open(dir.path(), seq).unwrap();
        assert!(!created);
        assert_holds(&rows, &model, std::iter::empty());
        assert_eq!(std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len(), 0, "opening checkpointed the replay");
        drop(rows);
        let (rows, _) = HashedRows::open(dir.path(), seq).unwrap();
        assert_holds(&rows, &model, std::iter::empty());
    }

    /// The crash the journal is for: `rows.dat` after a crash holds the checkpoint and any part
    /// of the slot writes since (some reached the disk, some did not, some were torn), and
    /// replaying the journal still gives exactly the committed rows.
    #[test]
    fn a_replay_over_any_mix_of_written_and_unwritten_slots_gives_the_committed_rows() {
        for round in 0..4u64 {
            let dir = tempfile::tempdir().unwrap();
            let mut model: Model = Default::default();
            let (rows, _) = HashedRows::open(dir.path(), 0).unwrap();
            rows.checkpoint().unwrap();
            fill(&rows, &mut model, 0, 30_000);
            rows.checkpoint().unwrap();
            let before = std::fs::read(dir.path().join(DATA)).unwrap();
            let seq = fill(&rows, &mut model, 30_000, 90_000 + round * 10_000);
            let after = std::fs::read(dir.path().join(DATA)).unwrap();
            assert!(after.len() > before.len(), "segments moved to new extents since the checkpoint");
            // Kill the process: forget the in-memory state (no checkpoint on the way out).
            std::mem::forget(rows);
            // What reached the disk, 16 bytes at a time: the new bytes, the old ones, or garbage.
            let mut rng = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let mut crashed = after.clone();
            for (i, chunk) in crashed.chunks_mut(16).enumerate() {
                let old = before.get(i * 16..(i * 16 + chunk.len()).min(before.len())).unwrap_or(&[]);
                if old == chunk {
                    continue;
                }
                match next() % 3 {
                    0 => {}
                    1 if old.len() == chunk.len() => chunk.copy_from_slice(old),
                    _ => chunk.iter_mut().for_each(|b| *b = next() as u8),
                }
            }
            std::fs::write(dir.path().join(DATA), &crashed).unwrap();
            let (rows, _) = HashedRows::open(dir.path(), seq).unwrap();
            assert_holds(&rows, &model, (0..2).flat_map(|t| (500_000..500_050).map(move |n| (t, n))));
        }
    }

    #[test]
    fn a_change_whose_commit_never_happened_is_cut_off_and_the_next_takes_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut model: Model = Default::default();
        let (rows, _) = HashedRows::open(dir.path(), 0).unwrap();
        rows.checkpoint().unwrap();
        let committed = change(&rows, &mut model, &[(0, 1, 1), (1, 1, 1)], &[]);
        // Journaled and synced, but the sled batch naming it never became durable.
        let key9 = key(0, 9);
        let planned = rows.plan(&[(0, key9.as_slice(), [9; 8])], &[]).unwrap().unwrap();
        rows.append(&planned).unwrap();
        rows.journal.sync_data().unwrap();
        rows.abandon();
        std::mem::forget(rows);
        let (rows, _) = HashedRows::open(dir.path(), committed).unwrap();
        assert_holds(&rows, &model, [(0, 9)].into_iter());
        // In-process: a failed commit's record is overwritten by the next, and a longer stale
        // tail is cut, so the journal never holds a record that no commit named.
        let long: Vec<(usize, u64, u64)> = (100..300).map(|n| (0, n, n)).collect();
        let keyed: Vec<(usize, Vec<u8>, [u8; 8])> = long.iter().map(|&(t, n, v)| (t, key(t, n), v.to_be_bytes())).collect();
        let refs: Vec<(usize, &[u8], [u8; 8])> = keyed.iter().map(|(t, k, v)| (*t, k.as_slice(), *v)).collect();
        let stale = rows.plan(&refs, &[]).unwrap().unwrap();
        rows.append(&stale).unwrap();
        rows.abandon();
        let seq = change(&rows, &mut model, &[(0, 2, 2)], &[]);
        assert_eq!(std::fs::metadata(dir.path().join(JOURNAL)).unwrap().len(), rows.state.read().unwrap().journal_len);
        std::mem::forget(rows);
        let (rows, _) = HashedRows::open(dir.path(), seq).unwrap();
        assert_holds(&rows, &model, [(0, 100), (0, 9)].into_iter());
    }

    #[test]
    fn a_lost_directory_or_journal_record_is_refused_not_served_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut model: Model = Default::default();
        let (rows, _) = HashedRows::open(dir.path(), 0).unwrap();
        rows.checkpoint().unwrap();
        let seq = change(&rows, &mut model, &[(0, 1, 1)], &[]);
        std::mem::forget(rows);
        // A head older than the rows' checkpoint (sled lost its last commits).
        let dir2 = tempfile::tempdir().unwrap();
        {
            let (rows, _) = HashedRows::open(dir2.path(), 0).unwrap();
            let seq = change(&rows, &mut Model::default(), &[(0, 1, 1)], &[]);
            rows.checkpoint().unwrap();
            assert_eq!(seq, 1);
        }
        let err = HashedRows::open(dir2.path(), 0).err().expect("refused");
        assert!(matches!(&err, Error::Corrupt(m) if m.contains("ahead of the signed head")), "{err}");
        // The head names a change the journal does not hold.
        let err = HashedRows::open(dir.path(), seq + 1).err().expect("refused");
        assert!(matches!(&err, Error::Corrupt(m) if m.contains("journal ends at change 1")), "{err}");
        // A damaged byte in the journal's only record.
        let path = dir.path().join(JOURNAL);
        let mut journal = std::fs::read(&path).unwrap();
        let last = journal.len() - 1;
        journal[last] ^= 1;
        std::fs::write(&path, &journal).unwrap();
        assert!(matches!(HashedRows::open(dir.path(), seq), Err(Error::Corrupt(_))));
        // The directory gone while the head names a change.
        std::fs::remove_file(dir.path().join(DIRECTORY)).unwrap();
        let err = HashedRows::open(dir.path(), seq).err().expect("refused");
        assert!(matches!(&err, Error::Corrupt(m) if m.contains("missing")), "{err}");
        // A damaged directory.
        let dir = tempfile::tempdir().unwrap();
        drop(HashedRows::open(dir.path(), 0).unwrap().0.checkpoint());
        let path = dir.path().join(DIRECTORY);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(HashedRows::open(dir.path(), 0), Err(Error::Corrupt(m)) if m.contains("damaged")));
    }

    #[test]
    fn a_checkpoint_frees_the_extents_segments_left() {
        let dir = tempfile::tempdir().unwrap();
        let mut model: Model = Default::default();
        let (rows, _) = HashedRows::open(dir.path(), 0).unwrap();
        rows.checkpoint().unwrap();
        fill(&rows, &mut model, 0, 60_000);
        rows.checkpoint().unwrap();
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(dir.path().join(DATA)).unwrap();
        // Where the file system punches holes (ext4, xfs, tmpfs), the left extents take no blocks.
        if meta.blocks() * 512 < meta.len() {
            assert!(meta.blocks() * 512 < meta.len() * 3 / 4, "{} of {} bytes allocated", meta.blocks() * 512, meta.len());
        }
        assert!(rows.state.read().unwrap().freed.is_empty());
        assert_holds(&rows, &model, std::iter::empty());
    }
}
