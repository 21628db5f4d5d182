//! What a store that several front ends share offers besides [`Store`](crate::store::Store)
//! (`postgres/` is the one that does): **one sequencer at a time**, by a lease, and a **queue**
//! through which the other front ends hand it the jobs they checked (SPEC.md §12.2).
//!
//! - The lease is one row: its holder, an epoch that moves on each time someone takes it, and
//!   an expiry the holder keeps pushing forward. A front end takes it only once it expired.
//! - Every commit of the holder is **fenced**: once [`Coordination::fence`] set the lease, a
//!   commit checks, in its own transaction, that the lease still has that holder and epoch
//!   (and that the head is the size it extends). A holder that lost the lease, however long
//!   it slept, cannot write: its commit is refused whole.
//! - A handed-over job is a row with the records already checked (signatures, schema) on the
//!   front end that received them. The sequencer answers it **in the transaction that commits
//!   its entries** ([`Commit::answers`](crate::store::Commit::answers)), so a job is answered
//!   exactly when its entries are durable; a job refused, or whose records were all in the log
//!   already, is answered on its own.
//!
//! These types carry only what crosses the database; `pipeline/handoff.rs` turns them into the
//! pipeline's jobs and back.

use std::time::Duration;

use crate::error::Result;
use crate::model::record::Channel;

/// A lease a front end holds: its holder id and the epoch it took it in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it: a front end's id, unique per process.
    pub holder: String,
    /// Moves on each time the lease is taken; commits are fenced with it.
    pub epoch: u64,
}

/// One record of a handed-over job, as the front end that received it checked it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandedRecord {
    /// The canonical (RFC 8785) body.
    pub body: Vec<u8>,
    /// The submitter's signature over it.
    pub sig: [u8; 64],
    /// The submitter key it was checked with (the sequencer refuses it if the log re-keyed the
    /// submitter since).
    pub key: [u8; 32],
    /// The keyed digest the message-id index finds it by.
    pub message_key: [u8; 16],
    /// A message's personal part (canonical bytes) and its recipient's handle; `None` for a tally.
    pub personal: Option<(Vec<u8>, [u8; 32])>,
    /// A message's signer, message id, `sponsor.on_behalf_of` and channel; `None` for a tally.
    pub message: Option<HandedMessage>,
}

/// What the sequencer reads of a handed-over message besides its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandedMessage {
    /// `signer`.
    pub signer: String,
    /// `message_id`.
    pub message_id: String,
    /// `sponsor.on_behalf_of`: whom an objection is against.
    pub advertiser: String,
    /// `delivery.channel`.
    pub channel: Channel,
}

/// What a log-signed record does besides its entry, as a front end hands it over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandedEffect {
    /// A registration (log key, submitter, party).
    Registry,
    /// An objection by recipient `handle` against `advertiser`.
    Objection {
        /// The recipient's handle.
        handle: [u8; 32],
        /// `sponsor.on_behalf_of` of the message objected through.
        advertiser: String,
    },
    /// An erasure of everything these recipients have on file.
    Erase {
        /// The recipients' handles.
        handles: Vec<[u8; 32]>,
    },
}

/// A job a front end that does not sequence hands to the one that does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandedJob {
    /// A submitter's batch of messages, all or nothing.
    Messages(Vec<HandedRecord>),
    /// A submitter's batch of tallies, all or nothing.
    Tallies(Vec<HandedRecord>),
    /// One log-signed record: its body (JSON text) and what it does.
    Log {
        /// The body, as JSON text.
        body: String,
        /// What it does besides its entry.
        effect: HandedEffect,
    },
}

/// The lease and the queue of a store several front ends share.
pub trait Coordination: Send + Sync + 'static {
    /// Takes the sequencing lease for `holder` if nobody holds it or it expired, for `ttl`;
    /// `None` if another holder's lease is still running.
    fn take_lease(&self, holder: &str, ttl: Duration) -> Result<Option<Lease>>;
    /// Pushes the expiry of `lease` forward by `ttl`; `false` if it is no longer held (someone
    /// took it since).
    fn keep_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool>;
    /// Lets the lease go at once, if still held, so that another front end takes it without
    /// waiting for it to expire.
    fn give_up_lease(&self, lease: &Lease) -> Result<()>;
    /// The current holder, if its lease has not expired.
    fn lease_holder(&self) -> Result<Option<String>>;
    /// From now on every commit through this store checks that `lease` is still held (`None`:
    /// commits are not fenced; only for a store that no other front end uses).
    fn fence(&self, lease: Option<Lease>);
    /// Queues a job for the sequencer; returns its id.
    fn hand_over(&self, job: &HandedJob) -> Result<u64>;
    /// Up to `limit` queued jobs that have no answer, leaving out `skip` (those the sequencer
    /// is working on), oldest first. A job that cannot be read is there as its error, so that
    /// the sequencer answers it instead of meeting it again.
    fn handed_over(&self, skip: &[u64], limit: usize) -> Result<Vec<(u64, Result<HandedJob>)>>;
    /// Answers job `id` (if it has no answer yet): the answer's text (`pipeline/handoff.rs`).
    fn answer(&self, id: u64, answer: &str) -> Result<()>;
    /// The answers of those of `ids` that have one.
    fn answers(&self, ids: &[u64]) -> Result<Vec<(u64, String)>>;
    /// Removes jobs `ids`, answered or not (their front end has its answer, or gave up).
    fn withdraw(&self, ids: &[u64]) -> Result<()>;
    /// Removes the jobs answered longer than `older_than` ago, whose front end went away
    /// before it read the answer; returns how many.
    fn sweep_answered(&self, older_than: Duration) -> Result<u64>;
}
