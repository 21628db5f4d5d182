//! The log's Merkle tree as the ledger reads it: the right edge in memory (`tlog/edge.rs`), and
//! every full tile read from the store when a leaf, a proof or a served tile needs it. Memory
//! and start-up do not grow with the log: nothing but the edge is held, and a bounded cache of
//! tiles already read.
//!
//! **Nothing unchecked is used.** The edge was checked against the signed checkpoint when the
//! ledger opened (`ledger/open.rs`) and has grown only by the ledger's own appends since. A full
//! tile read from the store is checked before use: its 256 hashes must hash to the one hash of
//! the level above that covers them, itself read from the edge or from a full tile checked the
//! same way. So a tile damaged or changed in storage is refused as corrupt, like an entry whose
//! bytes do not hash to their leaf.
//!
//! Full tiles never change once written, so a checked tile stays good in the cache; a commit's
//! newly filled tiles enter the cache once that commit is durable ([`Tiles::remember`]).

use std::sync::Arc;

use quick_cache::sync::Cache;

use crate::error::{Error, Result};
use crate::store::Store;
use crate::tlog::edge::{Edge, FullTile};
use crate::tlog::merkle::{Hash, Subtrees, Tree};
use crate::tlog::tiles::TILE_WIDTH;

/// Full tiles the cache holds at most: 16 KiB each with the subtrees inside them, so 64 MiB,
/// every level-0 tile of a log of about a million entries.
pub(crate) const CACHE_TILES: usize = 4096;

/// The full tiles of a store, read and checked on demand, with a bounded cache.
pub(crate) struct Tiles {
    store: Arc<dyn Store>,
    cache: Cache<(u8, u64), Arc<Tree>>,
}

impl Tiles {
    pub(crate) fn new(store: Arc<dyn Store>) -> Tiles {
        Tiles { store, cache: Cache::new(CACHE_TILES) }
    }

    /// The tree whose right edge is `edge`, reading its full tiles from the store.
    pub(crate) fn view(&self, edge: Arc<Edge>) -> TreeView<'_> {
        TreeView { tiles: self, edge }
    }

    /// Keeps the tiles a durable commit filled (they are what the next proofs need).
    pub(crate) fn remember(&self, full: &[FullTile]) {
        for t in full {
            self.cache.insert((t.level, t.index), Arc::clone(&t.tree));
        }
    }
}

/// The tree of one size: its edge, and the store's full tiles below it.
pub(crate) struct TreeView<'a> {
    tiles: &'a Tiles,
    edge: Arc<Edge>,
}

impl TreeView<'_> {
    /// The leaf hash of entry `index` (which must be inside the tree).
    pub(crate) fn leaf(&self, index: u64) -> Result<Hash> {
        self.node(0, index)
    }

    /// The leaf hashes of entries `start..end`, cut at the tree's size.
    pub(crate) fn leaves(&self, start: u64, end: u64) -> Result<Vec<Hash>> {
        let end = end.min(self.edge.size());
        if start >= end {
            return Ok(Vec::new());
        }
        self.nodes(0, start, end - start)
    }

    /// Full tile `index` of `level`, from the cache, or read from the store and checked
    /// against the hash above it.
    fn full_tile(&self, level: u8, index: u64) -> Result<Arc<Tree>> {
        if let Some(t) = self.tiles.cache.get(&(level, index)) {
            return Ok(t);
        }
        let bytes = self.tiles.store.tile(level, index)?.ok_or_else(|| Error::Corrupt(format!("hash tile {level}/{index} is missing")))?;
        let hashes = bytes
            .get(..TILE_WIDTH as usize * 32)
            .ok_or_else(|| Error::Corrupt(format!("hash tile {level}/{index} is shorter than a full tile")))?;
        let tree = Tree::from_leaf_hashes(hashes.chunks_exact(32).map(|c| <[u8; 32]>::try_from(c).unwrap_or([0; 32])).collect());
        let above = self.node(8 * (u32::from(level) + 1), index)?;
        if tree.root() != above {
            return Err(Error::Corrupt(format!(
                "hash tile {level}/{index} in the store does not hash to its place in the signed tree; the store is damaged, restore the data folder from a backup"
            )));
        }
        let tree = Arc::new(tree);
        self.tiles.cache.insert((level, index), Arc::clone(&tree));
        Ok(tree)
    }

    /// Which full tile holds node `index` of tree level `level`, and where in it.
    fn place(&self, level: u32, index: u64) -> Result<(u8, u64, usize, usize)> {
        let (tile_level, sub) = (level / 8, level % 8);
        let outside = || Error::OutOfRange(format!("subtree {index} of level {level} is not inside the tree of size {}", self.edge.size()));
        let first = index.checked_shl(sub).filter(|f| f >> sub == index).ok_or_else(outside)?;
        let tile = first / TILE_WIDTH;
        let tile_level = u8::try_from(tile_level).map_err(|_| outside())?;
        if !self.edge.is_full(tile_level, tile) {
            return Err(outside());
        }
        let within = (index - ((tile * TILE_WIDTH) >> sub)) as usize;
        Ok((tile_level, tile, sub as usize, within))
    }
}

impl Subtrees for TreeView<'_> {
    fn size(&self) -> u64 {
        self.edge.size()
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        if let Some(h) = self.edge.node(level, index) {
            return Ok(h);
        }
        let (tile_level, tile, sub, within) = self.place(level, index)?;
        self.full_tile(tile_level, tile)?
            .level(sub)
            .get(within)
            .copied()
            .ok_or_else(|| Error::Corrupt(format!("hash tile {tile_level}/{tile} lacks subtree {index} of level {level}")))
    }

    /// One tile read per tile, not per hash.
    fn nodes(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>> {
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        let mut i = start;
        while i < start + count {
            if let Some(h) = self.edge.node(level, i) {
                out.push(h);
                i += 1;
                continue;
            }
            let (tile_level, tile, sub, within) = self.place(level, i)?;
            let t = self.full_tile(tile_level, tile)?;
            let row = t.level(sub);
            let take = (row.len() - within.min(row.len())).min((start + count - i) as usize);
            if take == 0 {
                return Err(Error::Corrupt(format!("hash tile {tile_level}/{tile} lacks subtree {i} of level {level}")));
            }
            out.extend_from_slice(&row[within..within + take]);
            i += take as u64;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{Commit, Store};
    use crate::tlog::merkle::{self, leaf_hash};

    /// A memory store holding the tiles of a tree of `n` leaves, and the tree's edge.
    fn stored(n: u64) -> (Arc<MemoryStore>, Edge, Tree) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut edge = Edge::default();
        let full = edge.extend(&leaves);
        let store = Arc::new(MemoryStore::default());
        let commit = Commit { size: n, checkpoint: "cp".into(), tiles: edge.changed_tiles(0, &full), ..Commit::default() };
        store.commit(&commit).unwrap();
        (store, edge, Tree::from_leaf_hashes(leaves))
    }

    #[test]
    fn proofs_from_tiles_are_the_proofs_of_the_whole_tree() {
        let n = 65_536 * 2 + 256 * 5 + 9;
        let (store, edge, whole) = stored(n);
        let tiles = Tiles::new(store);
        let view = tiles.view(Arc::new(edge));
        assert_eq!(merkle::root_at(&view, n).unwrap(), whole.root());
        for index in [0, 1, 255, 256, 70_000, 131_071, 131_072, n - 10, n - 1] {
            assert_eq!(view.leaf(index).unwrap(), whole.leaf(index).unwrap());
            for size in [index + 1, n / 2 + 1, n] {
                if index < size {
                    assert_eq!(merkle::inclusion_proof(&view, index, size).unwrap(), whole.inclusion_proof(index, size).unwrap());
                }
            }
        }
        for (old, new) in [(1, n), (256, 65_536), (70_001, n), (n - 1, n)] {
            assert_eq!(merkle::consistency_proof(&view, old, new).unwrap(), whole.consistency_proof(old, new).unwrap());
            assert_eq!(merkle::root_at(&view, old).unwrap(), whole.root_at(old).unwrap());
        }
        assert_eq!(view.leaves(250, 70_000).unwrap(), whole.level(0)[250..70_000]);
        assert_eq!(view.leaves(n - 3, n + 5).unwrap().len(), 3, "cut at the size");
        assert!(matches!(view.leaf(n), Err(Error::OutOfRange(_))));
    }

    #[test]
    fn a_tile_changed_in_the_store_is_refused() {
        let (store, edge, _) = stored(256 * 3 + 1);
        let mut bad = store.tile(0, 1).unwrap().unwrap();
        bad[40] ^= 1;
        store.commit(&Commit { size: 256 * 3 + 1, checkpoint: "cp".into(), tiles: vec![((0, 1), bad)], ..Commit::default() }).unwrap();
        let tiles = Tiles::new(store);
        let view = tiles.view(Arc::new(edge));
        assert!(view.leaf(0).is_ok(), "tile 0 is intact");
        let err = view.leaf(300).unwrap_err();
        assert!(matches!(err, Error::Corrupt(ref m) if m.contains("hash tile 0/1")), "{err}");
        assert!(merkle::inclusion_proof(&view, 301, 256 * 3 + 1).is_err(), "a proof that needs the tile is refused too");
        assert!(merkle::inclusion_proof(&view, 5, 256 * 3 + 1).is_ok(), "one that does not is served");
        assert!(view.leaf(256 * 3).is_ok(), "the edge is in memory");
    }
}
