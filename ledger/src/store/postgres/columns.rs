//! How the ledger's values sit in the database's columns: entry indexes as `BIGINT`, the rows
//! of a key space as two `BYTEA` columns, a lookup record as three, positional reads stopping
//! at the first index missing.

use crate::error::{Error, Result};
use crate::store::postgres::pool::column;
use crate::store::{LookupRecord, LOOKUP_BYTES};

/// Rows of a key space as the two columns of one statement: keys, values.
pub(super) type RowColumns = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// An entry index as the database stores it.
pub(super) fn db_index(i: u64) -> Result<i64> {
    i64::try_from(i).map_err(|_| Error::OutOfRange(format!("entry {i} is beyond what the database indexes")))
}

/// A range bound as the database compares it (indexes past `i64::MAX` never exist).
pub(super) fn db_bound(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// An entry index the database returned.
pub(super) fn log_index(i: i64) -> Result<u64> {
    u64::try_from(i).map_err(|_| Error::Corrupt(format!("the database holds a negative entry index ({i})")))
}

/// What `read` makes of rows whose first column is an entry index, from index `from` on and up
/// to the first one missing (positional reads stop there).
pub(super) fn contiguous<T>(rows: &[postgres::Row], from: i64, read: impl Fn(&postgres::Row) -> Result<T>) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    for (want, row) in (from..).zip(rows) {
        if column::<i64>(row, 0, "an entry's index")? != want {
            break;
        }
        out.push(read(row)?);
    }
    Ok(out)
}

/// The lookup record stored in three columns.
pub(super) fn lookup_record(message_key: &[u8], handle: &[u8], key: &[u8]) -> LookupRecord {
    let mut r = [0u8; LOOKUP_BYTES];
    for (range, part) in [(0..16, message_key), (16..48, handle), (48..LOOKUP_BYTES, key)] {
        let n = part.len().min(range.len());
        r[range.start..range.start + n].copy_from_slice(&part[..n]);
    }
    r
}
