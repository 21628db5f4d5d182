//! Evidence files (`sightline-evidence/v1`, SPEC §10.3): what a regulator attaches to a
//! complaint. One JSON object holding the message's hashes and what it showed, the verdict and
//! every comparison, the signed checkpoint, and (when the log holds the entry the message
//! names) the entry's bytes with its inclusion proof, so anyone can check it offline with the
//! log's public key.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use super::index::{LogIndex, Material};
use super::Judgement;
use crate::error::Result;

/// The format string.
pub const FORMAT: &str = "sightline-evidence/v1";

/// The entries (bytes and inclusion proof) the judgements name, read again from the log.
pub fn material(judgements: &[&Judgement], log: &LogIndex) -> Result<Material> {
    let mut wanted: Vec<u64> = judgements.iter().filter_map(|j| j.index).collect();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(Material::new());
    }
    log.entries(&wanted)
}

/// The evidence object of one judgement. `created_at` is when it was written.
pub fn evidence(j: &Judgement, log: &LogIndex, material: &Material, created_at: &str) -> Value {
    let entry = j.index.and_then(|i| material.get(&i).map(|m| (i, m))).map(|(i, (bytes, proof))| {
        json!({
            "index": i,
            "entry": B64.encode(bytes),
            "leaf_hash": hex::encode(crate::merkle::leaf_hash(bytes)),
            "inclusion_proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
        })
    });
    json!({
        "format": FORMAT,
        "created_at": created_at,
        "verdict": j.verdict,
        "reason": j.reason,
        "observation": j.observation,
        "comparisons": j.comparisons,
        "notes": j.notes,
        "log": { "origin": log.origin(), "size": log.size(), "checkpoint": log.checkpoint.raw },
        "entry": entry,
        "how_to_check": "The message's hashes identify it. `entry` (base64 of the entry bytes) hashes to `leaf_hash` (RFC 6962: SHA-256 of 0x00 || bytes); `inclusion_proof` leads from it to the root of `log.checkpoint` (RFC 9162), whose signature verifies with the log's public key (C2SP signed-note). A message that names no entry, or an entry that is not in the log, is its own evidence.",
    })
}

/// Now, as RFC 3339 UTC.
pub fn now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    super::input::format_unix(i64::try_from(secs).unwrap_or(0))
}
