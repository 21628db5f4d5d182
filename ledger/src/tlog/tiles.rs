//! C2SP tiled transparency logs (`c2sp.org/tlog-tiles`): tile paths, the set of
//! tiles that exist at a tree size, hash tile contents and entry bundles.
//!
//! This module is the only place where tile paths are spelled:
//! `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, where `<N>` is written
//! in zero-padded groups of three digits, all but the last prefixed with `x`
//! (`1234067` → `x001/x234/067`), and there is no height element (the height is
//! fixed at 8, i.e. [`TILE_WIDTH`] = 256 hashes). A level-`L` tile holds hashes of
//! tree level `8L`; a partial tile (`1 ≤ W ≤ 255`) exists only as the rightmost
//! tile of its level.

use crate::tlog::merkle::Subtrees;
use crate::{Error, Result};

/// Hashes in a full tile, entries in a full bundle.
pub const TILE_WIDTH: u64 = 256;
/// Highest level a tile path may name (C2SP: 0..=63).
const MAX_LEVEL: u8 = 63;

/// A hash tile: level, index within the level, and width (1..=256; 256 = full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TileId {
    /// The tile's level (it holds hashes of tree level `8 * level`).
    pub level: u8,
    /// Its index within the level.
    pub index: u64,
    /// How many hashes it holds, 1 to 256.
    pub width: u16,
}

/// What a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TilePath {
    /// `tile/<L>/<N>[.p/<W>]`
    Hashes(TileId),
    /// `tile/entries/<N>[.p/<W>]`; `width` is 256 for a full bundle.
    Entries {
        /// The bundle's index (it holds entries `256 * index ..`).
        index: u64,
        /// How many entries it holds, 1 to 256.
        width: u16,
    },
}

/// `1234067` → `x001/x234/067`.
fn encode_index(index: u64) -> String {
    let mut out = format!("{:03}", index % 1000);
    let mut rest = index / 1000;
    while rest > 0 {
        out = format!("x{:03}/{out}", rest % 1000);
        rest /= 1000;
    }
    out
}

/// `""` for a full tile (`width >= 256`), `.p/<W>` otherwise. Callers pass 1..=256.
fn width_suffix(width: u16) -> String {
    if u64::from(width) >= TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// `tile/<L>/<N>` for a full tile (`width == 256`), `tile/<L>/<N>.p/<W>` for a partial one.
pub fn tile_path(level: u8, index: u64, width: u16) -> String {
    format!("tile/{level}/{}{}", encode_index(index), width_suffix(width))
}

/// `tile/entries/<N>` for a full bundle (`width == 256`), `tile/entries/<N>.p/<W>` otherwise.
pub fn entries_path(index: u64, width: u16) -> String {
    format!("tile/entries/{}{}", encode_index(index), width_suffix(width))
}

fn bad_path(path: &str, why: &str) -> Error {
    Error::malformed(
        "tile path",
        format!("`{path}`: {why}; expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>] as in c2sp.org/tlog-tiles (no height element)"),
    )
}

/// A decimal without sign or leading zeros.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

fn three_digits(s: &str) -> Option<u64> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Parses `<N>[.p/<W>]` into (index, width).
fn parse_index_width(path: &str, s: &str) -> Result<(u64, u16)> {
    let (n, width) = match s.split_once(".p/") {
        None => (s, TILE_WIDTH as u16),
        Some((n, w)) => match parse_decimal(w) {
            Some(w @ 1..=255) => (n, w as u16),
            _ => return Err(bad_path(path, "the partial width must be a decimal from 1 to 255 without leading zeros")),
        },
    };
    let groups: Vec<&str> = n.split('/').collect();
    let (last, prefixed) = groups.split_last().ok_or_else(|| bad_path(path, "no tile index"))?;
    if groups.len() > 1 && groups[0] == "x000" {
        return Err(bad_path(path, "the tile index has a leading x000 group"));
    }
    let mut index: u64 = 0;
    for g in prefixed {
        let d = g
            .strip_prefix('x')
            .and_then(three_digits)
            .ok_or_else(|| bad_path(path, "every index group but the last must be `x` and three digits"))?;
        index = index.checked_mul(1000).and_then(|i| i.checked_add(d)).ok_or_else(|| bad_path(path, "the tile index overflows 64 bits"))?;
    }
    let d = three_digits(last).ok_or_else(|| bad_path(path, "the last index group must be three digits"))?;
    index = index.checked_mul(1000).and_then(|i| i.checked_add(d)).ok_or_else(|| bad_path(path, "the tile index overflows 64 bits"))?;
    Ok((index, width))
}

/// Parses a tile or entry-bundle path strictly (canonical spelling only).
pub fn parse_tile_path(path: &str) -> Result<TilePath> {
    let rest = path.strip_prefix("tile/").ok_or_else(|| bad_path(path, "does not start with tile/"))?;
    if let Some(rest) = rest.strip_prefix("entries/") {
        let (index, width) = parse_index_width(path, rest)?;
        return Ok(TilePath::Entries { index, width });
    }
    let (level_s, rest) = rest.split_once('/').ok_or_else(|| bad_path(path, "no tile index"))?;
    let level = match parse_decimal(level_s) {
        Some(l) if l <= u64::from(MAX_LEVEL) => l as u8,
        _ => return Err(bad_path(path, "the level must be a decimal from 0 to 63 without leading zeros")),
    };
    let (index, width) = parse_index_width(path, rest)?;
    Ok(TilePath::Hashes(TileId { level, index, width }))
}

/// Number of hashes at tile level `level` (tree level `8 * level`) for `size` leaves.
fn hashes_at(level: u8, size: u64) -> u64 {
    size.checked_shr(8 * u32::from(level)).unwrap_or(0)
}

/// Every hash tile of a tree of `size` leaves, level by level: the full tiles,
/// then the partial rightmost one if any. Empty for size 0.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for level in 0..=MAX_LEVEL {
        let n = hashes_at(level, size);
        if n == 0 {
            break;
        }
        let full = n / TILE_WIDTH;
        out.extend((0..full).map(|index| TileId { level, index, width: TILE_WIDTH as u16 }));
        let partial = n % TILE_WIDTH;
        if partial > 0 {
            out.push(TileId { level, index: full, width: partial as u16 });
        }
    }
    out
}

/// Whether tile `index` of width `width` can be served at `size`, given the
/// `available` hashes (or entries) of its level: a full tile once complete; a
/// partial one while the tile is still partial, up to the current width (narrower
/// partial tiles belong to earlier checkpoints and never change).
fn exists(index: u64, width: u16, available: u64) -> bool {
    let Some(start) = index.checked_mul(TILE_WIDTH) else {
        return false;
    };
    let have = available.saturating_sub(start).min(TILE_WIDTH);
    match u64::from(width) {
        TILE_WIDTH => have == TILE_WIDTH,
        w => w >= 1 && have < TILE_WIDTH && w <= have,
    }
}

/// Whether hash tile (`level`, `index`, `width`) exists at tree size `size`.
pub fn tile_exists(level: u8, index: u64, width: u16, size: u64) -> bool {
    level <= MAX_LEVEL && exists(index, width, hashes_at(level, size))
}

/// The contents of hash tile (`level`, `index`, `width`) at tree size `size`:
/// the hashes of tree level `8 * level`, indices `index * 256 ..` `+ width`,
/// concatenated. An error if that tile does not exist at `size`.
pub fn tile_bytes<S: Subtrees + ?Sized>(tree: &S, level: u8, index: u64, width: u16, size: u64) -> Result<Vec<u8>> {
    if size > tree.size() {
        return Err(Error::OutOfRange(format!("tree size {size} is beyond the {} leaves of the tree", tree.size())));
    }
    if !tile_exists(level, index, width, size) {
        return Err(Error::OutOfRange(format!("{} does not exist at tree size {size}", tile_path(level, index, width))));
    }
    Ok(tree.nodes(8 * u32::from(level), index * TILE_WIDTH, u64::from(width))?.concat())
}

/// An entry bundle: each entry as `u16 big-endian length || bytes`.
pub fn encode_entry_bundle(entries: &[&[u8]]) -> Result<Vec<u8>> {
    if entries.len() as u64 > TILE_WIDTH {
        return Err(Error::malformed("entry bundle", format!("{} entries; a bundle holds at most 256", entries.len())));
    }
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for (i, e) in entries.iter().enumerate() {
        let len = u16::try_from(e.len()).map_err(|_| {
            Error::malformed(
                "entry bundle",
                format!("entry {i} of the bundle is {} bytes; tlog-tiles entries are at most 65535 bytes", e.len()),
            )
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// Splits an entry bundle into its entries (strict: no trailing bytes, ≤ 256 entries).
pub fn decode_entry_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if out.len() as u64 == TILE_WIDTH {
            return Err(Error::malformed("entry bundle", "more than 256 entries; the bundle is corrupt or not an entry bundle"));
        }
        let (len, tail) = match rest {
            [hi, lo, tail @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), tail),
            _ => {
                return Err(Error::malformed(
                    "entry bundle",
                    format!("truncated length prefix after {} entries; fetch the bundle again", out.len()),
                ))
            }
        };
        if tail.len() < len {
            return Err(Error::malformed(
                "entry bundle",
                format!("entry {} claims {len} bytes but only {} remain; fetch the bundle again", out.len(), tail.len()),
            ));
        }
        out.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{leaf_hash, Hash, Tree};

    #[test]
    fn paths_round_trip() {
        for (level, index, width) in [(0u8, 0u64, 256u16), (0, 1234067, 17), (5, 999, 255), (63, u64::MAX, 1), (1, 1000, 256)] {
            let p = tile_path(level, index, width);
            assert_eq!(parse_tile_path(&p).unwrap(), TilePath::Hashes(TileId { level, index, width }), "{p}");
            let e = entries_path(index, width);
            assert_eq!(parse_tile_path(&e).unwrap(), TilePath::Entries { index, width }, "{e}");
        }
        assert_eq!(tile_path(0, 1000, 256), "tile/0/x001/000");
        for bad in [
            "tile/0/x000/001",
            "tile/00/000",
            "tile/64/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x1/000",
            "tile/0/000/",
            "/tile/0/000",
            "xtile/0/000",
            "tile/0/000.p/",
            "tile/entries/000.p/5/",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
        ] {
            assert!(parse_tile_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tile_bytes_follow_the_tree() {
        let leaves: Vec<Hash> = (0..70_000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let tree = Tree::from_leaf_hashes(leaves.clone());
        let t = tile_bytes(&tree, 0, 273, 112, 70_000).unwrap();
        assert_eq!(t, leaves[273 * 256..].concat());
        assert_eq!(tile_bytes(&tree, 0, 273, 100, 70_000).unwrap().len(), 100 * 32);
        assert!(tile_bytes(&tree, 0, 273, 113, 70_000).is_err());
        assert!(tile_bytes(&tree, 0, 272, 112, 70_000).is_err());
        assert_eq!(tile_bytes(&tree, 1, 0, 256, 70_000).unwrap(), tree.level(8)[..256].concat());
        assert_eq!(tile_bytes(&tree, 2, 0, 1, 70_000).unwrap(), tree.level(16)[0].to_vec());
        assert!(tile_bytes(&tree, 2, 0, 1, 65_535).is_err());
        assert!(tile_bytes(&tree, 0, 0, 256, 70_001).is_err());
        for t in tiles_for_size(70_000) {
            assert_eq!(tile_bytes(&tree, t.level, t.index, t.width, 70_000).unwrap().len(), usize::from(t.width) * 32);
        }
    }

    #[test]
    fn entry_bundles_round_trip_and_reject_junk() {
        let big = vec![7u8; 65_535];
        let entries: Vec<&[u8]> = vec![b"", b"abc", &big];
        let bytes = encode_entry_bundle(&entries).unwrap();
        assert_eq!(decode_entry_bundle(&bytes).unwrap(), entries.iter().map(|e| e.to_vec()).collect::<Vec<_>>());
        assert!(encode_entry_bundle(&[&vec![0u8; 65_536]]).is_err());
        assert!(decode_entry_bundle(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode_entry_bundle(&[0]).is_err());
        assert!(decode_entry_bundle(&[0u8; 2 * 257]).is_err());
        assert!(decode_entry_bundle(&[]).unwrap().is_empty());
    }
}
