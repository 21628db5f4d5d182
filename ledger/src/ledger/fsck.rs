//! `fsck`: the whole store re-read and checked, entry by entry, then the private recipient
//! index against the private records. Unlike opening the ledger, which reads only the tree's
//! right edge, `fsck` reads every entry, every hash tile of every level (rebuilt from the
//! entries and compared), every record file offset, every lookup and private record, and
//! the rows of the message id and recipient indexes.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::model::entry::Entry;
use crate::model::tally::TallyBody;
use crate::privacy::lookup::{self, MessageKey};
use crate::store::{keys, Space};
use crate::tlog::edge::Edge;
use crate::tlog::merkle::{leaf_hash, Hash};

impl Ledger {
    /// Re-reads every entry and checks leaf hashes, the chain and the root, then
    /// the private recipient index against the private records (`fsck`).
    /// `progress` is called with the number of entries checked so far.
    pub fn fsck(&self, progress: &dyn Fn(u64)) -> Result<u64> {
        let (size, published) = {
            let st = self.state()?;
            (st.size, std::sync::Arc::clone(&st.published))
        };
        // The tree rebuilt from the entries, one tile at a time: each tile it fills is compared
        // with the stored one, and its edge with the one the ledger checked against the
        // signed checkpoint when it opened.
        let mut rebuilt = Edge::default();
        let mut prev = [0u8; 32];
        let mut i = 0;
        while i < size {
            let end = (i + 4096).min(size);
            let batch = self.shared.store.entries(i, end)?;
            if batch.len() as u64 != end - i {
                return Err(Error::Corrupt(format!("entry {} is missing", i + batch.len() as u64)));
            }
            let lookups = self.shared.store.lookups(i, end)?;
            if lookups.len() as u64 != end - i {
                return Err(Error::Corrupt(format!("the lookup record of entry {} is missing", i + lookups.len() as u64)));
            }
            // Parsing and hashing on all cores (each parsed entry is dropped where it was
            // built); the chain is then walked in order.
            let secret = &self.shared.secret;
            let parsed: Vec<(Result<Linked>, Hash)> = batch
                .par_iter()
                .map(|bytes| {
                    let e = Entry::parse(bytes).map(|e| {
                        let key = match (e.body.get("kind"), e.body.get("signer"), e.body.get("message_id")) {
                            (Some(k), Some(serde_json::Value::String(s)), Some(serde_json::Value::String(m))) if k == "message" => {
                                Some(secret.message_key(s, m))
                            }
                            // A tally is indexed under its campaign and day (`tally.rs`).
                            (Some(k), Some(serde_json::Value::String(s)), None) if k == "tally" => {
                                serde_json::from_value::<TallyBody>(e.body.clone()).ok().map(|t| secret.message_key(s, &t.unique_id()))
                            }
                            _ => None,
                        };
                        (e.index, e.prev, key)
                    });
                    (e, leaf_hash(bytes))
                })
                .collect();
            let leaves: Vec<Hash> = parsed.iter().map(|(_, leaf)| *leaf).collect();
            let mut keyed: Vec<(u64, MessageKey)> = Vec::new();
            for ((e, leaf), lookup) in parsed.into_iter().zip(&lookups) {
                let (index, prev_hex, message_key) = e.map_err(|err| Error::Corrupt(format!("entry {i}: {err}")))?;
                if index != i || prev_hex != hex::encode(prev) {
                    return Err(Error::Corrupt(format!("entry {i}: index or prev hash breaks the chain")));
                }
                if lookup::parts(lookup).0 != message_key {
                    return Err(Error::Corrupt(format!(
                        "entry {i}: its lookup record does not hold its message key; the private index is damaged, restore the data folder from a backup"
                    )));
                }
                keyed.extend(message_key.map(|k| (i, k)));
                prev = leaf;
                i += 1;
            }
            // Each message's row names its entry.
            let rows = self.shared.store.get_many(Space::Index, &keyed.iter().map(|(_, k)| keys::message_key(k)).collect::<Vec<_>>())?;
            if let Some(((index, _), row)) =
                keyed.iter().zip(&rows).find(|((index, _), row)| row.as_deref() != Some(&index.to_be_bytes()[..]))
            {
                let names = row.as_deref().and_then(|r| <[u8; 8]>::try_from(r).ok()).map(u64::from_be_bytes);
                return Err(Error::Corrupt(format!(
                    "entry {index}: the message id index names {} instead; the private index is damaged, restore the data folder from a backup",
                    names.map_or("no entry".to_string(), |n| format!("entry {n}"))
                )));
            }
            for tile in rebuilt.extend(&leaves) {
                self.check_stored_tile(tile.level, tile.index, &tile.bytes())?;
            }
            progress(i);
        }
        for ((level, index), bytes) in rebuilt.changed_tiles(0, &[]) {
            self.check_stored_tile(level, index, &bytes)?;
        }
        if rebuilt.root() != published.root() {
            return Err(Error::Corrupt(format!(
                "the tree of the stored entries has root {}, not the root {} of the signed checkpoint",
                hex::encode(rebuilt.root()),
                hex::encode(published.root())
            )));
        }
        self.shared.layout.check(self.shared.store.as_ref(), size)?;
        Ok(size)
    }
}

impl Ledger {
    /// Compares stored hash tile `(level, index)` with the `want`ed bytes the entries make (a
    /// stored partial tile may be wider: a commit after this fsck began).
    fn check_stored_tile(&self, level: u8, index: u64, want: &[u8]) -> Result<()> {
        let stored =
            self.shared.store.tile(level, index)?.ok_or_else(|| Error::Corrupt(format!("hash tile {level}/{index} is missing")))?;
        if stored.get(..want.len()) == Some(want) {
            return Ok(());
        }
        let hashes = stored.chunks(32).zip(want.chunks(32));
        let at = hashes.clone().position(|(a, b)| a != b).unwrap_or(stored.len().min(want.len()) / 32) as u64;
        let entry =
            if level == 0 { format!(" (entry {}: its leaf hash differs from the stored tree)", index * 256 + at) } else { String::new() };
        Err(Error::Corrupt(format!("hash tile {level}/{index} differs from the tile its entries make at hash {at}{entry}")))
    }
}

/// What fsck needs of a parsed entry: its index, its `prev` and its message key (messages only).
type Linked = (u64, String, Option<MessageKey>);
