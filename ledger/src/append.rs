//! The caller's side of an append: prepare (parse, validate, verify signatures,
//! on the caller's thread and all cores), hand the records to the batcher
//! (`batcher.rs` sequences them, `commit.rs` makes them durable), and once they
//! are durable build their receipts, again on the caller's thread.
//!
//! Nothing is acknowledged before [`crate::store::Store::commit`] returned `Ok`
//! for the group that holds the records.

use std::sync::mpsc;

use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::canonical::{decode_signature, is_jcs, jcs_value, signed_message, MAX_BODY_BYTES};
use crate::error::{Error, Result};
use crate::ledger::{lock_poisoned, Shared};
use crate::lookup;
use crate::merkle::Hash;
use crate::note::NoteSigner;
use crate::privacy::Personal;
use crate::receipt::Receipt;
use crate::record::{invalid, Body, Channel, Kind, MessageBody};
use crate::reference::{EntryRef, MessageRef};
use crate::signatures::{all_verify, Check, VERIFY_BATCH};

/// One submitted record: a signed body and its personal part (SPEC.md §12).
///
/// The body is kept as the JSON text it arrived in. Text already in canonical
/// form (what [`crate::submitter::sign_message`] builds, and what a submitter
/// that sends the bytes it signed has at hand) is decoded straight into its
/// record type and is its own canonical bytes; any other form is parsed and
/// canonicalised first, with the same checks and messages.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    pub body: Box<RawValue>,
    pub sig: String,
    /// The personal part as the JSON text it arrived in (SPEC.md §7), like `body`. A message
    /// without one (the member missing, or `null`) is refused as an envelope error naming the
    /// record and `personal`; a `tally` (SPEC.md §3.8) has none.
    #[serde(default)]
    pub personal: Option<Box<RawValue>>,
}

/// One record's text as [`prepare`] reads it: borrowed from a [`Submission`], or from a batch
/// split by [`crate::BatchText`], which has already found its body canonical.
pub(crate) struct RecordText<'a> {
    pub(crate) body: &'a str,
    /// The body is known to be canonical (RFC 8785), so its check is not repeated.
    pub(crate) body_canonical: bool,
    pub(crate) sig: &'a str,
    pub(crate) personal: Option<&'a str>,
}

impl Submission {
    pub(crate) fn text(&self) -> RecordText<'_> {
        RecordText { body: self.body.get(), body_canonical: false, sig: &self.sig, personal: self.personal.as_deref().map(RawValue::get) }
    }
}

/// The acknowledgement of one durable record.
#[derive(Clone, Debug)]
pub struct Ack {
    pub index: u64,
    pub message_id: Option<String>,
    pub duplicate: bool,
    pub why_token: Option<String>,
    pub warnings: Vec<String>,
    pub receipt: Receipt,
    /// For a message: the reference it carries to its entry (SPEC.md §10.2).
    pub reference: Option<MessageRef>,
}

/// The acknowledgement of a whole batch, with the checkpoint its receipts use.
#[derive(Clone, Debug)]
pub struct BatchAck {
    pub checkpoint: String,
    pub acks: Vec<Ack>,
}

/// A durable record whose receipt is still to be built. The batcher hands
/// these back and the caller's thread builds the receipts, so the one batcher
/// thread can start the next group commit at once.
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

/// The batcher's answer to one job: its records and the checkpoint that covers them.
pub(crate) struct Durable {
    pub(crate) checkpoint: String,
    pub(crate) size: u64,
    pub(crate) records: Vec<Settled>,
}

impl Durable {
    /// Builds the receipts: inclusion proofs against the checkpoint's tree size
    /// (the tree only grows, so later commits do not disturb them).
    pub(crate) fn into_ack(self, shared: &Shared) -> Result<BatchAck> {
        let indexes: Vec<u64> = self.records.iter().map(|r| r.index).collect();
        let (proofs, leaves) = {
            let st = shared.state.read().map_err(|_| lock_poisoned())?;
            let leaves: Vec<Option<Hash>> = self.records.iter().map(|r| r.channel.and_then(|_| st.tree.leaf(r.index))).collect();
            (st.tree.inclusion_proofs(&indexes, self.size)?, leaves)
        };
        let origin = &shared.options.origin;
        let acks = self
            .records
            .into_iter()
            .zip(proofs)
            .zip(leaves)
            .map(|((r, proof), leaf)| Ack {
                reference: r
                    .channel
                    .zip(leaf)
                    .map(|(channel, leaf)| MessageRef { channel, entry: EntryRef { origin: origin.clone(), index: r.index, leaf } }),
                index: r.index,
                message_id: r.message_id,
                duplicate: r.duplicate,
                why_token: r.why_link.then(|| shared.secret.why_token(r.index)),
                warnings: r.warnings,
                receipt: Receipt::new(&r.bytes, r.index, &proof, &self.checkpoint),
            })
            .collect();
        Ok(BatchAck { checkpoint: self.checkpoint, acks })
    }
}

/// A record that passed every stateless check and its signature.
pub(crate) struct Prepared {
    /// What the batcher needs of the body (the rest is dropped in the caller's thread).
    pub(crate) message: MessageFields,
    /// The keyed digest of `(signer, message_id)` the lookup index finds it by.
    pub(crate) message_key: lookup::MessageKey,
    pub(crate) body_jcs: Vec<u8>,
    pub(crate) sig: [u8; 64],
    pub(crate) key: VerifyingKey,
    pub(crate) personal_jcs: Vec<u8>,
    pub(crate) handle: [u8; 32],
}

/// The fields of a message the batcher uses: who and which message, and the objection scope.
pub(crate) struct MessageFields {
    pub(crate) signer: String,
    pub(crate) message_id: String,
    /// `sponsor.on_behalf_of`: whom an objection is against.
    pub(crate) advertiser: String,
    /// `delivery.channel`: which carrier its reference takes.
    pub(crate) channel: Channel,
}

impl MessageFields {
    fn of(m: MessageBody) -> Self {
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

pub(crate) enum Job {
    Messages {
        records: Vec<Prepared>,
        reply: mpsc::SyncSender<Result<Durable>>,
    },
    Log {
        body: Value,
        effect: Effect,
        reply: mpsc::SyncSender<Result<Durable>>,
    },
    /// Submitter-signed tallies (SPEC.md §3.8), committed like log records (`tally_append.rs`).
    Tallies {
        records: Vec<crate::tally_append::PreparedTally>,
        reply: mpsc::SyncSender<Result<Durable>>,
    },
}

/// Stateless checks and signature verification, run in the caller's thread. With `only_signer`,
/// a record signed by anyone else is refused (the request was authenticated as that submitter).
pub(crate) fn prepare(shared: &Shared, subs: &[RecordText<'_>], only_signer: Option<&str>) -> Result<Vec<Prepared>> {
    let now = time::OffsetDateTime::now_utc();
    let registry = shared.state.read().map_err(|_| lock_poisoned())?.registry.clone();
    // Each record's signed message is hashed (`Check::new`) in the same pass that checks it:
    // one fan-out to the cores per batch instead of two.
    let (prepared, checks): (Vec<Prepared>, Vec<Check>) = subs
        .par_iter()
        .enumerate()
        .map(|(r, s)| {
            let (message, body_jcs) = submitted_message(s.body, s.body_canonical, r)?;
            if let Some(submitter) = only_signer.filter(|a| *a != message.signer) {
                return Err(Error::ForeignRecord { record: r, signer: message.signer, submitter: submitter.to_string() });
            }
            let served = crate::record::check_time(r, "delivery.served_at", &message.delivery.served_at)?;
            if served > now + time::Duration::minutes(5) {
                return Err(invalid(
                    r,
                    "delivery.served_at",
                    format!("`{}` is in the future; check the submitter's clock", message.delivery.served_at),
                ));
            }
            let sig = decode_signature(s.sig).map_err(|e| invalid(r, "sig", e))?;
            let info = registry.submitters.get(&message.signer).ok_or_else(|| Error::UnknownSubmitter(message.signer.clone()))?;
            for (field, party) in [("sponsor.on_behalf_of", &message.sponsor.on_behalf_of), ("sponsor.payer", &message.sponsor.payer)] {
                if !registry.parties.contains_key(party) {
                    return Err(invalid(
                        r,
                        field,
                        format!("party `{party}` is not registered in this log; ask the log operator to register it first"),
                    ));
                }
            }
            let pv = s.personal.ok_or_else(|| Error::BadBatch {
                record: Some(r),
                field: Some("personal".into()),
                why: "is missing: every message needs its personal part (SPEC.md §7, §12); only a tally has none".into(),
            })?;
            let (personal, personal_jcs) = Personal::parse_for(pv, &message, r)?;
            if body_jcs.len() > MAX_BODY_BYTES {
                return Err(invalid(
                    r,
                    "body",
                    format!(
                        "the record is {} canonical bytes; an entry holds a body of at most {MAX_BODY_BYTES} (SPEC.md §13); shorten its free text, criteria or lineage",
                        body_jcs.len()
                    ),
                ));
            }
            let handle = shared.secret.recipient_handle(&message.signer, &personal.recipient);
            crate::follow_up::check_earlier_entries(shared, &message, &handle, r)?;
            let check = Check::new(&info.key, &sig, &signed_message(&body_jcs));
            let prepared = Prepared {
                personal_jcs,
                handle,
                message_key: shared.secret.message_key(&message.signer, &message.message_id),
                message: MessageFields::of(message),
                body_jcs,
                sig,
                key: info.key,
            };
            Ok((prepared, check))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .unzip();
    verify_signatures(&prepared, checks)?;
    Ok(prepared)
}

/// The message a submitted body holds, checked (SPEC.md §3), and its canonical bytes.
/// `canonical` says the text is already known to be canonical (RFC 8785).
fn submitted_message(text: &str, canonical: bool, r: usize) -> Result<(MessageBody, Vec<u8>)> {
    if canonical || is_jcs(text) {
        if let Ok(message) = serde_json::from_str::<MessageBody>(text) {
            if message.kind == Kind::Message {
                crate::record_rules::validate_message(&message, r)?;
                return Ok((message, text.as_bytes().to_vec()));
            }
        }
    }
    // Anything else takes the general path, which also names what is wrong. A general parser
    // keeps the last of two equal keys, so a repeated key is looked for first (SPEC.md §1).
    if let Some(field) = crate::json_keys::repeated_key(text, usize::MAX) {
        return Err(invalid(r, &field, "is repeated: a JSON object must not repeat a key (SPEC.md §1)"));
    }
    // The request's parser checked the syntax; what can still fail here (a lone surrogate
    // escape, say) is malformed JSON all the same.
    let value: Value =
        serde_json::from_str(text).map_err(|e| Error::malformed("request body", format!("record {r}: the body is not valid JSON: {e}")))?;
    let Body::Message(message) = Body::parse(&value, r)? else {
        return Err(invalid(r, "kind", "submitters may only submit `message` records; registrations are made by the log operator"));
    };
    Ok((*message, jcs_value(&value)?))
}

/// Batch-verifies every signature (`checks[r]` is record `r`'s; all cores, SPEC.md §4); on
/// failure, names the first bad record.
fn verify_signatures(records: &[Prepared], checks: Vec<Check>) -> Result<()> {
    // One batch's worth is verified on this thread: handing it to the pool would only wake a
    // worker for work this thread then waits for.
    let verified = if checks.len() <= VERIFY_BATCH { all_verify(&checks) } else { checks.par_chunks(VERIFY_BATCH).all(all_verify) };
    if verified {
        return Ok(());
    }
    match checks.into_par_iter().position_first(|c| !c.verifies()) {
        None => Ok(()),
        Some(r) => Err(Error::RecordSignature { record: r, signer: records[r].message.signer.clone() }),
    }
}
