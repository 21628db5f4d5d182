//! The right edge of a tiled tree (c2sp.org/tlog-tiles, tiles of [`TILE_WIDTH`] hashes):
//! everything a log must hold in memory to append leaves, sign the root and write the tiles
//! that change, whatever its size. As Sunlight does, the rest of the tree lives only in its
//! full tiles, which never change once written and are read back when a proof needs them.
//!
//! The edge is, at each tile level `L`, the hashes of the level's rightmost **partial** tile:
//! `(size >> 8L) % 256` hashes of tree level `8L`, each level kept as a small [`Tree`] so that
//! the complete subtrees inside it are at hand. A level whose partial tile fills up hands its
//! 256 hashes over as a [`FullTile`], and their root (one hash of tree level `8(L+1)`) moves up
//! into the partial tile of level `L + 1`. At most eight levels of at most 255 hashes: tens of
//! kilobytes for a tree of 2^64 leaves.
//!
//! The root of the whole tree is a fold of the edge alone: every complete subtree on the
//! tree's right border lies inside some level's partial tile.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::tlog::merkle::{node_hash, Hash, Tree};
use crate::tlog::tiles::TILE_WIDTH;

/// Tile levels a tree of up to 2^64 leaves has.
const LEVELS: usize = 8;

/// A tile that became full: its level, its index in the level, and its 256 hashes as a tree
/// (every complete subtree inside it).
#[derive(Clone, Debug)]
pub(crate) struct FullTile {
    pub(crate) level: u8,
    pub(crate) index: u64,
    pub(crate) tree: Arc<Tree>,
}

impl FullTile {
    /// The tile's bytes as stored and served: its 256 hashes.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.tree.level(0).concat()
    }
}

/// The right edge of a tiled tree (see the module docs).
#[derive(Clone, Debug, Default)]
pub(crate) struct Edge {
    size: u64,
    /// `partial[L]`: the hashes of the partial tile of level `L` (fewer than 256).
    partial: Vec<Tree>,
    /// The last leaf hash, which the next entry chains to (`None` for the empty tree).
    last_leaf: Option<Hash>,
}

impl Edge {
    /// Number of leaves.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The last leaf's hash, `None` for an empty tree.
    pub(crate) fn last_leaf(&self) -> Option<Hash> {
        self.last_leaf
    }

    /// The edge of a tree of `size` leaves, from its stored tiles: `tile(level, index)` gives
    /// the stored bytes of a tile (full or at least as wide as `size` needs), and only the
    /// partial tile of each level is read. `last_leaf` is the tree's last leaf hash when it
    /// ends a full tile (then no partial tile holds it); the caller reads it from that tile
    /// and checks it there.
    pub(crate) fn load(size: u64, mut tile: impl FnMut(u8, u64) -> Result<Option<Vec<u8>>>, last_leaf: Option<Hash>) -> Result<Edge> {
        let mut partial = Vec::new();
        for level in 0..LEVELS as u8 {
            let hashes = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
            if hashes == 0 {
                break;
            }
            let (index, width) = (hashes / TILE_WIDTH, (hashes % TILE_WIDTH) as usize);
            let mut tree = Tree::new();
            if width > 0 {
                let bytes = tile(level, index)?.ok_or_else(|| Error::Corrupt(format!("hash tile {level}/{index} is missing")))?;
                let slice = bytes
                    .get(..width * 32)
                    .ok_or_else(|| Error::Corrupt(format!("hash tile {level}/{index} is shorter than the tree size needs")))?;
                tree.extend(&slice.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32])).collect::<Vec<_>>());
            }
            partial.push(tree);
        }
        let last_leaf = match partial.first() {
            Some(level0) if level0.size() > 0 => level0.leaf(level0.size() - 1),
            _ => last_leaf,
        };
        if size > 0 && last_leaf.is_none() {
            return Err(Error::Corrupt(format!("the last leaf of the tree of size {size} is not known")));
        }
        Ok(Edge { size, partial, last_leaf })
    }

    /// Appends leaf hashes in order; returns the tiles they filled, lowest level first within
    /// each leaf.
    pub(crate) fn extend(&mut self, leaves: &[Hash]) -> Vec<FullTile> {
        let mut full = Vec::new();
        for leaf in leaves {
            self.push(*leaf, &mut full);
        }
        full
    }

    fn push(&mut self, leaf: Hash, full: &mut Vec<FullTile>) {
        let mut hash = leaf;
        for level in 0..LEVELS {
            if self.partial.len() == level {
                self.partial.push(Tree::new());
            }
            let tile = &mut self.partial[level];
            tile.push(hash);
            if tile.size() < TILE_WIDTH {
                break;
            }
            let tree = std::mem::take(tile);
            hash = tree.root();
            let index = (self.size >> (8 * level)) / TILE_WIDTH;
            full.push(FullTile { level: level as u8, index, tree: Arc::new(tree) });
        }
        self.size += 1;
        self.last_leaf = Some(leaf);
    }

    /// The bytes of the partial tile of `level`, `None` when the level has none.
    fn partial_bytes(&self, level: usize) -> Option<Vec<u8>> {
        self.partial.get(level).filter(|t| t.size() > 0).map(|t| t.level(0).concat())
    }

    /// The tiles a commit growing the tree from `old` leaves to this edge writes, as
    /// `((level, index), bytes)` at their widest: the `full` tiles that growth filled, and the
    /// partial tile of each level whose hashes changed.
    pub(crate) fn changed_tiles(&self, old: u64, full: &[FullTile]) -> Vec<((u8, u64), Vec<u8>)> {
        let mut out: Vec<((u8, u64), Vec<u8>)> = full.iter().map(|t| ((t.level, t.index), t.bytes())).collect();
        for level in 0..self.partial.len() {
            let shift = 8 * level as u32;
            let (old_n, new_n) = (old.checked_shr(shift).unwrap_or(0), self.size.checked_shr(shift).unwrap_or(0));
            if old_n != new_n {
                if let Some(bytes) = self.partial_bytes(level) {
                    out.push(((level as u8, new_n / TILE_WIDTH), bytes));
                }
            }
        }
        out
    }

    /// The hash of tree level `level`, index `index`, when it lies in a partial tile of the
    /// edge; `None` when it lies in a full tile (or outside the tree).
    pub(crate) fn node(&self, level: u32, index: u64) -> Option<Hash> {
        let (tile_level, sub) = (level / 8, level % 8);
        let tile = self.partial.get(tile_level as usize)?;
        // Where the partial tile starts, in hashes of its level's sub-level `sub`.
        let hashes = self.size.checked_shr(8 * tile_level).unwrap_or(0);
        let start = (hashes / TILE_WIDTH * TILE_WIDTH) >> sub;
        let i = usize::try_from(index.checked_sub(start)?).ok()?;
        tile.level(sub as usize).get(i).copied()
    }

    /// Whether tile `index` of `level` is full at this size (so it is read from the store).
    pub(crate) fn is_full(&self, level: u8, index: u64) -> bool {
        let hashes = self.size.checked_shr(8 * u32::from(level)).unwrap_or(0);
        index.checked_add(1).and_then(|n| n.checked_mul(TILE_WIDTH)).is_some_and(|end| end <= hashes)
    }

    /// The root of the whole tree: every complete subtree of the right border, folded from
    /// the right, all of them in the edge.
    pub(crate) fn root(&self) -> Hash {
        let mut acc: Option<Hash> = None;
        for tile in &self.partial {
            let width = tile.size();
            for sub in 0..8 {
                if width >> sub & 1 == 1 {
                    let Some(&h) = tile.level(sub).last() else { continue };
                    acc = Some(match acc {
                        None => h,
                        Some(right) => node_hash(&h, &right),
                    });
                }
            }
        }
        acc.unwrap_or_else(crate::tlog::merkle::empty_root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{leaf_hash, Subtrees};
    use std::collections::HashMap;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn the_edge_has_the_root_and_the_tiles_of_the_whole_tree() {
        let all = leaves(70_000);
        let whole = Tree::from_leaf_hashes(all.clone());
        let mut edge = Edge::default();
        let mut stored: HashMap<(u8, u64), Vec<u8>> = HashMap::new();
        let mut at = 0usize;
        // Growing in uneven steps, as group commits do, across tile and level boundaries.
        for step in [1usize, 255, 1, 300, 65_000, 3_000, 1_443] {
            let old = edge.size();
            let full = edge.extend(&all[at..at + step]);
            at += step;
            for ((level, index), bytes) in edge.changed_tiles(old, &full) {
                stored.insert((level, index), bytes);
            }
            assert_eq!(edge.root(), whole.root_at(at as u64).unwrap(), "root at {at}");
            assert_eq!(edge.last_leaf(), Some(all[at - 1]));
            // What the store holds is every tile of the tree at this size, at its widest.
            for t in crate::tlog::tiles::tiles_for_size(at as u64) {
                let want = crate::tlog::tiles::tile_bytes(&whole, t.level, t.index, t.width, at as u64).unwrap();
                let got = stored.get(&(t.level, t.index)).map(|b| b[..want.len()].to_vec());
                assert_eq!(got, Some(want), "tile {}/{} of width {} at size {at}", t.level, t.index, t.width);
            }
            // Loaded again from those tiles, the edge is the same.
            let last = (at % 256 == 0).then(|| all[at - 1]);
            let loaded = Edge::load(at as u64, |l, i| Ok(stored.get(&(l, i)).cloned()), last).unwrap();
            assert_eq!((loaded.root(), loaded.last_leaf()), (edge.root(), edge.last_leaf()));
        }
        assert_eq!(at, 70_000);
    }

    #[test]
    fn the_edge_answers_for_the_subtrees_of_its_partial_tiles_only() {
        let all = leaves(65_536 + 256 * 3 + 17);
        let whole = Tree::from_leaf_hashes(all.clone());
        let mut edge = Edge::default();
        edge.extend(&all);
        let size = all.len() as u64;
        for level in 0..18u32 {
            for index in 0..size >> level {
                let in_edge = edge.node(level, index);
                let tile_level = (level / 8) as u8;
                let tile = (index << (level % 8)) / TILE_WIDTH;
                if edge.is_full(tile_level, tile) {
                    assert_eq!(in_edge, None, "node {level}/{index} is in a full tile");
                } else {
                    assert_eq!(in_edge, Some(whole.node(level, index).unwrap()), "node {level}/{index}");
                }
            }
        }
        assert!(edge.is_full(0, 256) && !edge.is_full(0, 259) && edge.is_full(1, 0) && !edge.is_full(1, 1) && !edge.is_full(2, 0));
    }

    #[test]
    fn a_store_missing_a_partial_tile_or_the_last_leaf_is_refused() {
        let mut edge = Edge::default();
        edge.extend(&leaves(300));
        assert!(matches!(Edge::load(300, |_, _| Ok(None), None), Err(Error::Corrupt(m)) if m.contains("tile 0/1 is missing")));
        let short = |_: u8, _: u64| Ok(Some(vec![0; 32]));
        assert!(matches!(Edge::load(300, short, None), Err(Error::Corrupt(m)) if m.contains("shorter")));
        let tiles = |l: u8, _| Ok(Some(vec![l; 32 * 256]));
        assert!(matches!(Edge::load(512, tiles, None), Err(Error::Corrupt(m)) if m.contains("last leaf")));
        assert_eq!(Edge::load(0, |_, _| Ok(None), None).unwrap().root(), crate::tlog::merkle::empty_root());
    }
}
