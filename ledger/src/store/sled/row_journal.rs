//! The bytes of `rows.journal`'s records and of `rows.dir` (`hashed_rows.rs`), little-endian.
//!
//! A journal record is its body's length (u32), a CRC-32 of the body (u32), and the body: the
//! change's sequence number (u64), then its ops (`hash_table::Op`), each a tag byte and its
//! fields. A record that is torn or damaged ends the journal where it starts. `rows.dir` is
//! a magic line, the last change it covers (u64), the end of `rows.dat` (u64), every segment
//! of every table (offset u64, capacity, used, live u32), then a CRC-32 of all before it.

use super::hash_table::{Op, Segment, SEGMENTS, SHAPES};
use crate::error::{Error, Result};

/// The name of the checkpoint file.
pub(super) const DIRECTORY: &str = "rows.dir";

/// What `rows.dir` holds: every table's segments, the end of `rows.dat`, and the last change
/// it covers.
pub(super) struct Directory {
    pub(super) tables: Vec<Vec<Segment>>,
    pub(super) end: u64,
    pub(super) seq: u64,
}

/// The error of a row index that lost or damaged what it must hold.
pub(super) fn corrupt(why: &str) -> Error {
    Error::Corrupt(format!("the row index of the data folder {why}; restore the data folder from a backup"))
}

const MAGIC: &[u8] = b"sightline rows 1\n";

/// `rows.dir`: MAGIC, seq, end, every table's segments, then a CRC-32 of all before it.
pub(super) fn encode_directory(state: &Directory) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&state.seq.to_le_bytes());
    b.extend_from_slice(&state.end.to_le_bytes());
    for table in &state.tables {
        for seg in table {
            put_segment(&mut b, seg);
        }
    }
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

pub(super) fn decode_directory(b: &[u8]) -> Result<Directory> {
    let want = MAGIC.len() + 16 + SHAPES.len() * SEGMENTS * SEGMENT_BYTES + 4;
    if b.len() != want || !b.starts_with(MAGIC) {
        return Err(corrupt(&format!("directory ({DIRECTORY}) is not one this version wrote")));
    }
    let (body, crc) = b.split_at(b.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return Err(corrupt(&format!("directory ({DIRECTORY}) is damaged")));
    }
    let mut r = Reader { b: body, at: MAGIC.len() };
    let (seq, end) = (r.u64().unwrap_or_default(), r.u64().unwrap_or_default());
    let tables = SHAPES.iter().map(|_| (0..SEGMENTS).map(|_| r.segment().unwrap_or(EMPTY_SEGMENT)).collect()).collect();
    Ok(Directory { tables, end, seq })
}

const SEGMENT_BYTES: usize = 8 + 4 + 4 + 4;
const EMPTY_SEGMENT: Segment = Segment { offset: 0, capacity: 1, used: 0, live: 0 };

fn put_segment(b: &mut Vec<u8>, s: &Segment) {
    b.extend_from_slice(&s.offset.to_le_bytes());
    b.extend_from_slice(&s.capacity.to_le_bytes());
    b.extend_from_slice(&s.used.to_le_bytes());
    b.extend_from_slice(&s.live.to_le_bytes());
}

/// A journal record: body length (u32), CRC-32 of the body (u32), body: seq (u64), then ops.
pub(super) fn encode_record(seq: u64, ops: &[Op]) -> Vec<u8> {
    let mut body = seq.to_le_bytes().to_vec();
    for op in ops {
        match op {
            Op::Write { offset, bytes } => {
                body.push(1);
                body.extend_from_slice(&offset.to_le_bytes());
                body.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
                body.extend_from_slice(bytes);
            }
            Op::Rehash { slot, from, from_capacity, to, to_capacity } => {
                body.push(2);
                body.extend_from_slice(&slot.to_le_bytes());
                body.extend_from_slice(&from.to_le_bytes());
                body.extend_from_slice(&from_capacity.to_le_bytes());
                body.extend_from_slice(&to.to_le_bytes());
                body.extend_from_slice(&to_capacity.to_le_bytes());
            }
            Op::Segment { table, segment, state } => {
                body.push(3);
                body.push(*table);
                body.extend_from_slice(&segment.to_le_bytes());
                put_segment(&mut body, state);
            }
            Op::End(end) => {
                body.push(4);
                body.extend_from_slice(&end.to_le_bytes());
            }
        }
    }
    let mut record = (body.len() as u32).to_le_bytes().to_vec();
    record.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    record.extend_from_slice(&body);
    record
}

/// The record at `at`: its seq, ops and where the next starts; `None` at the end of the
/// journal or at a record that is torn or damaged (a commit that never finished).
pub(super) fn decode_record(b: &[u8], at: usize) -> Option<(u64, Vec<Op>, usize)> {
    let mut head = Reader { b, at };
    let (len, crc) = (head.u32()? as usize, head.u32()?);
    let body = b.get(head.at..head.at.checked_add(len)?)?;
    if crc32fast::hash(body) != crc {
        return None;
    }
    let mut r = Reader { b: body, at: 0 };
    let seq = r.u64()?;
    let mut ops = Vec::new();
    while r.at < body.len() {
        ops.push(match r.u8()? {
            1 => {
                let offset = r.u64()?;
                let n = r.u16()? as usize;
                Op::Write { offset, bytes: r.take(n)?.to_vec() }
            }
            2 => Op::Rehash { slot: r.u16()?, from: r.u64()?, from_capacity: r.u32()?, to: r.u64()?, to_capacity: r.u32()? },
            3 => Op::Segment { table: r.u8()?, segment: r.u16()?, state: r.segment()? },
            4 => Op::End(r.u64()?),
            _ => return None,
        });
    }
    Some((seq, ops, head.at + len))
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).and_then(|s| s.try_into().ok()).map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).and_then(|s| s.try_into().ok()).map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes)
    }
    fn segment(&mut self) -> Option<Segment> {
        Some(Segment { offset: self.u64()?, capacity: self.u32()?, used: self.u32()?, live: self.u32()? })
    }
}
