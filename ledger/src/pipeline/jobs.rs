//! What passes between a caller's thread and the sequencer: the jobs callers queue (records
//! that passed every check that needs no log state, and the log's own records) and the
//! durable records they get back, whose receipts the caller then builds.

use std::sync::mpsc;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::error::Result;
use crate::model::record::{Channel, MessageBody};
use crate::model::tally::TallyBody;
use crate::privacy::lookup::MessageKey;
use crate::tlog::note::NoteSigner;

/// A message that passed every stateless check and its signature.
pub(crate) struct Prepared {
    /// What the sequencer needs of the body (the rest is dropped in the caller's thread).
    pub(crate) message: MessageFields,
    /// The keyed digest of `(signer, message_id)` the lookup index finds it by.
    pub(crate) message_key: MessageKey,
    pub(crate) body_jcs: Vec<u8>,
    pub(crate) sig: [u8; 64],
    pub(crate) key: VerifyingKey,
    pub(crate) personal_jcs: Vec<u8>,
    pub(crate) handle: [u8; 32],
}

/// The fields of a message the sequencer uses: who and which message, and the objection scope.
pub(crate) struct MessageFields {
    pub(crate) signer: String,
    pub(crate) message_id: String,
    /// `sponsor.on_behalf_of`: whom an objection is against.
    pub(crate) advertiser: String,
    /// `delivery.channel`: which carrier its reference takes.
    pub(crate) channel: Channel,
}

impl MessageFields {
    pub(crate) fn of(m: MessageBody) -> Self {
        MessageFields { channel: m.delivery.channel, signer: m.signer, message_id: m.message_id, advertiser: m.sponsor.on_behalf_of }
    }
}

/// What a log-signed record does besides its entry.
pub(crate) enum Effect {
    Registry,
    Rotate(Box<NoteSigner>),
    /// An objection by the recipient `handle` (in one submitter's scope) against `advertiser`;
    /// a second one by the same recipient against the same advertiser appends nothing.
    Objection {
        handle: [u8; 32],
        advertiser: String,
    },
    /// An erasure of everything the recipients `handles` have on file (one handle through a
    /// why link; one per submitter's scope for compliance).
    Erase {
        handles: Vec<[u8; 32]>,
    },
}

/// Where the sequencer or the committer answers a job.
pub(crate) type Reply = mpsc::SyncSender<Result<Durable>>;

/// What a caller hands the sequencer, with where to answer it. `handoff` is the id of a job
/// another front end handed over through the store (`handoff.rs`): its answer is written in
/// the commit of its entries.
pub(crate) enum Job {
    Messages {
        records: Vec<Prepared>,
        reply: Reply,
        handoff: Option<u64>,
    },
    Log {
        body: Value,
        effect: Effect,
        reply: Reply,
        handoff: Option<u64>,
    },
    /// Submitter-signed tallies (SPEC.md §3.8), committed like log records (`sequencer/tallies.rs`).
    Tallies {
        records: Vec<PreparedTally>,
        reply: Reply,
        handoff: Option<u64>,
    },
    /// Answered once everything queued before it is published or failed.
    Barrier(mpsc::SyncSender<()>),
    /// Rows of a derived index (already named in its key space), committed with the current
    /// head once nothing is staged (`sequencer/log_records.rs`).
    Rows {
        puts: Vec<(Vec<u8>, Vec<u8>)>,
        deletes: Vec<Vec<u8>>,
        reply: mpsc::SyncSender<Result<()>>,
    },
}

/// A tally that passed its rules and its signature.
pub(crate) struct PreparedTally {
    pub(crate) body: TallyBody,
    pub(crate) body_jcs: Vec<u8>,
    pub(crate) sig: [u8; 64],
    pub(crate) key: VerifyingKey,
    pub(crate) unique: MessageKey,
}

/// A durable record whose receipt is still to be built. The sequencer or the committer hands
/// these back and the caller's thread builds the receipts (`receipts.rs`), so that they can
/// start on the next group at once.
pub(crate) struct Settled {
    pub(crate) index: u64,
    pub(crate) message_id: Option<String>,
    pub(crate) duplicate: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) why_link: bool,
    /// A message's channel, for its reference (SPEC.md §10.2).
    pub(crate) channel: Option<Channel>,
}

/// The answer to one job: its records and the checkpoint that covers them.
pub(crate) struct Durable {
    pub(crate) checkpoint: String,
    pub(crate) size: u64,
    pub(crate) records: Vec<Settled>,
    /// A handed-over job's answer was written in the commit of its entries.
    pub(crate) answered: bool,
}

/// A caller's prepared messages, where to answer it, and its handed-over job's id.
pub(crate) type Waiting = (Vec<Prepared>, Reply, Option<u64>);
