//! Offline receipts (SPEC §10): one entry, its C2SP tlog-proof and a signed checkpoint.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::json;
use crate::merkle::{self, Hash};
use crate::note::{parse_decimal, SignedCheckpoint};
use crate::record::Detail;
use crate::report::Summary;
use crate::trust::Options;

/// The receipt format this verifier reads.
pub const FORMAT: &str = "sightline-receipt/v1";
const PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A receipt file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// `sightline-receipt/v1`.
    pub format: String,
    /// The entry bytes, base64.
    pub entry: String,
    /// The C2SP tlog-proof text.
    pub tlog_proof: String,
}

/// A parsed C2SP tlog-proof.
#[derive(Debug, Clone)]
pub struct TlogProof {
    /// The entry's index.
    pub index: u64,
    /// Its inclusion proof.
    pub proof: Vec<Hash>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: SignedCheckpoint,
}

/// Parse `c2sp.org/tlog-proof@v1\nindex N\n<hash>\n...\n\n<signed checkpoint>`.
pub fn parse_tlog_proof(text: &str) -> Result<TlogProof> {
    let bad = |d: &str| Error::malformed("the receipt's tlog_proof", d);
    let rest = text
        .strip_prefix(PROOF_HEADER)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or_else(|| bad("it does not start with c2sp.org/tlog-proof@v1"))?;
    let (head, note) = rest.split_once("\n\n").ok_or_else(|| bad("there is no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let idx_line = lines.next().unwrap_or_default();
    if idx_line.starts_with("extra ") {
        return Err(bad("it has an extra line, which sightline-receipt/v1 does not use"));
    }
    let index = idx_line.strip_prefix("index ").and_then(parse_decimal).ok_or_else(|| bad("the index line is not \"index <decimal>\""))?;
    let mut proof = Vec::new();
    for l in lines {
        let h = B64
            .decode(l)
            .ok()
            .and_then(|h| <Hash>::try_from(h.as_slice()).ok())
            .ok_or_else(|| bad("a proof line is not a base64 32-byte hash"))?;
        proof.push(h);
        if proof.len() > 64 {
            return Err(bad("the proof has more than 64 hashes"));
        }
    }
    let checkpoint = SignedCheckpoint::parse(note.as_bytes())?;
    Ok(TlogProof { index, proof, checkpoint })
}

/// Check a receipt's bytes against trusted log keys.
pub fn verify_receipt_bytes(bytes: &[u8], opts: &Options) -> Result<Summary> {
    let r: Receipt = serde_json::from_slice(bytes).map_err(|e| Error::unusable("the receipt", format!("{e}; is this a {FORMAT} file?")))?;
    if r.format != FORMAT {
        return Err(Error::unusable("the receipt", format!("format {:?} is not {FORMAT}", r.format)));
    }
    let entry = B64
        .decode(r.entry.as_bytes())
        .map_err(|_| Error::Integrity { what: "the receipt".into(), detail: "field entry is not base64".into() })?;
    let tp = parse_tlog_proof(&r.tlog_proof)?;
    let doc = json::parse(&entry).map_err(|d| Error::entry(tp.index, format!("the receipt's entry is not valid JSON ({d})")))?;
    let rec = crate::chain::prepare(tp.index, &doc, 0, true, false)?;
    if rec.entry.index != tp.index {
        return Err(Error::entry(tp.index, format!("the entry says index {} but the proof is for index {}", rec.entry.index, tp.index)));
    }
    let c = &tp.checkpoint.checkpoint;
    merkle::verify_inclusion(tp.index, c.size, &rec.leaf, &tp.proof, &c.root)
        .map_err(|e| Error::Proof { what: format!("entry {}: the receipt's inclusion proof", tp.index), source: e })?;
    if opts.trusted.is_empty() {
        return Err(Error::NoTrustedKey);
    }
    let keys = tp.checkpoint.verify(&opts.trusted)?;
    let mut witnessed = Summary::default();
    crate::trust::witnesses(&tp.checkpoint, opts, &mut witnessed)?;
    let what = match &rec.entry.detail {
        Detail::Message { message_id, .. } => {
            format!("message {message_id:?} by {:?}", rec.entry.signer)
        }
        d => format!("{} record", d.kind()),
    };
    Ok(Summary {
        checked: "receipt".into(),
        source: format!("entry {} ({what})", tp.index),
        origin: c.origin.clone(),
        size: c.size,
        root: hex::encode(c.root),
        checkpoint_signed_by: keys.iter().map(|k| format!("{}+{:08x}", k.name, k.id)).collect(),
        witnesses: witnessed.witnesses,
        notes: vec![
            format!("entry {} is included in the log at size {}", tp.index, c.size),
            "a receipt proves inclusion only; the submitter's signature is checked by `verify` on the whole log".into(),
        ],
        ..Summary::default()
    })
}

/// Check the receipt file at `path`.
pub fn verify_receipt(path: &std::path::Path, opts: &Options) -> Result<Summary> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io { path: path.display().to_string(), source: e })?;
    let mut s = verify_receipt_bytes(&bytes, opts)?;
    s.notes.insert(0, format!("file {}", path.display()));
    Ok(s)
}
