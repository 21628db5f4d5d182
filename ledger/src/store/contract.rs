//! The contract every [`Store`] backend keeps (the rules in the [`crate::store`] docs), as one
//! suite that any backend runs with one line:
//!
//! ```ignore
//! // Every rule but durability: each rule gets a new, empty store.
//! sightline_ledger::store::contract::run(|| Ok(MemoryStore::default()));
//! // Every rule, and durability: a store opened again at the same place holds every commit
//! // that returned `Ok`. Each store gets a fresh folder (a backend that is not file-based may
//! // take the folder's name as the name of its database or schema).
//! sightline_ledger::store::contract::run_durable(SledStore::open);
//! ```
//!
//! A broken rule is a panic that names it and says what the store did instead. The rules:
//! positional reads of entries, private records and lookup records (cut at the end, empty or
//! zeros where a commit gives none); the head; tiles at their widest; the two key spaces apart
//! and scanned in key order, with puts, gets (one at a time and many at once) and deletes; wipes; the in-place rewrite of
//! private heads; the replacement of every lookup record; a refused commit that changes
//! nothing (atomicity); and, for [`run_durable`], everything committed readable after the
//! store is opened again, where appending goes on (durability, the head as commit point).
//!
//! Compiled with the `fuzzing` feature, which the ledger's tests enable.
//!
//! Over 400 lines because the contract is its rules, one short function each, and a backend
//! reads them in one place.

use std::path::Path;

use crate::error::Result;
use crate::store::{Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES, LOOKUP_PRIVATE};

/// A rule every store keeps, checked on a new, empty store.
type Rule = (&'static str, fn(&dyn Store));

/// A rule of durability, checked on a store it opens (again) as often as it likes.
type DurableRule = (&'static str, fn(&mut dyn FnMut() -> Box<dyn Store>));

const RULES: [Rule; 12] = [
    ("an empty store holds nothing", empty_store_holds_nothing),
    ("a commit moves the head", commit_moves_the_head),
    ("entries are positional", entries_are_positional),
    ("private records are positional", private_records_are_positional),
    ("lookup records are positional", lookup_records_are_positional),
    ("a tile is kept at its widest", tile_is_kept_at_its_widest),
    ("the key spaces are apart and scanned in key order", key_spaces_are_apart_and_ordered),
    ("get_many reads what get reads, in order", get_many_reads_what_get_reads),
    ("a wipe zeros private records and the private part of lookup records", wipe_zeros_what_it_names),
    ("private heads are rewritten in place", private_heads_are_rewritten_in_place),
    ("replace_lookups replaces every lookup record", replace_lookups_replaces_every_record),
    ("a refused commit changes nothing", refused_commit_changes_nothing),
];

const DURABLE_RULES: [DurableRule; 2] = [
    ("every commit survives opening the store again", every_commit_survives_reopening),
    ("a store opened again appends where it stopped", reopened_store_appends_where_it_stopped),
];

/// Runs every rule but durability, each on a new store from `new_store`.
pub fn run<S: Store>(mut new_store: impl FnMut() -> Result<S>) {
    for (name, rule) in RULES {
        let store = new_store().unwrap_or_else(|e| panic!("store contract, {name}: the store does not open: {e}"));
        rule(&store);
    }
}

/// Runs every rule, durability too: each rule opens its store with `open` at a fresh folder,
/// and the durability rules open it again at the same folder.
pub fn run_durable<S: Store>(mut open: impl FnMut(&Path) -> Result<S>) {
    let root = tempfile::tempdir().unwrap_or_else(|e| panic!("store contract: no temporary folder for the stores: {e}"));
    let mut stores = 0;
    let mut fresh = || {
        stores += 1;
        root.path().join(format!("store-{stores}"))
    };
    run(|| open(&fresh()));
    for (name, rule) in DURABLE_RULES {
        let dir = fresh();
        let mut reopen = || -> Box<dyn Store> {
            Box::new(open(&dir).unwrap_or_else(|e| panic!("store contract, {name}: the store does not open again: {e}")))
        };
        rule(&mut reopen);
    }
}

// ---- What the rules write -----------------------------------------------------------------

fn entry(i: u64) -> Vec<u8> {
    format!("{{\"entry\":{i}}}").into_bytes()
}

fn private(i: u64) -> Vec<u8> {
    vec![i as u8 + 1; 40 + i as usize]
}

fn lookup(i: u64) -> LookupRecord {
    let mut r = [0u8; LOOKUP_BYTES];
    r[..16].fill(i as u8 + 0x10);
    r[LOOKUP_PRIVATE].fill(i as u8 + 0x80);
    r
}

fn checkpoint(size: u64) -> String {
    format!("example.org/log\n{size}\nroot\n")
}

/// A commit of entries `from..to`, with their private and lookup records unless `bare`.
fn records(from: u64, to: u64, bare: bool) -> Commit {
    Commit {
        size: to,
        checkpoint: checkpoint(to),
        entries: (from..to).map(|i| (i, entry(i))).collect(),
        private: if bare { Vec::new() } else { (from..to).map(private).collect() },
        lookup: if bare { Vec::new() } else { (from..to).map(lookup).collect() },
        ..Commit::default()
    }
}

fn commit(rule: &str, store: &dyn Store, c: &Commit) {
    store.commit(c).unwrap_or_else(|e| panic!("store contract, {rule}: a commit of size {} is refused: {e}", c.size));
}

fn ok<T>(rule: &str, what: &str, r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("store contract, {rule}: {what} fails: {e}"))
}

/// Everything a store shows, for comparing a store with itself before and after.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    head: Option<Head>,
    entries: Vec<Vec<u8>>,
    private: Vec<Option<Vec<u8>>>,
    lookups: Vec<LookupRecord>,
    lookup_count: u64,
    tiles: Vec<Option<Vec<u8>>>,
    index: Vec<(Vec<u8>, Vec<u8>)>,
    private_space: Vec<(Vec<u8>, Vec<u8>)>,
}

fn seen(rule: &str, store: &dyn Store) -> Seen {
    let head = ok(rule, "head", store.head());
    let size = head.as_ref().map_or(0, |h| h.size);
    Seen {
        entries: ok(rule, "entries", store.entries(0, size + 2)),
        private: (0..size + 2).map(|i| ok(rule, "private", store.private(i))).collect(),
        lookups: ok(rule, "lookups", store.lookups(0, size + 2)),
        lookup_count: ok(rule, "lookup_count", store.lookup_count()),
        tiles: [(0, 0), (0, 1), (1, 0)].iter().map(|&(l, i)| ok(rule, "tile", store.tile(l, i))).collect(),
        index: ok(rule, "scan", store.scan(Space::Index, b"")),
        private_space: ok(rule, "scan", store.scan(Space::Private, b"")),
        head,
    }
}

// ---- The rules ----------------------------------------------------------------------------

fn empty_store_holds_nothing(store: &dyn Store) {
    let rule = "an empty store holds nothing";
    let s = seen(rule, store);
    assert_eq!(s.head, None, "store contract, {rule}: a new store has a head");
    assert!(s.entries.is_empty() && s.lookups.is_empty() && s.lookup_count == 0, "store contract, {rule}: a new store has records: {s:?}");
    assert!(s.private.iter().all(Option::is_none), "store contract, {rule}: a new store has private records");
    assert!(s.tiles.iter().all(Option::is_none), "store contract, {rule}: a new store has tiles");
    assert!(s.index.is_empty() && s.private_space.is_empty(), "store contract, {rule}: a new store has rows");
    assert_eq!(ok(rule, "entry", store.entry(0)), None, "store contract, {rule}: a new store has entry 0");
    assert_eq!(ok(rule, "get", store.get(Space::Index, b"reg/")), None, "store contract, {rule}: a new store has a row");
}

fn commit_moves_the_head(store: &dyn Store) {
    let rule = "a commit moves the head";
    commit(rule, store, &records(0, 2, false));
    assert_eq!(ok(rule, "head", store.head()), Some(Head { size: 2, checkpoint: checkpoint(2) }), "store contract, {rule}");
    // A commit of rows only (a conversion's) keeps the size it is given.
    let rows = Commit {
        size: 2,
        checkpoint: "another checkpoint".into(),
        puts: vec![(Space::Index, b"k".to_vec(), b"v".to_vec())],
        ..Commit::default()
    };
    commit(rule, store, &rows);
    let head = ok(rule, "head", store.head());
    assert_eq!(head, Some(Head { size: 2, checkpoint: "another checkpoint".into() }), "store contract, {rule}: a commit without entries");
}

fn entries_are_positional(store: &dyn Store) {
    let rule = "entries are positional";
    commit(rule, store, &records(0, 3, false));
    commit(rule, store, &records(3, 5, true));
    for i in 0..5 {
        assert_eq!(ok(rule, "entry", store.entry(i)), Some(entry(i)), "store contract, {rule}: entry {i}");
    }
    assert_eq!(ok(rule, "entry", store.entry(5)), None, "store contract, {rule}: an entry past the head");
    assert_eq!(ok(rule, "entries", store.entries(0, 5)), (0..5).map(entry).collect::<Vec<_>>(), "store contract, {rule}: entries 0..5");
    assert_eq!(
        ok(rule, "entries", store.entries(2, 9)),
        (2..5).map(entry).collect::<Vec<_>>(),
        "store contract, {rule}: a range past the head is cut"
    );
    assert!(ok(rule, "entries", store.entries(4, 4)).is_empty(), "store contract, {rule}: an empty range");
    assert!(ok(rule, "entries", store.entries(4, 2)).is_empty(), "store contract, {rule}: a backwards range");
    assert!(ok(rule, "entries", store.entries(7, 9)).is_empty(), "store contract, {rule}: a range past the head");
}

fn private_records_are_positional(store: &dyn Store) {
    let rule = "private records are positional";
    commit(rule, store, &records(0, 2, false));
    commit(rule, store, &records(2, 3, true));
    // One commit may mix entries with and without a private record (empty bytes for none).
    let mut mixed = records(3, 5, false);
    mixed.private[0] = Vec::new();
    commit(rule, store, &mixed);
    let want = [Some(private(0)), Some(private(1)), Some(Vec::new()), Some(Vec::new()), Some(private(4)), None];
    for (i, want) in (0..).zip(want) {
        assert_eq!(ok(rule, "private", store.private(i)), want, "store contract, {rule}: private record {i}");
    }
}

fn lookup_records_are_positional(store: &dyn Store) {
    let rule = "lookup records are positional";
    commit(rule, store, &records(0, 2, false));
    commit(rule, store, &records(2, 3, true));
    assert_eq!(ok(rule, "lookup_count", store.lookup_count()), 3, "store contract, {rule}: one lookup record per entry");
    let want = vec![lookup(0), lookup(1), [0; LOOKUP_BYTES]];
    assert_eq!(ok(rule, "lookups", store.lookups(0, 3)), want, "store contract, {rule}: zeros where a commit gives none");
    assert_eq!(ok(rule, "lookups", store.lookups(1, 10)), want[1..], "store contract, {rule}: a range past the count is cut");
    assert!(ok(rule, "lookups", store.lookups(3, 10)).is_empty(), "store contract, {rule}: a range past the count");
}

fn tile_is_kept_at_its_widest(store: &dyn Store) {
    let rule = "a tile is kept at its widest";
    let mut first = records(0, 1, true);
    first.tiles = vec![((0, 0), vec![1; 32])];
    commit(rule, store, &first);
    let mut second = records(1, 3, true);
    second.tiles = vec![((0, 0), vec![1; 96]), ((1, 0), vec![2; 32])];
    commit(rule, store, &second);
    assert_eq!(ok(rule, "tile", store.tile(0, 0)), Some(vec![1; 96]), "store contract, {rule}: a tile written again");
    assert_eq!(ok(rule, "tile", store.tile(1, 0)), Some(vec![2; 32]), "store contract, {rule}: a tile of level 1");
    assert_eq!(ok(rule, "tile", store.tile(0, 1)), None, "store contract, {rule}: a tile never written");
}

fn key_spaces_are_apart_and_ordered(store: &dyn Store) {
    let rule = "the key spaces are apart and scanned in key order";
    let row = |k: &[u8], v: &[u8], space| (space, k.to_vec(), v.to_vec());
    let mut c = records(0, 1, true);
    c.puts = vec![
        row(b"reg/\x00\x00\x00\x00\x00\x00\x01\x00", b"", Space::Index),
        row(b"reg/\x00\x00\x00\x00\x00\x00\x00\x02", b"", Space::Index),
        row(b"ob/b", b"2", Space::Private),
        row(b"ob/a", b"1", Space::Private),
        row(b"same", b"index", Space::Index),
        row(b"same", b"private", Space::Private),
        row(b"gone", b"soon", Space::Private),
    ];
    commit(rule, store, &c);
    assert_eq!(ok(rule, "get", store.get(Space::Index, b"same")), Some(b"index".to_vec()), "store contract, {rule}: the Index row");
    assert_eq!(ok(rule, "get", store.get(Space::Private, b"same")), Some(b"private".to_vec()), "store contract, {rule}: the Private row");
    let keys = |space, prefix: &[u8]| ok(rule, "scan", store.scan(space, prefix)).into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    let registry = [b"reg/\x00\x00\x00\x00\x00\x00\x00\x02".to_vec(), b"reg/\x00\x00\x00\x00\x00\x00\x01\x00".to_vec()];
    assert_eq!(keys(Space::Index, b"reg/"), registry, "store contract, {rule}: big-endian keys scan in number order");
    assert_eq!(keys(Space::Private, b"ob/"), [b"ob/a".to_vec(), b"ob/b".to_vec()], "store contract, {rule}: a prefix scan");
    assert!(keys(Space::Index, b"ob/").is_empty(), "store contract, {rule}: a scan reads another space");
    let mut d = Commit { size: 1, checkpoint: checkpoint(1), ..Commit::default() };
    d.deletes = vec![(Space::Private, b"gone".to_vec()), (Space::Private, b"never-there".to_vec())];
    d.puts = vec![row(b"ob/a", b"3", Space::Private)];
    commit(rule, store, &d);
    assert_eq!(ok(rule, "get", store.get(Space::Private, b"gone")), None, "store contract, {rule}: a deleted row");
    assert_eq!(ok(rule, "get", store.get(Space::Private, b"ob/a")), Some(b"3".to_vec()), "store contract, {rule}: a row put again");
    assert_eq!(
        ok(rule, "get", store.get(Space::Index, b"same")),
        Some(b"index".to_vec()),
        "store contract, {rule}: a row of the other space"
    );
}

fn get_many_reads_what_get_reads(store: &dyn Store) {
    let rule = "get_many reads what get reads, in order";
    let mut c = records(0, 1, true);
    c.puts = vec![
        (Space::Index, b"mk/a".to_vec(), b"1".to_vec()),
        (Space::Index, b"mk/b".to_vec(), b"2".to_vec()),
        (Space::Private, b"mk/a".to_vec(), b"private".to_vec()),
    ];
    commit(rule, store, &c);
    let asked = [b"mk/b".to_vec(), b"mk/none".to_vec(), b"mk/a".to_vec(), b"mk/b".to_vec()];
    let want = vec![Some(b"2".to_vec()), None, Some(b"1".to_vec()), Some(b"2".to_vec())];
    assert_eq!(ok(rule, "get_many", store.get_many(Space::Index, &asked)), want, "store contract, {rule}: the Index rows");
    let private = ok(rule, "get_many", store.get_many(Space::Private, &asked));
    assert_eq!(private, vec![None, None, Some(b"private".to_vec()), None], "store contract, {rule}: the Private rows");
    assert!(ok(rule, "get_many", store.get_many(Space::Index, &[])).is_empty(), "store contract, {rule}: no keys");
    let one_by_one: Vec<Option<Vec<u8>>> = asked.iter().map(|k| ok(rule, "get", store.get(Space::Index, k))).collect();
    assert_eq!(one_by_one, want, "store contract, {rule}: get and get_many differ");
}

fn wipe_zeros_what_it_names(store: &dyn Store) {
    let rule = "a wipe zeros private records and the private part of lookup records";
    commit(rule, store, &records(0, 3, false));
    let mut c = records(3, 4, false);
    c.wipe = vec![0, 2];
    commit(rule, store, &c);
    for i in [0, 2] {
        assert_eq!(ok(rule, "private", store.private(i)), Some(vec![0; private(i).len()]), "store contract, {rule}: private record {i}");
    }
    assert_eq!(ok(rule, "private", store.private(1)), Some(private(1)), "store contract, {rule}: a record not named");
    assert_eq!(ok(rule, "private", store.private(3)), Some(private(3)), "store contract, {rule}: the commit's own record");
    let wiped = |i| {
        let mut r = lookup(i);
        r[LOOKUP_PRIVATE].fill(0);
        r
    };
    let want = vec![wiped(0), lookup(1), wiped(2), lookup(3)];
    assert_eq!(ok(rule, "lookups", store.lookups(0, 4)), want, "store contract, {rule}: the message key is kept, the rest zeroed");
}

fn private_heads_are_rewritten_in_place(store: &dyn Store) {
    let rule = "private heads are rewritten in place";
    commit(rule, store, &records(0, 3, false));
    ok(rule, "rewrite_private_heads", store.rewrite_private_heads(&[(0, vec![9; 8]), (2, vec![7; 3])]));
    let with_head = |i, head: &[u8]| [head, &private(i)[head.len()..]].concat();
    assert_eq!(ok(rule, "private", store.private(0)), Some(with_head(0, &[9; 8])), "store contract, {rule}: record 0");
    assert_eq!(ok(rule, "private", store.private(1)), Some(private(1)), "store contract, {rule}: a record not named");
    assert_eq!(ok(rule, "private", store.private(2)), Some(with_head(2, &[7; 3])), "store contract, {rule}: record 2");
    let too_long = vec![1; private(1).len() + 1];
    assert!(store.rewrite_private_heads(&[(1, too_long)]).is_err(), "store contract, {rule}: a head longer than its record is accepted");
    assert_eq!(ok(rule, "private", store.private(1)), Some(private(1)), "store contract, {rule}: a refused head changed its record");
    assert!(
        store.rewrite_private_heads(&[(3, vec![1])]).is_err(),
        "store contract, {rule}: the head of a record past the head is accepted"
    );
}

fn replace_lookups_replaces_every_record(store: &dyn Store) {
    let rule = "replace_lookups replaces every lookup record";
    commit(rule, store, &records(0, 3, false));
    let new: Vec<LookupRecord> = (10..13).map(lookup).collect();
    ok(rule, "replace_lookups", store.replace_lookups(&new));
    assert_eq!(ok(rule, "lookups", store.lookups(0, 3)), new, "store contract, {rule}");
    assert!(store.replace_lookups(&new[..2]).is_err(), "store contract, {rule}: fewer records than the head's entries are accepted");
    assert_eq!(ok(rule, "lookups", store.lookups(0, 3)), new, "store contract, {rule}: a refused replacement changed the records");
    commit(rule, store, &records(3, 4, false));
    assert_eq!(ok(rule, "lookup_count", store.lookup_count()), 4, "store contract, {rule}: appending goes on after a replacement");
}

fn refused_commit_changes_nothing(store: &dyn Store) {
    let rule = "a refused commit changes nothing";
    let mut c = records(0, 2, false);
    c.tiles = vec![((0, 0), vec![1; 64])];
    c.puts = vec![(Space::Index, b"reg/0".to_vec(), Vec::new())];
    commit(rule, store, &c);
    let before = seen(rule, store);
    let refused = |what: &str, c: Commit| {
        assert!(store.commit(&c).is_err(), "store contract, {rule}: a commit {what} is accepted");
        assert_eq!(seen(rule, store), before, "store contract, {rule}: a refused commit {what} changed the store");
    };
    let with_rows = |mut c: Commit| {
        c.tiles = vec![((0, 0), vec![2; 96])];
        c.puts = vec![(Space::Index, b"reg/1".to_vec(), Vec::new())];
        c.deletes = vec![(Space::Index, b"reg/0".to_vec())];
        c.wipe = vec![0];
        c
    };
    refused("that skips an entry", with_rows(records(3, 4, false)));
    refused("that writes over an entry", with_rows(records(1, 3, false)));
    let mut short = with_rows(records(2, 4, false));
    short.private.pop();
    refused("with fewer private records than entries", short);
    let mut short = with_rows(records(2, 4, false));
    short.lookup.pop();
    refused("with fewer lookup records than entries", short);
    commit(rule, store, &records(2, 3, false));
    assert_eq!(ok(rule, "entry", store.entry(2)), Some(entry(2)), "store contract, {rule}: the next commit after a refused one");
}

fn every_commit_survives_reopening(reopen: &mut dyn FnMut() -> Box<dyn Store>) {
    let rule = "every commit survives opening the store again";
    let written = {
        let store = reopen();
        let mut c = records(0, 3, false);
        c.tiles = vec![((0, 0), vec![1; 96])];
        c.puts = vec![(Space::Index, b"reg/0".to_vec(), Vec::new()), (Space::Private, b"ob/x".to_vec(), b"1".to_vec())];
        commit(rule, &*store, &c);
        let mut c = records(3, 5, true);
        c.wipe = vec![1];
        c.deletes = vec![(Space::Private, b"ob/x".to_vec())];
        c.tiles = vec![((0, 0), vec![1; 160])];
        commit(rule, &*store, &c);
        ok(rule, "rewrite_private_heads", store.rewrite_private_heads(&[(2, vec![5; 4])]));
        seen(rule, &*store)
    };
    assert_eq!(written.head.as_ref().map(|h| h.size), Some(5), "store contract, {rule}: the head before opening again");
    let store = reopen();
    assert_eq!(seen(rule, &*store), written, "store contract, {rule}: the store opened again differs from what was committed");
}

fn reopened_store_appends_where_it_stopped(reopen: &mut dyn FnMut() -> Box<dyn Store>) {
    let rule = "a store opened again appends where it stopped";
    commit(rule, &*reopen(), &records(0, 2, false));
    let store = reopen();
    commit(rule, &*store, &records(2, 4, false));
    assert!(
        store.commit(&records(2, 3, false)).is_err(),
        "store contract, {rule}: a commit over entries written before opening again is accepted"
    );
    drop(store);
    let store = reopen();
    assert_eq!(ok(rule, "entries", store.entries(0, 10)), (0..4).map(entry).collect::<Vec<_>>(), "store contract, {rule}: the entries");
    assert_eq!(
        ok(rule, "lookups", store.lookups(0, 10)),
        (0..4).map(lookup).collect::<Vec<_>>(),
        "store contract, {rule}: the lookup records"
    );
    assert_eq!(ok(rule, "private", store.private(3)), Some(private(3)), "store contract, {rule}: the private records");
    assert!(ok(rule, "size_on_disk", store.size_on_disk()) > 0, "store contract, {rule}: a store with entries takes no room");
}
