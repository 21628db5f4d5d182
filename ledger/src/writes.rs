//! The write API of [`Ledger`]: submitters' batches, and the records the log
//! operator writes (registrations, key rotation, objections, erasures). Every
//! call blocks until its records are durable, then returns their receipts.

use std::sync::mpsc;

use serde_json::Value;

use crate::append::{self, BatchAck, Durable, Effect, Job, RecordText, Submission};
use crate::batch_text::BatchText;
use crate::error::{Error, Result};
use crate::ledger::{Ledger, PersonalState};
use crate::note::NoteSigner;
use crate::privacy::{recipient_commitment, Personal};
use crate::record::{format_time, Kind, ObjectionBody, PartyBody, RecipientRef, SubmitterBody};

fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

impl Ledger {
    /// Queues a job for the batcher, waits until it is durable, then builds its receipts here.
    fn send(&self, job: Job, rx: mpsc::Receiver<Result<Durable>>) -> Result<BatchAck> {
        {
            let jobs = self.jobs.lock().map_err(|_| Error::ShuttingDown)?;
            jobs.as_ref().ok_or(Error::ShuttingDown)?.send(job).map_err(|_| Error::ShuttingDown)?;
        }
        let durable =
            rx.recv().map_err(|_| Error::Storage("the append thread stopped before answering (the server log says why)".into()))??;
        durable.into_ack(&self.shared)
    }

    /// Appends a submitter's batch, all or nothing. Blocks until durable.
    pub fn submit(&self, submissions: Vec<Submission>) -> Result<BatchAck> {
        let texts: Vec<_> = submissions.iter().map(Submission::text).collect();
        self.submit_texts(&texts)
    }

    /// [`Ledger::submit`] for a batch split from its JSON text by [`BatchText::split`]: the
    /// same checks, answers and errors, without parsing the batch into [`Submission`]s first.
    pub fn submit_batch(&self, batch: &BatchText<'_>) -> Result<BatchAck> {
        self.submit_texts(&batch.records)
    }

    fn submit_texts(&self, texts: &[RecordText<'_>]) -> Result<BatchAck> {
        // Tallies (SPEC.md §3.8) take their own path; a batch holds one kind or the other.
        if texts.iter().any(|t| crate::tally::may_be_tally(t.body)) {
            let tallies: Vec<bool> = texts.iter().map(|t| crate::tally::is_tally(t.body)).collect();
            if tallies.iter().all(|&t| t) {
                let records = crate::tally_append::prepare(&self.shared, texts)?;
                let (reply, rx) = mpsc::sync_channel(1);
                return self.send(Job::Tallies { records, reply }, rx);
            }
            if let Some(r) = tallies.iter().position(|&t| t) {
                return Err(crate::record::invalid(
                    r,
                    "kind",
                    "a batch holds either messages or tallies; send the tallies in a batch of their own",
                ));
            }
        }
        let records = append::prepare(&self.shared, texts)?;
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Job::Messages { records, reply }, rx)
    }

    fn append_log(&self, body: Value, effect: Effect) -> Result<BatchAck> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.send(Job::Log { body, effect, reply }, rx)
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
        let reg = self.registry()?;
        if reg.parties.contains_key(party) {
            return Err(crate::record::invalid(
                0,
                "party",
                format!("party `{party}` is already registered (entry {})", reg.parties[party].index),
            ));
        }
        if !["self", crate::record::NOT_DISCLOSED].contains(&ultimately_controlled_by)
            && !reg.parties.contains_key(ultimately_controlled_by)
        {
            return Err(crate::record::invalid(
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
        let body = crate::record::LogKeyBody { kind: Kind::LogKey, signer: "log".into(), vkey: next.vkey(), announced_at: now() };
        self.append_log(to_value(&body)?, Effect::Rotate(Box::new(next)))
    }

    /// The recipient of message `index` objects to further targeting by its sponsor.
    pub fn object(&self, index: u64) -> Result<BatchAck> {
        let (personal, advertiser) = self.message_and_personal(index)?;
        let handle = self.shared.secret.recipient_handle(&personal.recipient);
        let fresh = Personal::new(&personal.recipient, Default::default(), Default::default());
        let salt = fresh.salt_bytes().map_err(|e| Error::Storage(e.into()))?;
        let body = ObjectionBody {
            kind: Kind::Objection,
            signer: "log".into(),
            advertiser: advertiser.clone(),
            recipient: RecipientRef { commitment: recipient_commitment(&salt, &personal.recipient) },
            scope: "all_targeting".into(),
            received_at: now(),
        };
        self.append_log(to_value(&body)?, Effect::Objection { handle, advertiser })
    }

    /// Erases the personal parts of the recipient of message `index`.
    pub fn erase_recipient_of(&self, index: u64, by: &str) -> Result<BatchAck> {
        let (personal, _) = self.message_and_personal(index)?;
        self.erase_recipient(&personal.recipient, by)
    }

    /// Erases every personal part of a recipient (crypto-shredding) and appends
    /// an `erasure` record. The public log is untouched and still verifies.
    pub fn erase_recipient(&self, identifier: &str, by: &str) -> Result<BatchAck> {
        let handle = self.shared.secret.recipient_handle(identifier);
        let count = self.shared.layout.entries(self.shared.store.as_ref(), &handle, self.latest_of(&handle)?)?.len();
        if count == 0 {
            return Err(Error::OutOfRange(
                "this ledger holds no personal data for that recipient (never received a message, or already erased)".into(),
            ));
        }
        let body = crate::record::ErasureBody {
            kind: Kind::Erasure,
            signer: "log".into(),
            by: by.into(),
            records: count as u64,
            requested_at: now(),
        };
        self.append_log(to_value(&body)?, Effect::Erase { handle })
    }

    fn message_and_personal(&self, index: u64) -> Result<(Personal, String)> {
        let bytes = self.entry(index)?.ok_or_else(|| Error::OutOfRange(format!("entry {index} does not exist")))?;
        let entry = crate::canonical::Entry::parse(&bytes)?;
        let advertiser = entry
            .body
            .pointer("/sponsor/on_behalf_of")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::OutOfRange(format!("entry {index} is not a message")))?
            .to_string();
        match self.personal(index)? {
            Some(PersonalState::Present(p)) => Ok((p, advertiser)),
            Some(PersonalState::Erased) => Err(Error::Erased),
            None => Err(Error::OutOfRange(format!("entry {index} has no personal part"))),
        }
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| Error::malformed("record", e.to_string()))
}
