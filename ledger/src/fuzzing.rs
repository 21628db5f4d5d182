//! Fuzz bodies: each takes arbitrary bytes and runs one family of the ledger's parsers on them,
//! everything the ledger reads from outside: HTTP bodies and import lines, URL paths and
//! tokens, receipts handed back, and its own store when it is damaged. They back the cargo-fuzz
//! targets in `ledger/fuzz/` and the `tests/no_panic.rs` test, and must never panic whatever
//! the input.
//!
//! Where a parser promises more than "no panic" (a strict format that must round-trip, a fast
//! path that must agree with the general one, a proof that must verify), the body asserts it, so
//! that a finding is a real bug.
//!
//! The fixtures use the origin and the fixed keys of `ledger/tests/common` (log key seed
//! `[3; 32]`, server secret `[7; 32]`, submitter `acme` with seed `[9; 32]`), so that receipts,
//! why-tokens and submissions made there are valid here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::Value;

use crate::canonical::{decode_public_key, decode_signature, is_jcs, jcs, jcs_value, Entry, LoggedEntry, MAX_ENTRY_BYTES};
use crate::export::{export, ExportFilter, ExportFormat};
use crate::merkle::{leaf_hash, root_from_inclusion, verify_consistency, verify_inclusion, Hash, Tree};
use crate::note::{Checkpoint, NoteSigner, NoteVerifier, SignedNote};
use crate::privacy::{Personal, RecipientKey, ServerSecret};
use crate::receipt::{Receipt, TlogProof};
use crate::recipients::Layout;
use crate::record::{check_time, format_time, parse_time, Body, Kind, MessageBody};
use crate::record_rules::validate_message;
use crate::registry::Registry;
use crate::store::entry_log::EntryLog;
use crate::store::sled::{decode_head, encode_head};
use crate::store::{Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES, LOOKUP_PRIVATE};
use crate::submitter::{public_key_b64, sign_message};
use crate::tiles::{self, TilePath};
use crate::{BatchText, Error, Ledger, LedgerOptions, Result, Submission, Submissions};

const ORIGIN: &str = "sightline.test/log";
const LOG_SEED: [u8; 32] = [3; 32];
const SECRET: [u8; 32] = [7; 32];
const SUBMITTER_SEED: [u8; 32] = [9; 32];
/// Leaves of the fixture tree: three full tiles and a partial one, a level-1 tile of width 3.
const TREE_LEAVES: u32 = 777;

// ---- The families ------------------------------------------------------------------------

/// Canonical JSON (RFC 8785) and the base64 fields of records: `is_jcs`, `jcs_value`, `jcs`,
/// `decode_signature`, `decode_public_key`.
///
/// Asserts: text `is_jcs` accepts parses and is its own canonical form; the fast `jcs_value`
/// and the reference `jcs` agree on every value; a decoded signature or key re-encodes to the
/// same text (standard base64 with canonical padding, so one value has one spelling).
pub fn json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = serde_json::from_str::<Value>(text);
    if is_jcs(text) {
        let v = parsed.as_ref().unwrap_or_else(|e| panic!("is_jcs accepts text serde_json rejects ({e}): {text:?}"));
        match jcs_value(v) {
            Ok(c) => assert!(c == data, "is_jcs accepts text that is not its own canonical form: {text:?}"),
            Err(e) => panic!("is_jcs accepts text whose value has no canonical form ({e}): {text:?}"),
        }
    }
    if let Ok(v) = &parsed {
        match (jcs_value(v), jcs(v)) {
            (Ok(fast), Ok(reference)) => assert!(fast == reference, "jcs_value and jcs disagree on {text:?}"),
            (Err(_), Err(_)) => {}
            (fast, reference) => panic!("jcs_value ({}) and jcs ({}) disagree on {text:?}", fast.is_ok(), reference.is_ok()),
        }
    }
    if let Ok(sig) = decode_signature(text) {
        assert_eq!(B64.encode(sig), text, "a signature has two base64 spellings");
    }
    if let Ok(key) = decode_public_key(text) {
        assert_eq!(B64.encode(key.as_bytes()), text, "a public key has two base64 spellings");
    }
}

/// Entry bytes, from entry bundles, receipts and the store: `Entry::parse` (strict),
/// `Entry::parse_logged`, `LoggedEntry::parse`, `Registry::apply_entry` and export filters.
///
/// Asserts: bytes `Entry::parse` accepts are `jcs` of the entry (SPEC.md §2) and are what
/// `Entry::encode` writes for its parts; what the strict parser accepts the lenient ones accept
/// with the same fields.
pub fn entry(data: &[u8]) {
    let strict = Entry::parse(data);
    let lenient = Entry::parse_logged(data);
    if let Ok(e) = &strict {
        match jcs(e) {
            Ok(c) => assert!(c == data, "Entry::parse accepts bytes that are not JCS(entry)"),
            Err(err) => panic!("an entry Entry::parse accepts has no canonical form: {err}"),
        }
        match reencode(e) {
            Some(Ok(bytes)) => assert!(bytes == data, "Entry::encode of a parsed entry's parts differs from its bytes"),
            Some(Err(err)) => assert!(data.len() > MAX_ENTRY_BYTES, "Entry::encode refuses a parsed entry's parts: {err}"),
            None => {}
        }
        assert!(lenient.as_ref().is_ok_and(|l| l == e), "Entry::parse_logged differs from Entry::parse");
    }
    if let Ok(l) = LoggedEntry::parse(data) {
        let Ok(e) = &lenient else { panic!("LoggedEntry::parse accepts an entry Entry::parse_logged refuses") };
        assert!(
            (l.index, &l.prev, &l.logged_at, &l.flags, &l.sig) == (e.index, &e.prev, &e.logged_at, &e.flags, &e.sig),
            "LoggedEntry::parse and Entry::parse_logged read different envelopes"
        );
        assert_eq!(l.body.kind().as_str(), e.kind(), "LoggedEntry::parse and Entry::parse_logged read different kinds");
    }
    let _ = Registry::default().apply_entry(0, data);
    if let Ok(e) = &lenient {
        let _ = e.kind();
        for filter in filters() {
            let _ = filter.matches(e);
        }
    }
}

/// Record bodies and personal parts, as submitted and as stored: `Body::parse` on any JSON
/// value, `Body::parse_logged`, the canonical fast path of a submission (`is_jcs`, a typed
/// `MessageBody`, `validate_message`), `Personal` (deserialised, and `Personal::parse_for`
/// against a body), and times (`parse_time`, `check_time`).
///
/// Asserts: a body the fast path accepts, the general path accepts with the same canonical bytes
/// (so the fast path bypasses no rule); a canonical body `Body::parse` accepts, `parse_logged`
/// reads as the same kind; a canonical personal part is its own `Personal::canonical` (what its
/// commitment hashes); a parsed time formats into a time that parses back to it.
pub fn record(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    times(text);
    let logged = Body::parse_logged(text);
    let Ok(value) = serde_json::from_str::<Value>(text) else { return };
    let canonical = is_jcs(text);
    let general = Body::parse(&value, 0);
    if let (Ok(b), true) = (&general, canonical) {
        assert!(logged.as_ref().is_ok_and(|l| l.kind() == b.kind()), "Body::parse_logged refuses a canonical body Body::parse accepts");
    }
    if canonical {
        let fast = serde_json::from_str::<MessageBody>(text).ok().filter(|m| m.kind == Kind::Message);
        if fast.is_some_and(|m| validate_message(&m, 0).is_ok()) {
            assert!(matches!(general, Ok(Body::Message(_))), "the canonical fast path accepts a message Body::parse refuses: {general:?}");
            assert!(jcs_value(&value).is_ok_and(|c| c == data), "the fast path's canonical bytes differ from jcs_value");
        }
    }
    if let Ok(p) = serde_json::from_str::<Personal>(text) {
        if canonical {
            assert!(p.canonical().is_ok_and(|c| c == data), "a canonical personal part is not its own Personal::canonical");
        }
    }
    // A personal part against the fixture's body, and a submission's against its own body.
    let _ = Personal::parse_for(text, fixture_message(), 0);
    if let (Some(body), Some(personal)) = (value.get("body"), value.get("personal")) {
        if let Ok(Body::Message(m)) = Body::parse(body, 0) {
            if let Ok((p, c)) = Personal::parse_for(&personal.to_string(), &m, 0) {
                assert!(p.canonical().is_ok_and(|x| x == c), "Personal::parse_for returns other bytes than Personal::canonical");
            }
        }
    }
}

/// Submissions as `POST /api/v1/submissions` records and `sightline import` lines: the whole
/// input as a batch (`{"records":[…]}`) that [`BatchText::split`] takes, else as one record,
/// else as JSONL (blank lines skipped), appended through `Ledger::submit_batch` or
/// `Ledger::submit` to a fixture ledger (in memory) that has the submitter and parties of
/// `tests/common`.
///
/// Asserts: a batch the split takes, the general parse takes as the same records; every
/// acknowledged record's receipt verifies offline and names its entry, the entry is served with
/// the receipt's bytes, and its why-token names it.
pub fn submission(data: &[u8]) {
    let split = std::str::from_utf8(data).ok().and_then(|text| BatchText::split(text).map(|b| (text, b)));
    let f = fixture();
    let submitted = if let Some((text, split)) = split {
        let general: Submissions =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("the general parse refuses a batch BatchText splits: {e}"));
        let same = split.records.len() == general.records.len()
            && split.records.iter().zip(&general.records).all(|(a, b)| {
                let b = b.text();
                (a.body, a.sig, a.personal) == (b.body, b.sig, b.personal)
            });
        assert!(same, "BatchText splits a batch into other records than the general parse");
        if split.is_empty() {
            return;
        }
        f.ledger.submit_batch(&split)
    } else {
        let batch = match serde_json::from_slice::<Submission>(data) {
            Ok(one) => vec![one],
            Err(_) => {
                let lines = data.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).take(16);
                let Ok(batch) = lines.map(serde_json::from_slice::<Submission>).collect::<std::result::Result<Vec<_>, _>>() else { return };
                batch
            }
        };
        if batch.is_empty() {
            return;
        }
        f.ledger.submit(batch)
    };
    let ack = match submitted {
        Ok(ack) => ack,
        Err(Error::ShuttingDown) => panic!("the fixture ledger's append thread stopped"),
        Err(_) => return,
    };
    for a in &ack.acks {
        let (entry, cp) = a.receipt.verify(&f.trusted).unwrap_or_else(|e| panic!("an acknowledged record's receipt does not verify: {e}"));
        assert!(entry.index == a.index && a.index < cp.size, "the receipt of entry {} names entry {} of {}", a.index, entry.index, cp.size);
        let served = f.ledger.entry(a.index).ok().flatten();
        assert!(served.is_some_and(|s| B64.encode(s) == a.receipt.entry), "entry {} is not served with its receipt's bytes", a.index);
        if let Some(t) = &a.why_token {
            assert_eq!(f.ledger.check_why_token(t), Some(a.index), "a why-token does not name its entry");
        }
    }
}

/// Signed notes, checkpoints and key strings: `SignedNote::parse` and `verify`,
/// `Checkpoint::parse`, `NoteVerifier::from_vkey`, `NoteSigner::from_skey`, and notes the
/// fixture log key signs.
///
/// Asserts: each strict format round-trips byte for byte (`to_text`, `vkey`, `skey`); any text
/// `sign_note` signs parses back to the same text and verifies.
pub fn note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let f = keys();
    if let Ok(n) = SignedNote::parse(text) {
        assert_eq!(n.to_text(), text, "a signed note does not round-trip");
        let _ = n.verify(&f.trusted);
        if let Ok(cp) = Checkpoint::parse(&n.text) {
            assert_eq!(cp.to_text(), n.text, "a checkpoint does not round-trip");
        }
    }
    if let Ok(cp) = Checkpoint::parse(text) {
        assert_eq!(cp.to_text(), text, "a checkpoint does not round-trip");
    }
    if let Ok(v) = NoteVerifier::from_vkey(text) {
        assert_eq!(v.vkey(), text, "a vkey does not round-trip");
    }
    if let Ok(s) = NoteSigner::from_skey(text) {
        assert_eq!(s.skey(), text, "an skey does not round-trip");
        assert!(NoteVerifier::from_vkey(&s.vkey()).is_ok(), "the vkey of a parsed skey does not parse");
    }
    if let Ok(note) = f.signer.sign_note(text) {
        let n = SignedNote::parse(&note).unwrap_or_else(|e| panic!("a note the log signed does not parse ({e}): {note:?}"));
        assert_eq!(n.text, text, "a note the log signed parses to another text");
        assert!(n.verify(&f.trusted).is_ok(), "a note the log signed does not verify: {note:?}");
    }
}

/// Receipts handed back (SPEC.md §10): the JSON file and `Receipt::verify`, `TlogProof::parse`,
/// and each part of a valid fixture receipt replaced by the input (the entry bytes, the tlog-proof).
///
/// Asserts: a tlog-proof round-trips byte for byte; a verified receipt's entry is inside its
/// checkpoint; the fixture receipt verifies with no entry bytes but its own.
pub fn receipt(data: &[u8]) {
    let f = fixture();
    if let Ok(r) = serde_json::from_slice::<Receipt>(data) {
        if let Ok((e, cp)) = r.verify(&f.trusted) {
            assert!(e.index < cp.size, "a verified receipt's entry {} is outside its checkpoint of size {}", e.index, cp.size);
        }
    }
    let with_entry = Receipt { entry: B64.encode(data), ..f.receipt.clone() };
    if with_entry.verify(&f.trusted).is_ok() {
        assert!(data == f.receipt_entry.as_slice(), "a receipt verifies with entry bytes that are not its entry's");
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = TlogProof::parse(text) {
        assert_eq!(p.to_text(), text, "a tlog-proof does not round-trip");
    }
    let with_proof = Receipt { tlog_proof: text.to_string(), ..f.receipt.clone() };
    if let Ok((e, cp)) = with_proof.verify(&f.trusted) {
        assert!(e.index < cp.size, "a verified receipt's entry {} is outside its checkpoint of size {}", e.index, cp.size);
    }
}

/// Inclusion and consistency proofs with arbitrary sizes, indexes and hashes (as a client asks
/// `/api/v1/proof/...` and a verifier checks them): `verify_inclusion`, `root_from_inclusion`,
/// `verify_consistency`, and `Tree::inclusion_proof(s)`/`consistency_proof` of a fixture tree.
///
/// Asserts: every proof the tree gives verifies against its roots; changing one hash of it (the
/// input picks which), or dropping or adding one, makes it fail; batch inclusion proofs equal
/// single ones.
pub fn proofs(data: &[u8]) {
    let (a, b) = (word(data, 0), word(data, 8));
    let hashes: Vec<Hash> = data.get(16..).unwrap_or_default().chunks_exact(32).take(70).map(hash_of).collect();
    let (h1, h2) = (hashes.first().copied().unwrap_or_default(), hashes.get(1).copied().unwrap_or_default());
    let proof = hashes.get(2..).unwrap_or_default();
    let _ = verify_inclusion(&h1, a, b, proof, &h2);
    let _ = root_from_inclusion(&h1, a, b, proof);
    let _ = verify_consistency(a, b, &h1, &h2, proof);
    let _ = verify_consistency(a.min(b), a.max(b), &h1, &h2, proof);
    let tree = tree();
    let n = tree.size();
    for (x, y) in [(a, b), (a % (n + 1), b % (n + 1)), (a % (n + 1), n)] {
        check_inclusion(tree, x, y, h1);
        check_consistency(tree, x, y, h2);
    }
    let size = b % (n + 1);
    let indexes: Vec<u64> = hashes.iter().take(8).map(|h| word(h, 0)).chain([a]).map(|i| i % size.max(1)).collect();
    if let Ok(batch) = tree.inclusion_proofs(&indexes, size) {
        for (i, p) in indexes.iter().zip(batch) {
            assert!(tree.inclusion_proof(*i, size).is_ok_and(|q| q == p), "the batch inclusion proof of {i} at {size} differs");
        }
    }
}

/// Tile contents (SPEC.md §9): `decode_entry_bundle`, and `tile_bytes`, `Ledger::tile` and
/// `Ledger::entry_bundle` at arbitrary coordinates.
///
/// Asserts: a decoded bundle re-encodes to the same bytes; a tile holds `width` hashes (the
/// leaves, at level 0) and is listed by `tiles_for_size`; a served bundle holds `width` entries,
/// the ones `Ledger::entry` serves.
pub fn tiles(data: &[u8]) {
    if let Ok(entries) = tiles::decode_entry_bundle(data) {
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        match tiles::encode_entry_bundle(&refs) {
            Ok(bytes) => assert!(bytes == data, "an entry bundle does not round-trip"),
            Err(e) => panic!("a decoded entry bundle does not encode: {e}"),
        }
    }
    let level = data.first().copied().unwrap_or(0);
    let (index, size) = (word(data, 1), word(data, 11));
    let width = data.get(9..11).map_or(0, |w| u16::from_le_bytes([w[0], w[1]]));
    let n = tree().size();
    for (l, i, w, s) in [(level, index, width, size), (level % 3, index % 5, width % 258, size % (n + 1))] {
        check_tile(l, i, w, s);
        check_served_tile(l, i, w);
    }
}

/// What URL paths, query strings and request headers carry: tile paths (`parse_tile_path`, then
/// the tile or bundle it names), why-tokens (`check_why_token` of a secret and of the fixture
/// ledger), recipient handles, times (`from`/`to` of exports), and a submission's
/// `Authorization` header (`RequestAuth::parse`, then `Ledger::verify_request`).
///
/// Asserts: a tile path round-trips (canonical spelling only); a genuine why-token is what
/// `why_token` writes for its index; a parsed time formats into a time that parses back to it;
/// a parsed `Authorization` header is the one spelling of its parts.
pub fn url(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(auth) = crate::request_auth::RequestAuth::parse(text) {
        let spelled = format!("Sightline v1 {} {} {}", auth.submitter, auth.unix_text, B64.encode(auth.sig));
        assert_eq!(spelled, text, "an Authorization header has another spelling than its parts");
        let _ = fixture().ledger.verify_request(&auth, crate::request_auth::SUBMISSIONS_REQUEST);
    }
    match tiles::parse_tile_path(text) {
        Ok(TilePath::Hashes(t)) => {
            assert_eq!(tiles::tile_path(t.level, t.index, t.width), text, "a tile path does not round-trip");
            check_served_tile(t.level, t.index, t.width);
        }
        Ok(TilePath::Entries { index, width }) => {
            assert_eq!(tiles::entries_path(index, width), text, "an entry bundle path does not round-trip");
            check_served_tile(0, index, width);
        }
        Err(_) => {}
    }
    let secret = ServerSecret(SECRET);
    if let Some(i) = secret.check_why_token(text) {
        assert_eq!(secret.why_token(i), text, "a why-token other than the one written for its index is accepted");
    }
    let f = fixture();
    if let Some(i) = f.ledger.check_why_token(text) {
        assert!(i < f.ledger.size(), "a why-token names entry {i}, beyond the log");
    }
    let _ = secret.recipient_handle(text, text);
    let _ = secret.check_form_token(text, text);
    times(text);
}

/// The store's own data when damaged: the head record, private records, sealed personal parts,
/// the append-only record files (`EntryLog::open` over arbitrary `.idx`/`.dat` bytes), and a
/// whole store (a copy of the fixture ledger's, damaged value by value) opened with
/// `Ledger::open` and then read, exported, checked with `fsck` and written to.
///
/// Asserts: the head encoding round-trips; record files that open hold every record the head
/// counts and take the next one; every receipt even a damaged ledger serves verifies.
pub fn store(data: &[u8]) {
    let (mode, rest) = data.split_first().unwrap_or((&0, &[]));
    match mode % 4 {
        0 => stored_records(rest),
        1 => record_files(rest),
        _ => damaged_store(rest),
    }
}

// ---- Checks shared by the families ------------------------------------------------------

fn times(text: &str) {
    if let Some(t) = parse_time(text) {
        let again = format_time(t);
        assert_eq!(parse_time(&again), Some(t), "{text:?} parses but its formatted form {again:?} does not parse back to it");
    }
    let _ = check_time(0, "time", text);
}

/// `Entry::encode` of a parsed entry's parts, when they are in the form the log writes.
fn reencode(e: &Entry) -> Option<Result<Vec<u8>>> {
    let prev: Hash = hex::decode(&e.prev).ok()?.try_into().ok()?;
    let sig = decode_signature(&e.sig).ok()?;
    if e.v != 1 || hex::encode(prev) != e.prev {
        return None;
    }
    Some(jcs_value(&e.body).and_then(|body| Entry::encode(e.index, &prev, &e.logged_at, &e.flags, &body, &sig)))
}

fn filters() -> [ExportFilter; 2] {
    let everything = ExportFilter::default();
    let narrow = ExportFilter {
        from: parse_time("2026-01-01T00:00:00Z"),
        to: parse_time("2027-01-01T00:00:00.500Z"),
        advertiser: Some("p-civic-future".into()),
        campaign: Some("ocean-2026".into()),
        include_personal: true,
    };
    [everything, narrow]
}

fn word(data: &[u8], at: usize) -> u64 {
    data.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes)
}

fn hash_of(bytes: &[u8]) -> Hash {
    <Hash>::try_from(bytes).unwrap_or_default()
}

fn check_inclusion(tree: &Tree, index: u64, size: u64, other: Hash) {
    let Ok(proof) = tree.inclusion_proof(index, size) else { return };
    let (Some(leaf), Ok(root)) = (tree.leaf(index), tree.root_at(size)) else {
        panic!("the tree gives an inclusion proof of {index} at {size} but has no such leaf or root");
    };
    if let Err(e) = verify_inclusion(&leaf, index, size, &proof, &root) {
        panic!("the inclusion proof of {index} at {size} does not verify: {e}");
    }
    if !proof.is_empty() {
        let (mut bad, k) = (proof.clone(), usize::from(other[0]) % proof.len());
        bad[k] = if proof[k] == other { leaf_hash(&other) } else { other };
        assert!(
            verify_inclusion(&leaf, index, size, &bad, &root).is_err(),
            "hash {k} of the inclusion proof of {index} at {size} is ignored"
        );
    }
    if let Some((_, shorter)) = proof.split_last() {
        assert!(verify_inclusion(&leaf, index, size, shorter, &root).is_err(), "a short inclusion proof of {index} at {size} verifies");
    }
    let longer = [proof.as_slice(), &[other]].concat();
    assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err(), "a long inclusion proof of {index} at {size} verifies");
}

fn check_consistency(tree: &Tree, old: u64, new: u64, other: Hash) {
    let Ok(proof) = tree.consistency_proof(old, new) else { return };
    let (Ok(r1), Ok(r2)) = (tree.root_at(old), tree.root_at(new)) else {
        panic!("the tree gives a consistency proof from {old} to {new} but not their roots");
    };
    if let Err(e) = verify_consistency(old, new, &r1, &r2, &proof) {
        panic!("the consistency proof from {old} to {new} does not verify: {e}");
    }
    if !proof.is_empty() {
        let (mut bad, k) = (proof.clone(), usize::from(other[0]) % proof.len());
        bad[k] = if proof[k] == other { leaf_hash(&other) } else { other };
        assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err(), "hash {k} of the consistency proof from {old} to {new} is ignored");
    }
    if let Some((_, shorter)) = proof.split_last() {
        assert!(verify_consistency(old, new, &r1, &r2, shorter).is_err(), "a short consistency proof from {old} to {new} verifies");
    }
    let longer = [proof.as_slice(), &[other]].concat();
    assert!(verify_consistency(old, new, &r1, &r2, &longer).is_err(), "a long consistency proof from {old} to {new} verifies");
}

/// `tile_bytes` of the fixture tree.
fn check_tile(level: u8, index: u64, width: u16, size: u64) {
    let tree = tree();
    let Ok(t) = tiles::tile_bytes(tree, level, index, width, size) else { return };
    assert_eq!(t.len(), usize::from(width) * 32, "tile {level}/{index} of width {width} has {} bytes", t.len());
    if level == 0 {
        for (k, h) in (index * 256..).zip(t.chunks(32)) {
            assert!(tree.leaf(k).is_some_and(|leaf| leaf == h), "tile 0/{index} does not hold leaf {k}");
        }
    }
    let listed = tiles::tiles_for_size(size).iter().any(|t| t.level == level && t.index == index && t.width >= width);
    assert!(listed, "tile {level}/{index} of width {width} exists at size {size} but tiles_for_size does not list it");
}

/// A hash tile and an entry bundle as the fixture ledger serves them.
fn check_served_tile(level: u8, index: u64, width: u16) {
    let f = fixture();
    if let Ok(t) = f.ledger.tile(level, index, width) {
        assert_eq!(t.len(), usize::from(width) * 32, "the served tile {level}/{index} of width {width} has {} bytes", t.len());
    }
    if let Ok(b) = f.ledger.entry_bundle(index, width) {
        let entries = tiles::decode_entry_bundle(&b).unwrap_or_else(|e| panic!("a served entry bundle does not decode: {e}"));
        assert_eq!(entries.len(), usize::from(width), "the served entry bundle {index} of width {width} has {} entries", entries.len());
        for (k, e) in (index * 256..).zip(&entries) {
            assert!(f.ledger.entry(k).ok().flatten().is_some_and(|s| s == *e), "entry bundle {index} differs from entry {k}");
        }
    }
}

fn stored_records(data: &[u8]) {
    if let Ok(h) = decode_head(data) {
        assert!(encode_head(h.size, &h.checkpoint) == data, "the head record does not round-trip");
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
fn record_files(data: &[u8]) {
    let count = u64::from(data.first().copied().unwrap_or(0) % 16);
    let files = data.get(3..).unwrap_or_default();
    let split = data.get(1..3).map_or(0, |s| usize::from(u16::from_le_bytes([s[0], s[1]]))) % (files.len() + 1);
    let (idx, dat) = files.split_at(split);
    let Some(dir) = Scratch::new() else { return };
    if std::fs::write(dir.0.join("entries.idx"), idx).is_err() || std::fs::write(dir.0.join("entries.dat"), dat).is_err() {
        return;
    }
    let Ok(log) = EntryLog::open(&dir.0, "entries", count) else { return };
    let records = log.read(0, count).unwrap_or_else(|e| panic!("record files that open cannot be read: {e}"));
    assert_eq!(records.len() as u64, count, "record files that open for {count} records hold {}", records.len());
    let _ = log.read(count / 2, u64::MAX);
    let _ = log.wipe(&[0, count / 2, count]);
    let pending = log.write(&[(count, b"next".as_slice())]).unwrap_or_else(|e| panic!("record files that open take no record: {e}"));
    if let Err(e) = log.confirm(pending) {
        panic!("a written record cannot be confirmed: {e}");
    }
    assert!(log.read(count, count + 1).is_ok_and(|r| r == [b"next".to_vec()]), "a record written after open does not read back");
}

/// Input: one byte choosing a write, then 4-byte damage operations (see [`Mem::damage`]).
fn damaged_store(data: &[u8]) {
    let f = fixture();
    let (write, ops) = data.split_first().unwrap_or((&0, &[]));
    let mut mem = f.snapshot.clone();
    mem.damage(ops);
    let store = Arc::new(MemStore(RwLock::new(mem)));
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

/// A fresh folder for record files, removed again on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Option<Scratch> {
        static N: AtomicU64 = AtomicU64::new(0);
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let dir = base.join(format!("sightline-fuzz-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir(&dir).ok()?;
        Some(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---- Fixtures ---------------------------------------------------------------------------

struct Keys {
    signer: NoteSigner,
    trusted: Vec<NoteVerifier>,
}

fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let signer = log_signer().unwrap_or_else(|e| panic!("the fixed fuzz log key does not parse: {e}"));
        Keys { trusted: vec![signer.verifier()], signer }
    })
}

/// The log key of `tests/common`.
fn log_signer() -> Result<NoteSigner> {
    NoteSigner::from_seed(ORIGIN, &LOG_SEED)
}

fn options() -> LedgerOptions {
    LedgerOptions { origin: ORIGIN.into(), max_batch_records: 1000 }
}

fn tree() -> &'static Tree {
    static T: OnceLock<Tree> = OnceLock::new();
    T.get_or_init(|| Tree::from_leaf_hashes((0..TREE_LEAVES).map(|i| leaf_hash(&i.to_be_bytes())).collect()))
}

/// A message of the fixture submitter: the example of SPEC.md §3.4 (`tests/fixtures/message.json`).
fn fixture_submission(message_id: &str, recipient: &str) -> Result<Submission> {
    let key = SigningKey::from_bytes(&SUBMITTER_SEED);
    sign_message(&key, crate::example::message("acme", message_id), &crate::example::personal(recipient))
}

/// A message body with its commitments filled (what `Personal::parse_for` checks against).
fn fixture_message() -> &'static MessageBody {
    static M: OnceLock<MessageBody> = OnceLock::new();
    M.get_or_init(|| {
        let message = fixture_submission("fuzz-body", "carol@example.org")
            .and_then(|s| serde_json::from_str(s.body.get()).map_err(|e| Error::malformed("fuzz fixture", e.to_string())));
        message.unwrap_or_else(|e| panic!("the fuzz fixture message does not build: {e}"))
    })
}

struct Fixture {
    ledger: Ledger,
    signer: NoteSigner,
    trusted: Vec<NoteVerifier>,
    /// The store as the fixture's own writes left it, before any fuzz input reached the ledger.
    snapshot: Mem,
    /// A receipt of one message, and that message's entry bytes.
    receipt: Receipt,
    receipt_entry: Vec<u8>,
    /// A submission already in the log (a duplicate when sent again).
    submission: Submission,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build_fixture().unwrap_or_else(|e| panic!("the fuzz fixture ledger does not build: {e}")))
}

/// Genesis, a submitter, two parties, messages to two recipients, an objection, a message
/// flagged by it, and an erasure: every kind of entry, private record and index row.
fn build_fixture() -> Result<Fixture> {
    let k = keys();
    let store = Arc::new(MemStore::default());
    let ledger = Ledger::open(store.clone(), k.signer.clone(), ServerSecret(SECRET), options())?;
    let key = SigningKey::from_bytes(&SUBMITTER_SEED);
    ledger.register_submitter("acme", "Acme Ads GmbH", "dpo@acme.example", &public_key_b64(&key))?;
    ledger.register_party("p-civic-holding", "Civic Holding SE", "info@holding.example", "LU", "self")?;
    ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic.example", "DE", "p-civic-holding")?;
    let submission = fixture_submission("fuzz-1", "alice@example.org")?;
    let first = ledger.submit(vec![submission.clone()])?;
    let first = first.acks.first().ok_or_else(|| Error::Storage("the fixture's first message was not acknowledged".into()))?;
    ledger.submit(vec![fixture_submission("fuzz-2", "alice@example.org")?, fixture_submission("fuzz-3", "bob@example.org")?])?;
    ledger.object(first.index, "alice@example.org")?;
    ledger.submit(vec![fixture_submission("fuzz-4", "alice@example.org")?])?;
    ledger.erase_recipient("bob@example.org")?;
    let receipt = ledger.receipt(first.index)?;
    let receipt_entry = ledger.entry(first.index)?.ok_or_else(|| Error::Storage("the fixture's first message is missing".into()))?;
    let snapshot = store.read()?.clone();
    Ok(Fixture { ledger, signer: k.signer.clone(), trusted: k.trusted.clone(), snapshot, receipt, receipt_entry, submission })
}

// ---- An in-memory store -----------------------------------------------------------------

/// The sled backend's semantics in memory (its head in the sled head encoding), so that a
/// damaged copy of a whole store costs microseconds.
#[derive(Default)]
struct MemStore(RwLock<Mem>);

#[derive(Clone, Default)]
struct Mem {
    head: Option<Vec<u8>>,
    entries: Vec<Vec<u8>>,
    private: Vec<Vec<u8>>,
    /// Lookup records, as bytes so that damage can change their length (read back padded or cut).
    lookup: Vec<Vec<u8>>,
    tiles: BTreeMap<(u8, u64), Vec<u8>>,
    index: BTreeMap<Vec<u8>, Vec<u8>>,
    secret: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// One stored value a damage operation can hit.
#[derive(Clone)]
enum Slot {
    Head,
    Entry(usize),
    Private(usize),
    Lookup(usize),
    Tile(u8, u64),
    Key(Space, Vec<u8>),
}

impl Mem {
    fn space(&self, space: Space) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        match space {
            Space::Index => &self.index,
            Space::Private => &self.secret,
        }
    }

    fn space_mut(&mut self, space: Space) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        match space {
            Space::Index => &mut self.index,
            Space::Private => &mut self.secret,
        }
    }

    fn slots(&self) -> Vec<Slot> {
        let mut s = vec![Slot::Head];
        s.extend((0..self.entries.len()).map(Slot::Entry));
        s.extend((0..self.private.len()).map(Slot::Private));
        s.extend((0..self.lookup.len()).map(Slot::Lookup));
        s.extend(self.tiles.keys().map(|&(l, i)| Slot::Tile(l, i)));
        for space in [Space::Index, Space::Private] {
            s.extend(self.space(space).keys().map(|k| Slot::Key(space, k.clone())));
        }
        s
    }

    fn value(&mut self, slot: &Slot) -> Option<&mut Vec<u8>> {
        match slot {
            Slot::Head => self.head.as_mut(),
            Slot::Entry(i) => self.entries.get_mut(*i),
            Slot::Private(i) => self.private.get_mut(*i),
            Slot::Lookup(i) => self.lookup.get_mut(*i),
            Slot::Tile(l, i) => self.tiles.get_mut(&(*l, *i)),
            Slot::Key(space, k) => self.space_mut(*space).get_mut(k),
        }
    }

    /// Applies 4-byte operations `[op, slot, position, byte]`: set, flip, truncate, insert at a
    /// position; remove the slot (record files cut short there); copy another slot's value over
    /// it; rename it (another key, tile index or record position); set it to a big-endian u64.
    fn damage(&mut self, ops: &[u8]) {
        for op in ops.chunks(4) {
            let [kind, slot, pos, byte] = [0, 1, 2, 3].map(|i| op.get(i).copied().unwrap_or(0));
            let slots = self.slots();
            let Some(slot) = slots.get(usize::from(slot) % slots.len().max(1)).cloned() else { return };
            let other = slots.get(usize::from(byte) % slots.len().max(1)).cloned();
            let pos = usize::from(pos);
            match kind % 8 {
                4 => self.remove(&slot),
                5 => {
                    let copy = other.and_then(|o| self.value(&o).cloned());
                    if let (Some(copy), Some(v)) = (copy, self.value(&slot)) {
                        *v = copy;
                    }
                }
                6 => self.rename(&slot, pos, byte),
                kind => {
                    let Some(v) = self.value(&slot) else { continue };
                    let at = pos % (v.len() + 1);
                    match kind {
                        0 if at < v.len() => v[at] = byte,
                        1 if at < v.len() => v[at] ^= 1 << (byte % 8),
                        2 => v.truncate(at),
                        3 => v.insert(at, byte),
                        7 => *v = u64::from(byte).to_be_bytes().to_vec(),
                        _ => {}
                    }
                }
            }
        }
    }

    fn remove(&mut self, slot: &Slot) {
        match slot {
            Slot::Head => self.head = None,
            Slot::Entry(i) => self.entries.truncate(*i),
            Slot::Private(i) => self.private.truncate(*i),
            Slot::Lookup(i) => self.lookup.truncate(*i),
            Slot::Tile(l, i) => {
                self.tiles.remove(&(*l, *i));
            }
            Slot::Key(space, k) => {
                self.space_mut(*space).remove(k);
            }
        }
    }

    fn rename(&mut self, slot: &Slot, pos: usize, byte: u8) {
        match slot {
            Slot::Head => {}
            Slot::Entry(i) => {
                let j = (i + 1 + usize::from(byte)) % self.entries.len().max(1);
                self.entries.swap(*i, j);
            }
            Slot::Private(i) => {
                let j = (i + 1 + usize::from(byte)) % self.private.len().max(1);
                self.private.swap(*i, j);
            }
            Slot::Lookup(i) => {
                let j = (i + 1 + usize::from(byte)) % self.lookup.len().max(1);
                self.lookup.swap(*i, j);
            }
            Slot::Tile(l, i) => {
                if let Some(v) = self.tiles.remove(&(*l, *i)) {
                    self.tiles.insert((*l ^ (byte >> 6), *i ^ u64::from(byte & 0x3f)), v);
                }
            }
            Slot::Key(space, k) => {
                if let Some(v) = self.space_mut(*space).remove(k) {
                    let mut k = k.clone();
                    let at = pos % k.len().max(1);
                    match k.get_mut(at) {
                        Some(b) => *b = byte,
                        None => k.push(byte),
                    }
                    self.space_mut(*space).insert(k, v);
                }
            }
        }
    }
}

fn nth(records: &[Vec<u8>], index: u64) -> Option<Vec<u8>> {
    usize::try_from(index).ok().and_then(|i| records.get(i)).cloned()
}

impl MemStore {
    fn read(&self) -> Result<RwLockReadGuard<'_, Mem>> {
        self.0.read().map_err(|_| Error::Storage("the in-memory store's lock was poisoned by a panic".into()))
    }
}

impl Store for MemStore {
    fn head(&self) -> Result<Option<Head>> {
        self.read()?.head.as_deref().map(decode_head).transpose()
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(nth(&self.read()?.entries, index))
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        let m = self.read()?;
        Ok((start..end).map_while(|i| nth(&m.entries, i)).collect())
    }

    fn private(&self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(nth(&self.read()?.private, index))
    }

    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>> {
        let m = self.read()?;
        let fixed = |r: &Vec<u8>| {
            let mut out = [0u8; LOOKUP_BYTES];
            let n = r.len().min(LOOKUP_BYTES);
            out[..n].copy_from_slice(&r[..n]);
            out
        };
        Ok((start..end).map_while(|i| nth(&m.lookup, i)).map(|r| fixed(&r)).collect())
    }

    fn lookup_count(&self) -> Result<u64> {
        Ok(self.read()?.lookup.len() as u64)
    }

    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()> {
        let mut m = self.0.write().map_err(|_| Error::Storage("the in-memory store's lock was poisoned by a panic".into()))?;
        m.lookup = records.iter().map(|r| r.to_vec()).collect();
        Ok(())
    }

    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        let mut m = self.0.write().map_err(|_| Error::Storage("the in-memory store's lock was poisoned by a panic".into()))?;
        for (i, head) in heads {
            match usize::try_from(*i).ok().and_then(|i| m.private.get_mut(i)).filter(|r| r.len() >= head.len()) {
                Some(r) => r[..head.len()].copy_from_slice(head),
                None => return Err(Error::Storage(format!("private record {i} is missing or shorter than its new head"))),
            }
        }
        Ok(())
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.tiles.get(&(level, index)).cloned())
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.read()?.space(space).get(key).cloned())
    }

    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let m = self.read()?;
        Ok(m.space(space)
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(&self, c: &Commit) -> Result<()> {
        let mut m = self.0.write().map_err(|_| Error::Storage("the in-memory store's lock was poisoned by a panic".into()))?;
        let (entries, private, lookup) = (m.entries.len() as u64, m.private.len() as u64, m.lookup.len() as u64);
        let positional = c.entries.iter().zip(0..).all(|((i, _), k)| *i == entries + k && *i == private + k && *i == lookup + k);
        let one_each = |n: usize| n == 0 || n == c.entries.len();
        if !positional || !one_each(c.private.len()) || !one_each(c.lookup.len()) {
            return Err(Error::Storage("records are append-only and positional; the commit does not follow the stored ones".into()));
        }
        m.entries.extend(c.entries.iter().map(|(_, e)| e.clone()));
        if c.private.is_empty() {
            m.private.extend(c.entries.iter().map(|_| Vec::new()));
        } else {
            m.private.extend(c.private.iter().cloned());
        }
        if c.lookup.is_empty() {
            m.lookup.extend(c.entries.iter().map(|_| vec![0; LOOKUP_BYTES]));
        } else {
            m.lookup.extend(c.lookup.iter().map(|r| r.to_vec()));
        }
        for ((level, index), bytes) in &c.tiles {
            m.tiles.insert((*level, *index), bytes.clone());
        }
        for (space, k, v) in &c.puts {
            m.space_mut(*space).insert(k.clone(), v.clone());
        }
        for (space, k) in &c.deletes {
            m.space_mut(*space).remove(k);
        }
        m.head = Some(encode_head(c.size, &c.checkpoint));
        for &i in &c.wipe {
            if let Some(r) = usize::try_from(i).ok().and_then(|i| m.private.get_mut(i)) {
                r.fill(0);
            }
            if let Some(r) = usize::try_from(i).ok().and_then(|i| m.lookup.get_mut(i)) {
                r.iter_mut().skip(LOOKUP_PRIVATE.start).for_each(|b| *b = 0);
            }
        }
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        let m = self.read()?;
        Ok(m.entries.iter().chain(&m.private).chain(m.tiles.values()).map(Vec::len).sum::<usize>() as u64)
    }
}
