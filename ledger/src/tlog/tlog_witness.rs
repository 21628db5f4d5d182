//! C2SP transparency-log witnesses (`c2sp.org/tlog-witness@v1.0.0`): the `add-checkpoint`
//! request, and the rules a witness applies before it cosigns.
//!
//! A request body is an `old <size>` line, up to 63 base64 consistency-proof hashes, one per
//! line, an empty line and a signed checkpoint note. A witness keeps, per log origin, the latest
//! checkpoint it cosigned ([`Cosigned`]); it cosigns a new one only when the log's signature
//! verifies, the old size is the size it holds, and the proof shows the new tree extends the one
//! it cosigned. The checks run in the order the specification gives them, each with its HTTP
//! status ([`Refusal::status`]):
//!
//! | check | refusal |
//! |---|---|
//! | the body parses | 400 |
//! | the origin is a log the witness knows | 404 |
//! | a trusted key of that log signed the checkpoint | 403 |
//! | the old size is not larger than the checkpoint size | 400 |
//! | the old size is the size the witness cosigned (0 if none) | 409, body: that size |
//! | same size: the same root hash | 409, body: that size |
//! | the consistency proof verifies (empty from size 0) | 422 |
//!
//! Both sides use this module: the witness server in the web crate (`web/src/witness/`) parses
//! and checks requests, and the log's witness client (`web/src/cosigning/`) writes them and reads
//! the answers. Persisting the new [`Cosigned`] state before cosigning, atomically with the
//! check, is the server's job.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::tlog::merkle::{verify_consistency, Hash};
use crate::tlog::note::{parse_signature_lines, Checkpoint, NoteSignature, NoteVerifier, SignedNote};

/// Most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// Largest request body a witness reads (a checkpoint with up to 100 signature lines fits).
pub const MAX_REQUEST_BYTES: usize = 512 * 1024;
/// Content type of a 409 answer, whose body is the witness's size and a newline.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// One `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness cosigned last (0: none).
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as the log signed it (it may carry several signatures).
    pub checkpoint: String,
}

/// Why a witness does not cosign; each maps to the status tlog-witness gives it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the request is not an add-checkpoint body: {0}")]
    /// The body is not an add-checkpoint request.
    Malformed(String),
    #[error("the request body is over the {MAX_REQUEST_BYTES}-byte limit")]
    /// The body is over the size limit.
    TooLarge,
    #[error("this witness does not know the log `{0}`; ask its operator to add the log's key")]
    /// The log is not one this witness knows.
    UnknownLog(String),
    #[error("the checkpoint is not signed by a key this witness trusts for `{origin}`: {why}")]
    /// No trusted key of the log signed the checkpoint.
    NotSigned {
        /// The log's origin.
        origin: String,
        /// Why no signature verifies.
        why: String,
    },
    #[error("the old size {old} is larger than the checkpoint size {size}")]
    /// The request's old size is beyond the checkpoint's size.
    OldSizeTooLarge {
        /// The old size the request gave.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    #[error("this witness last cosigned size {size} of this log, not {old}; resubmit with `old {size}`")]
    /// The request's old size is not the size this witness last cosigned.
    OldSizeMismatch {
        /// The old size the request gave.
        old: u64,
        /// The size this witness last cosigned.
        size: u64,
    },
    #[error("this witness cosigned a different tree of size {size} of this log: the log shows two histories")]
    /// This witness cosigned another root for the same size.
    DifferentRoot {
        /// The size of the two trees.
        size: u64,
    },
    #[error("the consistency proof does not verify: {0}")]
    /// The consistency proof does not verify.
    BadProof(String),
}

impl Refusal {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) | Refusal::OldSizeTooLarge { .. } => 400,
            Refusal::NotSigned { .. } => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::OldSizeMismatch { .. } | Refusal::DifferentRoot { .. } => 409,
            Refusal::TooLarge => 413,
            Refusal::BadProof(_) => 422,
        }
    }

    /// For a 409: the size the witness holds, which is the answer's body.
    pub fn conflict_size(&self) -> Option<u64> {
        match self {
            Refusal::OldSizeMismatch { size, .. } | Refusal::DifferentRoot { size } => Some(*size),
            _ => None,
        }
    }
}

/// A decimal without leading zeros (except `0` itself).
fn decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&B64.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }

    /// Parses a request body strictly: every line ends in a newline, the old size is a decimal
    /// without leading zeros, each proof line is base64 of 32 bytes, and what follows the empty
    /// line is a signed note whose text is a checkpoint.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, Refusal> {
        let bad = |why: &str| Refusal::Malformed(why.to_string());
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Refusal::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| bad("it is not UTF-8 text"))?;
        let (head, checkpoint) = text.split_once("\n\n").ok_or_else(|| bad("there is no empty line before the checkpoint"))?;
        let mut lines = head.split('\n');
        let old = lines.next().unwrap_or_default();
        let old_size = old
            .strip_prefix("old ")
            .and_then(decimal)
            .ok_or_else(|| bad("the first line must be `old <size>`, a decimal without leading zeros"))?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let h =
                B64.decode(line).ok().and_then(|h| Hash::try_from(h).ok()).ok_or_else(|| bad("a proof line is not base64 of 32 bytes"))?;
            proof.push(h);
        }
        let note = SignedNote::parse(checkpoint).map_err(|e| Refusal::Malformed(format!("the checkpoint note: {e}")))?;
        Checkpoint::parse(&note.text).map_err(|e| Refusal::Malformed(format!("the checkpoint: {e}")))?;
        Ok(AddCheckpoint { old_size, proof, checkpoint: checkpoint.to_string() })
    }

    /// Checks the checkpoint against the logs a witness knows: the origin must be one of them
    /// (else 404) and a key trusted for it must have signed (else 403).
    pub fn verify(&self, logs: &[KnownLog]) -> Result<Verified, Refusal> {
        let note = SignedNote::parse(&self.checkpoint).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let checkpoint = Checkpoint::parse(&note.text).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let log = logs.iter().find(|l| l.origin == checkpoint.origin).ok_or_else(|| Refusal::UnknownLog(checkpoint.origin.clone()))?;
        note.verify(&log.keys).map_err(|e| Refusal::NotSigned { origin: checkpoint.origin.clone(), why: e.to_string() })?;
        if self.old_size > checkpoint.size {
            return Err(Refusal::OldSizeTooLarge { old: self.old_size, size: checkpoint.size });
        }
        Ok(Verified { old_size: self.old_size, proof: self.proof.clone(), text: note.text, checkpoint })
    }
}

/// A log a witness knows: its origin and the keys it may sign checkpoints with (more than one
/// across a key rotation).
#[derive(Clone, Debug)]
pub struct KnownLog {
    /// The log's origin.
    pub origin: String,
    /// The keys that may sign its checkpoints.
    pub keys: Vec<NoteVerifier>,
}

/// A request whose checkpoint a known log signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The size the request says the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from that size to the checkpoint's.
    pub proof: Vec<Hash>,
    /// The checkpoint text (what a cosignature signs).
    pub text: String,
    /// The checkpoint, parsed.
    pub checkpoint: Checkpoint,
}

/// What a witness remembers of one log: the latest checkpoint it cosigned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosigned {
    /// The size it cosigned.
    pub size: u64,
    /// Root hash, standard base64.
    pub root: String,
    /// The checkpoint text it cosigned (without signatures).
    pub checkpoint: String,
}

impl Verified {
    /// The state to persist before cosigning this checkpoint, given the state held for its
    /// log (`None`: never cosigned one). Refuses an old size other than the held one (409), a
    /// different root for the held size (409) and a proof that does not verify (422).
    pub fn advance(&self, held: Option<&Cosigned>) -> Result<Cosigned, Refusal> {
        let (held_size, held_root) = match held {
            None => (0, crate::tlog::merkle::empty_root()),
            Some(c) => {
                let root = B64.decode(&c.root).ok().and_then(|r| Hash::try_from(r).ok());
                (c.size, root.ok_or_else(|| Refusal::Malformed("the witness's stored root is not base64 of 32 bytes".into()))?)
            }
        };
        if self.old_size != held_size {
            return Err(Refusal::OldSizeMismatch { old: self.old_size, size: held_size });
        }
        let (size, root) = (self.checkpoint.size, self.checkpoint.root);
        if size == held_size && held_size > 0 && root != held_root {
            return Err(Refusal::DifferentRoot { size });
        }
        verify_consistency(held_size, size, &held_root, &root, &self.proof).map_err(|e| Refusal::BadProof(e.to_string()))?;
        Ok(Cosigned { size, root: B64.encode(root), checkpoint: self.text.clone() })
    }
}

/// Reads a 409 answer's body: the witness's size in decimal and a newline.
pub fn parse_size_body(body: &[u8]) -> Option<u64> {
    std::str::from_utf8(body).ok()?.strip_suffix('\n').and_then(decimal)
}

/// Reads a 200 answer's body: one or more cosignature lines.
pub fn parse_cosignatures(body: &[u8]) -> crate::Result<Vec<NoteSignature>> {
    let text = std::str::from_utf8(body).map_err(|_| crate::Error::malformed("witness answer", "it is not UTF-8 text"))?;
    parse_signature_lines(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{leaf_hash, Tree};
    use crate::tlog::note::NoteSigner;

    fn fixture() -> (NoteSigner, Tree, Vec<KnownLog>) {
        let log = NoteSigner::from_seed("example.com/log", &[1; 32]).unwrap();
        let tree = Tree::from_leaf_hashes((0..10u8).map(|i| leaf_hash(&[i])).collect());
        let known = vec![KnownLog { origin: "example.com/log".into(), keys: vec![log.verifier()] }];
        (log, tree, known)
    }

    fn checkpoint(log: &NoteSigner, tree: &Tree, size: u64) -> String {
        let cp = Checkpoint { origin: log.name().into(), size, root: tree.root_at(size).unwrap(), extensions: vec![] };
        log.sign_note(&cp.to_text()).unwrap()
    }

    /// The specification's example body parses and writes back byte for byte.
    #[test]
    fn the_body_round_trips() {
        let (log, tree, _) = fixture();
        let req = AddCheckpoint { old_size: 3, proof: tree.consistency_proof(3, 7).unwrap(), checkpoint: checkpoint(&log, &tree, 7) };
        let body = req.to_body();
        assert!(body.starts_with("old 3\n"));
        assert_eq!(AddCheckpoint::parse(body.as_bytes()).unwrap(), req);
        for bad in ["old 03\n\n", "old -1\n\n", "old 1", "new 1\n\nx", "old 1\nAAAA\n\n"] {
            assert!(matches!(AddCheckpoint::parse(bad.as_bytes()), Err(Refusal::Malformed(_))), "{bad:?}");
        }
    }

    /// Each rule of the table in the module docs, with its status.
    #[test]
    fn each_rule_has_its_status() {
        let (log, tree, known) = fixture();
        let req = |old, size| AddCheckpoint {
            old_size: old,
            proof: tree.consistency_proof(old, size).unwrap(),
            checkpoint: checkpoint(&log, &tree, size),
        };
        let first = req(0, 4).verify(&known).unwrap().advance(None).unwrap();
        assert_eq!(first.size, 4);
        let next = req(4, 9).verify(&known).unwrap().advance(Some(&first)).unwrap();
        assert_eq!(next.size, 9);
        let again = req(9, 9).verify(&known).unwrap().advance(Some(&next)).unwrap();
        assert_eq!(again, next, "the same checkpoint is cosigned again");
        assert_eq!(req(4, 9).verify(&known).unwrap().advance(Some(&next)).unwrap_err().conflict_size(), Some(9));
        let other = NoteSigner::from_seed("example.com/log", &[2; 32]).unwrap();
        let forged = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: checkpoint(&other, &tree, 4) };
        assert_eq!(forged.verify(&known).unwrap_err().status(), 403);
        let stranger = NoteSigner::from_seed("other.example/log", &[2; 32]).unwrap();
        let unknown = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: checkpoint(&stranger, &tree, 4) };
        assert_eq!(unknown.verify(&known).unwrap_err().status(), 404);
        let backwards = AddCheckpoint { old_size: 9, proof: vec![], checkpoint: checkpoint(&log, &tree, 4) };
        assert_eq!(backwards.verify(&known).unwrap_err().status(), 400);
        let mut bad_proof = req(4, 9);
        bad_proof.proof[0][0] ^= 1;
        assert_eq!(bad_proof.verify(&known).unwrap().advance(Some(&first)).unwrap_err().status(), 422);
        let fork = Tree::from_leaf_hashes((0..10u8).map(|i| leaf_hash(&[i, 1])).collect());
        let split = AddCheckpoint { old_size: 9, proof: vec![], checkpoint: checkpoint(&log, &fork, 9) };
        assert_eq!(split.verify(&known).unwrap().advance(Some(&next)).unwrap_err(), Refusal::DifferentRoot { size: 9 });
    }

    #[test]
    fn answers_parse() {
        assert_eq!(parse_size_body(b"42\n"), Some(42));
        assert_eq!(parse_size_body(b"042\n"), None);
        assert_eq!(parse_size_body(b"42"), None);
        assert!(parse_cosignatures("— w AAAAAQI=\n".as_bytes()).is_ok());
        assert!(parse_cosignatures(b"garbage\n").is_err());
    }
}
