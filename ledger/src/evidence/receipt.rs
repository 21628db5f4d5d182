//! Offline receipts (SPEC.md §10): an entry, its inclusion proof and the signed
//! checkpoint, as a C2SP tlog-proof wrapped in a small JSON file.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::entry::Entry;
use crate::tlog::merkle::{leaf_hash, verify_inclusion, Hash};
use crate::tlog::note::{Checkpoint, NoteVerifier, SignedNote};

/// The `format` string of a v1 receipt.
pub const RECEIPT_FORMAT: &str = "sightline-receipt/v1";
const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A receipt file (`.sightline-receipt.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// `sightline-receipt/v1`.
    pub format: String,
    /// Base64 of the entry bytes.
    pub entry: String,
    /// C2SP tlog-proof text.
    pub tlog_proof: String,
}

/// A parsed C2SP tlog-proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// The entry's index.
    pub index: u64,
    /// Its inclusion proof in the checkpoint's tree.
    pub proof: Vec<Hash>,
    /// The signed checkpoint the proof leads to.
    pub checkpoint: String,
}

/// `c2sp.org/tlog-proof@v1` text, written into one buffer sized up front (every
/// acknowledged record gets one, so this is on the append path).
fn tlog_proof_text(index: u64, proof: &[Hash], checkpoint: &str) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(TLOG_PROOF_HEADER.len() + 28 + 45 * proof.len() + 1 + checkpoint.len());
    s.push_str(TLOG_PROOF_HEADER);
    let _ = write!(s, "\nindex {index}\n");
    for h in proof {
        B64.encode_string(h, &mut s);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(checkpoint);
    s
}

impl TlogProof {
    /// Formats the proof as `c2sp.org/tlog-proof@v1` text.
    pub fn to_text(&self) -> String {
        tlog_proof_text(self.index, &self.proof, &self.checkpoint)
    }

    /// Parses `c2sp.org/tlog-proof@v1` text (an `extra` line is rejected in v1).
    pub fn parse(text: &str) -> Result<TlogProof> {
        let bad = |why: &str| Error::malformed("tlog-proof", why.to_string());
        let (head, checkpoint) = text.split_once("\n\n").ok_or_else(|| bad("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(bad("first line must be c2sp.org/tlog-proof@v1"));
        }
        let idx_line = lines.next().ok_or_else(|| bad("missing index line"))?;
        let idx = idx_line.strip_prefix("index ").ok_or_else(|| bad("second line must be `index N` (no extra data in v1)"))?;
        if idx.is_empty() || (idx.len() > 1 && idx.starts_with('0')) || !idx.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("index must be a decimal number without leading zeros"));
        }
        let index = idx.parse().map_err(|_| bad("index is out of range"))?;
        let mut proof = Vec::new();
        for l in lines {
            let raw = B64.decode(l).map_err(|_| bad("a proof line is not base64"))?;
            proof.push(raw.try_into().map_err(|_| bad("a proof hash is not 32 bytes"))?);
            if proof.len() > 64 {
                return Err(bad("more than 64 proof hashes"));
            }
        }
        Ok(TlogProof { index, proof, checkpoint: checkpoint.to_string() })
    }
}

impl Receipt {
    /// Builds a receipt from entry bytes, an inclusion proof and a signed checkpoint.
    pub fn new(entry: &[u8], index: u64, proof: &[Hash], checkpoint: &str) -> Receipt {
        Receipt { format: RECEIPT_FORMAT.into(), entry: B64.encode(entry), tlog_proof: tlog_proof_text(index, proof, checkpoint) }
    }

    /// Checks the receipt offline against trusted log keys; returns the entry and checkpoint.
    pub fn verify(&self, trusted: &[NoteVerifier]) -> Result<(Entry, Checkpoint)> {
        if self.format != RECEIPT_FORMAT {
            return Err(Error::malformed("receipt", format!("format is `{}`, expected {RECEIPT_FORMAT}", self.format)));
        }
        let bytes = B64.decode(&self.entry).map_err(|_| Error::malformed("receipt", "entry is not base64"))?;
        let entry = Entry::parse(&bytes)?;
        let tlog = TlogProof::parse(&self.tlog_proof)?;
        if entry.index != tlog.index {
            return Err(Error::BadProof(format!("the entry says index {} but the proof is for index {}", entry.index, tlog.index)));
        }
        let note = SignedNote::parse(&tlog.checkpoint)?;
        note.verify(trusted)?;
        let cp = Checkpoint::parse(&note.text)?;
        verify_inclusion(&leaf_hash(&bytes), tlog.index, cp.size, &tlog.proof, &cp.root)?;
        Ok((entry, cp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proof text is the C2SP layout byte for byte, and parses back.
    #[test]
    fn tlog_proof_text_is_the_c2sp_layout() {
        let proof =
            TlogProof { index: 41, proof: vec![[0u8; 32], [0xff; 32]], checkpoint: "example.org/log\n42\nroot\n\n— sig\n".into() };
        let text = proof.to_text();
        assert_eq!(
            text,
            "c2sp.org/tlog-proof@v1\nindex 41\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n//////////////////////////////////////////8=\n\nexample.org/log\n42\nroot\n\n— sig\n"
        );
        assert_eq!(TlogProof::parse(&text).unwrap(), proof);
        let empty = TlogProof { index: 0, proof: vec![], checkpoint: "o\n1\nr\n".into() };
        assert_eq!(TlogProof::parse(&empty.to_text()).unwrap(), empty);
    }
}
