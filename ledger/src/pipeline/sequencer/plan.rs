//! Planning a group of messages, on the sequencer's thread: everything but the durable write
//! (see the module docs of `sequencer/`). One short look at the published state, then each
//! caller's records deduplicated, flagged, chained, sealed and put in the tree.

use std::collections::VecDeque;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::canonical::jcs_value;
use crate::model::entry::Entry;
use crate::model::record::format_time;
use crate::model::registry::Registry;
use crate::pipeline::group::{Group, Planned, Slot};
use crate::pipeline::jobs::{Prepared, Waiting};
use crate::pipeline::state::{check_leaf, lock_poisoned, Shared};
use crate::privacy::lookup::{self, DigestMap, Handle, MessageKey, Recipient};
use crate::privacy::recipients;
use crate::privacy::RecipientKey;
use crate::store::{keys, Space};
use crate::tlog::merkle::{leaf_hash, Hash};

/// What the sequencer has staged and the committer not yet published: planning treats it as
/// part of the log.
#[derive(Default)]
pub(super) struct InFlight {
    /// The state's epoch this was built in (see `State::epoch`).
    epoch: u64,
    /// Staged messages: their entry and canonical body.
    messages: DigestMap<MessageKey, (u64, Vec<u8>)>,
    /// Recipients of staged messages: their key and latest staged entry.
    recipients: DigestMap<Handle, Recipient>,
    /// Per staged group, in order: where it ends and what it added.
    groups: VecDeque<(u64, Vec<MessageKey>, Vec<Handle>)>,
}

impl InFlight {
    /// Forgets what the committer has published since (the log's indexes hold it now), or
    /// everything if a commit failed since.
    fn sync(&mut self, epoch: u64, published: u64) {
        if epoch != self.epoch {
            *self = InFlight { epoch, ..InFlight::default() };
            return;
        }
        while self.groups.front().is_some_and(|(end, _, _)| *end <= published) {
            let Some((end, messages, handles)) = self.groups.pop_front() else { break };
            for m in messages {
                self.messages.remove(&m);
            }
            for h in handles {
                if self.recipients.get(&h).is_some_and(|r| r.last < end) {
                    self.recipients.remove(&h);
                }
            }
        }
    }
}

/// What the published log knows of one record, read in one short look at the state.
struct Known {
    /// An acknowledged entry with the same message key, and its leaf.
    message: Option<(u64, Hash)>,
    recipient: Option<Recipient>,
}

/// Sequences a group: everything but the durable write. On failure, the jobs to fail.
pub(super) fn plan(shared: &Shared, flight: &mut InFlight, jobs: Vec<Waiting>) -> std::result::Result<Box<Group>, (Error, Vec<Planned>)> {
    // One short look at the state: the committer needs the write lock to publish.
    let snapshot = (|| -> Result<_> {
        let st = shared.read()?;
        flight.sync(st.epoch, st.size);
        let base = st.edge.size();
        let prev = st.edge.last_leaf().unwrap_or([0; 32]);
        let tree = shared.tiles.view(std::sync::Arc::clone(&st.published));
        let registry = std::sync::Arc::clone(&st.registry);
        drop(st);
        // The group's rows, read at once once the state is free: whatever the committer
        // publishes meanwhile is in `flight`, which planning reads first. Then the leaves of
        // messages sent again (a tile may be read).
        let all = || jobs.iter().flat_map(|(records, ..)| records.iter());
        let messages = shared.lookup.messages(&all().map(|p| p.message_key).collect::<Vec<_>>())?;
        let recipients = shared.lookup.recipients(&all().map(|p| p.handle).collect::<Vec<_>>())?;
        let mut found = messages.into_iter().zip(recipients);
        let known = jobs
            .iter()
            .map(|(records, ..)| {
                records
                    .iter()
                    .map(|_| {
                        let (message, recipient) = found.next().unwrap_or((None, None));
                        Ok(Known { message: message.map(|i| tree.leaf(i).map(|l| (i, l))).transpose()?, recipient })
                    })
                    .collect::<Result<Vec<Known>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((base, prev, known, registry))
    })();
    let (base, mut prev, known, registry) = match snapshot {
        Ok(s) => s,
        Err(e) => return Err((e, jobs.into_iter().map(|(_, reply, handoff)| Planned { slots: Vec::new(), reply, handoff }).collect())),
    };
    let logged_at = format_time(time::OffsetDateTime::now_utc());
    let mut group = Group::new(flight.epoch, base);
    // What this group adds; it joins `flight` only once the group is in the tree.
    let mut seen: DigestMap<MessageKey, (u64, Vec<u8>)> = DigestMap::default();
    let mut rows: DigestMap<Handle, Recipient> = DigestMap::default();
    let mut to_seal = Vec::new();
    for ((records, reply, handoff), known) in jobs.into_iter().zip(known) {
        let before = group.entries.len();
        let view = View { flight, seen: &seen, base };
        let plan = match plan_job(shared, &registry, &view, &records, &known, before) {
            Ok(plan) => plan,
            Err(e) => {
                let _ = reply.send(Err(e));
                continue;
            }
        };
        // Encode the job's new entries first, so that one that cannot be encoded fails its
        // job alone.
        let mut chain = prev;
        let mut count = 0usize;
        let decisions: Result<Vec<Decision>> = records
            .iter()
            .zip(plan)
            .map(|(p, (dup, flags))| {
                if let Some(slot) = dup {
                    return Ok(Decision::Duplicate(slot));
                }
                let index = base + (before + count) as u64;
                let bytes = Entry::encode(index, &chain, &logged_at, &flags, &p.body_jcs, &p.sig)?;
                chain = leaf_hash(&bytes);
                count += 1;
                Ok(Decision::New { flags, bytes, leaf: chain })
            })
            .collect();
        let decisions = match decisions {
            Ok(d) => d,
            Err(e) => {
                let _ = reply.send(Err(e));
                continue;
            }
        };
        prev = chain;
        let mut slots = Vec::with_capacity(records.len());
        for ((p, known), decision) in records.into_iter().zip(known).zip(decisions) {
            let id = Some(p.message.message_id.clone());
            let (flags, bytes, leaf) = match decision {
                Decision::Duplicate(slot) => {
                    slots.push((slot, id, Vec::new(), Some(p.message.channel)));
                    continue;
                }
                Decision::New { flags, bytes, leaf } => (flags, bytes, leaf),
            };
            let index = base + group.entries.len() as u64;
            let recipient = rows.get(&p.handle).or_else(|| flight.recipients.get(&p.handle)).cloned().or(known.recipient);
            let (key, link) = match recipient {
                Some(r) => (r.key, shared.layout.link(r.last)),
                None => (RecipientKey::generate(), None),
            };
            to_seal.push(ToSeal { key: key.clone(), index, handle: p.handle, link, personal: p.personal_jcs });
            group.lookup.push(lookup::record(&p.message_key, &p.handle, &key));
            group.change.messages.push((p.message_key, index));
            rows.insert(p.handle, Recipient { key, last: index });
            seen.insert(p.message_key, (index, p.body_jcs));
            let warnings = flags
                .iter()
                .map(|f| format!("the recipient objected to targeting by `{}` ({f}); the entry is flagged", p.message.advertiser))
                .collect();
            slots.push((Slot::New(group.entries.len()), id, warnings, Some(p.message.channel)));
            group.leaves.push(leaf);
            group.entries.push(bytes);
        }
        group.planned.push(Planned { slots, reply, handoff });
    }
    // Sealing needs each entry's index and its recipient's key, both fixed by now.
    match to_seal.into_iter().map(ToSeal::private_record).collect::<Result<Vec<_>>>() {
        Ok(private) => group.private = private,
        Err(e) => return Err((e, group.into_planned())),
    }
    if let Err(e) = group.extend_and_sign(shared) {
        return Err((e, group.into_planned()));
    }
    let end = base + group.entries.len() as u64;
    flight.groups.push_back((end, seen.keys().copied().collect(), rows.keys().copied().collect()));
    flight.messages.extend(seen);
    flight.recipients.extend(rows.iter().map(|(h, r)| (*h, r.clone())));
    group.change.recipients = rows.into_iter().collect();
    Ok(Box::new(group))
}

/// A new entry's personal part, still to be encrypted under its recipient's key.
struct ToSeal {
    key: RecipientKey,
    index: u64,
    handle: [u8; 32],
    link: Option<u64>,
    personal: Vec<u8>,
}

impl ToSeal {
    fn private_record(self) -> Result<Vec<u8>> {
        let mut record = recipients::private_record(&self.handle, self.link, &[]);
        self.key.seal_into(self.index, &self.personal, &mut record)?;
        Ok(record)
    }
}

/// What becomes of one record of a job.
enum Decision {
    /// It repeats a message already acknowledged or staged.
    Duplicate(Slot),
    /// A new entry: its log flags, bytes and leaf hash.
    New { flags: Vec<String>, bytes: Vec<u8>, leaf: Hash },
}

/// Where planning looks for messages not yet published: earlier staged groups and the
/// group being planned.
struct View<'a> {
    flight: &'a InFlight,
    seen: &'a DigestMap<MessageKey, (u64, Vec<u8>)>,
    base: u64,
}

impl View<'_> {
    /// The staged entry with this message key, as a slot of the group being planned.
    fn staged(&self, key: &MessageKey) -> Option<(Slot, u64, &[u8])> {
        let (index, body) = self.seen.get(key).or_else(|| self.flight.messages.get(key))?;
        let slot = if *index >= self.base { Slot::Repeat((*index - self.base) as usize) } else { Slot::Existing(*index) };
        Some((slot, *index, body))
    }
}

/// Per record: `Some(slot)` if it duplicates an acknowledged or staged message, and the
/// log's flags. Fails the whole job on a reused message id or a re-keyed submitter.
#[allow(clippy::type_complexity)]
fn plan_job(
    shared: &Shared,
    registry: &Registry,
    view: &View<'_>,
    records: &[Prepared],
    known: &[Known],
    before: usize,
) -> Result<Vec<(Option<Slot>, Vec<String>)>> {
    let mut out = Vec::with_capacity(records.len());
    let mut local: DigestMap<MessageKey, (usize, &[u8])> = DigestMap::default();
    let mut new_records = 0;
    let objectors = shared.objectors.lock().map_err(|_| lock_poisoned())?;
    for (r, (p, known)) in records.iter().zip(known).enumerate() {
        let m = &p.message;
        if registry.submitters.get(&m.signer).map(|s| s.key) != Some(p.key) {
            return Err(Error::BadSignature(format!(
                "record {r}: submitter `{}` was re-keyed while this batch was in flight; sign again with the new key",
                m.signer
            )));
        }
        let conflict = |index| Error::MessageIdReused { record: r, submitter: m.signer.clone(), message_id: m.message_id.clone(), index };
        if let Some((pos, body)) = local.get(&p.message_key) {
            if *body != p.body_jcs.as_slice() {
                return Err(conflict(view.base + (before + pos) as u64));
            }
            out.push((Some(Slot::Repeat(before + pos)), Vec::new()));
            continue;
        }
        if let Some((slot, index, body)) = view.staged(&p.message_key) {
            if body != p.body_jcs.as_slice() {
                return Err(conflict(index));
            }
            out.push((Some(slot), Vec::new()));
            continue;
        }
        if let Some((index, leaf)) = known.message {
            let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is indexed but missing")))?;
            check_leaf(index, &stored, &leaf)?;
            let stored = Entry::parse_logged(&stored)?;
            let same_message = stored.body.get("signer").and_then(Value::as_str) == Some(m.signer.as_str())
                && stored.body.get("message_id").and_then(Value::as_str) == Some(m.message_id.as_str());
            if !same_message {
                return Err(Error::Corrupt(format!(
                    "entry {index} is indexed under the message key of `{}` / `{}` but is another message; the private index is damaged, restore the data folder from a backup",
                    m.signer, m.message_id
                )));
            }
            if jcs_value(&stored.body)? != p.body_jcs {
                return Err(conflict(index));
            }
            out.push((Some(Slot::Existing(index)), Vec::new()));
            continue;
        }
        local.insert(p.message_key, (new_records, p.body_jcs.as_slice()));
        new_records += 1;
        let mut flags = Vec::new();
        if objectors.contains(&p.handle) {
            if let Some(raw) = shared.store.get(Space::Private, &keys::objection(&p.handle, &m.advertiser))? {
                if let Ok(b) = <[u8; 8]>::try_from(raw.as_slice()) {
                    flags.push(format!("objected:{}", u64::from_be_bytes(b)));
                }
            }
        }
        out.push((None, flags));
    }
    Ok(out)
}
