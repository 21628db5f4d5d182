//! Fuzz bodies: each takes arbitrary bytes and runs one parser or verifier on them. They back
//! the cargo-fuzz targets in `verifier/fuzz/` and the `tests/no_panic.rs` test, and must never
//! panic whatever the input.

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;

use crate::chain::{self, Mode};
use crate::merkle::{self, ZeroRule};
use crate::note::{Checkpoint, Note, SignedCheckpoint, Skey, Vkey};
use crate::trust::Options;
use crate::{bundle, json, receipt, record, tiles};

fn skey() -> &'static Skey {
    static K: OnceLock<Skey> = OnceLock::new();
    K.get_or_init(|| Skey::new("fuzz.example/log", SigningKey::from_bytes(&[7u8; 32])))
}

fn checkpoint() -> &'static SignedCheckpoint {
    static C: OnceLock<SignedCheckpoint> = OnceLock::new();
    C.get_or_init(|| {
        let text = format!("fuzz.example/log\n3\n{}\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        let note = skey().sign_note(&text);
        SignedCheckpoint::parse(note.as_bytes()).unwrap_or_else(|_| unreachable_checkpoint())
    })
}

fn unreachable_checkpoint() -> SignedCheckpoint {
    SignedCheckpoint {
        note: Note { text: String::new(), sigs: Vec::new() },
        checkpoint: Checkpoint { origin: String::new(), size: 0, root: [0; 32], extensions: Vec::new() },
        raw: String::new(),
    }
}

fn opts(signatures: bool) -> Options {
    Options { trusted: vec![skey().vkey()], signatures, quiet: true, ..Options::default() }
}

/// Signed notes, checkpoints and vkeys.
pub fn note(data: &[u8]) {
    if let Ok(n) = Note::parse("fuzz", data) {
        let _ = n.verify("fuzz", &[skey().vkey()]);
    }
    let _ = SignedCheckpoint::parse(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Checkpoint::parse(s);
        let _ = Vkey::parse(s);
        let _ = Skey::parse(s);
    }
}

/// Inclusion and consistency proofs built from the bytes.
pub fn proofs(data: &[u8]) {
    let num = |i: usize| data.get(i..i + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes).unwrap_or(0) % 4096;
    let (a, b) = (num(0), num(8));
    let rest = data.get(16..).unwrap_or_default();
    let mut parts = rest.chunks(32);
    let r1 = parts.next().unwrap_or_default();
    let r2 = parts.next().unwrap_or_default();
    let proof: Vec<&[u8]> = parts.collect();
    let _ = merkle::verify_inclusion(a, b, r1, &proof, r2);
    let _ = merkle::verify_consistency(a, b, r1, r2, &proof, ZeroRule::Reject);
    let _ = merkle::verify_consistency(a, b, r1, r2, &proof, ZeroRule::AcceptEmptyProof);
    let _ = merkle::verify_consistency(a.max(1), a.max(1).saturating_add(b), r1, r2, &proof, ZeroRule::AcceptEmptyProof);
}

/// Receipts and tlog-proofs.
pub fn receipt(data: &[u8]) {
    let _ = receipt::verify_receipt_bytes(data, &opts(true));
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = receipt::parse_tlog_proof(s);
    }
}

/// JSON, canonical form, entries and bundle record lines.
pub fn record(data: &[u8]) {
    if let Ok(doc) = json::parse(data) {
        let _ = record::entry_from_doc(&doc, 0);
        let _ = chain::prepare(0, &doc, 0, true, true);
        let _ = chain::prepare(0, &doc, 0, false, true);
    }
    let _ = json::canonicalize(data);
    let _ = record::parse_entry(data);
    for mode in [Mode::Complete, Mode::Filtered] {
        let _ = bundle::prepare_line(0, data, mode, checkpoint(), true);
    }
}

/// Whole bundles (manifest and lines) and tile data.
pub fn bundle(data: &[u8]) {
    let _ = bundle::verify_bundle_from(data, "fuzz", &opts(true));
    let _ = bundle::verify_bundle_from(data, "fuzz", &opts(false));
    let _ = tiles::decode_bundle(data);
    let _ = tiles::tile_hashes(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = tiles::parse_tile_path(s);
    }
}

/// Observations (`observe`): e-mail messages, JSON observations of ads, entry references and
/// why links. Inputs that name a file to read are skipped (a fuzzer must not read files).
pub fn observe(data: &[u8]) {
    use crate::observe::{email, input, reference};
    let _ = email::parse_email(data, "fuzz");
    if memchr::memmem::find(data, b"eml_file").is_none() {
        let _ = input::read_observation(data, "fuzz", std::path::Path::new("/nonexistent-fuzz-base"));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = reference::parse_reference(s, "fuzz");
        let _ = reference::from_why_url(s, "fuzz");
    }
}
