//! The verifier's one error type.
//!
//! Every message is written for a report: it names the entry index, field, hash or key that is
//! wrong and, where it helps, what to do next. [`Error::exit_code`] sorts errors into the two
//! exit codes of the command line: `1` when an integrity check failed (the data is not what the
//! log committed to) and `2` when the input could not be used at all.
//!
//! Over 400 lines because every way verification fails is one enum, each variant beside its
//! message, its exit code and its `--json` code: what the verifier can report is read in one
//! place.

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
    /// A value meant to be a hash is not 32 bytes.
    #[error("{what} is {len} bytes long; a SHA-256 hash is 32 bytes")]
    NotAHash {
        /// What the value is.
        what: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The leaf is not inside the tree.
    #[error("leaf index {index} is not inside a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The newer tree is smaller than the older one.
    #[error("the older size {old} is larger than the newer size {new}: the log shrank (rollback)")]
    Shrunk {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
    },
    /// A proof from the empty tree holds hashes.
    #[error("a consistency proof from the empty tree must be empty, but it has {len} hashes")]
    FromEmpty {
        /// How many hashes it holds.
        len: usize,
    },
    /// The rule in use accepts no proof from size 0.
    #[error("a consistency proof from size 0 is not accepted under this rule")]
    ZeroSizeRejected,
    /// Equal sizes, but the proof is not empty.
    #[error("the sizes are equal ({size}) but the proof is not empty ({len} hashes)")]
    EqualSizesNonEmpty {
        /// The size of both trees.
        size: u64,
        /// How many hashes it holds.
        len: usize,
    },
    /// Equal sizes, but different roots.
    #[error("the sizes are equal ({size}) but the roots differ (split view)")]
    EqualSizesDifferentRoots {
        /// The size of both trees.
        size: u64,
    },
    /// The proof has the wrong number of hashes.
    #[error("the proof has the wrong number of hashes for index/size {detail}")]
    WrongLength {
        /// The index and sizes, and the count expected.
        detail: String,
    },
    /// An inclusion proof leads to another root.
    #[error("the proof does not lead to the expected root: computed {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof leads to.
        computed: HexHash,
        /// The root it should lead to.
        expected: HexHash,
    },
    /// A consistency proof does not reproduce the older root.
    #[error("the proof does not reproduce the older root: computed {computed}, expected {expected}")]
    OldRootMismatch {
        /// The root the proof leads to.
        computed: HexHash,
        /// The root it should lead to.
        expected: HexHash,
    },
}

/// Two checkpoints that cannot both be true of one log: the notes exactly as read, and the
/// witnesses (of the policy given) whose cosignature each carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    /// The older checkpoint note, as read.
    pub older: String,
    /// The newer checkpoint note, as read.
    pub newer: String,
    /// The trusted witnesses that cosigned the older one.
    pub older_cosigned_by: Vec<String>,
    /// The trusted witnesses that cosigned the newer one.
    pub newer_cosigned_by: Vec<String>,
}

/// Every way verification can fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- unusable input (exit 2) ----
    /// A file could not be read.
    #[error("cannot read {path}: {source}. Check the path and the file permissions.")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A log could not be fetched.
    #[error("cannot fetch {url}: {detail}. Check the address and that the log is reachable.")]
    Network {
        /// The address.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// An input cannot be used at all.
    #[error("{what} is not usable: {detail}")]
    Unusable {
        /// What was being checked.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A verifier key given is malformed.
    #[error("the verifier key {vkey:?} is malformed: {detail}. A key looks like <name>+<8 hex digits>+<base64>.")]
    BadVkey {
        /// The key as given.
        vkey: String,
        /// What is wrong.
        detail: String,
    },
    #[error(
        "no trusted log key was given: pass --vkey <name>+<id>+<key> or --vkey-file FILE (ask the log operator for its published key)"
    )]
    /// No trusted log key was given.
    NoTrustedKey,

    // ---- integrity failures (exit 1) ----
    /// A signed note or checkpoint is malformed.
    #[error("{what} is malformed: {detail}")]
    MalformedNote {
        /// What was being checked.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A signature on a note does not verify.
    #[error("{what}: the signature by key {key} does not verify. The text was altered or the signature forged.")]
    BadNoteSignature {
        /// What was being checked.
        what: String,
        /// The key whose signature fails.
        key: String,
    },
    #[error(
        "{what} is not signed by any trusted key (trusted: {trusted}; signed by: {signed_by}). It may come from another log or be forged."
    )]
    /// No trusted key signed a note.
    UntrustedNote {
        /// What was being checked.
        what: String,
        /// The trusted keys.
        trusted: String,
        /// The keys that signed it.
        signed_by: String,
    },
    /// A Merkle proof does not verify.
    #[error("{what}: {source}")]
    Proof {
        /// What was being checked.
        what: String,
        /// Why the proof fails.
        source: ProofError,
    },
    /// The entries rebuild another root than the checkpoint's.
    #[error("the entries rebuild the root {computed} for size {size}, but the checkpoint says {expected}: entries were altered, added or removed")]
    RootMismatch {
        /// The tree size.
        size: u64,
        /// The root the entries rebuild.
        computed: HexHash,
        /// The root the checkpoint holds.
        expected: HexHash,
    },
    /// Two signed checkpoints of one size have different roots.
    #[error("split view: two validly signed checkpoints of size {size} have different roots ({old} and {new}). Keep both checkpoint files as evidence.")]
    SplitView {
        /// The size of both checkpoints.
        size: u64,
        /// The first root.
        old: HexHash,
        /// The second root.
        new: HexHash,
        /// Both checkpoints, as read, and who cosigned each.
        evidence: Box<Evidence>,
    },
    /// The newer checkpoint is smaller than the older.
    #[error("rollback: the newer checkpoint has size {new}, smaller than the older size {old}. Keep both checkpoint files as evidence.")]
    Rollback {
        /// The older size.
        old: u64,
        /// The newer, smaller size.
        new: u64,
        /// Both checkpoints, as read, and who cosigned each.
        evidence: Box<Evidence>,
    },
    #[error(
        "the log is not consistent with the older checkpoint (size {old} -> {new}): {source}. Keep both checkpoint files as evidence."
    )]
    /// The newer checkpoint does not extend the older.
    Inconsistent {
        /// The older size.
        old: u64,
        /// The newer size.
        new: u64,
        /// Why the consistency proof fails.
        source: ProofError,
        /// Both checkpoints, as read, and who cosigned each.
        evidence: Box<Evidence>,
    },
    /// Too few trusted witnesses cosigned the checkpoint.
    #[error("{} is cosigned by {} of the {} witnesses the policy requires, of {} trusted (cosigned: {}; not cosigned: {}{}). Without them nothing shows that this is the one history everyone else sees; keep the checkpoint and ask the log operator why its witnesses did not cosign it.", .0.what, .0.got, .0.need, .0.trusted, .0.cosigned, .0.missing, .0.detail)]
    WitnessPolicyUnmet(Box<crate::witness_policy::PolicyUnmet>),
    /// A witness's cosignature does not verify.
    #[error("{what}: the cosignature by witness {witness} does not verify. The checkpoint was altered after the witness cosigned it, or the cosignature was forged.")]
    BadCosignature {
        /// What was being checked.
        what: String,
        /// The witness.
        witness: String,
    },
    /// Something is wrong with one entry.
    #[error("entry {index}: {detail}")]
    Entry {
        /// The entry's index.
        index: u64,
        /// What is wrong.
        detail: String,
    },
    /// An entry is missing.
    #[error("entry {index} is missing: the records jump from {before} to {found}")]
    Missing {
        /// The entry's index.
        index: u64,
        /// The index before the gap.
        before: String,
        /// The index found after it.
        found: u64,
    },
    /// Entries are out of order.
    #[error("entries out of order at position {position}: expected index {expected}, found {found} (records were swapped or moved)")]
    OutOfOrder {
        /// The position in the input.
        position: u64,
        /// The index expected there.
        expected: u64,
        /// The index found.
        found: u64,
    },
    /// An entry appears twice.
    #[error("entry {index} appears more than once (a record was inserted or duplicated)")]
    Duplicate {
        /// The entry's index.
        index: u64,
    },
    /// An entry's `prev` is not the previous entry's leaf hash.
    #[error("the chain is broken at entry {index}: its prev is {found} but the leaf hash of entry {prev_index} is {expected}. Entry {prev_index} or {index} was altered, or a record was inserted or removed there.")]
    ChainBroken {
        /// The entry's index.
        index: u64,
        /// The previous entry's index.
        prev_index: u64,
        /// Its leaf hash.
        expected: String,
        /// The `prev` the entry holds.
        found: String,
    },
    /// Entries the checkpoint covers are missing at the end.
    #[error("truncated: the checkpoint covers {size} entries but only {have} are present; entries {have} to {last} are missing (the tail was cut off)", last = size.saturating_sub(1))]
    Truncated {
        /// The checkpoint's size.
        size: u64,
        /// The entries present.
        have: u64,
    },
    /// An entry lies beyond the checkpoint.
    #[error("entry {index} is beyond the checkpoint size {size} (records were appended after the checkpoint)")]
    BeyondCheckpoint {
        /// The entry's index.
        index: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// A record's signature does not verify.
    #[error("entry {index} (kind {kind}, signer {signer:?}): the signature does not verify with {key}. The record was altered after signing, or signed with a wrong key.")]
    BadSignature {
        /// The entry's index.
        index: u64,
        /// The record's kind.
        kind: String,
        /// The record's signer.
        signer: String,
        /// The key it was checked with.
        key: String,
    },
    /// A record's signer is not registered before it.
    #[error("entry {index}: signer {signer:?} has no submitter registration before this entry, so its signature cannot be checked")]
    UnknownSigner {
        /// The entry's index.
        index: u64,
        /// The record's signer.
        signer: String,
    },
    /// A personal part does not match its commitment.
    #[error("entry {index}: the {which} commitment does not match the personal part shipped with it (the personal part or the record was altered)")]
    Commitment {
        /// The entry's index.
        index: u64,
        /// Which commitment: `recipient` or `personal`.
        which: &'static str,
    },
    /// The trusted key is not one this log announced.
    #[error("the trusted key {vkey} is not announced by any log_key entry of this log: it is not this log's key, or the log was replaced")]
    TrustedKeyNotInLog {
        /// The trusted key.
        vkey: String,
    },
    #[error(
        "tile {path}: hash {position} is {found} but entry {index} hashes to {expected}: the server's tiles disagree with its entries"
    )]
    /// A hash tile disagrees with the entries.
    TileMismatch {
        /// The tile's path.
        path: String,
        /// The hash's position in the tile.
        position: u64,
        /// The entry's index.
        index: u64,
        /// The entry's leaf hash.
        expected: HexHash,
        /// The hash the tile holds.
        found: HexHash,
    },
    /// Another integrity failure.
    #[error("{what}: {detail}")]
    Integrity {
        /// What was being checked.
        what: String,
        /// What is wrong.
        detail: String,
    },
    /// A tally differs from the messages it counts.
    #[error("{detail}")]
    Tally {
        /// The tally's entry, when the failure is about one.
        index: Option<u64>,
        /// What is wrong.
        detail: String,
    },
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
