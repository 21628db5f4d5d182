//! Building RFC 9162 consistency proofs from a tlog-tiles log's hash tiles, so that any C2SP
//! log can be checked for append-only growth without a proof API. The hashes read from tiles are
//! not trusted: the proof built from them is verified like any other.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::merkle::{self, node_hash, Hash};
use crate::tiles::{Source, TILE_WIDTH};

/// Reads node hashes of a tree of `size` leaves from tiles, caching tiles.
pub struct TileHashes<'a> {
    src: &'a Source,
    size: u64,
    cache: HashMap<(u8, u64), Vec<Hash>>,
}

impl<'a> TileHashes<'a> {
    /// A reader for the tree of `size` leaves served by `src`.
    pub fn new(src: &'a Source, size: u64) -> Self {
        TileHashes { src, size, cache: HashMap::new() }
    }

    /// The hash of the complete subtree of `2^level` leaves number `index` (it must lie inside
    /// the tree).
    pub fn subtree(&mut self, level: u32, index: u64) -> Result<Hash> {
        if level >= 56 {
            return Err(Error::unusable("a tile request", "the subtree is too high"));
        }
        let tl = u8::try_from(level / 8).map_err(|_| Error::unusable("a tile request", "level too high"))?;
        let within = level % 8;
        let first = index << within; // first level-8*tl node
        let count = 1u64 << within;
        let n = first / TILE_WIDTH;
        let width = crate::tiles::width_at(n, self.size >> (8 * u32::from(tl)));
        if width == 0 {
            return Err(Error::unusable("a tile request", "the subtree lies outside the tree"));
        }
        if !self.cache.contains_key(&(tl, n)) {
            let t = self.src.hash_tile(tl, n, width)?;
            self.cache.insert((tl, n), t);
        }
        let tile = self.cache.get(&(tl, n)).map(Vec::as_slice).unwrap_or_default();
        let off = usize::try_from(first % TILE_WIDTH).unwrap_or(usize::MAX);
        let part = tile
            .get(off..off.saturating_add(count as usize))
            .ok_or_else(|| Error::Integrity { what: format!("hash tile {tl}/{n}"), detail: "it is too short for the tree size".into() })?;
        Ok(merkle::root(part))
    }

    /// `MTH(D[lo..hi])` for the ranges RFC 9162 proofs use (`lo` aligned to the largest power of
    /// two below `hi - lo`).
    pub fn range(&mut self, lo: u64, hi: u64) -> Result<Hash> {
        let len = hi - lo;
        if len.is_power_of_two() && lo % len == 0 {
            return self.subtree(len.trailing_zeros(), lo / len);
        }
        let k = 1u64 << (63 - (len - 1).leading_zeros());
        let l = self.range(lo, lo + k)?;
        let r = self.range(lo + k, hi)?;
        Ok(node_hash(&l, &r))
    }

    /// The RFC 9162 §2.1.4.1 consistency proof from size `m` to this tree's size.
    pub fn consistency_proof(&mut self, m: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::new();
        if m == 0 || m >= self.size {
            return Ok(out);
        }
        self.subproof(m, 0, self.size, true, &mut out)?;
        Ok(out)
    }

    fn subproof(&mut self, m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<Hash>) -> Result<()> {
        let n = hi - lo;
        if m == n {
            if !complete {
                out.push(self.range(lo, hi)?);
            }
            return Ok(());
        }
        let k = 1u64 << (63 - (n - 1).leading_zeros());
        if m <= k {
            self.subproof(m, lo, lo + k, complete, out)?;
            out.push(self.range(lo + k, hi)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, out)?;
            out.push(self.range(lo, lo + k)?);
        }
        Ok(())
    }
}
