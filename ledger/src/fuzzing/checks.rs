//! What several fuzz families assert: proofs that verify and fail when changed, tiles that
//! hold what they should, times that round-trip.

use crate::error::Result;
use crate::export::ExportFilter;
use crate::model::canonical::{decode_signature, jcs_value};
use crate::model::entry::Entry;
use crate::model::record::{check_time, format_time, parse_time};
use crate::tlog::merkle::{leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
use crate::tlog::tiles;

use super::fixture::{fixture, tree};

pub(super) fn times(text: &str) {
    if let Some(t) = parse_time(text) {
        let again = format_time(t);
        assert_eq!(parse_time(&again), Some(t), "{text:?} parses but its formatted form {again:?} does not parse back to it");
    }
    let _ = check_time(0, "time", text);
}

/// `Entry::encode` of a parsed entry's parts, when they are in the form the log writes.
pub(super) fn reencode(e: &Entry) -> Option<Result<Vec<u8>>> {
    let prev: Hash = hex::decode(&e.prev).ok()?.try_into().ok()?;
    let sig = decode_signature(&e.sig).ok()?;
    if e.v != 1 || hex::encode(prev) != e.prev {
        return None;
    }
    Some(jcs_value(&e.body).and_then(|body| Entry::encode(e.index, &prev, &e.logged_at, &e.flags, &body, &sig)))
}

pub(super) fn filters() -> [ExportFilter; 2] {
    let everything = ExportFilter::default();
    let narrow = ExportFilter {
        from: parse_time("2026-01-01T00:00:00Z"),
        to: parse_time("2027-01-01T00:00:00.500Z"),
        advertiser: Some("p-civic-future".into()),
        campaign: Some("ocean-2026".into()),
        include_personal: true,
    };
    [everything, narrow]
}

pub(super) fn word(data: &[u8], at: usize) -> u64 {
    data.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes)
}

pub(super) fn hash_of(bytes: &[u8]) -> Hash {
    <Hash>::try_from(bytes).unwrap_or_default()
}

pub(super) fn check_inclusion(tree: &Tree, index: u64, size: u64, other: Hash) {
    let Ok(proof) = tree.inclusion_proof(index, size) else { return };
    let (Some(leaf), Ok(root)) = (tree.leaf(index), tree.root_at(size)) else {
        panic!("the tree gives an inclusion proof of {index} at {size} but has no such leaf or root");
    };
    if let Err(e) = verify_inclusion(&leaf, index, size, &proof, &root) {
        panic!("the inclusion proof of {index} at {size} does not verify: {e}");
    }
    if !proof.is_empty() {
        let (mut bad, k) = (proof.clone(), usize::from(other[0]) % proof.len());
        bad[k] = if proof[k] == other { leaf_hash(&other) } else { other };
        assert!(
            verify_inclusion(&leaf, index, size, &bad, &root).is_err(),
            "hash {k} of the inclusion proof of {index} at {size} is ignored"
        );
    }
    if let Some((_, shorter)) = proof.split_last() {
        assert!(verify_inclusion(&leaf, index, size, shorter, &root).is_err(), "a short inclusion proof of {index} at {size} verifies");
    }
    let longer = [proof.as_slice(), &[other]].concat();
    assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err(), "a long inclusion proof of {index} at {size} verifies");
}

pub(super) fn check_consistency(tree: &Tree, old: u64, new: u64, other: Hash) {
    let Ok(proof) = tree.consistency_proof(old, new) else { return };
    let (Ok(r1), Ok(r2)) = (tree.root_at(old), tree.root_at(new)) else {
        panic!("the tree gives a consistency proof from {old} to {new} but not their roots");
    };
    if let Err(e) = verify_consistency(old, new, &r1, &r2, &proof) {
        panic!("the consistency proof from {old} to {new} does not verify: {e}");
    }
    if !proof.is_empty() {
        let (mut bad, k) = (proof.clone(), usize::from(other[0]) % proof.len());
        bad[k] = if proof[k] == other { leaf_hash(&other) } else { other };
        assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err(), "hash {k} of the consistency proof from {old} to {new} is ignored");
    }
    if let Some((_, shorter)) = proof.split_last() {
        assert!(verify_consistency(old, new, &r1, &r2, shorter).is_err(), "a short consistency proof from {old} to {new} verifies");
    }
    let longer = [proof.as_slice(), &[other]].concat();
    assert!(verify_consistency(old, new, &r1, &r2, &longer).is_err(), "a long consistency proof from {old} to {new} verifies");
}

/// `tile_bytes` of the fixture tree.
pub(super) fn check_tile(level: u8, index: u64, width: u16, size: u64) {
    let tree = tree();
    let Ok(t) = tiles::tile_bytes(tree, level, index, width, size) else { return };
    assert_eq!(t.len(), usize::from(width) * 32, "tile {level}/{index} of width {width} has {} bytes", t.len());
    if level == 0 {
        for (k, h) in (index * 256..).zip(t.chunks(32)) {
            assert!(tree.leaf(k).is_some_and(|leaf| leaf == h), "tile 0/{index} does not hold leaf {k}");
        }
    }
    let listed = tiles::tiles_for_size(size).iter().any(|t| t.level == level && t.index == index && t.width >= width);
    assert!(listed, "tile {level}/{index} of width {width} exists at size {size} but tiles_for_size does not list it");
}

/// A hash tile and an entry bundle as the fixture ledger serves them.
pub(super) fn check_served_tile(level: u8, index: u64, width: u16) {
    let f = fixture();
    if let Ok(t) = f.ledger.tile(level, index, width) {
        assert_eq!(t.len(), usize::from(width) * 32, "the served tile {level}/{index} of width {width} has {} bytes", t.len());
    }
    if let Ok(b) = f.ledger.entry_bundle(index, width) {
        let entries = tiles::decode_entry_bundle(&b).unwrap_or_else(|e| panic!("a served entry bundle does not decode: {e}"));
        assert_eq!(entries.len(), usize::from(width), "the served entry bundle {index} of width {width} has {} entries", entries.len());
        for (k, e) in (index * 256..).zip(&entries) {
            assert!(f.ledger.entry(k).ok().flatten().is_some_and(|s| s == *e), "entry bundle {index} differs from entry {k}");
        }
    }
}
