//! `sightline migrate`: another store (a data folder's sled store) copied into an empty
//! PostgreSQL database ([`PgStore::copy_from`]). The records go over in transactions of a few
//! thousand entries without a head; the last transaction writes the tiles, both key spaces and
//! the head. So the database holds no log until the copy is whole: one interrupted is refused
//! by [`PgStore::open`], and running the copy again starts over.

use postgres::types::ToSql;

use crate::error::{Error, Result};
use crate::store::postgres::columns::{db_index, RowColumns};
use crate::store::postgres::commit::{COMMIT_STATEMENTS, ENTRIES, MOVE_HEAD, PRIVATE, PUTS, TILES};
use crate::store::postgres::pool::{self, Conn};
use crate::store::postgres::PgStore;
use crate::store::{Head, Space, Store, LOOKUP_BYTES};

/// Entries per transaction of the copy.
const CHUNK: u64 = 2_000;

impl PgStore {
    /// Copies everything `source` holds (checked by opening it as a ledger first) into the
    /// empty database at `url`; `progress(done, total)` after each transaction. Refuses a
    /// database that holds a log already.
    pub fn copy_from(url: &str, source: &dyn Store, progress: &dyn Fn(u64, u64)) -> Result<PgStore> {
        let store = PgStore::connect(url)?;
        if let Some(head) = store.head()? {
            return Err(Error::Storage(format!(
                "{} holds a log already ({} entries); migrate into an empty database",
                store.place, head.size
            )));
        }
        let head = source.head()?.ok_or_else(|| Error::OutOfRange("the data folder's store holds no log".into()))?;
        store.writer.run(|conn| {
            conn.client()?
                .batch_execute(
                    "DELETE FROM sightline_entries; DELETE FROM sightline_private; DELETE FROM sightline_tiles; \
                     DELETE FROM sightline_index_rows; DELETE FROM sightline_private_rows",
                )
                .map_err(|e| conn.failed("removing what an interrupted copy left", e))
        })?;
        let mut start = 0;
        while start < head.size {
            let end = (start + CHUNK).min(head.size);
            let records = Records::read(source, start, end)?;
            store.writer.run(move |conn| records.write(conn))?;
            progress(end, head.size);
            start = end;
        }
        let rest = Rest::read(source, head)?;
        store.writer.run(move |conn| rest.write(conn))?;
        Ok(store)
    }
}

/// Entries `start..end` with their private and lookup records, as columns.
struct Records {
    idx: Vec<i64>,
    entries: Vec<Vec<u8>>,
    private: Vec<Vec<u8>>,
    lookup: [Vec<Vec<u8>>; 3],
}

impl Records {
    fn read(source: &dyn Store, start: u64, end: u64) -> Result<Records> {
        let entries = source.entries(start, end)?;
        let lookups = source.lookups(start, end)?;
        if entries.len() as u64 != end - start || lookups.len() as u64 != end - start {
            return Err(Error::Corrupt(format!("the store being copied misses records between entries {start} and {end}")));
        }
        let private = (start..end)
            .map(|i| source.private(i)?.ok_or_else(|| Error::Corrupt(format!("the private record of entry {i} is missing"))))
            .collect::<Result<Vec<_>>>()?;
        let part = |a: usize, b: usize| lookups.iter().map(|r| r[a..b].to_vec()).collect();
        Ok(Records {
            idx: (start..end).map(db_index).collect::<Result<_>>()?,
            entries,
            private,
            lookup: [part(0, 16), part(16, 48), part(48, LOOKUP_BYTES)],
        })
    }

    fn write(self, conn: &mut Conn) -> Result<()> {
        let (entries, private) = (conn.prepared(COMMIT_STATEMENTS[ENTRIES])?, conn.prepared(COMMIT_STATEMENTS[PRIVATE])?);
        let place = conn.place.clone();
        let failed = |e| pool::db_error("copying entries", &place, e);
        let mut tx = conn.client()?.transaction().map_err(failed)?;
        tx.execute(&entries, &[&self.idx, &self.entries]).map_err(failed)?;
        let [keys, handles, recipient_keys] = &self.lookup;
        tx.execute(&private, &[&self.idx, &self.private, keys, handles, recipient_keys]).map_err(failed)?;
        tx.commit().map_err(failed)
    }
}

/// The tiles, both key spaces and the head: the copy's last transaction.
struct Rest {
    tiles: (Vec<i16>, Vec<i64>, Vec<Vec<u8>>),
    spaces: [RowColumns; 2],
    head: Head,
}

impl Rest {
    fn read(source: &dyn Store, head: Head) -> Result<Rest> {
        let mut tiles = (Vec::new(), Vec::new(), Vec::new());
        for level in 0..=u8::MAX {
            let mut index = 0;
            while let Some(bytes) = source.tile(level, index)? {
                tiles.0.push(i16::from(level));
                tiles.1.push(db_index(index)?);
                tiles.2.push(bytes);
                index += 1;
            }
            if index == 0 {
                break;
            }
        }
        let space = |s| source.scan(s, b"").map(|rows| rows.into_iter().unzip());
        Ok(Rest { tiles, spaces: [space(Space::Index)?, space(Space::Private)?], head })
    }

    fn write(self, conn: &mut Conn) -> Result<()> {
        let statements =
            [TILES, PUTS, PUTS + 1, MOVE_HEAD].into_iter().map(|i| conn.prepared(COMMIT_STATEMENTS[i])).collect::<Result<Vec<_>>>()?;
        let place = conn.place.clone();
        let failed = |e| pool::db_error("copying tiles, rows and the head", &place, e);
        let mut tx = conn.client()?.transaction().map_err(failed)?;
        tx.execute(&statements[0], &[&self.tiles.0, &self.tiles.1, &self.tiles.2]).map_err(failed)?;
        for (slot, (keys, values)) in self.spaces.iter().enumerate() {
            let params: [&(dyn ToSql + Sync); 2] = [keys, values];
            tx.execute(&statements[1 + slot], &params).map_err(failed)?;
        }
        tx.execute(&statements[3], &[&db_index(self.head.size)?, &self.head.checkpoint]).map_err(failed)?;
        tx.commit().map_err(failed)
    }
}
