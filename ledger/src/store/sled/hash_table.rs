//! The layout of the hash tables in `rows.dat` and how a change is planned against them:
//! the pure part of `hashed_rows.rs`, which adds the journal, the files and the locks.
//!
//! A table maps keys of one length (keyed digests, uniform and not chosen by a submitter) to
//! 8-byte values. It is split into [`SEGMENTS`] segments by the key's first 12 bits; a segment is
//! an open-addressing table with linear probing, a power-of-two count of fixed-width slots in
//! one extent of the file. A slot is a state byte (empty, live, gone), the key and the value,
//! padded to a multiple of 8 bytes. A deleted row leaves a gone slot (zeros after its state
//! byte), which probing passes over and an insert reuses.
//!
//! A segment that would be more than 70% used (live and gone slots) is rehashed, in the
//! order of its slots, into a new extent at the end of the file, twice as large if more than
//! a third of it is live (else the same size, to drop its gone slots). An extent is never
//! written again once its segment has moved; `hashed_rows.rs` frees it at the next checkpoint.
//! Each rehash reads and writes one segment, 1/4096 of the table, so no change ever stalls
//! on the whole table, and the directory (the extent of every segment) is a fixed 80 KiB per
//! table whatever the log's size.
//!
//! A [`Plan`] turns puts and deletes into [`Op`]s, physical writes of whole slots and rehashes,
//! reading the file through what it has planned so far; nothing is written until
//! `hashed_rows.rs` applies them.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Segments per table: the key's first 12 bits choose one.
pub(crate) const SEGMENTS: usize = 4096;
/// Slots of a new segment.
pub(crate) const FIRST_CAPACITY: u32 = 16;

const EMPTY: u8 = 0;
const LIVE: u8 = 1;
const GONE: u8 = 2;

/// Where a segment's extent is and how full it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Byte offset of the extent in the file.
    pub(crate) offset: u64,
    /// Slots in the extent (a power of two).
    pub(crate) capacity: u32,
    /// Slots that are live or gone.
    pub(crate) used: u32,
    /// Slots that are live.
    pub(crate) live: u32,
}

/// The tables: the message keys (16-byte keys) and the recipients (32-byte handles).
pub(crate) const SHAPES: [Shape; 2] = [Shape::new(16), Shape::new(32)];

/// The key length of a table and the width of its slots.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub(crate) key: usize,
    pub(crate) slot: usize,
}

impl Shape {
    pub(crate) const fn new(key: usize) -> Shape {
        Shape { key, slot: (1 + key + 8).next_multiple_of(8) }
    }

    fn bytes(&self, capacity: u32) -> u64 {
        capacity as u64 * self.slot as u64
    }
}

/// The segment of a key (at least 2 bytes long: the callers' keys are 16 or 32).
pub(crate) fn segment_of(key: &[u8]) -> usize {
    ((key[0] as usize) << 4) | (key[1] as usize >> 4)
}

/// The slot a key's probe starts at, in a segment of `capacity` slots.
fn home(key: &[u8], capacity: u32) -> u32 {
    // Keyed digests are uniform already; the fold and multiply spread test keys that are not.
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        let n = b.len().min(8);
        w[..n].copy_from_slice(&b[..n]);
        u64::from_le_bytes(w)
    };
    let tail = key.len().saturating_sub(8).max(2);
    let h = (word(&key[2.min(key.len())..]) ^ word(&key[tail..]).rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> 32) as u32 & (capacity - 1)
}

/// One change to the file, in the order it must be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// Write a whole slot.
    Write { offset: u64, bytes: Vec<u8> },
    /// Rehash the extent `from` (of `from_capacity` slots of `slot` bytes) into a new one at `to`.
    Rehash { slot: u16, from: u64, from_capacity: u32, to: u64, to_capacity: u32 },
    /// A segment's directory entry after this change.
    Segment { table: u8, segment: u16, state: Segment },
    /// Where the file's next extent goes, after this change.
    End(u64),
}

/// The live slots of an extent rehashed into a new one of `capacity` slots; and their count.
pub(crate) fn rehash(shape: Shape, old: &[u8], capacity: u32) -> Result<(Vec<u8>, u32)> {
    let mut image = vec![0u8; shape.bytes(capacity) as usize];
    let mut live = 0;
    for slot in old.chunks_exact(shape.slot) {
        match slot[0] {
            LIVE => {
                let key = &slot[1..1 + shape.key];
                let mut i = home(key, capacity);
                while image[i as usize * shape.slot] != EMPTY {
                    i = (i + 1) & (capacity - 1);
                }
                image[i as usize * shape.slot..][..shape.slot].copy_from_slice(slot);
                live += 1;
            }
            EMPTY | GONE => {}
            _ => return Err(damaged()),
        }
    }
    Ok((image, live))
}

fn damaged() -> Error {
    Error::Corrupt("a slot of the row index (rows.dat) is damaged; restore the data folder from a backup".into())
}

/// What a probe for a key found: the live slot holding it and its value, else the slot an
/// insert takes (the first gone slot passed, else the empty one that ended the probe).
pub(crate) struct Found {
    pub(crate) live: Option<(u32, [u8; 8])>,
    pub(crate) free: Option<(u32, bool)>,
}

/// Probes segment `seg` for `key`, reading slots with `read(index)`.
pub(crate) fn probe(shape: Shape, seg: &Segment, key: &[u8], mut read: impl FnMut(u32) -> Result<Vec<u8>>) -> Result<Found> {
    let mut i = home(key, seg.capacity);
    let mut gone = None;
    for _ in 0..seg.capacity {
        let slot = read(i)?;
        match slot[0] {
            EMPTY => return Ok(Found { live: None, free: Some(gone.map_or((i, true), |g| (g, false))) }),
            GONE => {
                gone.get_or_insert(i);
            }
            LIVE if &slot[1..1 + shape.key] == key => {
                let value = slot[1 + shape.key..][..8].try_into().map_err(|_| damaged())?;
                return Ok(Found { live: Some((i, value)), free: None });
            }
            LIVE => {}
            _ => return Err(damaged()),
        }
        i = (i + 1) & (seg.capacity - 1);
    }
    Ok(Found { live: None, free: gone.map(|g| (g, false)) })
}

/// A live slot's bytes.
fn live_slot(shape: Shape, key: &[u8], value: &[u8; 8]) -> Vec<u8> {
    let mut s = vec![0u8; shape.slot];
    s[0] = LIVE;
    s[1..1 + shape.key].copy_from_slice(key);
    s[1 + shape.key..][..8].copy_from_slice(value);
    s
}

/// The live `(key, value)` rows of an extent.
pub(crate) fn rows(shape: Shape, extent: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for slot in extent.chunks_exact(shape.slot) {
        match slot[0] {
            LIVE => out.push((slot[1..1 + shape.key].to_vec(), slot[1 + shape.key..][..8].to_vec())),
            EMPTY | GONE => {}
            _ => return Err(damaged()),
        }
    }
    Ok(out)
}

/// The first layout of a new file: every segment of every table at [`FIRST_CAPACITY`] slots,
/// back to back; and where the file ends.
pub(crate) fn first_layout(shapes: &[Shape]) -> (Vec<Vec<Segment>>, u64) {
    let mut end = 0;
    let tables = shapes
        .iter()
        .map(|shape| {
            (0..SEGMENTS)
                .map(|_| {
                    let seg = Segment { offset: end, capacity: FIRST_CAPACITY, used: 0, live: 0 };
                    end += shape.bytes(FIRST_CAPACITY);
                    seg
                })
                .collect()
        })
        .collect();
    (tables, end)
}

/// Changes planned against the tables as they are in the file (`read`) and in `tables`.
pub(crate) struct Plan<'a> {
    shapes: &'a [Shape],
    tables: &'a [Vec<Segment>],
    read: &'a dyn Fn(u64, &mut [u8]) -> Result<()>,
    /// Segments changed so far.
    changed: HashMap<(usize, usize), Segment>,
    /// Slots written so far, by offset, outside a new extent.
    written: HashMap<u64, Vec<u8>>,
    /// New extents, by offset, with every write planned into them.
    pub(crate) images: HashMap<u64, Vec<u8>>,
    /// Extents left behind: `(offset, bytes)`.
    pub(crate) freed: Vec<(u64, u64)>,
    pub(crate) ops: Vec<Op>,
    pub(crate) end: u64,
}

impl<'a> Plan<'a> {
    pub(crate) fn new(shapes: &'a [Shape], tables: &'a [Vec<Segment>], end: u64, read: &'a dyn Fn(u64, &mut [u8]) -> Result<()>) -> Self {
        Plan {
            shapes,
            tables,
            read,
            changed: HashMap::new(),
            written: HashMap::new(),
            images: HashMap::new(),
            freed: Vec::new(),
            ops: Vec::new(),
            end,
        }
    }

    fn segment(&self, t: usize, s: usize) -> Segment {
        self.changed.get(&(t, s)).copied().unwrap_or(self.tables[t][s])
    }

    /// Slot `i` of segment `seg`, as planned so far.
    fn slot(&self, shape: Shape, seg: &Segment, i: u32) -> Result<Vec<u8>> {
        let at = i as usize * shape.slot;
        if let Some(image) = self.images.get(&seg.offset) {
            return Ok(image[at..at + shape.slot].to_vec());
        }
        let offset = seg.offset + at as u64;
        if let Some(s) = self.written.get(&offset) {
            return Ok(s.clone());
        }
        let mut s = vec![0u8; shape.slot];
        (self.read)(offset, &mut s)?;
        Ok(s)
    }

    fn write(&mut self, shape: Shape, seg: &Segment, i: u32, bytes: Vec<u8>) {
        let at = i as usize * shape.slot;
        let offset = seg.offset + at as u64;
        match self.images.get_mut(&seg.offset) {
            Some(image) => image[at..at + shape.slot].copy_from_slice(&bytes),
            None => {
                self.written.insert(offset, bytes.clone());
            }
        }
        self.ops.push(Op::Write { offset, bytes });
    }

    /// Puts `value` under `key` in table `t`.
    pub(crate) fn put(&mut self, t: usize, key: &[u8], value: &[u8; 8]) -> Result<()> {
        let shape = self.shapes[t];
        let s = segment_of(key);
        let mut seg = self.segment(t, s);
        if (seg.used as u64 + 1) * 10 > seg.capacity as u64 * 7 {
            seg = self.grow(t, s, seg)?;
        }
        let found = probe(shape, &seg, key, |i| self.slot(shape, &seg, i))?;
        match (found.live, found.free) {
            (Some((_, old)), _) if old == *value => return Ok(()),
            (Some((i, _)), _) => self.write(shape, &seg, i, live_slot(shape, key, value)),
            (None, Some((i, empty))) => {
                self.write(shape, &seg, i, live_slot(shape, key, value));
                seg.used += u32::from(empty);
                seg.live += 1;
            }
            (None, None) => return Err(Error::Storage("a segment of the row index has no free slot; this is a bug".into())),
        }
        self.changed.insert((t, s), seg);
        Ok(())
    }

    /// Deletes `key` from table `t` (nothing if it is not there).
    pub(crate) fn delete(&mut self, t: usize, key: &[u8]) -> Result<()> {
        let shape = self.shapes[t];
        let s = segment_of(key);
        let mut seg = self.segment(t, s);
        if let Some((i, _)) = probe(shape, &seg, key, |i| self.slot(shape, &seg, i))?.live {
            let mut gone = vec![0u8; shape.slot];
            gone[0] = GONE;
            self.write(shape, &seg, i, gone);
            seg.live -= 1;
            self.changed.insert((t, s), seg);
        }
        Ok(())
    }

    /// Moves segment `s` of table `t` into a new extent at the end of the file.
    fn grow(&mut self, t: usize, s: usize, seg: Segment) -> Result<Segment> {
        let shape = self.shapes[t];
        let capacity = if (seg.live as u64 + 1) * 3 > seg.capacity as u64 { seg.capacity * 2 } else { seg.capacity };
        let mut old = vec![0u8; shape.bytes(seg.capacity) as usize];
        for i in 0..seg.capacity {
            old[i as usize * shape.slot..][..shape.slot].copy_from_slice(&self.slot(shape, &seg, i)?);
        }
        let (image, live) = rehash(shape, &old, capacity)?;
        let moved = Segment { offset: self.end, capacity, used: live, live };
        self.ops.push(Op::Rehash {
            slot: shape.slot as u16,
            from: seg.offset,
            from_capacity: seg.capacity,
            to: moved.offset,
            to_capacity: capacity,
        });
        self.freed.push((seg.offset, shape.bytes(seg.capacity)));
        self.images.insert(moved.offset, image);
        self.end += shape.bytes(capacity);
        self.changed.insert((t, s), moved);
        Ok(moved)
    }

    /// The ops, ending with the directory entries changed and the new end of the file; the new
    /// extents' images, by offset; and the extents left behind.
    #[allow(clippy::type_complexity)]
    pub(crate) fn finish(mut self) -> (Vec<Op>, HashMap<u64, Vec<u8>>, Vec<(u64, u64)>) {
        let mut changed: Vec<_> = self.changed.into_iter().collect();
        changed.sort_by_key(|(k, _)| *k);
        for ((t, s), state) in changed {
            self.ops.push(Op::Segment { table: t as u8, segment: s as u16, state });
        }
        self.ops.push(Op::End(self.end));
        (self.ops, self.images, self.freed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_padded_to_eight_bytes_and_keys_spread_over_segments() {
        assert_eq!((Shape::new(16).slot, Shape::new(32).slot), (32, 48));
        assert_eq!(segment_of(&[0xAB, 0xCD, 0]), 0xABC);
        let homes: std::collections::HashSet<u32> =
            (0..64u8).map(|i| home(&[7, 7, i, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i], 64)).collect();
        assert!(homes.len() > 30, "keys differing in one byte still spread: {}", homes.len());
    }

    #[test]
    fn a_rehash_keeps_the_live_rows_and_drops_the_gone() {
        let shape = Shape::new(16);
        let seg = Segment { offset: 0, capacity: 4, used: 0, live: 0 };
        let file = vec![0u8; shape.bytes(4) as usize];
        let read = |o: u64, b: &mut [u8]| {
            b.copy_from_slice(&file[o as usize..o as usize + b.len()]);
            Ok(())
        };
        let tables = vec![vec![seg; SEGMENTS]];
        let shapes = [shape];
        let mut plan = Plan::new(&shapes, &tables, 1 << 20, &read);
        for i in 0..10u8 {
            plan.put(0, &[0, 0, i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], &[i; 8]).unwrap();
        }
        plan.delete(0, &[0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]).unwrap();
        let seg = plan.segment(0, 0);
        assert_eq!((seg.live, seg.capacity >= 16), (9, true));
        let image = &plan.images[&seg.offset];
        let mut rows = rows(shape, image).unwrap();
        rows.sort();
        assert_eq!(rows.len(), 9);
        assert!(rows.iter().all(|(k, v)| v == &[k[2]; 8] && k[2] != 3));
        assert!(plan.freed.iter().any(|(o, _)| *o == 0), "the first extent is left behind");
    }
}
