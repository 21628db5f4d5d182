//! Appending tallies (SPEC.md §3.8): a submitter's batch of `tally` records, all or nothing.
//!
//! Tallies are few (one per campaign and day), so they take the path of the log's own records:
//! the sequencer commits a batch of them on its own thread once nothing else is staged, here
//! (they were checked on the caller's thread, `pipeline/prepare.rs`). Each is indexed under a keyed digest of `(signer, "tally <campaign>
//! <day>")` in the message-id index, so a repeated tally is found across restarts exactly like a
//! repeated message id: the same body is acknowledged as a duplicate, another is refused.

use std::collections::HashMap;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::canonical::jcs_value;
use crate::model::entry::Entry;
use crate::model::record::format_time;
use crate::pipeline::handoff::{durable_text, Answered};
use crate::pipeline::jobs::{Durable, PreparedTally, Settled};
use crate::pipeline::state::{check_leaf, Shared};
use crate::privacy::lookup::{self, Change, MessageKey};
use crate::privacy::RecipientKey;
use crate::store::Commit;
use crate::tlog::merkle::leaf_hash;

/// Where an acknowledged tally is: new in this commit, or logged before.
enum Place {
    New(usize),
    Existing(u64),
}

impl Place {
    /// The tally's acknowledgement as a handed-over job's answer holds it, in a commit from `base`.
    fn answered(&self, base: u64) -> Answered {
        let (index, duplicate) = match self {
            Place::New(i) => (base + *i as u64, false),
            Place::Existing(index) => (*index, true),
        };
        Answered { index, message_id: None, duplicate, warnings: Vec::new(), why_link: false, channel: None }
    }
}

/// Appends a batch of prepared tallies in one commit. Runs on the sequencer's thread once
/// nothing is staged, so the tree's size is the published size.
pub(crate) fn append(shared: &Shared, tallies: Vec<PreparedTally>, handoff: Option<u64>) -> Result<Durable> {
    let (epoch, base, mut prev, registry) = {
        let st = shared.read()?;
        (st.epoch, st.size, st.edge.last_leaf().unwrap_or([0; 32]), std::sync::Arc::clone(&st.registry))
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
        let logged = shared.lookup.message(&t.unique)?;
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
    let answered = handoff.is_some() && !entries.is_empty();
    let stored = if entries.is_empty() {
        Vec::new()
    } else {
        let started = Instant::now();
        let (checkpoint, tiles, growth) = shared.extend_and_sign(epoch, base, &leaves, None)?;
        let size = base + entries.len() as u64;
        // A handed-over job is answered in the commit of its entries (`pipeline/handoff.rs`).
        let answers = handoff
            .map(|id| {
                let records = places.iter().map(|p| p.answered(base)).collect();
                (id, durable_text(&checkpoint, size, records))
            })
            .into_iter()
            .collect();
        let commit =
            Commit { size, checkpoint, entries: (base..).zip(entries).collect(), lookup: lookups, tiles, answers, ..Commit::default() };
        shared.store_and_publish(commit, change, growth, started.elapsed().as_micros() as u64)?
    };
    let st = shared.read()?;
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
    Ok(Durable { checkpoint: st.checkpoint.clone(), size: st.size, records, answered })
}

/// A published entry's bytes, checked against its leaf.
fn checked_entry(shared: &Shared, index: u64) -> Result<Vec<u8>> {
    let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is indexed but missing")))?;
    check_leaf(index, &stored, &shared.tree()?.leaf(index)?)?;
    Ok(stored)
}

/// The canonical body of a logged entry.
fn logged_body(shared: &Shared, index: u64) -> Result<Vec<u8>> {
    let entry = Entry::parse_logged(&checked_entry(shared, index)?)?;
    jcs_value(&entry.body)
}
