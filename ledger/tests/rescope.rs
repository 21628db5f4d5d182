//! The conversion of a layout 3 store (one recipient handle per identifier across
//! every submitter) to layout 4 (handles scoped to the submitter), on open: a
//! recipient two submitters shared becomes one recipient in each scope, their
//! objections are carried over, and a conversion interrupted anywhere, or run
//! twice, ends in the same store.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use common::{open, register, register_beta, submission, submission_by_beta, Keys};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sightline_ledger::entry::Entry;
use sightline_ledger::privacy::{RecipientKey, ServerSecret};
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::store::{Commit, Space, Store};
use sightline_ledger::{Ledger, PersonalState};

const ALICE: &str = "alice@example.org";
const L: usize = 80;

/// The recipient handle of layouts 1 to 3, as Sightline computed it before revision 3.
fn old_handle(secret: &ServerSecret, identifier: &str) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret.0).unwrap();
    m.update(b"sightline/recipient-handle/v1");
    m.update(identifier.trim().to_lowercase().as_bytes());
    m.finalize().into_bytes().into()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// The private rows a conversion writes: objections, layout 1 lists, suppression tags, the marker.
fn private_rows(dir: &Path) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let store = SledStore::open(dir).unwrap();
    ["ob/", "rl/", "sup/", "layout/"].iter().flat_map(|p| store.scan(Space::Private, p.as_bytes()).unwrap()).collect()
}

/// What a store is on disk, as far as a conversion changes it: `lookup.dat`, `private.dat`,
/// and the private rows.
type OnDisk = (Vec<u8>, Vec<u8>, BTreeMap<Vec<u8>, Vec<u8>>);

fn state(dir: &Path) -> OnDisk {
    (std::fs::read(dir.join("lookup.dat")).unwrap(), std::fs::read(dir.join("private.dat")).unwrap(), private_rows(dir))
}

/// Rewrites a (layout 4, all records chained) store into layout 3 as Sightline wrote it: one
/// handle and one key per identifier across submitters, each personal part sealed under it,
/// the chains and objection rows under that handle, no suppression tags.
fn downgrade_to_layout_3(dir: &Path, secret: &ServerSecret) {
    let store = SledStore::open(dir).unwrap();
    let size = store.head().unwrap().unwrap().size;
    let mut lookups = store.lookups(0, size).unwrap();
    let (mut private, mut keys, mut latest) = (Vec::new(), HashMap::new(), HashMap::new());
    let mut new_to_old = HashMap::new();
    for (i, l) in (0..size).zip(lookups.iter_mut()) {
        let record = store.private(i).unwrap().unwrap();
        if l[16..48] == [0; 32] {
            private.push(record);
            continue;
        }
        let plain = RecipientKey(l[48..].try_into().unwrap()).open(i, &record[40..]).unwrap();
        let recipient: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        let old = old_handle(secret, recipient["recipient"].as_str().unwrap());
        new_to_old.insert(l[16..48].to_vec(), old);
        let key: [u8; 32] = *keys.entry(old).or_insert_with(|| l[48..].try_into().unwrap());
        let previous: u64 = latest.insert(old, i).unwrap_or(u64::MAX);
        let sealed = RecipientKey(key).seal(i, &plain).unwrap();
        assert_eq!(sealed.len(), record.len() - 40, "a record keeps its length");
        private.push([old.as_slice(), &previous.to_be_bytes(), &sealed].concat());
        l[16..48].copy_from_slice(&old);
        l[48..].copy_from_slice(&key);
    }
    let mut c = Commit { size, checkpoint: store.head().unwrap().unwrap().checkpoint, ..Commit::default() };
    for (k, v) in store.scan(Space::Private, b"ob/").unwrap() {
        let old = new_to_old.get(&k[3..35]).copied().unwrap_or_else(|| old_handle(secret, "dave@example.org"));
        c.puts.push((Space::Private, [b"ob/".as_slice(), &old, &k[35..]].concat(), v));
        c.deletes.push((Space::Private, k));
    }
    c.deletes.extend(store.scan(Space::Private, b"sup/").unwrap().into_iter().map(|(k, _)| (Space::Private, k)));
    // Layout 3 had no index rows (layout 5's `mk/` and `rc/`).
    c.deletes.extend(store.scan(Space::Private, b"rc/").unwrap().into_iter().map(|(k, _)| (Space::Private, k)));
    c.deletes.extend(store.scan(Space::Index, b"mk/").unwrap().into_iter().map(|(k, _)| (Space::Index, k)));
    c.puts.push((Space::Private, b"layout/recipients".to_vec(), [b"3".as_slice(), &0u64.to_be_bytes()].concat()));
    store.commit(&c).unwrap();
    drop(store);
    std::fs::write(dir.join("private.dat"), private.concat()).unwrap();
    std::fs::write(dir.join("lookup.dat"), lookups.as_flattened()).unwrap();
}

/// The private records of the store in `dir`, read from its files.
fn records(dir: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(dir.join("private.dat")).unwrap();
    let mut from = 0;
    std::fs::read(dir.join("private.idx"))
        .unwrap()
        .chunks_exact(8)
        .map(|c| {
            let end = u64::from_le_bytes(c.try_into().unwrap()) as usize;
            let r = data[from..end].to_vec();
            from = end;
            r
        })
        .collect()
}

fn present(ledger: &Ledger, index: u64) -> bool {
    matches!(ledger.personal(index).unwrap(), Some(PersonalState::Present(_)))
}

fn flags_of(ledger: &Ledger, index: u64) -> Vec<String> {
    Entry::parse(&ledger.entry(index).unwrap().unwrap()).unwrap().flags
}

/// Entries of the store built by [`layout_3_store`].
struct Built {
    a1: u64,
    a2: u64,
    b1: u64,
    bob: u64,
    dave: u64,
    objection: u64,
    /// The layout 4 store's lookup records and private records, before the downgrade.
    lookup: Vec<u8>,
    private: Vec<Vec<u8>>,
}

/// A layout 3 store in `dir`: acme and beta both wrote to alice, acme to bob and dave; alice
/// objected through acme's message; dave objected, then was erased.
fn layout_3_store(dir: &Path, keys: &Keys) -> Built {
    let built = {
        let ledger = open(dir, keys).unwrap();
        register(&ledger, keys);
        register_beta(&ledger, keys);
        let acme = ledger
            .submit(vec![
                submission(keys, "a-1", ALICE),
                submission(keys, "a-2", "bob@example.org"),
                submission(keys, "a-3", "dave@example.org"),
            ])
            .unwrap();
        let beta = ledger.submit(vec![submission_by_beta(keys, "b-1", " Alice@Example.org")]).unwrap();
        let a2 = ledger.submit(vec![submission(keys, "a-4", "ALICE@example.org")]).unwrap().acks[0].index;
        let (a1, bob, dave, b1) = (acme.acks[0].index, acme.acks[1].index, acme.acks[2].index, beta.acks[0].index);
        let objection = ledger.object(a1, ALICE).unwrap().acks[0].index;
        ledger.object(dave, "dave@example.org").unwrap();
        ledger.erase_recipient_of(dave, "dave@example.org").unwrap();
        Built { a1, a2, b1, bob, dave, objection, lookup: Vec::new(), private: Vec::new() }
    };
    let (lookup, private) = (state(dir).0, records(dir));
    downgrade_to_layout_3(dir, &keys.secret);
    Built { lookup, private, ..built }
}

#[test]
fn a_layout_3_store_is_converted_to_recipients_scoped_to_their_submitter() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let built = layout_3_store(dir.path(), &keys);
    let (old_lookup, _, _) = state(dir.path());
    let shared = old_handle(&keys.secret, ALICE);
    assert_eq!(old_lookup[built.a1 as usize * L + 16..][..32], shared, "layout 3: one handle for alice at acme ...");
    assert_eq!(old_lookup[built.b1 as usize * L + 16..][..32], shared, "... and at beta");

    drop(open(dir.path(), &keys).unwrap());
    let (lookup, _, rows) = state(dir.path());
    // Converted to layout 4, then on to layout 6 (the indexes as store rows).
    assert_eq!(rows[b"layout/recipients".as_slice()], [b"6".as_slice(), &0u64.to_be_bytes()].concat());
    // Every handle and link is what a store written by layout 4 holds.
    let private = records(dir.path());
    for i in [built.a1, built.a2, built.b1, built.bob] {
        let at = i as usize * L;
        assert_eq!(lookup[at..at + 48], built.lookup[at..at + 48], "entry {i}: message key and scoped handle");
        assert_eq!(private[i as usize][..40], built.private[i as usize][..40], "entry {i}: scoped handle and link");
        assert_eq!(private[i as usize].len(), built.private[i as usize].len(), "entry {i}: rewritten in place");
    }
    assert_eq!(
        lookup[built.a1 as usize * L + 48..][..32],
        lookup[built.b1 as usize * L + 48..][..32],
        "alice keeps the one key her parts were sealed under, in both scopes"
    );

    let ledger = open(dir.path(), &keys).unwrap();
    assert_eq!(ledger.recipient_entries(built.a1, ALICE).unwrap(), vec![built.a1, built.a2], "acme's alice: acme's messages");
    assert_eq!(ledger.recipient_entries(built.b1, ALICE).unwrap(), vec![built.b1], "beta's alice: beta's message");
    assert!([built.a1, built.a2, built.b1, built.bob].iter().all(|&i| present(&ledger, i)), "every part still opens");
    assert!(!present(&ledger, built.dave));
    // Alice's objection, made when one handle covered every submitter, covers both scopes still.
    let later = ledger.submit(vec![submission(&keys, "a-9", ALICE), submission_by_beta(&keys, "b-9", ALICE)]).unwrap();
    for a in &later.acks {
        assert_eq!(flags_of(&ledger, a.index), vec![format!("objected:{}", built.objection)], "entry {}", a.index);
    }
    // Dave was erased: nothing says who he was, so his objection row could not be carried over.
    let dave_later = ledger.submit(vec![submission(&keys, "a-10", "dave@example.org")]).unwrap().acks.remove(0);
    assert!(flags_of(&ledger, dave_later.index).is_empty());
    assert_eq!(rows.keys().filter(|k| k.starts_with(b"ob/")).count(), 2, "alice's objection in each of her two scopes");
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());

    // Erasing beta's alice shreds beta's record; acme's, under the same key bytes, stay readable.
    ledger.erase_recipient_of(built.b1, ALICE).unwrap();
    assert!(!present(&ledger, built.b1) && present(&ledger, built.a1) && present(&ledger, built.a2));
    drop(ledger);
    assert!(records(dir.path())[built.b1 as usize].iter().all(|&b| b == 0), "beta's ciphertext is gone, not only its key");
}

#[test]
fn a_conversion_interrupted_anywhere_or_run_twice_ends_in_the_same_store() {
    let keys = Keys::fixed();
    let base = tempfile::tempdir().unwrap();
    let built = layout_3_store(base.path(), &keys);
    let (old_lookup, old_private, _) = state(base.path());
    let converted = tempfile::tempdir().unwrap();
    copy_dir(base.path(), converted.path());
    drop(open(converted.path(), &keys).unwrap());
    let want = state(converted.path());
    assert_ne!(want.0, old_lookup);
    assert_ne!(want.1, old_private);

    // A crash while the lookup records were being replaced, and one while the private heads
    // were being rewritten (a torn head among them): the marker still says layout 3.
    let half = |old: &[u8], new: &[u8]| [&new[..new.len() / 2 + 3], &old[new.len() / 2 + 3..]].concat();
    let crashes = [(half(&old_lookup, &want.0), old_private.clone()), (want.0.clone(), half(&old_private, &want.1))];
    for (n, (lookup, private)) in crashes.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(base.path(), dir.path());
        std::fs::write(dir.path().join("lookup.dat"), lookup).unwrap();
        std::fs::write(dir.path().join("private.dat"), private).unwrap();
        let ledger = open(dir.path(), &keys).unwrap();
        assert_eq!(ledger.recipient_entries(built.a1, ALICE).unwrap(), vec![built.a1, built.a2], "crash {n}");
        drop(ledger);
        assert!(state(dir.path()) == want, "crash {n}: the store differs from an uninterrupted conversion");
    }

    // The whole conversion again, as if its final commit had been lost.
    let store = SledStore::open(converted.path()).unwrap();
    let head = store.head().unwrap().unwrap();
    let marker = (Space::Private, b"layout/recipients".to_vec(), [b"3".as_slice(), &0u64.to_be_bytes()].concat());
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint, puts: vec![marker], ..Commit::default() }).unwrap();
    drop(store);
    let ledger = open(converted.path(), &keys).unwrap();
    assert_eq!(ledger.recipient_entries(built.b1, ALICE).unwrap(), vec![built.b1]);
    assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
    drop(ledger);
    assert!(state(converted.path()) == want, "a second run changed the store");
}
