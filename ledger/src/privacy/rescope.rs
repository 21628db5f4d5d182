//! The conversion of a store's private recipient index from layout 3 to layout 4
//! (`recipients.rs`): recipient handles scoped to the submitter that reported each
//! message.
//!
//! Layout 3 keyed a recipient by their normalised identifier alone, so a submitter
//! that logged a message "to" another submitter's recipient joined that recipient's
//! list, and its why link listed, objected for and erased the other submitter's
//! records. Layout 4 keys them by `(signer, identifier)`; nothing else changes.
//!
//! For every message entry with a sealed personal part, the conversion opens it with
//! the key of its lookup record, reads the recipient, and re-derives the handle from
//! the entry's signer. From those it rebuilds, in log order, the per-recipient chains
//! (the `previous` link in the head of each private record), the lookup records, the
//! frozen layout 1 lists (`rl/`) and the objection rows (`ob/`, see [`to_layout_4`]).
//! A recipient that two submitters reached keeps one key in both scopes: their
//! personal parts were sealed under it, and erasure overwrites the ciphertexts
//! themselves, so erasing one scope leaves nothing the other's key could open.
//!
//! Crash safety, as the conversion to layout 3: the lookup records are written
//! whole, then the private heads rewritten in place, then one atomic commit moves
//! the rows and the marker. Until that commit the store says layout 3 and the next
//! open converts again. A second run computes the same bytes: it reads only what the
//! conversion never changes (the keys in the lookup records, the sealed parts, the
//! entries), so a store left half-written by a crash converts to the same result.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::privacy::lookup::{self, Handle};
use crate::privacy::recipients::{Layout, NONE};
use crate::privacy::{RecipientKey, ServerSecret};
use crate::store::{keys, Commit, Head, LookupRecord, Space, Store};
use crate::tlog::merkle::{leaf_hash, Hash};

/// The leaf hash of an entry in the signed tree (read from tiles, checked).
pub(crate) type Leaves<'a> = dyn Fn(u64) -> Result<Hash> + Sync + 'a;

/// How many entries are read and opened at a time.
const CHUNK: u64 = 4096;

/// What the conversion needs of an entry: its signer.
#[derive(Deserialize)]
struct Signed {
    body: Signer,
}

#[derive(Deserialize)]
struct Signer {
    signer: String,
}

/// What the conversion needs of a personal part: its recipient.
#[derive(Deserialize)]
struct Addressed {
    recipient: String,
}

/// One message entry's recipient under both handles.
struct Scoped {
    /// The layout 3 handle (identifier only) and the layout 4 one (signer and identifier).
    old: Handle,
    new: Handle,
}

/// Converts a layout 3 store to layout 4 (see the module docs). `leaf` gives the leaves of the
/// signed tree the store was checked against; every entry read is checked against its leaf.
///
/// Objections filed under a layout 3 handle are carried over to every submitter's scope
/// that recipient has messages in: what they covered before, they cover after. Those of a
/// recipient with no personal part left (erased) cannot be carried over, as nothing says
/// who they were; they are dropped and counted in the log line. Their public `objection`
/// entries remain in the log.
pub(crate) fn to_layout_4(store: &dyn Store, head: &Head, layout: Layout, secret: &ServerSecret, leaf: &Leaves<'_>) -> Result<()> {
    let size = head.size;
    let mut lookups: Vec<LookupRecord> = Vec::with_capacity(usize::try_from(store.lookup_count()?.min(size)).unwrap_or(0));
    let mut heads: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut latest: HashMap<Handle, u64> = HashMap::new();
    let mut legacy: BTreeMap<Handle, Vec<u64>> = BTreeMap::new();
    let mut scopes: HashMap<Handle, BTreeSet<Handle>> = HashMap::new();
    let mut start = 0;
    while start < size {
        let end = (start + CHUNK).min(size);
        let records = store.lookups(start, end)?;
        if records.len() as u64 != end - start {
            return Err(Error::Corrupt(format!("the lookup record of entry {} is missing", start + records.len() as u64)));
        }
        // Reading, checking and opening on every core; the chains are then built in order.
        let found: Vec<(Vec<u8>, Option<Scoped>)> =
            records.par_iter().enumerate().map(|(k, l)| scoped(store, layout, secret, leaf, start + k as u64, l)).collect::<Result<_>>()?;
        for ((index, (private, recipient)), mut l) in (start..).zip(found).zip(records) {
            if let Some(Scoped { old, new }) = recipient {
                let previous = latest.insert(new, index);
                let head = if index >= layout.chained_from() {
                    let link = previous.and_then(|p| layout.link(p)).unwrap_or(NONE);
                    [new.as_slice(), &link.to_be_bytes()].concat()
                } else {
                    legacy.entry(new).or_default().push(index);
                    new.to_vec()
                };
                if private.get(..head.len()) != Some(head.as_slice()) {
                    heads.push((index, head));
                }
                l[16..48].copy_from_slice(&new);
                scopes.entry(old).or_default().insert(new);
            }
            lookups.push(l);
        }
        start = end;
    }

    let mut puts = vec![layout.marker(b'4')];
    puts.extend(legacy.iter().map(|(h, list)| (Space::Private, keys::legacy_list(h), list.iter().flat_map(|i| i.to_be_bytes()).collect())));
    let mut deletes: Vec<(Space, Vec<u8>)> =
        store.scan(Space::Private, keys::LEGACY_LIST)?.into_iter().map(|(k, _)| (Space::Private, k)).collect();
    let (mut carried, mut dropped) = (0usize, 0usize);
    for (key, value) in store.scan(Space::Private, keys::OBJECTION)? {
        let Some((old, advertiser)) = keys::objection_parts(&key) else {
            return Err(Error::Corrupt("an objection row's key is too short to hold a recipient handle".into()));
        };
        let advertiser = std::str::from_utf8(advertiser).map_err(|_| {
            Error::Corrupt("an objection row names an advertiser that is not UTF-8; restore the data folder from a backup".into())
        })?;
        match scopes.get(&old) {
            Some(news) => {
                puts.extend(news.iter().map(|new| (Space::Private, keys::objection(new, advertiser), value.clone())));
                carried += 1;
            }
            // Already a layout 4 handle: this conversion ran before, up to its commit.
            None if latest.contains_key(&old) => continue,
            None => dropped += 1,
        }
        deletes.push((Space::Private, key));
    }
    // A key both put and deleted would be deleted: keep what this conversion writes.
    deletes.retain(|(_, k)| !puts.iter().any(|(_, p, _)| p == k));
    tracing::info!(
        recipients = latest.len(),
        private_heads_rewritten = heads.len(),
        objections_carried_over = carried,
        objections_of_erased_recipients_dropped = dropped,
        "converting the private recipient index to layout 4 (recipients scoped to the submitter that reported them)"
    );
    store.replace_lookups(&lookups)?;
    store.rewrite_private_heads(&heads)?;
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, deletes, ..Commit::default() })
}

/// Entry `index`'s private record, and its recipient under both handles if it has a sealed
/// personal part.
fn scoped(
    store: &dyn Store,
    layout: Layout,
    secret: &ServerSecret,
    leaf: &Leaves<'_>,
    index: u64,
    l: &LookupRecord,
) -> Result<(Vec<u8>, Option<Scoped>)> {
    let damaged = |what: String| Error::Corrupt(format!("entry {index}: {what}; restore the data folder from a backup"));
    let private = store.private(index)?.ok_or_else(|| damaged("its private record is missing".into()))?;
    let (part, key) = match (layout.split(index, &private)?, lookup::parts(l).1) {
        (None, None) => return Ok((private, None)),
        (Some(part), Some((_, key))) => (part, key),
        (Some(_), None) => return Err(damaged("its private record holds a personal part but its lookup record no key".into())),
        (None, Some(_)) => return Err(damaged("its lookup record holds a key but it has no personal part".into())),
    };
    let plain = RecipientKey(key).open(index, part.sealed)?;
    let recipient =
        serde_json::from_slice::<Addressed>(&plain).map_err(|e| damaged(format!("its personal part does not parse: {e}")))?.recipient;
    let entry = store.entry(index)?.ok_or_else(|| damaged("the entry is missing".into()))?;
    if leaf(index)? != leaf_hash(&entry) {
        return Err(damaged("the entry does not hash to its leaf in the signed tree".into()));
    }
    let signer =
        serde_json::from_slice::<Signed>(&entry).map_err(|e| damaged(format!("the entry does not name its signer: {e}")))?.body.signer;
    let scoped = Scoped { old: secret.recipient_handle_v1(&recipient), new: secret.recipient_handle(&signer, &recipient) };
    Ok((private, Some(scoped)))
}
