//! Conversions of an older store's private recipient index to the layout of `recipients.rs`,
//! run once when the store is opened ([`migrate`]): layout 1 to 2, 2 to 3, 3 to 4
//! (`rescope.rs`), and 4 to 5 (the indexes as store rows, `lookup.rs`). Each ends in one atomic
//! commit that records the new layout, so a crash before it leaves the older layout whole, and
//! the next open converts again. Layout 6 is layout 5 whose rows a store may keep outside its
//! key space: the sled store keeps them in `rows.dat`, moves a layout 5 folder's rows there
//! when it opens it, and marks it 6 itself, so that an older version, which would look for them
//! among sled's keys, refuses the folder. The ledger reads both the same way.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::privacy::lookup;
use crate::privacy::recipients::{u64_at, Layout, NONE};
use crate::privacy::rescope::{to_layout_4, Leaves};
use crate::privacy::ServerSecret;
use crate::store::{keys, Commit, Head, LookupRecord, Space, Store, LOOKUP_BYTES};

/// The store's layout, converting an older one first: layout 1 to 2 in one atomic
/// commit of the same head, then layout 2 to 3 (its lookup records are written
/// whole first, then one atomic commit marks the conversion done; a crash in
/// between leaves layout 2 whole, converted again on the next open), then layout 3
/// to 4 the same way (`rescope.rs`). `leaf` gives the leaves of the signed tree the store was
/// checked against: the conversion to layout 4 reads entries.
pub(crate) fn migrate(store: &dyn Store, head: &Head, secret: &ServerSecret, leaf: &Leaves<'_>) -> Result<Layout> {
    let (layout, from) = match store.get(Space::Private, keys::LAYOUT)? {
        Some(marker) => match (marker.first(), u64_at(&marker, 1), marker.len()) {
            (Some(b'6' | b'5'), Some(chained_from), 9) => return Ok(Layout::chained_from_entry(chained_from)),
            (Some(b'4'), Some(chained_from), 9) => (Layout::chained_from_entry(chained_from), 4),
            (Some(b'3'), Some(chained_from), 9) => (Layout::chained_from_entry(chained_from), 3),
            (Some(b'2'), Some(chained_from), 9) => (Layout::chained_from_entry(chained_from), 2),
            _ => {
                return Err(Error::Corrupt(
                    "the private recipient index has an unknown layout marker; this data folder was written by a newer Sightline, or is damaged"
                        .into(),
                ))
            }
        },
        None => (to_layout_2(store, head)?, 2),
    };
    if from == 2 {
        to_layout_3(store, head, layout, secret)?;
    }
    if from <= 3 {
        to_layout_4(store, head, layout, secret, leaf)?;
    }
    to_layout_5(store, head, layout)?;
    Ok(layout)
}

/// Layout 4 → 5: the message keys and recipients of the lookup records become store rows,
/// written in commits of the same head, then one commit marks the conversion done; a crash
/// before it leaves layout 4 whole (and rows the next conversion writes again).
fn to_layout_5(store: &dyn Store, head: &Head, layout: Layout) -> Result<()> {
    let started = std::time::Instant::now();
    let commit = |puts| store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, ..Commit::default() });
    let (messages, recipients) = lookup::write_rows(store, head.size, commit)?;
    commit(vec![layout.put()])?;
    tracing::info!(
        messages,
        recipients,
        millis = started.elapsed().as_millis() as u64,
        "converted the message ids and recipients to store rows (layout 5): opening no longer reads every lookup record"
    );
    Ok(())
}

/// Layout 1 → 2: each row's entry list moves to `rl/`, the row keeps the key.
fn to_layout_2(store: &dyn Store, head: &Head) -> Result<Layout> {
    let layout = Layout::chained_from_entry(head.size);
    let (mut puts, mut converted) = (Vec::new(), 0);
    for (k, row) in store.scan(Space::Private, keys::RECIPIENT_ROW)? {
        let (Some(key), 0) = (row.get(..32), row.len().saturating_sub(32) % 8) else {
            return Err(Error::Corrupt(
                "a layout 1 recipient row is damaged (not a 32-byte key and 8-byte indexes); restore the data folder from a backup".into(),
            ));
        };
        let handle = keys::recipient_row_handle(&k);
        if row.len() > 32 {
            puts.push((Space::Private, keys::legacy_list(handle), row[32..].to_vec()));
        }
        puts.push((Space::Private, keys::recipient_row(handle), [key, &NONE.to_be_bytes()].concat()));
        converted += 1;
    }
    if converted > 0 {
        tracing::info!(recipients = converted, "converting the private recipient index to layout 2 (one chain per recipient)");
    }
    puts.push(layout.marker(b'2'));
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, ..Commit::default() })?;
    Ok(layout)
}

/// Layout 2 → 3: the `msg/` and `rk/` rows become lookup records, then go.
fn to_layout_3(store: &dyn Store, head: &Head, layout: Layout, secret: &ServerSecret) -> Result<()> {
    let size = usize::try_from(head.size).map_err(|_| Error::Corrupt(format!("the head's size {} is absurd", head.size)))?;
    let mut records: Vec<LookupRecord> = vec![[0; LOOKUP_BYTES]; size];
    let mut deletes = Vec::new();
    let damaged = |what: &str| Error::Corrupt(format!("a layout 2 {what} is damaged; restore the data folder from a backup"));
    let messages = store.scan(Space::Index, keys::MESSAGE_ROW)?;
    for (k, v) in &messages {
        let rest = keys::message_row_name(k);
        let nul = rest.iter().position(|&b| b == 0).ok_or_else(|| damaged("message id row"))?;
        let (signer, id) = (std::str::from_utf8(&rest[..nul]), std::str::from_utf8(&rest[nul + 1..]));
        let (Ok(signer), Ok(id), Some(index)) = (signer, id, u64_at(v, 0).filter(|_| v.len() == 8)) else {
            return Err(damaged("message id row"));
        };
        let slot = records.get_mut(index as usize).ok_or_else(|| damaged("message id row (it names an entry past the head)"))?;
        slot[..16].copy_from_slice(&secret.message_key(signer, id));
        deletes.push((Space::Index, k.clone()));
    }
    let mut row_keys: HashMap<Vec<u8>, [u8; 32]> = HashMap::new();
    for (k, row) in store.scan(Space::Private, keys::RECIPIENT_ROW)? {
        let key =
            row.get(..32).and_then(|k| <[u8; 32]>::try_from(k).ok()).filter(|_| row.len() == 40).ok_or_else(|| damaged("recipient row"))?;
        row_keys.insert(keys::recipient_row_handle(&k).to_vec(), key);
        deletes.push((Space::Private, k));
    }
    let mut unwiped = Vec::new();
    for (index, slot) in (0u64..).zip(records.iter_mut()) {
        let record = store.private(index)?.ok_or_else(|| damaged("store (a private record is missing)"))?;
        if let Some(part) = layout.split(index, &record)? {
            match row_keys.get(part.handle) {
                Some(key) => {
                    slot[16..48].copy_from_slice(part.handle);
                    slot[48..].copy_from_slice(key);
                }
                // The row is gone but not the sealed record: an erasure whose overwrite never
                // ran. The conversion's commit finishes it.
                None => unwiped.push(index),
            }
        }
    }
    tracing::info!(
        messages = messages.len(),
        recipients = row_keys.len(),
        unfinished_erasures = unwiped.len(),
        "converting the private indexes to layout 3 (lookup records instead of a store row per message and per recipient)"
    );
    store.replace_lookups(&records)?;
    let puts = vec![layout.marker(b'3')];
    store.commit(&Commit { size: head.size, checkpoint: head.checkpoint.clone(), puts, deletes, wipe: unwiped, ..Commit::default() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sled::SledStore;

    #[test]
    fn rows_and_markers_of_the_wrong_shape_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let head = Head { size: 0, checkpoint: String::new() };
        let secret = ServerSecret([1; 32]);
        let puts = vec![(Space::Private, keys::recipient_row(&[1; 32]), vec![0; 35])];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(matches!(migrate(&store, &head, &secret, &|_| Err(Error::OutOfRange("no leaves".into()))), Err(Error::Corrupt(_))));

        let puts = vec![(Space::Private, keys::LAYOUT.to_vec(), b"5".to_vec())];
        store.commit(&Commit { puts, ..Commit::default() }).unwrap();
        assert!(
            matches!(migrate(&store, &head, &secret, &|_| Err(Error::OutOfRange("no leaves".into()))), Err(Error::Corrupt(m)) if m.contains("newer"))
        );
    }
}
