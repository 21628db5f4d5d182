//! Proving that a log only grew between two signed checkpoints (RFC 9162 §2.1.4), and the
//! state file that remembers the last checkpoint seen.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Evidence, HexHash, Result};
use crate::merkle::{self, Hash, ZeroRule};
use crate::note::SignedCheckpoint;
use crate::report::Summary;
use crate::tilehash::TileHashes;
use crate::tiles::Source;
use crate::trust::{self, Options};

/// The state file format.
pub const STATE_FORMAT: &str = "sightline-verifier-state/v1";

/// What the verifier remembers between runs: the last checkpoint it accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// The state file's format, `sightline-verifier-state/v1`.
    pub format: String,
    /// The log's origin.
    pub origin: String,
    /// The size of the checkpoint accepted.
    pub size: u64,
    /// Root hash, base64.
    pub root: String,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// Seconds since 1970 when it was saved.
    pub saved_at: u64,
}

/// Is `s` a URL rather than a path?
pub fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Read a checkpoint from a URL (its `/checkpoint`), a checkpoint file or a state file.
pub fn load_checkpoint(arg: &str) -> Result<SignedCheckpoint> {
    if is_url(arg) {
        return SignedCheckpoint::parse(&Source::open(arg)?.checkpoint()?);
    }
    let bytes = std::fs::read(arg).map_err(|e| Error::Io { path: arg.to_string(), source: e })?;
    if bytes.first() == Some(&b'{') {
        let st: State = serde_json::from_slice(&bytes).map_err(|e| Error::unusable(format!("state file {arg}"), e.to_string()))?;
        return SignedCheckpoint::parse(st.checkpoint.as_bytes());
    }
    SignedCheckpoint::parse(&bytes)
}

/// Save `cp` as the state in `path` (written to a temporary file, then renamed).
pub fn save_state(path: &Path, cp: &SignedCheckpoint) -> Result<()> {
    let c = &cp.checkpoint;
    let saved_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let st = State {
        format: STATE_FORMAT.into(),
        origin: c.origin.clone(),
        size: c.size,
        root: B64.encode(c.root),
        checkpoint: cp.raw.clone(),
        saved_at,
    };
    let text = serde_json::to_string_pretty(&st).map_err(|e| Error::unusable("state", e.to_string()))?;
    let tmp = path.with_extension("tmp");
    let io = |e| Error::Io { path: path.display().to_string(), source: e };
    std::fs::write(&tmp, text + "\n").map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[derive(Deserialize)]
struct ProofResponse {
    old: u64,
    new: u64,
    proof: Vec<String>,
}

/// A consistency proof from `old` to `new`: from the Sightline proof API when the log offers
/// it, else built from the hash tiles (any C2SP tlog-tiles log).
pub fn fetch_proof(src: &Source, old: u64, new: u64) -> Result<Vec<Hash>> {
    if let Source::Http { .. } = src {
        let path = format!("api/v1/proof/consistency?old={old}&new={new}");
        if let Some(body) = src.get(&path)? {
            let r: ProofResponse = serde_json::from_slice(&body)
                .map_err(|e| Error::Integrity { what: src.describe(&path), detail: format!("not a consistency proof response ({e})") })?;
            if r.old != old || r.new != new {
                return Err(Error::Integrity { what: src.describe(&path), detail: format!("it answers for sizes {} -> {}", r.old, r.new) });
            }
            return r
                .proof
                .iter()
                .map(|h| B64.decode(h).ok().and_then(|h| <Hash>::try_from(h.as_slice()).ok()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Error::Integrity { what: src.describe(&path), detail: "a proof hash is not base64 of 32 bytes".into() });
        }
    }
    TileHashes::new(src, new).consistency_proof(old)
}

/// Check that `new` extends `old`; `log` is where a proof can be fetched when the sizes differ.
pub fn check(old: &SignedCheckpoint, new: &SignedCheckpoint, log: Option<&Source>, opts: &Options) -> Result<Summary> {
    if opts.trusted.is_empty() {
        return Err(Error::NoTrustedKey);
    }
    let old_keys = old.note.verify("the older checkpoint", &opts.trusted)?;
    let new_keys = new.note.verify("the newer checkpoint", &opts.trusted)?;
    let (a, b) = (&old.checkpoint, &new.checkpoint);
    if a.origin != b.origin {
        return Err(Error::unusable("the two checkpoints", format!("they are from different logs ({:?} and {:?})", a.origin, b.origin)));
    }
    let evidence = || Box::new(evidence(old, new, opts));
    if b.size < a.size {
        return Err(Error::Rollback { old: a.size, new: b.size, evidence: evidence() });
    }
    if a.size == b.size && a.root != b.root {
        return Err(Error::SplitView { size: a.size, old: HexHash(a.root), new: HexHash(b.root), evidence: evidence() });
    }
    let mut notes = Vec::new();
    if a.size < b.size {
        let src = log.ok_or_else(|| {
            Error::unusable("the newer checkpoint", "it is a file; give --log URL|DIR so that a consistency proof can be fetched")
        })?;
        let proof = fetch_proof(src, a.size, b.size)?;
        merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &proof, ZeroRule::AcceptEmptyProof)
            .map_err(|e| Error::Inconsistent { old: a.size, new: b.size, source: e, evidence: evidence() })?;
        notes.push(format!(
            "consistency proof of {} hashes verified: the log of size {} is a prefix of the log of size {}",
            proof.len(),
            a.size,
            b.size
        ));
    } else {
        notes.push("same size and same root: nothing was appended".into());
    }
    let mut signed: Vec<String> = old_keys.iter().chain(&new_keys).map(|k| format!("{}+{:08x}", k.name, k.id)).collect();
    signed.dedup();
    let mut summary = Summary {
        checked: "consistency".into(),
        source: format!("size {} -> {}", a.size, b.size),
        origin: b.origin.clone(),
        size: b.size,
        root: hex::encode(b.root),
        checkpoint_signed_by: signed,
        notes,
        ..Summary::default()
    };
    trust::witnesses(new, opts, &mut summary)?;
    Ok(summary)
}

/// Both checkpoints as evidence, with the trusted witnesses whose valid cosignature each carries
/// (a witness on both sides of a split cosigned two histories: it is dishonest or its key leaked).
fn evidence(old: &SignedCheckpoint, new: &SignedCheckpoint, opts: &Options) -> Evidence {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let by = |cp: &SignedCheckpoint| -> Vec<String> {
        let report = opts.witnesses.as_ref().and_then(|p| p.evaluate("the checkpoint", cp, &opts.trusted, now).ok());
        report.map(|r| r.cosigned.into_iter().map(|c| c.witness).collect()).unwrap_or_default()
    };
    Evidence { older: old.raw.clone(), newer: new.raw.clone(), older_cosigned_by: by(old), newer_cosigned_by: by(new) }
}
