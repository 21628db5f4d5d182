//! The log's own records (registrations, key rotation, objections, erasures), and the rows of
//! derived indexes, committed on the sequencer's thread once nothing is staged: they change what planning reads (the registry,
//! the objections, the recipients), so each is committed on its own, extend-and-sign then
//! store-and-publish, and the tree's size is then the published size.

use std::time::Instant;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::canonical::{jcs, signed_message};
use crate::model::entry::Entry;
use crate::model::record::{format_time, Body};
use crate::pipeline::handoff::{durable_text, Answered};
use crate::pipeline::jobs::{Durable, Effect, Settled};
use crate::pipeline::state::{check_leaf, lock_poisoned, Shared};
use crate::privacy::lookup::Change;
use crate::store::{keys, Commit, Space};
use crate::tlog::merkle::leaf_hash;

/// Appends one log-signed record (registration, rotation, objection, erasure). Runs on the
/// sequencer's thread once nothing is staged, so the tree's size is the published size.
pub(crate) fn log_record(shared: &Shared, body_value: Value, effect: Effect, handoff: Option<u64>) -> Result<Durable> {
    if let Effect::Objection { handle, advertiser } = &effect {
        if let Some(earlier) = objection_on_file(shared, handle, advertiser)? {
            return Ok(earlier);
        }
    }
    let body = Body::parse(&body_value, 0)?;
    // Checked again here, on the one thread that appends: two front ends of a shared log may
    // each have been asked to register the same party.
    if let Body::Party(p) = &body {
        if let Some(earlier) = shared.read()?.registry.parties.get(&p.party) {
            return Err(Error::PartyExists { party: p.party.clone(), index: earlier.index });
        }
    }
    let body_jcs = jcs(&body_value)?;
    let (epoch, base, prev) = {
        let st = shared.read()?;
        (st.epoch, st.size, st.edge.last_leaf().unwrap_or([0; 32]))
    };
    let sig = shared.signer.read().map_err(|_| lock_poisoned())?.sign_bytes(&signed_message(&body_jcs));
    let bytes = Entry::encode(base, &prev, &format_time(time::OffsetDateTime::now_utc()), &[], &body_jcs, &sig)?;
    let (mut puts, mut deletes, mut wipe, mut change) = (Vec::new(), Vec::new(), Vec::new(), Change::default());
    match &effect {
        Effect::Registry | Effect::Rotate(_) => puts.push((Space::Index, keys::registry(base), Vec::new())),
        Effect::Objection { handle, advertiser } => {
            puts.push((Space::Private, keys::objection(handle, advertiser), base.to_be_bytes().to_vec()))
        }
        Effect::Erase { handles } => {
            // The commit overwrites the recipients' keys (crypto-shredding), their link to
            // their entries and the sealed records with zeros, and the ledger forgets them. It
            // keeps one suppression tag per erased message, so that its recipient can still
            // object through its link (SPEC.md §7).
            for handle in handles {
                let last = shared.lookup.recipient(handle)?.map(|r| r.last);
                let erasure = shared.layout.erasure(shared.store.as_ref(), handle, last)?;
                for &index in &erasure.wipe {
                    puts.push((Space::Private, keys::suppression(index), shared.secret.suppression_tag(index, handle).to_vec()));
                }
                deletes.extend(erasure.deletes);
                wipe.extend(erasure.wipe);
                change.forget.push(*handle);
            }
        }
    }
    let rotate_to = match &effect {
        Effect::Rotate(s) => Some(s.as_ref()),
        _ => None,
    };
    let started = Instant::now();
    let (checkpoint, tiles, growth) = shared.extend_and_sign(epoch, base, &[leaf_hash(&bytes)], rotate_to)?;
    let settled =
        |bytes| Settled { index: base, message_id: None, duplicate: false, warnings: Vec::new(), bytes, why_link: false, channel: None };
    // A handed-over job is answered in the commit of its entry (`pipeline/handoff.rs`).
    let answers: Vec<(u64, String)> =
        handoff.map(|id| (id, durable_text(&checkpoint, base + 1, vec![Answered::of(&settled(Vec::new()))]))).into_iter().collect();
    let commit =
        Commit { size: base + 1, checkpoint, entries: vec![(base, bytes)], tiles, puts, deletes, wipe, answers, ..Commit::default() };
    let bytes = shared
        .store_and_publish(commit, change, growth, started.elapsed().as_micros() as u64)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::Corrupt(format!("entry {base} is missing after its commit")))?;
    if let Effect::Objection { handle, .. } = &effect {
        shared.objectors.lock().map_err(|_| lock_poisoned())?.insert(*handle);
    }
    {
        let mut st = shared.state.write().map_err(|_| lock_poisoned())?;
        std::sync::Arc::make_mut(&mut st.registry).apply(base, &body)?;
    }
    if let Effect::Rotate(s) = effect {
        *shared.signer.write().map_err(|_| lock_poisoned())? = *s;
    }
    let st = shared.read()?;
    Ok(Durable { checkpoint: st.checkpoint.clone(), size: base + 1, records: vec![settled(bytes)], answered: handoff.is_some() })
}

/// Commits rows of a derived index with the published head (nothing is staged: the sequencer
/// drained the committer first), so the head does not move.
pub(crate) fn derived_rows(shared: &Shared, puts: Vec<(Vec<u8>, Vec<u8>)>, deletes: Vec<Vec<u8>>) -> Result<()> {
    let (size, checkpoint) = {
        let st = shared.read()?;
        (st.size, st.checkpoint.clone())
    };
    let puts = puts.into_iter().map(|(k, v)| (Space::Index, k, v)).collect();
    let deletes = deletes.into_iter().map(|k| (Space::Index, k)).collect();
    shared.store.commit(&Commit { size, checkpoint, puts, deletes, ..Commit::default() })
}

/// The answer to an objection already on file: its entry, as a duplicate (nothing appended).
/// Checked by [`log_record`], on the one thread that appends log records, so that two
/// objections sent at once cannot both be new.
fn objection_on_file(shared: &Shared, handle: &[u8; 32], advertiser: &str) -> Result<Option<Durable>> {
    let Some(raw) = shared.store.get(Space::Private, &keys::objection(handle, advertiser))? else { return Ok(None) };
    let index = <[u8; 8]>::try_from(raw.as_slice())
        .map(u64::from_be_bytes)
        .map_err(|_| Error::Corrupt("an objection row does not hold an entry index; restore the data folder from a backup".into()))?;
    let (checkpoint, size, tree) = {
        let st = shared.read()?;
        (st.checkpoint.clone(), st.size, shared.tiles.view(std::sync::Arc::clone(&st.published)))
    };
    if index >= size {
        return Err(Error::Corrupt(format!("the objection row names entry {index}, which the log does not hold")));
    }
    let bytes = shared.store.entry(index)?.ok_or_else(|| Error::Corrupt(format!("objection entry {index} is missing")))?;
    check_leaf(index, &bytes, &tree.leaf(index)?)?;
    let record = Settled { index, message_id: None, duplicate: true, warnings: Vec::new(), bytes, why_link: false, channel: None };
    Ok(Some(Durable { checkpoint, size, records: vec![record], answered: false }))
}
