//! The append lifecycle: prepare (parse, validate, verify signatures: in the
//! caller's thread), then group commit in one batcher thread (deduplicate,
//! sequence, chain, extend the tree, sign a checkpoint, one atomic durable
//! store commit), and only then receipts.
//!
//! Nothing is acknowledged before [`crate::store::Store::commit`] returned `Ok`.
//! If the commit fails, the in-memory tree is rolled back and every waiting
//! caller gets the error: nothing half-written is ever served.

use std::collections::{HashMap, HashSet};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use ed25519_dalek::{Signature, VerifyingKey};
use rayon::prelude::*;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::canonical::{decode_signature, is_jcs, jcs, jcs_value, signed_message, Entry, MAX_BODY_BYTES};
use crate::error::{Error, Result};
use crate::ledger::{check_leaf, lock_poisoned, sign_checkpoint, Shared};
use crate::lookup::{self, Change, Recipient};
use crate::merkle::{leaf_hash, Hash, Tree};
use crate::note::NoteSigner;
use crate::privacy::{Personal, RecipientKey};
use crate::receipt::Receipt;
use crate::recipients;
use crate::record::{format_time, invalid, Body, Kind, MessageBody};
use crate::store::{Commit, LookupRecord, Space, Store};

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
    /// The personal part as the JSON text it arrived in (SPEC.md §7), like `body`.
    pub personal: Option<Box<RawValue>>,
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
    index: u64,
    message_id: Option<String>,
    duplicate: bool,
    warnings: Vec<String>,
    bytes: Vec<u8>,
    why_link: bool,
}

/// The batcher's answer to one job: its records and the checkpoint that covers them.
pub(crate) struct Durable {
    checkpoint: String,
    size: u64,
    records: Vec<Settled>,
}

impl Durable {
    /// Builds the receipts: inclusion proofs against the checkpoint's tree size
    /// (the tree only grows, so later commits do not disturb them).
    pub(crate) fn into_ack(self, shared: &Shared) -> Result<BatchAck> {
        let indexes: Vec<u64> = self.records.iter().map(|r| r.index).collect();
        let proofs = shared.state.read().map_err(|_| lock_poisoned())?.tree.inclusion_proofs(&indexes, self.size)?;
        let acks = self
            .records
            .into_iter()
            .zip(proofs)
            .map(|(r, proof)| Ack {
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
    message: MessageFields,
    /// The keyed digest of `(signer, message_id)` the lookup index finds it by.
    message_key: lookup::MessageKey,
    body_jcs: Vec<u8>,
    sig: [u8; 64],
    key: VerifyingKey,
    personal_jcs: Vec<u8>,
    handle: [u8; 32],
}

/// The fields of a message the batcher uses: who and which message, and the objection scope.
pub(crate) struct MessageFields {
    signer: String,
    message_id: String,
    /// `sponsor.on_behalf_of`: whom an objection is against.
    advertiser: String,
}

impl MessageFields {
    fn of(m: MessageBody) -> Self {
        MessageFields { signer: m.signer, message_id: m.message_id, advertiser: m.sponsor.on_behalf_of }
    }
}

/// What a log-signed record does besides its entry.
pub(crate) enum Effect {
    Registry,
    Rotate(Box<NoteSigner>),
    Objection { handle: [u8; 32], advertiser: String },
    Erase { handle: [u8; 32] },
}

pub(crate) enum Job {
    Messages { records: Vec<Prepared>, reply: mpsc::SyncSender<Result<Durable>> },
    Log { body: Value, effect: Effect, reply: mpsc::SyncSender<Result<Durable>> },
}

// ---- key names of the Index and Private spaces (the only place they are spelled) ----
pub(crate) fn key_registry(index: u64) -> Vec<u8> {
    [b"reg/".as_slice(), &index.to_be_bytes()].concat()
}
fn key_objection(handle: &[u8], advertiser: &str) -> Vec<u8> {
    [OBJECTION, handle, advertiser.as_bytes()].concat()
}
const OBJECTION: &[u8] = b"ob/";

/// The handles of every recipient with an objection on file (read once on open; objections
/// are few). The batcher then asks the store about objections only for these recipients,
/// instead of one store read per appended record.
pub(crate) fn objectors(store: &dyn Store) -> Result<HashSet<[u8; 32]>> {
    store
        .scan(Space::Private, OBJECTION)?
        .into_iter()
        .map(|(key, _)| {
            key.get(OBJECTION.len()..OBJECTION.len() + 32)
                .and_then(|h| <[u8; 32]>::try_from(h).ok())
                .ok_or_else(|| Error::Corrupt("an objection row's key is too short to hold a recipient handle".into()))
        })
        .collect()
}

/// Stateless checks and signature verification, run in the caller's thread.
pub(crate) fn prepare(shared: &Shared, subs: Vec<Submission>) -> Result<Vec<Prepared>> {
    let now = time::OffsetDateTime::now_utc();
    let registry = shared.state.read().map_err(|_| lock_poisoned())?.registry.clone();
    let prepared: Vec<Prepared> = subs
        .into_par_iter()
        .enumerate()
        .map(|(r, s)| {
            let (message, body_jcs) = submitted_message(s.body, r)?;
            let served = crate::record::check_time(r, "delivery.served_at", &message.delivery.served_at)?;
            if served > now + time::Duration::minutes(5) {
                return Err(invalid(
                    r,
                    "delivery.served_at",
                    format!("`{}` is in the future; check the submitter's clock", message.delivery.served_at),
                ));
            }
            let sig = decode_signature(&s.sig).map_err(|e| invalid(r, "sig", e))?;
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
            let pv = s.personal.as_ref().ok_or_else(|| invalid(r, "personal", "every message needs its personal part (SPEC.md §7)"))?;
            let (personal, personal_jcs) = Personal::parse_for(pv.get(), &message, r)?;
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
            Ok(Prepared {
                personal_jcs,
                handle: shared.secret.recipient_handle(&personal.recipient),
                message_key: shared.secret.message_key(&message.signer, &message.message_id),
                message: MessageFields::of(message),
                body_jcs,
                sig,
                key: info.key,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    verify_signatures(&prepared)?;
    Ok(prepared)
}

/// The message a submitted body holds, checked (SPEC.md §3), and its canonical bytes
/// (canonical text is its own: it becomes them without a copy).
fn submitted_message(body: Box<RawValue>, r: usize) -> Result<(MessageBody, Vec<u8>)> {
    let text = body.get();
    if is_jcs(text) {
        if let Ok(message) = serde_json::from_str::<MessageBody>(text) {
            if message.kind == Kind::Message {
                crate::record_rules::validate_message(&message, r)?;
                return Ok((message, Box::<str>::from(body).into_string().into_bytes()));
            }
        }
    }
    // Anything else takes the general path, which also names what is wrong. The request's
    // parser checked the syntax; what can still fail here (a lone surrogate escape, say) is
    // malformed JSON all the same.
    let value: Value =
        serde_json::from_str(text).map_err(|e| Error::malformed("request body", format!("record {r}: the body is not valid JSON: {e}")))?;
    let Body::Message(message) = Body::parse(&value, r)? else {
        return Err(invalid(r, "kind", "submitters may only submit `message` records; registrations are made by the log operator"));
    };
    Ok((*message, jcs_value(&value)?))
}

/// Batch-verifies every signature (both cores); on failure, names the first bad record.
fn verify_signatures(records: &[Prepared]) -> Result<()> {
    let msgs: Vec<Vec<u8>> = records.par_iter().map(|p| signed_message(&p.body_jcs)).collect();
    let ok = records.par_chunks(256).zip(msgs.par_chunks(256)).all(|(recs, ms)| {
        let m: Vec<&[u8]> = ms.iter().map(Vec::as_slice).collect();
        let s: Vec<Signature> = recs.iter().map(|p| Signature::from_bytes(&p.sig)).collect();
        let k: Vec<VerifyingKey> = recs.iter().map(|p| p.key).collect();
        ed25519_dalek::verify_batch(&m, &s, &k).is_ok()
    });
    if ok {
        return Ok(());
    }
    for (r, (p, m)) in records.iter().zip(&msgs).enumerate() {
        if p.key.verify_strict(m, &Signature::from_bytes(&p.sig)).is_err() {
            return Err(Error::BadSignature(format!(
                "record {r}: the signature does not verify with the registered key of submitter `{}`; sign \"sightline/record/v1\\n\" followed by the RFC 8785 bytes of the body",
                p.message.signer
            )));
        }
    }
    Ok(())
}

/// The batcher thread: drains queued jobs into one group commit at a time.
pub(crate) fn run(shared: Arc<Shared>, rx: mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = Vec::new();
        let mut records = 0;
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Messages { records: r, reply } => {
                    records += r.len();
                    batch.push((r, reply));
                }
                Job::Log { body, effect, reply } => {
                    if !batch.is_empty() {
                        commit_messages(&shared, std::mem::take(&mut batch));
                        records = 0;
                    }
                    let result = commit_log(&shared, body, effect);
                    let _ = reply.send(result);
                }
            }
            if records < shared.options.max_batch_records {
                next = rx.try_recv().ok();
            }
        }
        if !batch.is_empty() {
            commit_messages(&shared, batch);
        }
    }
}

/// Where an acknowledged record lives: a new entry of this batch or an older one.
enum Slot {
    New(usize),
    Existing(u64),
}

struct Planned {
    slots: Vec<(Slot, Option<String>, Vec<String>)>,
    reply: mpsc::SyncSender<Result<Durable>>,
}

fn commit_messages(shared: &Shared, jobs: Vec<(Vec<Prepared>, mpsc::SyncSender<Result<Durable>>)>) {
    type Staged = (Vec<Planned>, Vec<Vec<u8>>, u64, Vec<Hash>, Extra);
    let result = (|| -> Result<Staged> {
        // The batcher is the only writer of the state, so reading it for the whole plan
        // holds nobody up but itself.
        let st = shared.state.read().map_err(|_| lock_poisoned())?;
        let (base, mut prev) = (st.size, st.tree.leaf(st.size.wrapping_sub(1)).unwrap_or([0; 32]));
        let logged_at = format_time(time::OffsetDateTime::now_utc());
        let mut new_entries: Vec<Vec<u8>> = Vec::new();
        let mut leaves = Vec::new();
        let mut seen: HashMap<lookup::MessageKey, (usize, Vec<u8>)> = HashMap::new();
        let mut rows: HashMap<lookup::Handle, (RecipientKey, Option<u64>)> = HashMap::new();
        let mut extra = Extra::default();
        let mut planned = Vec::new();
        let mut to_seal = Vec::new();
        for (records, reply) in jobs {
            match plan_job(shared, &st, &records, base, new_entries.len(), &seen) {
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
                Ok(plan) => {
                    let mut slots = Vec::new();
                    for (p, (dup, flags)) in records.into_iter().zip(plan) {
                        let id = Some(p.message.message_id.clone());
                        if let Some(slot) = dup {
                            let warnings = Vec::new();
                            slots.push((slot, id, warnings));
                            continue;
                        }
                        let index = base + new_entries.len() as u64;
                        let bytes = Entry::encode(index, &prev, &logged_at, &flags, &p.body_jcs, &p.sig)?;
                        prev = leaf_hash(&bytes);
                        leaves.push(prev);
                        let (key, last) = rows.entry(p.handle).or_insert_with(|| match st.lookup.recipient(&p.handle) {
                            Some(r) => (r.key.clone(), Some(r.last)),
                            None => (RecipientKey::generate(), None),
                        });
                        let link = last.and_then(|l| shared.layout.link(l));
                        to_seal.push(ToSeal { key: key.clone(), index, handle: p.handle, link, personal: p.personal_jcs });
                        extra.lookup.push(lookup::record(&p.message_key, &p.handle, key));
                        *last = Some(index);
                        extra.change.messages.push((p.message_key, index));
                        seen.insert(p.message_key, (new_entries.len(), p.body_jcs));
                        let warnings = flags
                            .iter()
                            .map(|f| {
                                format!("the recipient objected to targeting by `{}` ({f}); the entry is flagged", p.message.advertiser)
                            })
                            .collect();
                        slots.push((Slot::New(new_entries.len()), id, warnings));
                        new_entries.push(bytes);
                    }
                    planned.push(Planned { slots, reply });
                }
            }
        }
        // Sealing needs only each entry's index and its recipient's key, both fixed by now: it
        // runs on every core instead of in this thread, which the next group commit waits for.
        extra.private = to_seal.into_par_iter().map(ToSeal::private_record).collect::<Result<_>>()?;
        extra.change.recipients =
            rows.into_iter().filter_map(|(handle, (key, last))| Some((handle, Recipient { key, last: last? }))).collect();
        Ok((planned, new_entries, base, leaves, extra))
    })();
    let (planned, entries, base, leaves, extra) = match result {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "preparing a group commit failed");
            return;
        }
    };
    if entries.is_empty() {
        respond(shared, planned, Vec::new(), base);
        return;
    }
    match durable_commit(shared, entries, &leaves, base, extra, None) {
        Ok(entries) => respond(shared, planned, entries, base),
        Err(e) => {
            let msg = e.to_string();
            for p in planned {
                let _ = p.reply.send(Err(Error::Storage(msg.clone())));
            }
        }
    }
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
        let sealed = self.key.seal(self.index, &self.personal)?;
        Ok(recipients::private_record(&self.handle, self.link, &sealed))
    }
}

/// Per record: `Some(slot)` if it duplicates an acknowledged message, and the
/// log's flags. Fails the whole job on a reused message id.
#[allow(clippy::type_complexity)]
fn plan_job(
    shared: &Shared,
    st: &crate::ledger::State,
    records: &[Prepared],
    base: u64,
    batch_len: usize,
    seen: &HashMap<lookup::MessageKey, (usize, Vec<u8>)>,
) -> Result<Vec<(Option<Slot>, Vec<String>)>> {
    let mut out = Vec::with_capacity(records.len());
    let mut local: HashMap<lookup::MessageKey, (usize, &[u8])> = HashMap::new();
    let mut new_records = 0;
    let objectors = shared.objectors.lock().map_err(|_| lock_poisoned())?;
    for (r, p) in records.iter().enumerate() {
        let m = &p.message;
        if st.registry.submitters.get(&m.signer).map(|s| s.key) != Some(p.key) {
            return Err(Error::BadSignature(format!(
                "record {r}: submitter `{}` was re-keyed while this batch was in flight; sign again with the new key",
                m.signer
            )));
        }
        let conflict = |index| Error::MessageIdReused { record: r, submitter: m.signer.clone(), message_id: m.message_id.clone(), index };
        if let Some((pos, body)) = local.get(&p.message_key) {
            if *body != p.body_jcs.as_slice() {
                return Err(conflict(base + (batch_len + pos) as u64));
            }
            out.push((Some(Slot::New(batch_len + pos)), Vec::new()));
            continue;
        }
        if let Some((pos, body)) = seen.get(&p.message_key) {
            if *body != p.body_jcs {
                return Err(conflict(base + *pos as u64));
            }
            out.push((Some(Slot::New(*pos)), Vec::new()));
            continue;
        }
        if let Some(index) = st.lookup.message(&p.message_key) {
            let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is indexed but missing")))?;
            let leaf = st.tree.leaf(index).ok_or_else(|| Error::Corrupt(format!("entry {index} is indexed but not in the tree")))?;
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
            if let Some(raw) = shared.store.get(Space::Private, &key_objection(&p.handle, &m.advertiser))? {
                if let Ok(b) = <[u8; 8]>::try_from(raw.as_slice()) {
                    flags.push(format!("objected:{}", u64::from_be_bytes(b)));
                }
            }
        }
        out.push((None, flags));
    }
    Ok(out)
}

/// What a group commit writes besides entries and tiles.
#[derive(Default)]
struct Extra {
    /// One per entry (or none at all): see [`Commit::private`].
    private: Vec<Vec<u8>>,
    /// One per entry (or none at all): see [`Commit::lookup`].
    lookup: Vec<LookupRecord>,
    /// What the commit changes in the in-memory lookup index, applied once it is durable.
    change: Change,
    puts: Vec<(Space, Vec<u8>, Vec<u8>)>,
    deletes: Vec<(Space, Vec<u8>)>,
    wipe: Vec<u64>,
}

/// Extends the tree, signs, commits durably; rolls the tree back on failure.
fn durable_commit(
    shared: &Shared,
    entries: Vec<Vec<u8>>,
    leaves: &[Hash],
    base: u64,
    extra: Extra,
    checkpoint_signer: Option<&NoteSigner>,
) -> Result<Vec<Vec<u8>>> {
    let started = Instant::now();
    let new_size = base + entries.len() as u64;
    let (checkpoint, tiles) = {
        let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
        if st.tree.size() != base {
            return Err(Error::Corrupt(format!("tree size {} differs from the expected {base}", st.tree.size())));
        }
        st.tree.extend(leaves);
        let signer = shared.signer.read().map_err(|_| lock_poisoned())?;
        let cp = match sign_checkpoint(checkpoint_signer.unwrap_or(&signer), &st.tree, new_size) {
            Ok(cp) => cp,
            Err(e) => {
                st.tree.truncate(base);
                return Err(e);
            }
        };
        (cp, touched_tiles(&st.tree, base, new_size))
    };
    let Extra { private, lookup, change, puts, deletes, wipe } = extra;
    let commit = Commit {
        size: new_size,
        checkpoint: checkpoint.clone(),
        entries: (base..).zip(entries).collect(),
        private,
        lookup,
        tiles,
        puts,
        deletes,
        wipe,
    };
    let stored = shared.store.commit(&commit);
    let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
    if let Err(e) = stored {
        st.tree.truncate(base);
        tracing::error!(error = %e, "group commit failed; nothing acknowledged");
        return Err(e);
    }
    st.size = new_size;
    st.checkpoint = checkpoint;
    // In the same critical section as the size: a reader that sees an entry finds its recipient.
    st.lookup.apply(change);
    drop(st);
    let entries: Vec<Vec<u8>> = commit.entries.into_iter().map(|(_, e)| e).collect();
    let m = &shared.metrics;
    m.observe_commit(entries.len() as u64, started.elapsed().as_micros() as u64);
    if let Ok(l) = shared.listener.read() {
        if let Some(f) = l.as_ref() {
            f(base, &entries);
        }
    }
    Ok(entries)
}

/// The hash tiles whose content changes when the tree grows from `old` to `new`.
pub(crate) fn touched_tiles(tree: &Tree, old: u64, new: u64) -> Vec<((u8, u64), Vec<u8>)> {
    let mut out = Vec::new();
    for level in 0u8..8 {
        let shift = 8 * u32::from(level);
        let (old_n, new_n) = (old >> shift, new >> shift);
        if new_n == 0 || new_n == old_n {
            if new_n == 0 {
                break;
            }
            continue;
        }
        let hashes = tree.level(shift as usize);
        for t in (old_n / 256)..=((new_n - 1) / 256) {
            let lo = (t * 256) as usize;
            let hi = (new_n as usize).min(lo + 256).min(hashes.len());
            out.push(((level, t), hashes[lo.min(hi)..hi].concat()));
        }
    }
    out
}

/// Sends each job its settled records. An entry's bytes move into the last record that uses
/// them (a message repeated within the batch shares its entry).
fn respond(shared: &Shared, planned: Vec<Planned>, entries: Vec<Vec<u8>>, base: u64) {
    let Ok(st) = shared.state.read() else { return };
    let (checkpoint, size) = (st.checkpoint.clone(), st.size);
    let mut uses = vec![0usize; entries.len()];
    for (slot, _, _) in planned.iter().flat_map(|p| &p.slots) {
        if let Slot::New(i) = slot {
            if let Some(u) = uses.get_mut(*i) {
                *u += 1;
            }
        }
    }
    let mut entries: Vec<Option<Vec<u8>>> = entries.into_iter().map(Some).collect();
    let mut take = |i: usize| -> Option<Vec<u8>> {
        let left = uses.get_mut(i)?;
        *left = left.saturating_sub(1);
        let slot = entries.get_mut(i)?;
        if *left == 0 {
            slot.take()
        } else {
            slot.clone()
        }
    };
    for job in planned {
        let records: Result<Vec<Settled>> = job
            .slots
            .into_iter()
            .map(|(slot, message_id, warnings)| {
                let (index, duplicate) = match slot {
                    Slot::New(i) => (base + i as u64, false),
                    Slot::Existing(i) => (i, true),
                };
                let bytes = match slot {
                    Slot::New(i) => take(i).ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?,
                    Slot::Existing(_) => {
                        let stored = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} is missing")))?;
                        let leaf = st.tree.leaf(index).ok_or_else(|| Error::Corrupt(format!("entry {index} is not in the tree")))?;
                        check_leaf(index, &stored, &leaf)?;
                        stored
                    }
                };
                Ok(Settled { index, message_id, duplicate, warnings, bytes, why_link: true })
            })
            .collect();
        let _ = job.reply.send(records.map(|records| Durable { checkpoint: checkpoint.clone(), size, records }));
    }
}

/// Appends one log-signed record (registration, rotation, objection, erasure).
fn commit_log(shared: &Shared, body_value: Value, effect: Effect) -> Result<Durable> {
    let body = Body::parse(&body_value, 0)?;
    let body_jcs = jcs(&body_value)?;
    let (base, prev) = {
        let st = shared.state.read().map_err(|_| lock_poisoned())?;
        (st.size, st.tree.leaf(st.size.wrapping_sub(1)).unwrap_or([0; 32]))
    };
    let sig = shared.signer.read().map_err(|_| lock_poisoned())?.sign_bytes(&signed_message(&body_jcs));
    let bytes = Entry::encode(base, &prev, &format_time(time::OffsetDateTime::now_utc()), &[], &body_jcs, &sig)?;
    let mut extra = Extra::default();
    match &effect {
        Effect::Registry | Effect::Rotate(_) => extra.puts.push((Space::Index, key_registry(base), Vec::new())),
        Effect::Objection { handle, advertiser } => {
            extra.puts.push((Space::Private, key_objection(handle, advertiser), base.to_be_bytes().to_vec()))
        }
        Effect::Erase { handle } => {
            // The commit overwrites the recipient's keys (crypto-shredding), their link to
            // their entries and the sealed records with zeros, and the ledger forgets them.
            let last = shared.state.read().map_err(|_| lock_poisoned())?.lookup.recipient(handle).map(|r| r.last);
            let erasure = shared.layout.erasure(shared.store.as_ref(), handle, last)?;
            (extra.deletes, extra.wipe) = (erasure.deletes, erasure.wipe);
            extra.change.forget.push(*handle);
        }
    }
    let rotate_to = match &effect {
        Effect::Rotate(s) => Some(s.as_ref()),
        _ => None,
    };
    let leaf = leaf_hash(&bytes);
    let bytes = durable_commit(shared, vec![bytes], &[leaf], base, extra, rotate_to)?.remove(0);
    if let Effect::Objection { handle, .. } = &effect {
        shared.objectors.lock().map_err(|_| lock_poisoned())?.insert(*handle);
    }
    {
        let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
        Arc::make_mut(&mut st.registry).apply(base, &body)?;
    }
    if let Effect::Rotate(s) = effect {
        *shared.signer.write().map_err(|_| lock_poisoned())? = *s;
    }
    let st = shared.state.read().map_err(|_| lock_poisoned())?;
    let record = Settled { index: base, message_id: None, duplicate: false, warnings: Vec::new(), bytes, why_link: false };
    Ok(Durable { checkpoint: st.checkpoint.clone(), size: base + 1, records: vec![record] })
}
