//! Jobs that cross the database between front ends (SPEC.md §12.2): a front end that does not
//! sequence checks a batch on its own cores and hands the result to the one that does, as a
//! [`HandedJob`]; the sequencer turns it back into a [`Job`] of its own pipeline and answers it
//! with the text [`answer_text`] writes, which the first front end reads back with
//! [`read_answer`] and turns into receipts once its copy of the log has caught up.
//!
//! An answer says what the caller would have got from a pipeline of its own: the checkpoint,
//! and per record its entry, whether it was in the log already and its warnings; or the refusal
//! (a reused message id, a re-keyed submitter…). A failure that passes by itself (the database,
//! a lost lease) is never an answer: the job stays queued for whoever sequences next.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::record::Channel;
use crate::model::tally::TallyBody;
use crate::pipeline::jobs::{Durable, Effect, Job, MessageFields, Prepared, PreparedTally, Reply, Settled};
use crate::store::{HandedEffect, HandedJob, HandedMessage, HandedRecord};

/// A job of this front end's pipeline as the sequencer gets it; `None` for one that does not
/// cross (a key rotation: the new key never leaves the front end that has it).
pub(crate) fn to_handed(job: Job) -> Option<HandedJob> {
    match job {
        Job::Messages { records, .. } => Some(HandedJob::Messages(records.into_iter().map(handed_message).collect())),
        Job::Tallies { records, .. } => Some(HandedJob::Tallies(records.into_iter().map(handed_tally).collect())),
        Job::Log { body, effect, .. } => {
            let effect = match effect {
                Effect::Registry => HandedEffect::Registry,
                Effect::Objection { handle, advertiser } => HandedEffect::Objection { handle, advertiser },
                Effect::Erase { handles } => HandedEffect::Erase { handles },
                Effect::Rotate(_) => return None,
            };
            Some(HandedJob::Log { body: body.to_string(), effect })
        }
        Job::Barrier(_) | Job::Rows { .. } => None,
    }
}

fn handed_message(p: Prepared) -> HandedRecord {
    let MessageFields { signer, message_id, advertiser, channel } = p.message;
    HandedRecord {
        body: p.body_jcs,
        sig: p.sig,
        key: p.key.to_bytes(),
        message_key: p.message_key,
        personal: Some((p.personal_jcs, p.handle)),
        message: Some(HandedMessage { signer, message_id, advertiser, channel }),
    }
}

fn handed_tally(t: PreparedTally) -> HandedRecord {
    HandedRecord { body: t.body_jcs, sig: t.sig, key: t.key.to_bytes(), message_key: t.unique, personal: None, message: None }
}

fn unreadable(what: &str) -> Error {
    Error::Corrupt(format!("a job handed over by another front end cannot be read: {what}"))
}

/// The job of the sequencer's own pipeline that a handed-over job is, answered through `reply`
/// and, with its entries, answered as job `id` in the store.
pub(crate) fn from_handed(job: HandedJob, id: u64, reply: Reply) -> Result<Job> {
    let handoff = Some(id);
    Ok(match job {
        HandedJob::Messages(records) => {
            Job::Messages { records: records.into_iter().map(prepared_message).collect::<Result<_>>()?, reply, handoff }
        }
        HandedJob::Tallies(records) => {
            Job::Tallies { records: records.into_iter().map(prepared_tally).collect::<Result<_>>()?, reply, handoff }
        }
        HandedJob::Log { body, effect } => {
            let body: Value = serde_json::from_str(&body).map_err(|e| unreadable(&format!("a log record's body is not JSON ({e})")))?;
            let effect = match effect {
                HandedEffect::Registry => Effect::Registry,
                HandedEffect::Objection { handle, advertiser } => Effect::Objection { handle, advertiser },
                HandedEffect::Erase { handles } => Effect::Erase { handles },
            };
            Job::Log { body, effect, reply, handoff }
        }
    })
}

fn key(bytes: &[u8; 32]) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(bytes).map_err(|_| unreadable("a submitter key is not an Ed25519 key"))
}

fn prepared_message(r: HandedRecord) -> Result<Prepared> {
    let (Some((personal_jcs, handle)), Some(m)) = (r.personal, r.message) else {
        return Err(unreadable("a message has no personal part or no message fields"));
    };
    Ok(Prepared {
        message: MessageFields { signer: m.signer, message_id: m.message_id, advertiser: m.advertiser, channel: m.channel },
        message_key: r.message_key,
        key: key(&r.key)?,
        body_jcs: r.body,
        sig: r.sig,
        personal_jcs,
        handle,
    })
}

fn prepared_tally(r: HandedRecord) -> Result<PreparedTally> {
    let body: TallyBody = serde_json::from_slice(&r.body).map_err(|e| unreadable(&format!("a tally's body ({e})")))?;
    Ok(PreparedTally { body, key: key(&r.key)?, body_jcs: r.body, sig: r.sig, unique: r.message_key })
}

/// An answer as stored: what the caller gets, or why not.
#[derive(Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
enum AnswerText {
    Durable { checkpoint: String, size: u64, records: Vec<Answered> },
    Refused(Refusal),
}

/// One acknowledged record of an answer: a [`Settled`] without its entry's bytes, which the
/// caller reads from the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Answered {
    pub(crate) index: u64,
    pub(crate) message_id: Option<String>,
    pub(crate) duplicate: bool,
    pub(crate) warnings: Vec<String>,
    pub(crate) why_link: bool,
    pub(crate) channel: Option<Channel>,
}

impl Answered {
    pub(crate) fn of(s: &Settled) -> Answered {
        Answered {
            index: s.index,
            message_id: s.message_id.clone(),
            duplicate: s.duplicate,
            warnings: s.warnings.clone(),
            why_link: s.why_link,
            channel: s.channel,
        }
    }

    /// The settled record, with its entry's bytes.
    pub(crate) fn settled(self, bytes: Vec<u8>) -> Settled {
        Settled {
            index: self.index,
            message_id: self.message_id,
            duplicate: self.duplicate,
            warnings: self.warnings,
            bytes,
            why_link: self.why_link,
            channel: self.channel,
        }
    }
}

/// The refusals a sequencer can answer with, each the [`Error`] it stands for.
#[derive(Serialize, Deserialize)]
#[serde(tag = "refusal", rename_all = "snake_case")]
enum Refusal {
    InvalidRecord { record: usize, field: String, why: String },
    BadBatch { record: Option<usize>, field: Option<String>, why: String },
    RecordSignature { record: usize, signer: String },
    BadSignature { why: String },
    PartyExists { party: String, index: u64 },
    UnknownSubmitter { submitter: String },
    ForeignRecord { record: usize, signer: String, submitter: String },
    MessageIdReused { record: usize, submitter: String, message_id: String, index: u64 },
    TallyRepeated { record: usize, submitter: String, campaign: String, day: String, index: u64 },
    OutOfRange { why: String },
    BadProof { why: String },
    Erased,
    NotTheRecipient,
}

impl Refusal {
    /// The refusal `e` is; `None` for a failure that passes by itself, which is no answer.
    fn of(e: &Error) -> Option<Refusal> {
        Some(match e.clone() {
            Error::InvalidRecord { record, field, why } => Refusal::InvalidRecord { record, field, why },
            Error::BadBatch { record, field, why } => Refusal::BadBatch { record, field, why },
            Error::Malformed { .. } => Refusal::BadBatch { record: None, field: None, why: e.to_string() },
            Error::RecordSignature { record, signer } => Refusal::RecordSignature { record, signer },
            Error::BadSignature(why) => Refusal::BadSignature { why },
            Error::PartyExists { party, index } => Refusal::PartyExists { party, index },
            Error::UnknownSubmitter(submitter) => Refusal::UnknownSubmitter { submitter },
            Error::ForeignRecord { record, signer, submitter } => Refusal::ForeignRecord { record, signer, submitter },
            Error::MessageIdReused { record, submitter, message_id, index } => {
                Refusal::MessageIdReused { record, submitter, message_id, index }
            }
            Error::TallyRepeated { record, submitter, campaign, day, index } => {
                Refusal::TallyRepeated { record, submitter, campaign, day, index }
            }
            Error::OutOfRange(why) => Refusal::OutOfRange { why },
            Error::BadProof(why) => Refusal::BadProof { why },
            Error::Erased => Refusal::Erased,
            Error::NotTheRecipient => Refusal::NotTheRecipient,
            Error::Storage(_) | Error::Unavailable(_) | Error::Corrupt(_) | Error::ShuttingDown => return None,
        })
    }

    fn error(self) -> Error {
        match self {
            Refusal::InvalidRecord { record, field, why } => Error::InvalidRecord { record, field, why },
            Refusal::BadBatch { record, field, why } => Error::BadBatch { record, field, why },
            Refusal::RecordSignature { record, signer } => Error::RecordSignature { record, signer },
            Refusal::BadSignature { why } => Error::BadSignature(why),
            Refusal::PartyExists { party, index } => Error::PartyExists { party, index },
            Refusal::UnknownSubmitter { submitter } => Error::UnknownSubmitter(submitter),
            Refusal::ForeignRecord { record, signer, submitter } => Error::ForeignRecord { record, signer, submitter },
            Refusal::MessageIdReused { record, submitter, message_id, index } => {
                Error::MessageIdReused { record, submitter, message_id, index }
            }
            Refusal::TallyRepeated { record, submitter, campaign, day, index } => {
                Error::TallyRepeated { record, submitter, campaign, day, index }
            }
            Refusal::OutOfRange { why } => Error::OutOfRange(why),
            Refusal::BadProof { why } => Error::BadProof(why),
            Refusal::Erased => Error::Erased,
            Refusal::NotTheRecipient => Error::NotTheRecipient,
        }
    }
}

/// The answer to a handed-over job whose records are durable at `size`, under `checkpoint`.
pub(crate) fn durable_text(checkpoint: &str, size: u64, records: Vec<Answered>) -> String {
    let answer = AnswerText::Durable { checkpoint: checkpoint.to_string(), size, records };
    // A value of plain strings, numbers and lists always serializes.
    serde_json::to_string(&answer).unwrap_or_default()
}

/// The answer to a job given what the pipeline replied; `None` when the reply is a failure
/// that passes by itself (the job stays queued for the next try).
pub(crate) fn answer_text(reply: &Result<Durable>) -> Option<String> {
    match reply {
        Ok(d) => Some(durable_text(&d.checkpoint, d.size, d.records.iter().map(Answered::of).collect())),
        Err(e) => Refusal::of(e).map(|r| serde_json::to_string(&AnswerText::Refused(r)).unwrap_or_default()),
    }
}

/// What an answer says: the checkpoint, size and records, or the refusal.
pub(crate) fn read_answer(text: &str) -> Result<(String, u64, Vec<Answered>)> {
    match serde_json::from_str(text) {
        Ok(AnswerText::Durable { checkpoint, size, records }) => Ok((checkpoint, size, records)),
        Ok(AnswerText::Refused(r)) => Err(r.error()),
        Err(e) => Err(Error::Corrupt(format!("the sequencer's answer to a handed-over job cannot be read ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_reads_back_as_the_error_it_was_and_passing_failures_are_no_answer() {
        let refusals = [
            Error::InvalidRecord { record: 3, field: "delivery.channel".into(), why: "is unknown".into() },
            Error::MessageIdReused { record: 1, submitter: "acme".into(), message_id: "m-1".into(), index: 40 },
            Error::TallyRepeated { record: 0, submitter: "acme".into(), campaign: "c".into(), day: "2026-12-01".into(), index: 9 },
            Error::BadSignature("submitter `acme` was re-keyed".into()),
            Error::PartyExists { party: "p".into(), index: 2 },
            Error::Erased,
            Error::NotTheRecipient,
        ];
        for e in refusals {
            let text = answer_text(&Err(e.clone())).expect("a refusal is an answer");
            let back = read_answer(&text).expect_err("a refusal reads back as an error");
            assert_eq!(back.to_string(), e.to_string());
        }
        for passing in [Error::Storage("disk".into()), Error::Unavailable("lease".into()), Error::ShuttingDown] {
            assert!(answer_text(&Err(passing)).is_none(), "a failure that passes by itself is answered");
        }
    }

    #[test]
    fn a_durable_answer_reads_back_without_the_entries_bytes() {
        let record = Answered {
            index: 7,
            message_id: Some("m-7".into()),
            duplicate: true,
            warnings: vec!["objected".into()],
            why_link: true,
            channel: Some(Channel::Email),
        };
        let durable =
            Durable { checkpoint: "cp\n".into(), size: 9, records: vec![record.clone().settled(b"entry".to_vec())], answered: false };
        let (checkpoint, size, records) = read_answer(&answer_text(&Ok(durable)).expect("an answer")).expect("it reads back");
        assert_eq!((checkpoint.as_str(), size, records), ("cp\n", 9, vec![record]));
    }
}
