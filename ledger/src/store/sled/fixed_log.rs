//! A positional file of fixed-width records, one per entry index: record `i`
//! is the `W` bytes at offset `i * W`. It holds the lookup records
//! (`lookup.dat`, see [`crate::store::LookupRecord`]).
//!
//! Its crash safety is that of the record files in `entry_log.rs`: a group
//! commit writes and `fdatasync`s the new records **before** the sled batch
//! that moves the signed head, and records are readable only once
//! [`FixedLog::confirm`]ed. On open, anything past the head's size is cut off.
//! Unlike those files, a store written before this file existed has fewer
//! records than its head ([`FixedLog::count`] tells); the ledger converts such
//! a store once with [`FixedLog::replace`].
//!
//! Changes in place: [`FixedLog::zero`] overwrites a byte range of chosen
//! records with zeros (erasure), and [`FixedLog::replace`] rewrites the whole
//! file (the one-time conversion).

use std::fs::{File, OpenOptions};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use super::syncer::SyncFile;
use crate::error::{Error, Result};

/// A positional file of `W`-byte records.
pub(crate) struct FixedLog<const W: usize> {
    file: Arc<File>,
    path: PathBuf,
    /// The path, for errors from the sync threads.
    label: Arc<str>,
    /// How many records are committed (readable).
    count: RwLock<u64>,
}

/// Records written and synced but not yet committed; see [`FixedLog::confirm`].
#[must_use = "written records count only once the head that covers them is committed"]
pub(crate) struct PendingFixed {
    count: u64,
}

impl<const W: usize> FixedLog<W> {
    /// Opens (or creates) `name` in `dir` for a store whose signed head covers
    /// `size` entries, cutting off records past them (an unfinished commit, or a
    /// torn last record). The file may hold fewer than `size`: see [`FixedLog::count`].
    pub(crate) fn open(dir: &Path, name: &str, size: u64) -> Result<Self> {
        let path = dir.join(name);
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| io("cannot open", &path, e))?;
        let len = file.metadata().map_err(|e| io("cannot read the size of", &path, e))?.len();
        let whole = len / W as u64;
        let count = whole.min(size);
        let want = count * W as u64;
        if len > want {
            tracing::warn!(
                bytes = len - want,
                file = %path.display(),
                "cutting off records written by a commit that never finished (nothing of it was acknowledged)"
            );
            file.set_len(want).map_err(|e| io("cannot truncate", &path, e))?;
            file.sync_all().map_err(|e| io("cannot sync", &path, e))?;
        }
        let label = Arc::from(path.display().to_string());
        Ok(FixedLog { file: Arc::new(file), path, label, count: RwLock::new(count) })
    }

    /// How many records are committed.
    pub(crate) fn count(&self) -> Result<u64> {
        self.count.read().map(|c| *c).map_err(|_| poisoned())
    }

    /// Writes `records` as records `start..`, which must be the next ones, and
    /// syncs. They are not readable until [`FixedLog::confirm`].
    #[cfg(test)]
    pub(crate) fn write(&self, start: u64, records: &[[u8; W]]) -> Result<PendingFixed> {
        let pending = self.write_unsynced(start, records)?;
        self.file.sync_data().map_err(|e| io("cannot sync", &self.path, e))?;
        Ok(pending)
    }

    /// [`FixedLog::write`] without the sync: the caller syncs [`FixedLog::file`] before it
    /// commits anything that covers these records.
    pub(crate) fn write_unsynced(&self, start: u64, records: &[[u8; W]]) -> Result<PendingFixed> {
        let count = self.count()?;
        if records.is_empty() {
            return Ok(PendingFixed { count });
        }
        if start != count {
            return Err(Error::Storage(format!(
                "records are append-only: record {start} was written where record {count} comes next in {}; this is a bug in the caller",
                self.path.display()
            )));
        }
        self.file.write_all_at(records.as_flattened(), count * W as u64).map_err(|e| io("cannot write", &self.path, e))?;
        Ok(PendingFixed { count: count + records.len() as u64 })
    }

    /// The file, to sync after [`FixedLog::write_unsynced`].
    pub(crate) fn file(&self) -> SyncFile {
        (self.file.clone(), self.label.clone())
    }

    /// Makes written records readable, once the head that covers them is durable.
    pub(crate) fn confirm(&self, pending: PendingFixed) -> Result<()> {
        let mut count = self.count.write().map_err(|_| poisoned())?;
        *count = (*count).max(pending.count);
        Ok(())
    }

    /// Records `start..end`, cut at the committed count.
    pub(crate) fn read(&self, start: u64, end: u64) -> Result<Vec<[u8; W]>> {
        let end = end.min(self.count()?);
        if start >= end {
            return Ok(Vec::new());
        }
        let mut out = vec![[0u8; W]; (end - start) as usize];
        self.file.read_exact_at(out.as_flattened_mut(), start * W as u64).map_err(|e| io("cannot read", &self.path, e))?;
        Ok(out)
    }

    /// Overwrites bytes `range` of each of the committed records `indexes` with zeros, and syncs.
    pub(crate) fn zero(&self, indexes: &[u64], range: Range<usize>) -> Result<()> {
        let count = self.count()?;
        if range.end > W || range.start >= range.end {
            return Err(Error::Storage(format!("bytes {range:?} are not inside a {W}-byte record; this is a bug in the caller")));
        }
        let zeros = vec![0u8; range.len()];
        for &i in indexes.iter().filter(|&&i| i < count) {
            self.file.write_all_at(&zeros, i * W as u64 + range.start as u64).map_err(|e| io("cannot overwrite", &self.path, e))?;
        }
        self.file.sync_data().map_err(|e| io("cannot sync", &self.path, e))
    }

    /// Replaces the whole file with `records`, synced: the one-time conversion of a
    /// store written before this file existed. Crash-safe only because the caller
    /// marks the conversion done afterwards and redoes it otherwise.
    pub(crate) fn replace(&self, records: &[[u8; W]]) -> Result<()> {
        let mut count = self.count.write().map_err(|_| poisoned())?;
        self.file.write_all_at(records.as_flattened(), 0).map_err(|e| io("cannot write", &self.path, e))?;
        self.file.set_len((records.len() * W) as u64).map_err(|e| io("cannot truncate", &self.path, e))?;
        self.file.sync_all().map_err(|e| io("cannot sync", &self.path, e))?;
        *count = records.len() as u64;
        Ok(())
    }

    /// Bytes the file occupies.
    pub(crate) fn size_on_disk(&self) -> Result<u64> {
        self.file.metadata().map(|m| m.len()).map_err(|e| io("cannot read the size of", &self.path, e))
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

fn poisoned() -> Error {
    Error::Storage("the lookup file's lock was poisoned by a panic; restart the server".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(range: Range<u64>) -> Vec<[u8; 4]> {
        range.map(|i| [i as u8, 1, 2, 3]).collect()
    }

    #[test]
    fn written_records_are_readable_only_once_confirmed_and_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = FixedLog::<4>::open(dir.path(), "f.dat", 0).unwrap();
            let p = log.write(0, &records(0..3)).unwrap();
            assert!(log.read(0, 3).unwrap().is_empty(), "not before the head moved");
            log.confirm(p).unwrap();
            assert_eq!(log.read(1, 9).unwrap(), records(1..3));
            // A commit whose head never became durable: written, never confirmed.
            drop(log.write(3, &records(3..6)).unwrap());
            assert!(log.write(5, &records(5..6)).is_err(), "only the next record may be written");
        }
        // Reopened at the head's size 3 (plus a torn half record): the rest is cut off.
        std::fs::OpenOptions::new().append(true).open(dir.path().join("f.dat")).unwrap().write_all_at(&[9, 9], 24).unwrap();
        let log = FixedLog::<4>::open(dir.path(), "f.dat", 3).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("f.dat")).unwrap().len(), 12);
        assert_eq!((log.count().unwrap(), log.read(0, 9).unwrap()), (3, records(0..3)));
    }

    #[test]
    fn a_file_shorter_than_the_head_says_how_far_it_goes_and_can_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let log = FixedLog::<4>::open(dir.path(), "f.dat", 10).unwrap();
        assert_eq!(log.count().unwrap(), 0, "a store from before the file existed");
        log.replace(&records(0..10)).unwrap();
        assert_eq!(log.read(0, 10).unwrap(), records(0..10));
        log.replace(&records(0..2)).unwrap();
        assert_eq!((log.count().unwrap(), std::fs::metadata(dir.path().join("f.dat")).unwrap().len()), (2, 8));
    }

    #[test]
    fn zero_overwrites_only_the_range_of_the_chosen_records() {
        let dir = tempfile::tempdir().unwrap();
        let log = FixedLog::<4>::open(dir.path(), "f.dat", 0).unwrap();
        let p = log.write(0, &records(0..4)).unwrap();
        log.confirm(p).unwrap();
        log.zero(&[1, 3, 99], 1..4).unwrap();
        assert_eq!(log.read(0, 4).unwrap(), vec![[0, 1, 2, 3], [1, 0, 0, 0], [2, 1, 2, 3], [3, 0, 0, 0]]);
        assert!(log.zero(&[0], 2..5).is_err());
        assert_eq!(std::fs::read(dir.path().join("f.dat")).unwrap(), [0, 1, 2, 3, 1, 0, 0, 0, 2, 1, 2, 3, 3, 0, 0, 0]);
    }
}
