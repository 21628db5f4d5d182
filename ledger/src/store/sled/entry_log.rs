//! Positional, append-only record files beside the sled tree: one pair for the
//! public entries (`entries.dat`, `entries.idx`) and one for the private parts
//! (`private.dat`, `private.idx`), one record per entry index in both.
//!
//! `NAME.dat` holds the records back to back; `NAME.idx` holds one
//! little-endian `u64` per record: the offset in `NAME.dat` where it ends.
//! Record `i` is two positional reads (its two offsets, then its bytes), and
//! appending a group commit's records is two sequential writes, instead of one
//! copy-on-write sled value per record (measured in BENCHMARKS.md). Only the
//! committed count and where the last record ends are kept in memory, so opening
//! the files reads one offset whatever the log's size, and memory does not grow
//! with it; an offset that runs backwards is found when it is read (and by
//! `fsck`, which reads them all) and refused as corrupt.
//!
//! Crash safety: a group commit writes and `fdatasync`s the files **before**
//! the sled batch that moves the signed head, and the head is the commit point.
//! A crash between the two leaves bytes past the head's size in the files;
//! [`EntryLog::open`] cuts them off. A head whose records are not all in the
//! files is refused as corrupt, never served.
//!
//! The only changes in place are [`EntryLog::wipe`], erasure overwriting a private
//! record with zeros, and [`EntryLog::overwrite_heads`], the one-time conversion of
//! an older store rewriting the fixed head of private records.
//!
//! Over 400 lines because each crash and damage rule above has its test here, beside the code
//! that keeps it (the code itself is under 250 lines).

use std::fs::{File, OpenOptions};
use std::io::IoSlice;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, RwLock};

use super::syncer::SyncFile;
use crate::error::{Error, Result};

/// One pair of append-only record files.
pub(crate) struct EntryLog {
    data: Arc<File>,
    index: Arc<File>,
    name: &'static str,
    /// `<name>.dat` and `<name>.idx`, for errors.
    labels: [Arc<str>; 2],
    /// How many records are committed, and where the last of them ends in `data`.
    extent: RwLock<(u64, u64)>,
}

/// Records written and synced but not yet committed; see [`EntryLog::confirm`].
#[must_use = "written records count only once the head that covers them is committed"]
pub(crate) struct Pending {
    ends: Vec<u64>,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} {}: {e}", path.display()))
}

/// Slices one `pwritev` takes at most (Linux's `IOV_MAX`).
const IOV_MAX: usize = 1024;

/// Writes `parts` back to back at `offset`, without first joining them into one buffer
/// (a group commit's entries are megabytes).
fn write_all_vectored_at<'a>(file: &File, parts: impl IntoIterator<Item = &'a [u8]>, mut offset: u64) -> std::io::Result<()> {
    // An empty part (an entry without a private record) adds nothing, and a call with only
    // empty slices would write nothing and look like a full disk.
    let parts: Vec<&[u8]> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    for chunk in parts.chunks(IOV_MAX) {
        let mut slices: Vec<IoSlice<'_>> = chunk.iter().map(|p| IoSlice::new(p)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            let written = rustix::io::pwritev(file, rest, offset)?;
            if written == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "the file took no more bytes"));
            }
            offset += written as u64;
            IoSlice::advance_slices(&mut rest, written);
        }
    }
    Ok(())
}

fn poisoned() -> Error {
    Error::Storage("the record files' lock was poisoned by a panic; restart the server".into())
}

impl EntryLog {
    /// Whether `dir` already has the files of `name`.
    pub(crate) fn exists(dir: &Path, name: &str) -> bool {
        dir.join(format!("{name}.idx")).exists()
    }

    /// Opens (or creates) `name.dat` and `name.idx` in `dir` for a store whose
    /// signed head holds `count` records, cutting off anything past them (an
    /// unfinished commit). Fails if any of the `count` records is missing.
    pub(crate) fn open(dir: &Path, name: &'static str, count: u64) -> Result<Self> {
        let (data_path, index_path) = (dir.join(format!("{name}.dat")), dir.join(format!("{name}.idx")));
        let open = |path: &Path| {
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(|e| io("cannot open", path, e))
        };
        let (data, index) = (open(&data_path)?, open(&index_path)?);
        let len = |f: &File, path: &Path| f.metadata().map(|m| m.len()).map_err(|e| io("cannot read the size of", path, e));
        let (data_file_len, index_file_len) = (len(&data, &data_path)?, len(&index, &index_path)?);
        let index_len = count.checked_mul(8).ok_or_else(|| Error::Corrupt(format!("the head's size {count} is absurd")))?;
        if index_file_len < index_len {
            return Err(Error::Corrupt(format!(
                "the signed head covers {count} entries but {} holds only {}; acknowledged entries are missing",
                index_path.display(),
                index_file_len / 8
            )));
        }
        let data_len = match count {
            0 => 0,
            n => {
                let mut last = [0u8; 8];
                index.read_exact_at(&mut last, (n - 1) * 8).map_err(|e| io("cannot read", &index_path, e))?;
                u64::from_le_bytes(last)
            }
        };
        if data_file_len < data_len {
            return Err(Error::Corrupt(format!(
                "{} is {data_file_len} bytes but its index says the first {count} entries end at byte {data_len}; acknowledged entries are missing",
                data_path.display()
            )));
        }
        if index_file_len > index_len || data_file_len > data_len {
            tracing::warn!(
                records = (index_file_len - index_len) / 8,
                bytes = data_file_len - data_len,
                file = %data_path.display(),
                "cutting off records written by a commit that never finished (nothing of it was acknowledged)"
            );
            index.set_len(index_len).map_err(|e| io("cannot truncate", &index_path, e))?;
            data.set_len(data_len).map_err(|e| io("cannot truncate", &data_path, e))?;
            index.sync_all().map_err(|e| io("cannot sync", &index_path, e))?;
            data.sync_all().map_err(|e| io("cannot sync", &data_path, e))?;
        }
        let labels = [Arc::from(format!("{name}.dat")), Arc::from(format!("{name}.idx"))];
        Ok(EntryLog { data: Arc::new(data), index: Arc::new(index), name, labels, extent: RwLock::new((count, data_len)) })
    }

    /// The committed count and data length.
    fn extent(&self) -> Result<(u64, u64)> {
        self.extent.read().map(|e| *e).map_err(|_| poisoned())
    }

    /// Writes `records` (which must start at the committed count and be
    /// contiguous) after the committed ones and syncs both files. They are not
    /// readable until [`EntryLog::confirm`].
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn write<B: AsRef<[u8]>>(&self, records: &[(u64, B)]) -> Result<Pending> {
        let pending = self.write_unsynced(records)?;
        for (file, label) in self.files() {
            file.sync_data().map_err(|e| Error::Storage(format!("cannot sync {label}: {e}")))?;
        }
        Ok(pending)
    }

    /// [`EntryLog::write`] without the sync: the caller syncs [`EntryLog::files`] before it
    /// commits anything that covers these records.
    pub(crate) fn write_unsynced<B: AsRef<[u8]>>(&self, records: &[(u64, B)]) -> Result<Pending> {
        let (count, data_len) = self.extent()?;
        let mut ends = Vec::with_capacity(records.len());
        let mut end = data_len;
        for (n, (i, bytes)) in (count..).zip(records) {
            if *i != n {
                return Err(Error::Storage(format!(
                    "records are append-only: record {i} was written where record {n} comes next; this is a bug in the caller"
                )));
            }
            end += bytes.as_ref().len() as u64;
            ends.push(end);
        }
        if records.is_empty() {
            return Ok(Pending { ends });
        }
        let index: Vec<u8> = ends.iter().flat_map(|e| e.to_le_bytes()).collect();
        let fail = |what: &str, e: std::io::Error| Error::Storage(format!("{what} the {} files: {e}", self.name));
        write_all_vectored_at(&self.data, records.iter().map(|(_, b)| b.as_ref()), data_len).map_err(|e| fail("cannot write", e))?;
        self.index.write_all_at(&index, count * 8).map_err(|e| fail("cannot write", e))?;
        Ok(Pending { ends })
    }

    /// The two files, to sync after [`EntryLog::write_unsynced`].
    pub(crate) fn files(&self) -> [SyncFile; 2] {
        let [data, index] = &self.labels;
        [(self.data.clone(), data.clone()), (self.index.clone(), index.clone())]
    }

    /// Makes written records readable, once the head that covers them is durable.
    pub(crate) fn confirm(&self, pending: Pending) -> Result<()> {
        let mut extent = self.extent.write().map_err(|_| poisoned())?;
        if let Some(&last) = pending.ends.last() {
            *extent = (extent.0 + pending.ends.len() as u64, last);
        }
        Ok(())
    }

    /// Where record `start` begins and where each of `start..end` ends (cut at
    /// the committed count), read from the index file. Offsets that run backwards
    /// or past the committed data are refused as damage.
    fn offsets(&self, start: u64, end: u64) -> Result<(u64, Vec<u64>)> {
        let (count, data_len) = self.extent()?;
        let end = end.min(count);
        if start >= end {
            return Ok((0, Vec::new()));
        }
        // The offset where the record before `start` ends, then one per record.
        let from = start.saturating_sub(1);
        let mut raw = vec![0u8; ((end - from) * 8) as usize];
        self.index.read_exact_at(&mut raw, from * 8).map_err(|e| Error::Storage(format!("cannot read {}.idx: {e}", self.name)))?;
        let mut offsets = raw.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()));
        let first = if start == 0 { 0 } else { offsets.next().unwrap_or(0) };
        let ends: Vec<u64> = offsets.collect();
        let mut before = first;
        for (i, &e) in (start..).zip(&ends) {
            if e < before || e > data_len {
                return Err(Error::Corrupt(format!(
                    "{}.idx is damaged: record {i} ends at byte {e}, before its start {before} or past the {data_len} committed bytes; restore the data folder from a backup",
                    self.name
                )));
            }
            before = e;
        }
        Ok((first, ends))
    }

    /// Records `start..end`, cut at the committed count.
    pub(crate) fn read(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let (first, ends) = self.offsets(start, end)?;
        let Some(&last) = ends.last() else { return Ok(Vec::new()) };
        let mut data = vec![0u8; (last - first) as usize];
        self.data.read_exact_at(&mut data, first).map_err(|e| Error::Storage(format!("cannot read {}.dat: {e}", self.name)))?;
        if ends.len() == 1 {
            return Ok(vec![data]);
        }
        let mut out = Vec::with_capacity(ends.len());
        let mut from = 0usize;
        for e in ends {
            let to = (e - first) as usize;
            out.push(data[from..to].to_vec());
            from = to;
        }
        Ok(out)
    }

    /// Overwrites committed records with zeros, keeping their length, and syncs.
    pub(crate) fn wipe(&self, indexes: &[u64]) -> Result<()> {
        for &i in indexes {
            let (first, ends) = self.offsets(i, i + 1)?;
            let Some(&last) = ends.last() else { continue };
            self.data
                .write_all_at(&vec![0u8; (last - first) as usize], first)
                .map_err(|e| Error::Storage(format!("cannot overwrite record {i} of {}.dat: {e}", self.name)))?;
        }
        self.data.sync_data().map_err(|e| Error::Storage(format!("cannot sync {}.dat: {e}", self.name)))
    }

    /// Overwrites the first bytes of committed records in place, `(index, head)` each no
    /// longer than its record, and syncs.
    pub(crate) fn overwrite_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        for (i, head) in heads {
            let (first, ends) = self.offsets(*i, i + 1)?;
            let fits = ends.last().is_some_and(|&last| head.len() as u64 <= last - first);
            if !fits {
                return Err(Error::Storage(format!(
                    "record {i} of {}.dat is missing or shorter than the {} bytes to write over its start; this is a bug in the caller",
                    self.name,
                    head.len()
                )));
            }
            self.data
                .write_all_at(head, first)
                .map_err(|e| Error::Storage(format!("cannot overwrite record {i} of {}.dat: {e}", self.name)))?;
        }
        self.data.sync_data().map_err(|e| Error::Storage(format!("cannot sync {}.dat: {e}", self.name)))
    }

    /// Bytes both files occupy.
    pub(crate) fn size_on_disk(&self) -> Result<u64> {
        let len = |f: &File| f.metadata().map(|m| m.len()).map_err(|e| Error::Storage(format!("cannot read a record file's size: {e}")));
        Ok(len(&self.data)? + len(&self.index)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(range: std::ops::Range<u64>) -> Vec<(u64, Vec<u8>)> {
        range.map(|i| (i, format!("entry {i} {}", "x".repeat(i as usize % 7)).into_bytes())).collect()
    }

    /// New files `name` in `dir` holding `entries(0..n)`, committed.
    fn committed(dir: &Path, name: &'static str, n: u64) -> EntryLog {
        let log = EntryLog::open(dir, name, 0).unwrap();
        let p = log.write(&entries(0..n)).unwrap();
        log.confirm(p).unwrap();
        log
    }

    #[test]
    fn written_entries_are_readable_only_once_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let log = EntryLog::open(dir.path(), "entries", 0).unwrap();
        let pending = log.write(&entries(0..5)).unwrap();
        assert!(log.read(0, 5).unwrap().is_empty(), "not before the head moved");
        log.confirm(pending).unwrap();
        let want: Vec<Vec<u8>> = entries(0..5).into_iter().map(|(_, e)| e).collect();
        assert_eq!(log.read(0, 5).unwrap(), want);
        assert_eq!(log.read(2, 4).unwrap(), want[2..4]);
        assert_eq!(log.read(3, 100).unwrap(), want[3..], "cut at the committed count");
        assert!(log.read(5, 6).unwrap().is_empty());
    }

    #[test]
    fn an_unconfirmed_write_is_overwritten_and_cut_off_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let log = committed(dir.path(), "entries", 3);
            // A commit whose head never became durable: its entries are written, then dropped.
            drop(log.write(&entries(3..10)).unwrap());
            // The next commit writes at the same place.
            let p = log.write(&[(3, b"the real entry 3".to_vec())]).unwrap();
            log.confirm(p).unwrap();
            assert_eq!(log.read(3, 10).unwrap(), vec![b"the real entry 3".to_vec()]);
        }
        // A crash after writing more: the files are longer than the head.
        let log = EntryLog::open(dir.path(), "entries", 4).unwrap();
        assert_eq!(std::fs::metadata(dir.path().join("entries.idx")).unwrap().len(), 4 * 8, "the torn tail is cut off");
        assert_eq!(log.read(3, 4).unwrap(), vec![b"the real entry 3".to_vec()]);
        let p = log.write(&entries(4..6)).unwrap();
        log.confirm(p).unwrap();
        assert_eq!(log.read(0, 10).unwrap().len(), 6);
    }

    #[test]
    fn a_commit_of_more_records_than_one_pwritev_takes_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let log = EntryLog::open(dir.path(), "entries", 0).unwrap();
        // Empty records (entries without a private part) among them.
        let records: Vec<(u64, Vec<u8>)> = (0..2 * IOV_MAX as u64 + 37).map(|i| (i, vec![i as u8; (i % 5) as usize])).collect();
        let p = log.write(&records).unwrap();
        log.confirm(p).unwrap();
        let want: Vec<Vec<u8>> = records.into_iter().map(|(_, r)| r).collect();
        assert_eq!(log.read(0, u64::MAX).unwrap(), want);
        let joined: Vec<u8> = want.concat();
        assert_eq!(std::fs::read(dir.path().join("entries.dat")).unwrap(), joined);
        // A commit whose records are all empty (log records have no private part).
        let empty: Vec<(u64, Vec<u8>)> = (want.len() as u64..want.len() as u64 + 3).map(|i| (i, Vec::new())).collect();
        let p = log.write(&empty).unwrap();
        log.confirm(p).unwrap();
        assert_eq!(log.read(want.len() as u64, u64::MAX).unwrap(), vec![Vec::<u8>::new(); 3]);
    }

    #[test]
    fn a_head_longer_than_the_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(committed(dir.path(), "entries", 3));
        let err = EntryLog::open(dir.path(), "entries", 4).err().expect("an acknowledged entry is missing");
        assert!(matches!(err, Error::Corrupt(ref m) if m.contains("covers 4 entries") && m.contains("only 3")), "{err}");
        // The data file cut short, the index intact.
        let data = dir.path().join("entries.dat");
        let len = std::fs::metadata(&data).unwrap().len();
        OpenOptions::new().write(true).open(&data).unwrap().set_len(len - 1).unwrap();
        let err = EntryLog::open(dir.path(), "entries", 3).err().expect("the last entry is cut short");
        assert!(matches!(err, Error::Corrupt(ref m) if m.contains("acknowledged entries are missing")), "{err}");
    }

    #[test]
    fn a_wiped_record_keeps_its_length_and_is_zeros() {
        let dir = tempfile::tempdir().unwrap();
        let log = committed(dir.path(), "private", 4);
        log.wipe(&[1, 3, 99]).unwrap();
        let got = log.read(0, 4).unwrap();
        let want: Vec<Vec<u8>> = entries(0..4).into_iter().map(|(_, e)| e).collect();
        assert_eq!((&got[0], &got[2]), (&want[0], &want[2]), "the others are untouched");
        for i in [1, 3] {
            assert_eq!(got[i], vec![0u8; want[i].len()]);
        }
        let on_disk = std::fs::read(dir.path().join("private.dat")).unwrap();
        assert!(!on_disk.windows(want[1].len()).any(|w| w == want[1].as_slice()), "the bytes are gone from the file");
    }

    #[test]
    fn a_head_is_written_over_the_start_of_its_record_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = committed(dir.path(), "private", 4);
        log.overwrite_heads(&[(1, b"HEAD".to_vec()), (3, Vec::new())]).unwrap();
        let want: Vec<Vec<u8>> = entries(0..4).into_iter().map(|(_, e)| e).collect();
        let got = log.read(0, 4).unwrap();
        assert_eq!(got[1], [b"HEAD".as_slice(), &want[1][4..]].concat(), "the rest of the record is kept");
        assert_eq!((&got[0], &got[2], &got[3]), (&want[0], &want[2], &want[3]));
        let long = vec![b'x'; want[2].len() + 1];
        assert!(log.overwrite_heads(&[(2, long)]).is_err(), "longer than the record");
        assert!(log.overwrite_heads(&[(9, b"x".to_vec())]).is_err(), "past the committed records");
        assert_eq!(log.read(2, 3).unwrap()[0], want[2], "a refused head writes nothing");
    }

    #[test]
    fn a_damaged_index_is_refused_when_read() {
        let dir = tempfile::tempdir().unwrap();
        drop(committed(dir.path(), "entries", 4));
        let index = dir.path().join("entries.idx");
        let mut raw = std::fs::read(&index).unwrap();
        raw[16..24].copy_from_slice(&1u64.to_le_bytes());
        std::fs::write(&index, raw).unwrap();
        // Opening reads only where the last record ends: the damage is found by the reads it spoils.
        let log = EntryLog::open(dir.path(), "entries", 4).unwrap();
        assert_eq!(log.read(0, 2).unwrap().len(), 2, "records before the damage read back");
        for (start, end) in [(0, 4), (2, 3), (1, 3)] {
            let err = log.read(start, end).expect_err("record 2 ends before record 1");
            assert!(matches!(err, Error::Corrupt(ref m) if m.contains("record 2 ends at byte 1")), "{err}");
        }
        // Record 3 alone starts where the damaged offset says: its bytes are wrong, which the
        // ledger finds by the leaf hash (entries) or the seal (private records).
        assert_ne!(log.read(3, 4).unwrap()[0], entries(3..4)[0].1);
    }

    #[test]
    fn opening_reads_one_offset_whatever_the_count() {
        let dir = tempfile::tempdir().unwrap();
        drop(committed(dir.path(), "entries", 3));
        // Every offset but the last is garbage: opening does not look at them.
        let index = dir.path().join("entries.idx");
        let mut raw = std::fs::read(&index).unwrap();
        raw[..16].fill(0xFF);
        std::fs::write(&index, raw).unwrap();
        let log = EntryLog::open(dir.path(), "entries", 3).unwrap();
        assert!(log.read(0, 1).is_err(), "the damaged offsets are refused when read");
    }

    #[test]
    fn entries_are_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let log = committed(dir.path(), "entries", 2);
        for bad in [entries(1..2), entries(3..4), vec![(2, vec![1]), (4, vec![2])]] {
            let err = log.write(&bad).err().expect("only the next index may be written");
            assert!(matches!(err, Error::Storage(ref m) if m.contains("append-only")), "{err}");
        }
        assert_eq!(log.read(0, 9).unwrap().len(), 2);
    }
}
