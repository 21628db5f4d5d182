//! The crash and damage rules of `hashed_rows.rs`, each held to a test: rows read back through
//! rehashes, deletes and reopens; a replay over any mix of written, unwritten and torn slots;
//! a change whose commit never happened; a journal or directory that lost a committed change.

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

/// A write to `rows.dat` that fails after its commit point (a full disk): the change is
/// durable in the journal, the tables refuse every read and change until the next open, and
/// that open replays it.
#[test]
fn a_write_that_fails_after_the_commit_point_is_refused_until_the_replay_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut model: Model = Default::default();
    let mut rows = HashedRows::open(dir.path(), 0).unwrap().0;
    rows.checkpoint().unwrap();
    let committed = change(&rows, &mut model, &[(0, 1, 1)], &[]);
    // The file refuses writes from now on, as a full disk would.
    rows.data = Arc::new(File::open(dir.path().join(DATA)).unwrap());
    let key = key(0, 2);
    let planned = rows.plan(&[(0, key.as_slice(), [2; 8])], &[]).unwrap().unwrap();
    rows.append(&planned).unwrap();
    rows.journal.sync_data().unwrap();
    let seq = planned.seq;
    let err = rows.apply(planned).unwrap_err();
    assert!(err.to_string().contains("restart the server"), "{err}");
    assert!(rows.get_many(0, &[&key]).unwrap_err().to_string().contains("replays the row journal"));
    assert!(rows.plan(&[(0, key.as_slice(), [3; 8])], &[]).is_err(), "no change is planned on tables that lag the log");
    assert_eq!(seq, committed + 1);
    model[0].insert(key, [2; 8]);
    std::mem::forget(rows);
    let (rows, _) = HashedRows::open(dir.path(), seq).unwrap();
    assert_holds(&rows, &model, std::iter::empty());
}
