//! One commit as one transaction ([`CommitRows`]): the lease checked (when fenced), the head
//! locked and checked, every row written with one `INSERT … SELECT * FROM UNNEST(…)` per table,
//! the head moved, and the answers of handed-over jobs written, then `COMMIT`.

use postgres::types::ToSql;

use crate::error::{Error, Result};
use crate::store::postgres::columns::{db_index, RowColumns};
use crate::store::postgres::pool::{self, column, Conn};
use crate::store::{Commit, Lease, LookupRecord, Space, LOOKUP_BYTES, LOOKUP_PRIVATE};

/// What one commit writes, as the columns of its statements (owned: the statements run on the
/// store's writer thread).
pub(super) struct CommitRows {
    size: i64,
    checkpoint: String,
    /// The first entry the commit appends (the head's size if it appends none).
    first: i64,
    idx: Vec<i64>,
    entries: Vec<Vec<u8>>,
    private: Vec<Vec<u8>>,
    message_keys: Vec<Vec<u8>>,
    handles: Vec<Vec<u8>>,
    recipient_keys: Vec<Vec<u8>>,
    tiles: (Vec<i16>, Vec<i64>, Vec<Vec<u8>>),
    /// Puts and deletes of each space, `[Index, Private]`, the last put of a key winning.
    puts: [RowColumns; 2],
    deletes: [Vec<Vec<u8>>; 2],
    wipe: Vec<i64>,
    answers: (Vec<i64>, Vec<String>),
}

impl CommitRows {
    /// The rows of `c`, refused before anything is sent if its records are not one per entry
    /// or its entries do not follow each other.
    pub(super) fn of(c: &Commit) -> Result<CommitRows> {
        let n = c.entries.len();
        let one_each = |len: usize| len == 0 || len == n;
        if !one_each(c.private.len()) || !one_each(c.lookup.len()) {
            return Err(Error::Storage(format!(
                "a commit of {n} entries carries {} private and {} lookup records; this is a bug",
                c.private.len(),
                c.lookup.len()
            )));
        }
        let first = c.entries.first().map_or(c.size, |(i, _)| *i);
        if c.entries.iter().zip(first..).any(|((i, _), want)| *i != want) || first + n as u64 != c.size {
            return Err(Error::Storage(format!(
                "records are append-only and positional; the commit's entries do not run from {first} to its size {}",
                c.size
            )));
        }
        let lookups: Vec<LookupRecord> = if c.lookup.is_empty() { vec![[0; LOOKUP_BYTES]; n] } else { c.lookup.clone() };
        let part = |range: std::ops::Range<usize>| lookups.iter().map(|r| r[range.clone()].to_vec()).collect::<Vec<_>>();
        let mut puts: [std::collections::BTreeMap<Vec<u8>, Vec<u8>>; 2] = Default::default();
        for (space, k, v) in &c.puts {
            puts[space_slot(*space)].insert(k.clone(), v.clone());
        }
        let mut deletes: [Vec<Vec<u8>>; 2] = Default::default();
        for (space, k) in &c.deletes {
            deletes[space_slot(*space)].push(k.clone());
        }
        Ok(CommitRows {
            size: db_index(c.size)?,
            checkpoint: c.checkpoint.clone(),
            first: db_index(first)?,
            idx: c.entries.iter().map(|(i, _)| db_index(*i)).collect::<Result<_>>()?,
            entries: c.entries.iter().map(|(_, e)| e.clone()).collect(),
            private: if c.private.is_empty() { vec![Vec::new(); n] } else { c.private.clone() },
            message_keys: part(0..16),
            handles: part(16..48),
            recipient_keys: part(48..LOOKUP_BYTES),
            tiles: (
                c.tiles.iter().map(|((l, _), _)| i16::from(*l)).collect(),
                c.tiles.iter().map(|((_, i), _)| db_index(*i)).collect::<Result<_>>()?,
                c.tiles.iter().map(|(_, t)| t.clone()).collect(),
            ),
            puts: puts.map(|p| p.into_iter().unzip()),
            deletes,
            wipe: c.wipe.iter().map(|i| db_index(*i)).collect::<Result<_>>()?,
            answers: (
                c.answers.iter().map(|(id, _)| db_index(*id)).collect::<Result<_>>()?,
                c.answers.iter().map(|(_, a)| a.clone()).collect(),
            ),
        })
    }

    /// Writes the commit in one transaction: nothing of it, or all of it.
    pub(super) fn write(self, conn: &mut Conn, fence: Option<&Lease>) -> Result<()> {
        let mut st = Vec::with_capacity(COMMIT_STATEMENTS.len());
        for sql in COMMIT_STATEMENTS {
            st.push(conn.prepared(sql)?);
        }
        let place = conn.place.clone();
        let failed = |e| pool::db_error("committing", &place, e);
        let mut tx = conn.client()?.transaction().map_err(failed)?;
        if let Some(lease) = fence {
            let row = tx.query_one(&st[LEASE], &[]).map_err(failed)?;
            let (holder, epoch): (String, i64) = (column(&row, 0, "the lease's holder")?, column(&row, 1, "the lease's epoch")?);
            if holder != lease.holder || u64::try_from(epoch).ok() != Some(lease.epoch) {
                return Err(Error::Unavailable(
                    "this front end no longer holds the sequencing lease (another front end took it over), so none of this commit was written"
                        .into(),
                ));
            }
        }
        let head = tx.query_opt(&st[HEAD], &[]).map_err(failed)?;
        let size: i64 = head.map(|r| column(&r, 0, "the head's size")).transpose()?.unwrap_or(0);
        if size != self.first {
            return Err(Error::Storage(format!(
                "records are append-only and positional: the commit starts at entry {} but the stored log has {size} entries",
                self.first
            )));
        }
        if !self.idx.is_empty() {
            tx.execute(&st[ENTRIES], &[&self.idx, &self.entries]).map_err(failed)?;
            tx.execute(&st[PRIVATE], &[&self.idx, &self.private, &self.message_keys, &self.handles, &self.recipient_keys])
                .map_err(failed)?;
        }
        if !self.tiles.0.is_empty() {
            tx.execute(&st[TILES], &[&self.tiles.0, &self.tiles.1, &self.tiles.2]).map_err(failed)?;
        }
        for (slot, (keys, values)) in self.puts.iter().enumerate() {
            if !keys.is_empty() {
                tx.execute(&st[PUTS + slot], &[keys, values]).map_err(failed)?;
            }
            if !self.deletes[slot].is_empty() {
                tx.execute(&st[DELETES + slot], &[&self.deletes[slot]]).map_err(failed)?;
            }
        }
        if !self.wipe.is_empty() {
            let zeros = vec![0u8; LOOKUP_PRIVATE.len() / 2];
            tx.execute(&st[WIPE], &[&self.wipe, &zeros]).map_err(failed)?;
        }
        tx.execute(&st[MOVE_HEAD], &[&self.size, &self.checkpoint]).map_err(failed)?;
        if !self.answers.0.is_empty() {
            let params: [&(dyn ToSql + Sync); 2] = [&self.answers.0, &self.answers.1];
            tx.execute(&st[ANSWERS], &params).map_err(failed)?;
        }
        tx.commit().map_err(failed)
    }
}

/// The statements of a commit, prepared once per connection; indexed by the constants below.
pub(super) const COMMIT_STATEMENTS: [&str; 12] = [
    "SELECT holder, epoch FROM sightline_lease WHERE id = 1 FOR UPDATE",
    "SELECT size FROM sightline_head WHERE id = 1 FOR UPDATE",
    "INSERT INTO sightline_entries (idx, entry) SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[])",
    "INSERT INTO sightline_private (idx, record, message_key, handle, recipient_key) \
     SELECT * FROM UNNEST($1::BIGINT[], $2::BYTEA[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[])",
    "INSERT INTO sightline_tiles (level, idx, hashes) SELECT * FROM UNNEST($1::SMALLINT[], $2::BIGINT[], $3::BYTEA[]) \
     ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes",
    "INSERT INTO sightline_index_rows (row_key, row_value) SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[]) \
     ON CONFLICT (row_key) DO UPDATE SET row_value = excluded.row_value",
    "INSERT INTO sightline_private_rows (row_key, row_value) SELECT * FROM UNNEST($1::BYTEA[], $2::BYTEA[]) \
     ON CONFLICT (row_key) DO UPDATE SET row_value = excluded.row_value",
    "DELETE FROM sightline_index_rows WHERE row_key = ANY($1)",
    "DELETE FROM sightline_private_rows WHERE row_key = ANY($1)",
    "UPDATE sightline_private SET record = decode(repeat('00', length(record)), 'hex'), handle = $2, recipient_key = $2 \
     WHERE idx = ANY($1)",
    "INSERT INTO sightline_head (id, size, checkpoint) VALUES (1, $1, $2) \
     ON CONFLICT (id) DO UPDATE SET size = excluded.size, checkpoint = excluded.checkpoint",
    "UPDATE sightline_handoff SET answer = u.answer, answered_at = now() FROM UNNEST($1::BIGINT[], $2::TEXT[]) AS u(id, answer) \
     WHERE sightline_handoff.id = u.id AND sightline_handoff.answer IS NULL",
];
const LEASE: usize = 0;
const HEAD: usize = 1;
pub(super) const ENTRIES: usize = 2;
pub(super) const PRIVATE: usize = 3;
pub(super) const TILES: usize = 4;
/// The puts of [`Space::Index`]; [`Space::Private`]'s follow.
pub(super) const PUTS: usize = 5;
/// The deletes of [`Space::Index`]; [`Space::Private`]'s follow.
const DELETES: usize = 7;
const WIPE: usize = 9;
pub(super) const MOVE_HEAD: usize = 10;
const ANSWERS: usize = 11;

fn space_slot(space: Space) -> usize {
    match space {
        Space::Index => 0,
        Space::Private => 1,
    }
}
