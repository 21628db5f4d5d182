//! The verifier's one error type.
//!
//! Every message is written for a report: it names the entry index, field, hash or key that is
//! wrong and, where it helps, what to do next. [`Error::exit_code`] sorts errors into the two
//! exit codes of the command line: `1` when an integrity check failed (the data is not what the
//! log committed to) and `2` when the input could not be used at all.

use std::fmt;

/// A SHA-256 hash printed as lowercase hex in messages.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HexHash(pub [u8; 32]);

impl fmt::Display for HexHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for HexHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a Merkle proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("{what} is {len} bytes long; a SHA-256 hash is 32 bytes")]
    NotAHash { what: String, len: usize },
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the older size {old} is larger than the newer size {new}: the log shrank (rollback)")]
    Shrunk { old: u64, new: u64 },
    #[error("a consistency proof from the empty tree must be empty, but it has {len} hashes")]
    FromEmpty { len: usize },
    #[error("a consistency proof from size 0 is not accepted under this rule")]
    ZeroSizeRejected,
    #[error("the sizes are equal ({size}) but the proof is not empty ({len} hashes)")]
    EqualSizesNonEmpty { size: u64, len: usize },
    #[error("the sizes are equal ({size}) but the roots differ (split view)")]
    EqualSizesDifferentRoots { size: u64 },
    #[error("the proof has the wrong number of hashes for index/size {detail}")]
    WrongLength { detail: String },
    #[error("the proof does not lead to the expected root: computed {computed}, expected {expected}")]
    RootMismatch { computed: HexHash, expected: HexHash },
    #[error("the proof does not reproduce the older root: computed {computed}, expected {expected}")]
    OldRootMismatch { computed: HexHash, expected: HexHash },
}

/// Two checkpoints that cannot both be true of one log: the notes exactly as read, and the
/// witnesses (of the policy given) whose cosignature each carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    pub older: String,
    pub newer: String,
    pub older_cosigned_by: Vec<String>,
    pub newer_cosigned_by: Vec<String>,
}

/// Every way verification can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- unusable input (exit 2) ----
    #[error("cannot read {path}: {source}. Check the path and the file permissions.")]
    Io { path: String, source: std::io::Error },
    #[error("cannot fetch {url}: {detail}. Check the address and that the log is reachable.")]
    Network { url: String, detail: String },
    #[error("{what} is not usable: {detail}")]
    Unusable { what: String, detail: String },
    #[error("the verifier key {vkey:?} is malformed: {detail}. A key looks like <name>+<8 hex digits>+<base64>.")]
    BadVkey { vkey: String, detail: String },
    #[error(
        "no trusted log key was given: pass --vkey <name>+<id>+<key> or --vkey-file FILE (ask the log operator for its published key)"
    )]
    NoTrustedKey,

    // ---- integrity failures (exit 1) ----
    #[error("{what} is malformed: {detail}")]
    MalformedNote { what: String, detail: String },
    #[error("{what}: the signature by key {key} does not verify. The text was altered or the signature forged.")]
    BadNoteSignature { what: String, key: String },
    #[error(
        "{what} is not signed by any trusted key (trusted: {trusted}; signed by: {signed_by}). It may come from another log or be forged."
    )]
    UntrustedNote { what: String, trusted: String, signed_by: String },
    #[error("{what}: {source}")]
    Proof { what: String, source: ProofError },
    #[error("the entries rebuild the root {computed} for size {size}, but the checkpoint says {expected}: entries were altered, added or removed")]
    RootMismatch { size: u64, computed: HexHash, expected: HexHash },
    #[error("split view: two validly signed checkpoints of size {size} have different roots ({old} and {new}). Keep both checkpoint files as evidence.")]
    SplitView { size: u64, old: HexHash, new: HexHash, evidence: Box<Evidence> },
    #[error("rollback: the newer checkpoint has size {new}, smaller than the older size {old}. Keep both checkpoint files as evidence.")]
    Rollback { old: u64, new: u64, evidence: Box<Evidence> },
    #[error(
        "the log is not consistent with the older checkpoint (size {old} -> {new}): {source}. Keep both checkpoint files as evidence."
    )]
    Inconsistent { old: u64, new: u64, source: ProofError, evidence: Box<Evidence> },
    #[error("{} is cosigned by {} of the {} witnesses the policy requires, of {} trusted (cosigned: {}; not cosigned: {}{}). Without them nothing shows that this is the one history everyone else sees; keep the checkpoint and ask the log operator why its witnesses did not cosign it.", .0.what, .0.got, .0.need, .0.trusted, .0.cosigned, .0.missing, .0.detail)]
    WitnessPolicyUnmet(Box<crate::witness_policy::PolicyUnmet>),
    #[error("{what}: the cosignature by witness {witness} does not verify. The checkpoint was altered after the witness cosigned it, or the cosignature was forged.")]
    BadCosignature { what: String, witness: String },
    #[error("entry {index}: {detail}")]
    Entry { index: u64, detail: String },
    #[error("entry {index} is missing: the records jump from {before} to {found}")]
    Missing { index: u64, before: String, found: u64 },
    #[error("entries out of order at position {position}: expected index {expected}, found {found} (records were swapped or moved)")]
    OutOfOrder { position: u64, expected: u64, found: u64 },
    #[error("entry {index} appears more than once (a record was inserted or duplicated)")]
    Duplicate { index: u64 },
    #[error("the chain is broken at entry {index}: its prev is {found} but the leaf hash of entry {prev_index} is {expected}. Entry {prev_index} or {index} was altered, or a record was inserted or removed there.")]
    ChainBroken { index: u64, prev_index: u64, expected: String, found: String },
    #[error("truncated: the checkpoint covers {size} entries but only {have} are present; entries {have} to {last} are missing (the tail was cut off)", last = size.saturating_sub(1))]
    Truncated { size: u64, have: u64 },
    #[error("entry {index} is beyond the checkpoint size {size} (records were appended after the checkpoint)")]
    BeyondCheckpoint { index: u64, size: u64 },
    #[error("entry {index} (kind {kind}, signer {signer:?}): the signature does not verify with {key}. The record was altered after signing, or signed with a wrong key.")]
    BadSignature { index: u64, kind: String, signer: String, key: String },
    #[error("entry {index}: signer {signer:?} has no submitter registration before this entry, so its signature cannot be checked")]
    UnknownSigner { index: u64, signer: String },
    #[error("entry {index}: the {which} commitment does not match the personal part shipped with it (the personal part or the record was altered)")]
    Commitment { index: u64, which: &'static str },
    #[error("the trusted key {vkey} is not announced by any log_key entry of this log: it is not this log's key, or the log was replaced")]
    TrustedKeyNotInLog { vkey: String },
    #[error(
        "tile {path}: hash {position} is {found} but entry {index} hashes to {expected}: the server's tiles disagree with its entries"
    )]
    TileMismatch { path: String, position: u64, index: u64, expected: HexHash, found: HexHash },
    #[error("{what}: {detail}")]
    Integrity { what: String, detail: String },
    #[error("{detail}")]
    Tally { index: Option<u64>, detail: String },
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The command-line exit code: 1 for a failed integrity check, 2 for unusable input.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Io { .. } | Error::Network { .. } | Error::Unusable { .. } | Error::BadVkey { .. } | Error::NoTrustedKey => 2,
            _ => 1,
        }
    }

    /// The first entry index this error is about, when it is about one.
    pub fn index(&self) -> Option<u64> {
        match self {
            Error::Entry { index, .. }
            | Error::Missing { index, .. }
            | Error::Duplicate { index }
            | Error::ChainBroken { index, .. }
            | Error::BeyondCheckpoint { index, .. }
            | Error::BadSignature { index, .. }
            | Error::UnknownSigner { index, .. }
            | Error::Commitment { index, .. }
            | Error::TileMismatch { index, .. } => Some(*index),
            Error::OutOfOrder { expected, .. } => Some(*expected),
            Error::Truncated { have, .. } => Some(*have),
            Error::Tally { index, .. } => *index,
            _ => None,
        }
    }

    /// A short stable name of the failure, for `--json` output and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Network { .. } => "network",
            Error::Unusable { .. } => "unusable_input",
            Error::BadVkey { .. } => "bad_vkey",
            Error::NoTrustedKey => "no_trusted_key",
            Error::MalformedNote { .. } => "malformed_note",
            Error::BadNoteSignature { .. } => "bad_checkpoint_signature",
            Error::UntrustedNote { .. } => "untrusted_checkpoint",
            Error::Proof { .. } => "bad_proof",
            Error::RootMismatch { .. } => "root_mismatch",
            Error::SplitView { .. } => "split_view",
            Error::Rollback { .. } => "rollback",
            Error::Inconsistent { .. } => "inconsistent",
            Error::WitnessPolicyUnmet(_) => "witness_policy_unmet",
            Error::BadCosignature { .. } => "bad_cosignature",
            Error::Entry { .. } => "bad_entry",
            Error::Missing { .. } => "missing_entry",
            Error::OutOfOrder { .. } => "out_of_order",
            Error::Duplicate { .. } => "duplicate_entry",
            Error::ChainBroken { .. } => "chain_broken",
            Error::Truncated { .. } => "truncated",
            Error::BeyondCheckpoint { .. } => "beyond_checkpoint",
            Error::BadSignature { .. } => "bad_signature",
            Error::UnknownSigner { .. } => "unknown_signer",
            Error::Commitment { .. } => "commitment_mismatch",
            Error::TrustedKeyNotInLog { .. } => "trusted_key_not_in_log",
            Error::TileMismatch { .. } => "tile_mismatch",
            Error::Integrity { .. } => "integrity",
            Error::Tally { .. } => "tally_mismatch",
        }
    }

    /// What the witnesses said, when the witness policy was not met.
    pub fn witness_report(&self) -> Option<&crate::witness_policy::WitnessReport> {
        match self {
            Error::WitnessPolicyUnmet(unmet) => Some(&unmet.report),
            _ => None,
        }
    }

    /// The two checkpoints a split view, rollback or inconsistency was found between.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Error::SplitView { evidence, .. } | Error::Rollback { evidence, .. } | Error::Inconsistent { evidence, .. } => Some(evidence),
            _ => None,
        }
    }

    /// Unusable input (exit 2): `what` could not be used, because `detail`.
    pub fn unusable(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Unusable { what: what.into(), detail: detail.into() }
    }

    pub(crate) fn entry(index: u64, detail: impl Into<String>) -> Self {
        Error::Entry { index, detail: detail.into() }
    }

    pub(crate) fn malformed(what: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::MalformedNote { what: what.into(), detail: detail.into() }
    }
}
