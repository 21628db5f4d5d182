//! The caller's side of a write, before anything is queued: every check that needs no log
//! state beyond the registry (the rules of SPEC.md §3, the submitter, the parties, the personal
//! part and its commitments) and the signatures, on the caller's thread and all cores. What
//! passes goes to the sequencer as a [`Job`](crate::pipeline::jobs::Job).

use rayon::prelude::*;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::canonical::{decode_signature, is_jcs, jcs_value, signed_message};
use crate::model::entry::MAX_BODY_BYTES;
use crate::model::json_keys::repeated_key;
use crate::model::record::{check_time, invalid, Body, Kind, MessageBody};
use crate::model::rules::validate_message;
use crate::model::signatures::{all_verify, Check, VERIFY_BATCH};
use crate::pipeline::jobs::{MessageFields, Prepared, PreparedTally};
use crate::pipeline::state::Shared;
use crate::pipeline::submission::RecordText;
use crate::privacy::Personal;

/// The checks of a batch of messages and their signatures, run in the caller's thread. With `only_signer`,
/// a record signed by anyone else is refused (the request was authenticated as that submitter).
pub(crate) fn prepare(shared: &Shared, subs: &[RecordText<'_>], only_signer: Option<&str>) -> Result<Vec<Prepared>> {
    let now = time::OffsetDateTime::now_utc();
    let registry = shared.read()?.registry.clone();
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
            let served = check_time(r, "delivery.served_at", &message.delivery.served_at)?;
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
            crate::pipeline::follow_up::check_earlier_entries(shared, &message, &handle, r)?;
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
                validate_message(&message, r)?;
                return Ok((message, text.as_bytes().to_vec()));
            }
        }
    }
    // Anything else takes the general path, which also names what is wrong. A general parser
    // keeps the last of two equal keys, so a repeated key is looked for first (SPEC.md §1).
    if let Some(field) = repeated_key(text, usize::MAX) {
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

/// Checks each tally of a batch (its rules, its submitter) and its signature, in the caller's thread. With `only_signer`, a
/// tally signed by anyone else is refused (the request was authenticated as that submitter).
pub(crate) fn prepare_tallies(shared: &Shared, texts: &[RecordText<'_>], only_signer: Option<&str>) -> Result<Vec<PreparedTally>> {
    let registry = shared.read()?.registry.clone();
    texts
        .iter()
        .enumerate()
        .map(|(r, t)| {
            // serde keeps the last of two equal keys: a repeated key is looked for first (SPEC.md §1).
            if let Some(field) = repeated_key(t.body, usize::MAX) {
                return Err(invalid(r, &field, "is repeated: a JSON object must not repeat a key (SPEC.md §1)"));
            }
            let value: Value = serde_json::from_str(t.body)
                .map_err(|e| Error::malformed("request body", format!("record {r}: the body is not valid JSON: {e}")))?;
            let Body::Tally(body) = Body::parse(&value, r)? else {
                return Err(invalid(r, "kind", "a batch holds either messages or tallies; send the tallies in a batch of their own"));
            };
            if let Some(submitter) = only_signer.filter(|a| *a != body.signer) {
                return Err(Error::ForeignRecord { record: r, signer: body.signer, submitter: submitter.to_string() });
            }
            if t.personal.is_some() {
                return Err(invalid(r, "personal", "a tally counts messages and names nobody: it has no personal part"));
            }
            let body_jcs = if t.body_canonical || is_jcs(t.body) { t.body.as_bytes().to_vec() } else { jcs_value(&value)? };
            if body_jcs.len() > MAX_BODY_BYTES {
                return Err(invalid(
                    r,
                    "body",
                    format!("the tally is {} canonical bytes, over {MAX_BODY_BYTES} (SPEC.md §13)", body_jcs.len()),
                ));
            }
            let sig = decode_signature(t.sig).map_err(|e| invalid(r, "sig", e))?;
            let info = registry.submitters.get(&body.signer).ok_or_else(|| Error::UnknownSubmitter(body.signer.clone()))?;
            if !Check::new(&info.key, &sig, &signed_message(&body_jcs)).verifies() {
                return Err(Error::RecordSignature { record: r, signer: body.signer });
            }
            let unique = shared.secret.message_key(&body.signer, &body.unique_id());
            Ok(PreparedTally { body, body_jcs, sig, key: info.key, unique })
        })
        .collect()
}
