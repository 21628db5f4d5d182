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

//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the families of parsers reached from outside |
//! | `stored.rs` | the `store` family: the store's own data, and a whole store damaged value by value |
//! | `checks.rs` | what several families assert (proofs, tiles, times) |
//! | `fixture.rs` | the fixture ledger, keys and message |
//! | `example.rs` | the example message of SPEC.md §3.4, from the shared file `tests/fixtures/message.json` |
//! | `witness.rs` | the witness's `add-checkpoint` handling |
//!
//! Compiled with the `fuzzing` feature only: the fuzz crates and the crate's own tests enable
//! it, the server never does.

mod checks;
pub mod example;
mod fixture;
mod stored;
pub mod witness;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;

use crate::error::Error;
use crate::evidence::receipt::{Receipt, TlogProof};
use crate::model::canonical::{decode_public_key, decode_signature, is_jcs, jcs, jcs_value};
use crate::model::entry::{Entry, LoggedEntry, MAX_ENTRY_BYTES};
use crate::model::record::{Body, Kind, MessageBody};
use crate::model::registry::Registry;
use crate::model::request_auth::{RequestAuth, SUBMISSIONS_REQUEST};
use crate::model::rules::validate_message;
use crate::pipeline::submission::{BatchText, Submission, Submissions};
use crate::privacy::{Personal, ServerSecret};
use crate::tlog::merkle::{root_from_inclusion, verify_consistency, verify_inclusion, Hash};
use crate::tlog::note::{Checkpoint, NoteSigner, NoteVerifier, SignedNote};
use crate::tlog::tiles::{self, TilePath};
use checks::{check_consistency, check_inclusion, check_served_tile, check_tile, filters, hash_of, reencode, times, word};
use fixture::{fixture, fixture_message, keys, tree, SECRET};

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
    if let Ok(auth) = RequestAuth::parse(text) {
        let spelled = format!("Sightline v1 {} {} {}", auth.submitter, auth.unix_text, B64.encode(auth.sig));
        assert_eq!(spelled, text, "an Authorization header has another spelling than its parts");
        let _ = fixture().ledger.verify_request(&auth, SUBMISSIONS_REQUEST);
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
        0 => stored::stored_records(rest),
        1 => stored::record_files(rest),
        _ => stored::damaged_store(rest),
    }
}
