//! The PostgreSQL backend ([`PgStore`], feature `postgres`): the log in tables, where any
//! number of front ends share it (SPEC.md §12.2).
//!
//! | table | holds |
//! |---|---|
//! | `sightline_head` | one row: the tree size and its signed checkpoint (the commit point) |
//! | `sightline_entries` | entry `idx`: its bytes |
//! | `sightline_private` | entry `idx`: its private record (sealed personal part) and its lookup record (message key, recipient handle and key) |
//! | `sightline_tiles` | hash tile `(level, idx)` at its widest |
//! | `sightline_index_rows`, `sightline_private_rows` | the two key spaces ([`Space`]) |
//! | `sightline_lease`, `sightline_handoff`, `sightline_handoff_records` | the sequencing lease and the queue of handed-over jobs (`coordination.rs`) |
//! | `sightline_schema_version` | the schema versions applied (`schema.rs`) |
//!
//! A commit is **one transaction**: it locks the head row (and, when fenced, the lease row),
//! checks that its entries extend the head and that the lease is still this front end's,
//! writes every row and moves the head. Durable: each session sets `synchronous_commit` on,
//! so `COMMIT` returns once the WAL is flushed. A wipe overwrites the private record and the
//! lookup record's private part in the same transaction; PostgreSQL keeps the old row
//! versions in its files until `VACUUM` reclaims them (README "Running on PostgreSQL").
//!
//! Every statement runs on the store's own threads (`pool.rs`): commits on one connection,
//! the lease on another, reads on a few more.

mod columns;
mod commit;
mod coordination;
mod copy;
mod pool;
mod schema;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::store::postgres::columns::{contiguous, db_bound, db_index, log_index, lookup_record};
use crate::store::postgres::pool::{column, Conn, Pool, CONNECT_TIMEOUT};
use crate::store::{Commit, Head, Lease, LookupRecord, Space, Store, LOOKUP_BYTES};

/// A [`Store`] (and [`Coordination`](crate::store::Coordination)) in a PostgreSQL database.
pub struct PgStore {
    /// Commits, and everything else that writes the log.
    writer: Pool,
    /// The lease, on a connection of its own so that renewing it never waits behind a commit.
    lease: Pool,
    /// Reads.
    readers: Pool,
    /// The lease every commit checks, once this front end sequences (`coordination.rs`).
    fence: Mutex<Option<Lease>>,
    /// Where the database is, for messages.
    place: String,
}

/// How many connections a store opens for reads.
pub const READ_CONNECTIONS: usize = 4;

impl PgStore {
    /// Opens the store in the database at `url` (`postgres://user:password@host:port/database`),
    /// creating or upgrading its tables. Refuses a database that a `sightline migrate` into it
    /// left half copied.
    pub fn open(url: &str) -> Result<PgStore> {
        let store = PgStore::connect(url)?;
        if store.head()?.is_none() && store.readers.run(has_rows)? {
            return Err(Error::Corrupt(format!(
                "{} holds entries but no signed head: a `sightline migrate` into it was interrupted; run it again (it starts over)",
                store.place
            )));
        }
        Ok(store)
    }

    /// Connects and brings the tables to this build's schema, without looking at what they hold.
    fn connect(url: &str) -> Result<PgStore> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            Error::Storage(format!("the database address is not a PostgreSQL URL ({e}); give postgres://user:password@host:port/database"))
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("sightline");
        }
        let writer = Pool::start("sightline-pg-commit", 1, &config)?;
        writer.run(schema::migrate)?;
        Ok(PgStore {
            writer,
            lease: Pool::start("sightline-pg-lease", 1, &config)?,
            readers: Pool::start("sightline-pg-read", READ_CONNECTIONS, &config)?,
            fence: Mutex::new(None),
            place: pool::place(&config),
        })
    }

    /// Where the database is: host, port and database, never the password.
    pub fn place(&self) -> &str {
        &self.place
    }

    /// The lease commits are fenced with, if any.
    fn fenced_by(&self) -> Option<Lease> {
        self.fence.lock().map(|f| f.clone()).unwrap_or(None)
    }
}

/// Whether the log tables hold any entry.
fn has_rows(conn: &mut Conn) -> Result<bool> {
    Ok(!conn.query("reading the entries", "SELECT idx FROM sightline_entries LIMIT 1", &[])?.is_empty())
}

/// The table of a key space.
fn space_table(space: Space) -> (&'static str, &'static str) {
    match space {
        Space::Index => ("SELECT row_value FROM sightline_index_rows WHERE row_key = $1", INDEX_SCAN),
        Space::Private => ("SELECT row_value FROM sightline_private_rows WHERE row_key = $1", PRIVATE_SCAN),
    }
}

const INDEX_SCAN: &str =
    "SELECT row_key, row_value FROM sightline_index_rows WHERE row_key >= $1 AND ($2::BYTEA IS NULL OR row_key < $2) ORDER BY row_key";
const PRIVATE_SCAN: &str =
    "SELECT row_key, row_value FROM sightline_private_rows WHERE row_key >= $1 AND ($2::BYTEA IS NULL OR row_key < $2) ORDER BY row_key";

/// The smallest key above every key that starts with `prefix`; `None` if there is none (the
/// prefix is empty or all `0xff`).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

impl Store for PgStore {
    fn head(&self) -> Result<Option<Head>> {
        self.readers.run(read_head)
    }

    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let Ok(i) = i64::try_from(index) else { return Ok(None) };
        self.readers.run(move |conn| {
            let rows = conn.query("reading an entry", "SELECT entry FROM sightline_entries WHERE idx = $1", &[&i])?;
            rows.first().map(|r| column(r, 0, "an entry")).transpose()
        })
    }

    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        if end <= start {
            return Ok(Vec::new());
        }
        let (from, to) = (db_bound(start), db_bound(end));
        self.readers.run(move |conn| {
            let rows = conn.query(
                "reading entries",
                "SELECT idx, entry FROM sightline_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&from, &to],
            )?;
            contiguous(&rows, from, |row| column(row, 1, "an entry"))
        })
    }

    fn private(&self, index: u64) -> Result<Option<Vec<u8>>> {
        let Ok(i) = i64::try_from(index) else { return Ok(None) };
        self.readers.run(move |conn| {
            let rows = conn.query("reading a private record", "SELECT record FROM sightline_private WHERE idx = $1", &[&i])?;
            rows.first().map(|r| column(r, 0, "a private record")).transpose()
        })
    }

    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>> {
        if end <= start {
            return Ok(Vec::new());
        }
        let (from, to) = (db_bound(start), db_bound(end));
        self.readers.run(move |conn| {
            let rows = conn.query(
                "reading lookup records",
                "SELECT idx, message_key, handle, recipient_key FROM sightline_private WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[&from, &to],
            )?;
            contiguous(&rows, from, |row| {
                let part = |i| column::<&[u8]>(row, i, "a lookup record");
                Ok(lookup_record(part(1)?, part(2)?, part(3)?))
            })
        })
    }

    fn lookup_count(&self) -> Result<u64> {
        // Every entry gets its lookup record in the transaction that writes it.
        Ok(self.head()?.map_or(0, |h| h.size))
    }

    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()> {
        let records = records.to_vec();
        self.writer.run(move |conn| {
            let size = read_head(conn)?.map_or(0, |h| h.size);
            if records.len() as u64 != size {
                return Err(Error::Storage(format!("{} lookup records for a head of {size} entries; this is a bug", records.len())));
            }
            let idx: Vec<i64> = (0..db_bound(size)).collect();
            let part = |range: std::ops::Range<usize>| records.iter().map(|r| r[range.clone()].to_vec()).collect::<Vec<_>>();
            let (keys, handles, recipient_keys) = (part(0..16), part(16..48), part(48..LOOKUP_BYTES));
            conn.execute(
                "replacing the lookup records",
                "UPDATE sightline_private SET message_key = u.m, handle = u.h, recipient_key = u.k \
                 FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[]) AS u(i, m, h, k) WHERE sightline_private.idx = u.i",
                &[&idx, &keys, &handles, &recipient_keys],
            )?;
            Ok(())
        })
    }

    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        let heads = heads.iter().map(|(i, h)| Ok((db_index(*i)?, h.clone()))).collect::<Result<Vec<_>>>()?;
        self.writer.run(move |conn| {
            let place = conn.place.clone();
            let failed = |e| pool::db_error("rewriting private records", &place, e);
            let mut tx = conn.client()?.transaction().map_err(failed)?;
            let mut rewritten = Vec::with_capacity(heads.len());
            // Every record is checked before one is written, so a refused call changes nothing.
            for (i, head) in &heads {
                let row = tx.query_opt("SELECT record FROM sightline_private WHERE idx = $1 FOR UPDATE", &[i]).map_err(failed)?;
                let record: Vec<u8> = match row {
                    Some(r) => column(&r, 0, "a private record")?,
                    None => return Err(Error::Storage(format!("private record {i} is missing; it cannot get a new head"))),
                };
                if record.len() < head.len() {
                    return Err(Error::Storage(format!("private record {i} is shorter than its new head")));
                }
                rewritten.push((*i, [head.as_slice(), &record[head.len()..]].concat()));
            }
            for (i, record) in &rewritten {
                tx.execute("UPDATE sightline_private SET record = $2 WHERE idx = $1", &[i, record]).map_err(failed)?;
            }
            tx.commit().map_err(failed)
        })
    }

    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        let Ok(i) = i64::try_from(index) else { return Ok(None) };
        let level = i16::from(level);
        self.readers.run(move |conn| {
            let rows = conn.query("reading a tile", "SELECT hashes FROM sightline_tiles WHERE level = $1 AND idx = $2", &[&level, &i])?;
            rows.first().map(|r| column(r, 0, "a tile")).transpose()
        })
    }

    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let (sql, _) = space_table(space);
        let key = key.to_vec();
        self.readers.run(move |conn| {
            let rows = conn.query("reading a row", sql, &[&key])?;
            rows.first().map(|r| column(r, 0, "a row")).transpose()
        })
    }

    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let sql = match space {
            Space::Index => "SELECT row_key, row_value FROM sightline_index_rows WHERE row_key = ANY($1)",
            Space::Private => "SELECT row_key, row_value FROM sightline_private_rows WHERE row_key = ANY($1)",
        };
        let wanted = keys.to_vec();
        let found = self.readers.run(move |conn| {
            let rows = conn.query("reading rows", sql, &[&wanted])?;
            rows.iter()
                .map(|r| Ok((column::<Vec<u8>>(r, 0, "a row's key")?, column::<Vec<u8>>(r, 1, "a row")?)))
                .collect::<Result<HashMap<_, _>>>()
        })?;
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (_, sql) = space_table(space);
        let (from, to) = (prefix.to_vec(), prefix_end(prefix));
        self.readers.run(move |conn| {
            let rows = conn.query("scanning rows", sql, &[&from, &to])?;
            rows.iter().map(|r| Ok((column(r, 0, "a row's key")?, column(r, 1, "a row")?))).collect()
        })
    }

    fn commit(&self, c: &Commit) -> Result<()> {
        let rows = commit::CommitRows::of(c)?;
        let fence = self.fenced_by();
        self.writer.run(move |conn| rows.write(conn, fence.as_ref()))
    }

    fn size_on_disk(&self) -> Result<u64> {
        let tables: Vec<&str> = TABLES.to_vec();
        self.readers.run(move |conn| {
            let rows = conn.query(
                "measuring the tables",
                "SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)::BIGINT FROM UNNEST($1::TEXT[]) AS t",
                &[&tables],
            )?;
            let bytes: i64 = rows.first().map(|r| column(r, 0, "a table size")).transpose()?.unwrap_or(0);
            Ok(u64::try_from(bytes).unwrap_or(0))
        })
    }
}

/// The tables of the log (not of the lease or the queue).
const TABLES: [&str; 6] =
    ["sightline_head", "sightline_entries", "sightline_private", "sightline_tiles", "sightline_index_rows", "sightline_private_rows"];

fn read_head(conn: &mut Conn) -> Result<Option<Head>> {
    let rows = conn.query("reading the head", "SELECT size, checkpoint FROM sightline_head WHERE id = 1", &[])?;
    let Some(row) = rows.first() else { return Ok(None) };
    Ok(Some(Head { size: log_index(column(row, 0, "the head's size")?)?, checkpoint: column(row, 1, "the head's checkpoint")? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_scan_ends_at_the_next_prefix() {
        assert_eq!(prefix_end(b"reg/"), Some(b"reg0".to_vec()));
        assert_eq!(prefix_end(b"a\xff"), Some(b"b".to_vec()));
        assert_eq!(prefix_end(b"\xff\xff"), None);
        assert_eq!(prefix_end(b""), None);
    }

    #[test]
    fn a_lookup_record_is_its_three_columns() {
        let r = lookup_record(&[1; 16], &[2; 32], &[3; 32]);
        assert_eq!((&r[..16], &r[16..48], &r[48..]), (&[1u8; 16][..], &[2u8; 32][..], &[3u8; 32][..]));
        // A damaged column reads back cut or padded with zeros, never as a panic.
        let short = lookup_record(&[1; 3], &[], &[3; 40]);
        assert_eq!((&short[..3], &short[3..48], &short[48..]), (&[1u8; 3][..], &[0u8; 45][..], &[3u8; 32][..]));
    }
}
