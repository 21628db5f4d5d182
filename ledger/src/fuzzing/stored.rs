//! The `store` fuzz family: the store's own data when damaged. The head record, private records
//! and sealed personal parts; the sled backend's append-only record files over arbitrary bytes;
//! and a whole store, a copy of the fixture ledger's damaged value by value
//! (`store/memory/damage.rs`), opened, read, exported, checked and written to.

use std::path::Path;
use std::sync::Arc;

use crate::export::{export, ExportFormat};
use crate::ledger::Ledger;
use crate::privacy::recipients::Layout;
use crate::privacy::{RecipientKey, ServerSecret};
use crate::store::memory::MemoryStore;
use crate::store::sled::entry_log::EntryLog;
use crate::store::Head;

use super::checks::{filters, word};
use super::fixture::{fixture, options, SECRET};

pub(super) fn stored_records(data: &[u8]) {
    if let Ok(h) = Head::decode(data) {
        assert!(Head::encode(h.size, &h.checkpoint) == data, "the head record does not round-trip");
    }
    let index = word(data, 0);
    if let Ok(Some(part)) = Layout::NEW.split(index, data) {
        assert!(part.handle.len() == 32 && part.sealed.len() >= 12, "a split private record is shorter than its parts");
    }
    for i in [0, index] {
        let _ = RecipientKey([5; 32]).open(i, data);
    }
}

/// Input: the head's record count (one byte), where the index file ends (two bytes), then
/// `entries.idx` followed by `entries.dat`.
pub(super) fn record_files(data: &[u8]) {
    let count = u64::from(data.first().copied().unwrap_or(0) % 16);
    let files = data.get(3..).unwrap_or_default();
    let split = data.get(1..3).map_or(0, |s| usize::from(u16::from_le_bytes([s[0], s[1]]))) % (files.len() + 1);
    let (idx, dat) = files.split_at(split);
    let Some(dir) = scratch() else { return };
    if std::fs::write(dir.path().join("entries.idx"), idx).is_err() || std::fs::write(dir.path().join("entries.dat"), dat).is_err() {
        return;
    }
    let Ok(log) = EntryLog::open(dir.path(), "entries", count) else { return };
    // Opening reads only where the last record ends; an offset damaged before it is refused
    // as corrupt by the read it spoils, never read past the data or panicked on.
    match log.read(0, count) {
        Ok(records) => assert_eq!(records.len() as u64, count, "record files that open for {count} records hold {}", records.len()),
        Err(crate::Error::Corrupt(_)) => {}
        Err(e) => panic!("record files that open fail to read with another error than damage: {e}"),
    }
    let _ = log.read(count / 2, u64::MAX);
    let _ = log.wipe(&[0, count / 2, count]);
    let pending = log.write(&[(count, b"next".as_slice())]).unwrap_or_else(|e| panic!("record files that open take no record: {e}"));
    if let Err(e) = log.confirm(pending) {
        panic!("a written record cannot be confirmed: {e}");
    }
    assert!(log.read(count, count + 1).is_ok_and(|r| r == [b"next".to_vec()]), "a record written after open does not read back");
}

/// Input: one byte choosing a write, then 4-byte damage operations (see `store/memory/damage.rs`).
pub(super) fn damaged_store(data: &[u8]) {
    let f = fixture();
    let (write, ops) = data.split_first().unwrap_or((&0, &[]));
    let mut mem = f.snapshot.clone();
    mem.damage(ops);
    let store = Arc::new(MemoryStore::holding(mem));
    let Ok(ledger) = Ledger::open(store, f.signer.clone(), ServerSecret(SECRET), options()) else { return };
    let size = ledger.size();
    let _ = (ledger.head(), ledger.checkpoint(), ledger.registry(), ledger.size_on_disk());
    let _ = ledger.entries(0, size);
    for i in 0..size.min(32) {
        let _ =
            (ledger.entry(i), ledger.personal(i), ledger.recipient_entries(i, "alice@example.org"), ledger.receipt(i), ledger.leaf_hash(i));
        let _ = (ledger.inclusion_proof(i, size), ledger.consistency_proof(i, size));
    }
    let _ = (ledger.tile(0, 0, size.min(256) as u16), ledger.entry_bundle(0, size.min(256) as u16));
    let format = [ExportFormat::Bundle, ExportFormat::Jsonl, ExportFormat::Csv][usize::from(write / 4 % 3)];
    let _ = export(&ledger, &filters()[usize::from(write / 16 % 2)], format, &mut std::io::sink(), &|_, _| {});
    // One receipt per input: checking a signature is most of the cost of an input.
    let at = u64::from(*write) % size.max(1);
    // Every read is checked against the tree (SPEC.md §13): a damaged store refuses a receipt
    // as corrupt, and any receipt it does serve verifies.
    if let Ok(r) = ledger.receipt(at) {
        if let Err(e) = r.verify(&f.trusted) {
            panic!("a damaged store serves a receipt of entry {at} that does not verify: {e}");
        }
    }
    let _ = match write % 4 {
        0 => ledger.submit(vec![f.submission.clone()]),
        1 => ledger.object(at, "alice@example.org"),
        2 => ledger.erase_recipient_of(at, "alice@example.org"),
        _ => return,
    };
    let _ = ledger.fsck(&|_| {});
}

/// A fresh folder for record files (in memory where the system has `/dev/shm`), removed again
/// on drop.
fn scratch() -> Option<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    tempfile::Builder::new().prefix("sightline-fuzz-").tempdir_in(base).ok()
}
