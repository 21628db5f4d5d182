//! The write API of [`Ledger`]: submitters' batches, and the records the log
//! operator writes (registrations, key rotation). Objections and erasures, which a
//! recipient asks for, are in `rights.rs`. Every call checks its records on the caller's
//! thread (`pipeline/prepare.rs`), queues them for the sequencer, blocks until they are
//! durable, then builds their receipts here (`pipeline/receipts.rs`).

use std::sync::mpsc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::model::record::{format_time, invalid, Kind, LogKeyBody, PartyBody, SubmitterBody, NOT_DISCLOSED};
use crate::model::tally::{is_tally, may_be_tally};
use crate::pipeline::jobs::{Durable, Effect, Job};
use crate::pipeline::prepare::{prepare, prepare_tallies};
use crate::pipeline::receipts::BatchAck;
use crate::pipeline::submission::{BatchText, RecordText, Submission};
use crate::tlog::note::NoteSigner;

pub(crate) fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

impl Ledger {
    /// Queues a job for the sequencer (this front end's, or the one another front end runs on a
    /// shared store), waits until it is durable, then builds its receipts here.
    fn send(&self, job: Job, rx: mpsc::Receiver<Result<Durable>>) -> Result<BatchAck> {
        let durable = self.sequence(job, |job| {
            {
                let jobs = self.jobs.lock().map_err(|_| Error::ShuttingDown)?;
                jobs.as_ref().ok_or(Error::ShuttingDown)?.send(job).map_err(|_| Error::ShuttingDown)?;
            }
            rx.recv().map_err(|_| Error::Storage("the append thread stopped before answering (the server log says why)".into()))?
        })?;
        durable.into_ack(&self.shared)
    }

    /// Appends a batch of records of any registered submitters, all or nothing. Blocks until
    /// durable. For a trusted caller (import, demo); a request authenticated as one submitter
    /// goes to [`Ledger::submit_as`].
    pub fn submit(&self, submissions: Vec<Submission>) -> Result<BatchAck> {
        let texts: Vec<_> = submissions.iter().map(Submission::text).collect();
        self.submit_texts(&texts, None)
    }

    /// [`Ledger::submit`] for a batch split from its JSON text by [`BatchText::split`]: the
    /// same checks, answers and errors, without parsing the batch into [`Submission`]s first.
    pub fn submit_batch(&self, batch: &BatchText<'_>) -> Result<BatchAck> {
        self.submit_texts(&batch.records, None)
    }

    /// [`Ledger::submit`] for a request authenticated as `submitter` (SPEC.md §12): a record
    /// whose `body.signer` is anyone else sinks the batch (`Error::ForeignRecord`).
    pub fn submit_as(&self, submitter: &str, submissions: Vec<Submission>) -> Result<BatchAck> {
        let texts: Vec<_> = submissions.iter().map(Submission::text).collect();
        self.submit_texts(&texts, Some(submitter))
    }

    /// [`Ledger::submit_batch`] for a request authenticated as `submitter`, as [`Ledger::submit_as`].
    pub fn submit_batch_as(&self, submitter: &str, batch: &BatchText<'_>) -> Result<BatchAck> {
        self.submit_texts(&batch.records, Some(submitter))
    }

    fn submit_texts(&self, texts: &[RecordText<'_>], only_signer: Option<&str>) -> Result<BatchAck> {
        // Tallies (SPEC.md §3.8) take their own path; a batch holds one kind or the other.
        if texts.iter().any(|t| may_be_tally(t.body)) {
            let tallies: Vec<bool> = texts.iter().map(|t| is_tally(t.body)).collect();
            if tallies.iter().all(|&t| t) {
                let records =
                    self.fresh(|| prepare_tallies(&self.shared, texts, only_signer), |r| matches!(r, Err(Error::UnknownSubmitter(_))))?;
                let (reply, rx) = mpsc::sync_channel(1);
                return self.send(Job::Tallies { records, reply, handoff: None }, rx);
            }
            if let Some(r) = tallies.iter().position(|&t| t) {
                return Err(invalid(r, "kind", "a batch holds either messages or tallies; send the tallies in a batch of their own"));
            }
        }
        // A submitter or party another front end of a shared log registered a moment ago, or
        // the earlier message a follow-up names, appended through another front end.
        let unregistered = |r: &Result<_>| {
            matches!(r, Err(Error::UnknownSubmitter(_)))
                || matches!(r, Err(Error::InvalidRecord { field, .. }) if field.starts_with("sponsor.") || field.ends_with("].entry"))
        };
        let records = self.fresh(|| prepare(&self.shared, texts, only_signer), unregistered)?;
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Job::Messages { records, reply, handoff: None }, rx)
    }

    pub(crate) fn append_log(&self, body: Value, effect: Effect) -> Result<BatchAck> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Job::Log { body, effect, reply, handoff: None }, rx)
    }

    /// Registers (or re-keys) a submitter (SPEC.md §3.2).
    pub fn register_submitter(&self, submitter: &str, name: &str, contact: &str, public_key: &str) -> Result<BatchAck> {
        let body = SubmitterBody {
            kind: Kind::Submitter,
            signer: "log".into(),
            submitter: submitter.into(),
            name: name.into(),
            contact: contact.into(),
            public_key: public_key.into(),
            registered_at: now(),
        };
        self.append_log(to_value(&body)?, Effect::Registry)
    }

    /// Registers a party: sponsor, payer or controlling entity (SPEC.md §3.3).
    pub fn register_party(
        &self,
        party: &str,
        name: &str,
        contact: &str,
        established_in: &str,
        ultimately_controlled_by: &str,
    ) -> Result<BatchAck> {
        // A party another front end of a shared log registered a moment ago counts too.
        let missing = |r: &Result<std::sync::Arc<crate::model::registry::Registry>>| {
            r.as_ref().is_ok_and(|reg| {
                !reg.parties.contains_key(party)
                    || !(["self", NOT_DISCLOSED].contains(&ultimately_controlled_by) || reg.parties.contains_key(ultimately_controlled_by))
            })
        };
        let reg = self.fresh(|| self.registry(), missing)?;
        if let Some(earlier) = reg.parties.get(party) {
            return Err(Error::PartyExists { party: party.to_string(), index: earlier.index });
        }
        if !["self", NOT_DISCLOSED].contains(&ultimately_controlled_by) && !reg.parties.contains_key(ultimately_controlled_by) {
            return Err(invalid(
                0,
                "ultimately_controlled_by",
                format!("party `{ultimately_controlled_by}` is not registered; register it first, or say \"self\" or \"not_disclosed\""),
            ));
        }
        let body = PartyBody {
            kind: Kind::Party,
            signer: "log".into(),
            party: party.into(),
            name: name.into(),
            contact: contact.into(),
            established_in: established_in.into(),
            ultimately_controlled_by: ultimately_controlled_by.into(),
        };
        self.append_log(to_value(&body)?, Effect::Registry)
    }

    /// Rotates the log key: appends a `log_key` entry signed by the current key
    /// announcing `next`, then signs with `next` (SPEC.md §8).
    pub fn rotate_log_key(&self, next: NoteSigner) -> Result<BatchAck> {
        if next.name() != self.origin() {
            return Err(Error::malformed("log key", format!("the new key must be named after the origin `{}`", self.origin())));
        }
        let body = LogKeyBody { kind: Kind::LogKey, signer: "log".into(), vkey: next.vkey(), announced_at: now() };
        self.append_log(to_value(&body)?, Effect::Rotate(Box::new(next)))
    }
}

pub(crate) fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::malformed("record", e.to_string()))
}
