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
//! Their tests are `hashed_rows_tests.rs`.

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
#[path = "hashed_rows_tests.rs"]
mod tests;
