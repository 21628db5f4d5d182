//! Appending tallies (SPEC.md §3.8): a submitter's batch of `tally` records, all or nothing.
//!
//! Tallies are few (one per campaign and day), so they take the path of the log's own records:
//! the sequencer commits a batch of them on its own once nothing else is staged
//! (`batcher.rs`), here. Each is indexed under a keyed digest of `(signer, "tally <campaign>
//! <day>")` in the message-id index, so a repeated tally is found across restarts exactly like a
//! repeated message id: the same body is acknowledged as a duplicate, another is refused.

use std::collections::HashMap;
use std::time::Instant;

use ed25519_dalek::VerifyingKey;
use serde_json::Value;

use crate::append::{Durable, RecordText, Settled};
use crate::canonical::{decode_signature, is_jcs, jcs_value, signed_message, Entry, MAX_BODY_BYTES};
use crate::commit::{extend_and_sign, store_and_publish};
use crate::error::{Error, Result};
use crate::ledger::{check_leaf, lock_poisoned, Shared};
use crate::lookup::{self, Change, MessageKey};
use crate::merkle::leaf_hash;
use crate::privacy::RecipientKey;
use crate::record::{format_time, invalid, Body};
use crate::signatures::Check;
use crate::store::Commit;
use crate::tally::TallyBody;

/// A tally that passed its rules and its signature.
pub(crate) struct PreparedTally {
    pub(crate) body: TallyBody,
    pub(crate) body_jcs: Vec<u8>,
    pub(crate) sig: [u8; 64],
    pub(crate) key: VerifyingKey,
    pub(crate) unique: MessageKey,
}

/// Checks each record of a tally batch: its rules, its submitter, its signature.
/// Checks each tally of a batch and its signature, in the caller's thread. With `only_signer`, a
/// tally signed by anyone else is refused (the request was authenticated as that submitter).
pub(crate) fn prepare(shared: &Shared, texts: &[RecordText<'_>], only_signer: Option<&str>) -> Result<Vec<PreparedTally>> {
    let registry = shared.state.read().map_err(|_| lock_poisoned())?.registry.clone();
    texts
        .iter()
        .enumerate()
        .map(|(r, t)| {
            // serde keeps the last of two equal keys: a repeated key is looked for first (SPEC.md §1).
            if let Some(field) = crate::json_keys::repeated_key(t.body, usize::MAX) {
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

/// Where an acknowledged tally is: new in this commit, or logged before.
enum Place {
    New(usize),
    Existing(u64),
}

/// Appends a batch of prepared tallies in one commit. Runs on the sequencer's thread once
/// nothing is staged, so the tree's size is the published size.
pub(crate) fn append(shared: &Shared, tallies: Vec<PreparedTally>) -> Result<Durable> {
    let (epoch, base, mut prev, registry) = {
        let st = shared.state.read().map_err(|_| lock_poisoned())?;
        (st.epoch, st.size, st.tree.leaf(st.size.wrapping_sub(1)).unwrap_or([0; 32]), std::sync::Arc::clone(&st.registry))
    };
    let logged_at = format_time(time::OffsetDateTime::now_utc());
    let (mut entries, mut leaves, mut lookups, mut places) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut change = Change::default();
    let mut local: HashMap<MessageKey, (usize, &[u8])> = HashMap::new();
    for (r, t) in tallies.iter().enumerate() {
        let repeated = |index| Error::TallyRepeated {
            record: r,
            submitter: t.body.signer.clone(),
            campaign: t.body.campaign_id.clone(),
            day: t.body.day.clone(),
            index,
        };
        if registry.submitters.get(&t.body.signer).map(|s| s.key) != Some(t.key) {
            return Err(Error::BadSignature(format!(
                "record {r}: submitter `{}` was re-keyed while this batch was in flight; sign again with the new key",
                t.body.signer
            )));
        }
        if let Some((pos, body)) = local.get(&t.unique) {
            if *body != t.body_jcs.as_slice() {
                return Err(repeated(base + *pos as u64));
            }
            places.push(Place::New(*pos));
            continue;
        }
        let logged = shared.state.read().map_err(|_| lock_poisoned())?.lookup.message(&t.unique);
        if let Some(index) = logged {
            if logged_body(shared, index)? != t.body_jcs {
                return Err(repeated(index));
            }
            places.push(Place::Existing(index));
            continue;
        }
        let index = base + entries.len() as u64;
        let bytes = Entry::encode(index, &prev, &logged_at, &[], &t.body_jcs, &t.sig)?;
        prev = leaf_hash(&bytes);
        local.insert(t.unique, (entries.len(), t.body_jcs.as_slice()));
        lookups.push(lookup::record(&t.unique, &[0; 32], &RecipientKey([0; 32])));
        change.messages.push((t.unique, index));
        places.push(Place::New(entries.len()));
        leaves.push(prev);
        entries.push(bytes);
    }
    let stored = if entries.is_empty() {
        Vec::new()
    } else {
        let started = Instant::now();
        let (checkpoint, tiles) = extend_and_sign(shared, epoch, base, &leaves, None)?;
        let size = base + entries.len() as u64;
        let commit = Commit { size, checkpoint, entries: (base..).zip(entries).collect(), lookup: lookups, tiles, ..Commit::default() };
        store_and_publish(shared, commit, change, started.elapsed().as_micros() as u64)?
    };
    let st = shared.state.read().map_err(|_| lock_poisoned())?;
    let records = places
        .into_iter()
        .map(|place| {
            let (index, duplicate, bytes) = match place {
                Place::New(i) => {
                    let bytes = stored
                        .get(i)
                        .cloned()
                        .ok_or_else(|| Error::Corrupt(format!("entry {} is missing after its commit", base + i as u64)))?;
                    (base + i as u64, false, bytes)
                }
                Place::Existing(index) => (index, true, checked_entry(shared, index)?),
            };
            Ok(Settled { index, message_id: None, duplicate, warnings: Vec::new(), bytes, why_link: false, channel: None })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Durable { checkpoint: st.checkpoint.clone(), size: st.size, records })
}

/// A published entry's bytes, checked against its leaf.
fn checked_entry(shared: &Shared, index: u64) -> Result<Vec<u8>> {
    let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is indexed but missing")))?;
    let leaf = shared.state.read().map_err(|_| lock_poisoned())?.tree.leaf(index);
    let leaf = leaf.ok_or_else(|| Error::Corrupt(format!("entry {index} is not in the tree")))?;
    check_leaf(index, &stored, &leaf)?;
    Ok(stored)
}

/// The canonical body of a logged entry.
fn logged_body(shared: &Shared, index: u64) -> Result<Vec<u8>> {
    let entry = Entry::parse_logged(&checked_entry(shared, index)?)?;
    jcs_value(&entry.body)
}
