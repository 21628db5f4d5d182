//! How the sled store names its keys: the one place they are spelled (the ledger's own rows
//! inside the two key spaces are `store/keys.rs`'s).
//!
//! All integers are big-endian, so keys sort in log order: `H` → the head (size u64 ||
//! checkpoint), `T` level index → a tile, `I` key → the index space, `P` key → the private
//! space, `W` size → the entries a commit of that size wipes (until they are wiped), `J` → the
//! last row change journaled (`hashed_rows.rs`), all in the tree [`TREE`].

use crate::error::{Error, Result};
use crate::store::{keys, Space};

pub(super) fn storage(e: sled::Error) -> Error {
    Error::Storage(e.to_string())
}

pub(super) fn tile_key(level: u8, index: u64) -> [u8; 10] {
    let mut k = [b'T'; 10];
    k[1] = level;
    k[2..].copy_from_slice(&index.to_be_bytes());
    k
}

pub(super) fn space_key(space: Space, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(match space {
        Space::Index => b'I',
        Space::Private => b'P',
    });
    k.extend_from_slice(key);
    k
}

/// Prefix of the wipe markers.
pub(super) const WIPE: &[u8] = b"W";

/// The key of the last row change journaled (`hashed_rows.rs`), committed with the head.
pub(super) const ROW_CHANGE: &[u8] = b"J";

/// The sled tree the store keeps its keys in.
pub(super) const TREE: &str = "sightline-v1";

pub(super) fn read_u64(v: &[u8]) -> Result<u64> {
    <[u8; 8]>::try_from(v)
        .map(u64::from_be_bytes)
        .map_err(|_| Error::Corrupt("a row of the sled store is damaged (not 8 bytes); restore the data folder from a backup".into()))
}

pub(super) fn wipe_key(size: u64) -> Vec<u8> {
    [WIPE, &size.to_be_bytes()].concat()
}

/// Whether a sled key is a row the hash tables keep (a store from before `rows.dat` has them).
pub(super) fn is_hashed_sled_key(k: &[u8]) -> bool {
    match k.split_first() {
        Some((b'I', key)) => keys::hashed(Space::Index, key).is_some(),
        Some((b'P', key)) => keys::hashed(Space::Private, key).is_some(),
        _ => false,
    }
}
