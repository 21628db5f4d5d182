//! The ledger's one error type. Every message says what went wrong and, where
//! there is something to do about it, what to do.

use thiserror::Error;

/// Everything that can go wrong inside the ledger.
#[derive(Clone, Debug, Error)]
pub enum Error {
    // ---- Merkle tree and proofs -------------------------------------------------
    /// A proof or tree request named an index or size outside the tree.
    #[error("{0}")]
    OutOfRange(String),
    /// An inclusion or consistency proof does not verify.
    #[error("proof does not verify: {0}")]
    BadProof(String),

    // ---- Notes, checkpoints, tiles ------------------------------------------------
    /// A signed note, key string or checkpoint could not be parsed.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// What was being read (`checkpoint`, `entry`, `log key`, …).
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A signature did not verify with the key it claims.
    #[error("signature does not verify: {0}")]
    BadSignature(String),

    // ---- Records and submissions -----------------------------------------------------
    /// A submitted record breaks the schema of SPEC.md.
    #[error("record {record}: field `{field}`: {why}")]
    InvalidRecord {
        /// The record's position in its batch.
        record: usize,
        /// The JSON path of the field, such as `delivery.member_state`.
        field: String,
        /// What is wrong, and what to do.
        why: String,
    },
    /// A submission batch's envelope (`{"records": [{body, sig, personal}]}`, SPEC.md §12) is
    /// not JSON, or not of that shape. `record` and `field` name the place when there is one.
    #[error("{}{}{why}", record.map(|r| format!("record {r}: ")).unwrap_or_default(), field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    BadBatch {
        /// The record's position in the batch, when the fault is in one record.
        record: Option<usize>,
        /// The member at fault, when there is one.
        field: Option<String>,
        /// What is wrong.
        why: String,
    },
    /// A record's signature is well-formed but does not verify with its submitter's registered key.
    #[error("record {record}: field `sig`: the signature does not verify with the registered key of submitter `{signer}`; sign \"sightline/record/v1\\n\" followed by the RFC 8785 bytes of the body, with the key the log registered for `{signer}`")]
    RecordSignature {
        /// The record's position in its batch.
        record: usize,
        /// The submitter whose key it does not verify with.
        signer: String,
    },
    /// A party id is registered again (SPEC.md §3.3: a party is registered once).
    #[error(
        "party `{party}` is already registered (entry {index}); a party is registered once, so pick another id or keep using this one"
    )]
    PartyExists {
        /// The party id.
        party: String,
        /// The entry that registered it.
        index: u64,
    },
    /// The submitter is not registered in the log.
    #[error("submitter `{0}` is not registered in this log; ask the log operator to register its key")]
    UnknownSubmitter(String),
    /// A record in a batch is signed by another submitter than the one the request is
    /// authenticated as (SPEC.md §12): a submitter submits only its own records.
    #[error("record {record}: `body.signer` is `{signer}`, but the request is authenticated as submitter `{submitter}`; a submitter submits only its own records, so send each submitter's records in its own request")]
    ForeignRecord {
        /// The record's position in its batch.
        record: usize,
        /// The record's `body.signer`.
        signer: String,
        /// The submitter the request is authenticated as.
        submitter: String,
    },
    /// A message id was already used by this submitter for a different record.
    #[error("record {record}: message id `{message_id}` was already used by submitter `{submitter}` for a different record (entry {index}); message ids are never reused")]
    MessageIdReused {
        /// The record's position in its batch.
        record: usize,
        /// The submitter.
        submitter: String,
        /// The message id used again.
        message_id: String,
        /// The entry that holds the first record with it.
        index: u64,
    },
    /// A different tally for the same campaign and day was already logged (SPEC.md §3.8).
    #[error("record {record}: submitter `{submitter}` already logged a different tally for campaign `{campaign}` on {day} (entry {index}); a day's tally is logged once and never replaced")]
    TallyRepeated {
        /// The record's position in its batch.
        record: usize,
        /// The submitter.
        submitter: String,
        /// The campaign.
        campaign: String,
        /// The day, `YYYY-MM-DD`.
        day: String,
        /// The entry that holds the tally already logged.
        index: u64,
    },

    // ---- Storage and integrity ---------------------------------------------------------
    /// The storage backend failed (disk full, I/O error...). Nothing was acknowledged.
    #[error("storage failed: {0}; nothing was acknowledged, retry once the disk is healthy")]
    Storage(String),
    /// The log cannot take or serve this request for a moment, and will again without anyone
    /// doing anything: its database is unreachable or restarting, or the front end that
    /// sequences the log is being replaced (several front ends on one database). Nothing was
    /// acknowledged; the same request sent again in a few seconds is answered.
    #[error("the log is unavailable for a moment: {0}; nothing was acknowledged, send the same request again in a few seconds")]
    Unavailable(String),
    /// The stored log does not match its own signed checkpoint: refuse to serve it.
    #[error(
        "the stored log is corrupt: {0}. Refusing to serve it; restore the data folder from a backup or run `sightline fsck` for details"
    )]
    Corrupt(String),
    /// A recipient's personal part was erased (crypto-shredded).
    #[error("the personal part of this record was erased on request (GDPR Art. 17)")]
    Erased,
    /// The address given through a why link is not the one its message was sent to, so
    /// nothing of the recipient's is shown, recorded or erased.
    #[error("the address given is not the one this message was sent to; enter it as it appears where the message reached you (letter case and surrounding spaces do not matter)")]
    NotTheRecipient,
    /// The ledger is shutting down or its append thread has stopped.
    #[error("the ledger is shutting down; retry against a running server")]
    ShuttingDown,
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn malformed(what: &'static str, why: impl Into<String>) -> Self {
        Error::Malformed { what, why: why.into() }
    }
}
