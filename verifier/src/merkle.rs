//! RFC 6962 / RFC 9162 Merkle trees with SHA-256: hashing, roots, proof verification and a
//! streaming compact range.
//!
//! Written from RFC 9162 §2.1; it shares no code with the ledger.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{HexHash, ProofError};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Leaf hashes of many leaves, computed in parallel.
pub fn leaf_hashes<T: AsRef<[u8]> + Sync>(leaves: &[T]) -> Vec<Hash> {
    leaves.par_iter().map(|l| leaf_hash(l.as_ref())).collect()
}

/// The root of the tree whose leaf hashes are `hashes` (iterative, level by level; parallel on
/// wide levels). The empty list gives [`empty_root`].
pub fn root(hashes: &[Hash]) -> Hash {
    match hashes {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let mut level = next_level(hashes);
            while level.len() > 1 {
                level = next_level(&level);
            }
            level.first().copied().unwrap_or_else(empty_root)
        }
    }
}

fn next_level(level: &[Hash]) -> Vec<Hash> {
    let pair = |c: &[Hash]| match c {
        [l, r] => node_hash(l, r),
        [l] => *l,
        _ => empty_root(), // chunks(2) never yields other shapes
    };
    if level.len() >= 1 << 14 {
        level.par_chunks(2).map(pair).collect()
    } else {
        level.chunks(2).map(pair).collect()
    }
}

fn hash_of(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    bytes.try_into().map_err(|_| ProofError::NotAHash { what: what(), len: bytes.len() })
}

/// RFC 9162 §2.1.3.2: verify that `leaf` (a leaf hash) is at `index` in the tree of `size`
/// leaves with root `root`. All hashes must be 32 bytes.
pub fn verify_inclusion(index: u64, size: u64, leaf: &[u8], proof: &[impl AsRef<[u8]>], root: &[u8]) -> Result<(), ProofError> {
    let leaf = hash_of(|| "the leaf hash".into(), leaf)?;
    let root = hash_of(|| "the root hash".into(), root)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = leaf;
    for (i, p) in proof.iter().enumerate() {
        let p = hash_of(|| format!("proof hash {i}"), p.as_ref())?;
        if s_n == 0 {
            return Err(wrong_len(index, size, proof.len()));
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(&p, &r);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            r = node_hash(&r, &p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(wrong_len(index, size, proof.len()));
    }
    if r != root {
        return Err(ProofError::RootMismatch { computed: HexHash(r), expected: HexHash(root) });
    }
    Ok(())
}

fn wrong_len(a: u64, b: u64, len: usize) -> ProofError {
    ProofError::WrongLength { detail: format!("{a}/{b} ({len} hashes given)") }
}

/// What to do with a consistency proof from the empty tree (the public suites differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroRule {
    /// C2SP tlog-witness and sightline/v1 §6: from size 0, accept exactly the empty proof
    /// (and require the older root to be the empty tree's root).
    AcceptEmptyProof,
    /// transparency-dev/merkle: reject every proof from size 0, even 0 -> 0.
    Reject,
}

/// RFC 9162 §2.1.4.2: verify that the tree (`size1`, `root1`) is a prefix of (`size2`, `root2`).
///
/// Equal sizes need an empty proof and byte-equal roots. Otherwise every hash must be 32 bytes.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[impl AsRef<[u8]>],
    zero: ZeroRule,
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::Shrunk { old: size1, new: size2 });
    }
    if size1 == 0 {
        if zero == ZeroRule::Reject {
            return Err(ProofError::ZeroSizeRejected);
        }
        if !proof.is_empty() {
            return Err(ProofError::FromEmpty { len: proof.len() });
        }
        let r1 = hash_of(|| "the older root".into(), root1)?;
        hash_of(|| "the newer root".into(), root2)?;
        if r1 != empty_root() {
            return Err(ProofError::OldRootMismatch { computed: HexHash(empty_root()), expected: HexHash(r1) });
        }
        return Ok(());
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::EqualSizesNonEmpty { size: size1, len: proof.len() });
        }
        if root1 != root2 {
            return Err(ProofError::EqualSizesDifferentRoots { size: size1 });
        }
        return Ok(());
    }
    let r1 = hash_of(|| "the older root".into(), root1)?;
    let r2 = hash_of(|| "the newer root".into(), root2)?;
    let mut path = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(r1);
    }
    for (i, p) in proof.iter().enumerate() {
        path.push(hash_of(|| format!("proof hash {i}"), p.as_ref())?);
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(wrong_len(size1, size2, proof.len()));
    };
    let (mut f_n, mut s_n) = (size1 - 1, size2 - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return Err(wrong_len(size1, size2, proof.len()));
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f_n & 1 == 0 && f_n != 0 {
                f_n >>= 1;
                s_n >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(wrong_len(size1, size2, proof.len()));
    }
    if fr != r1 {
        return Err(ProofError::OldRootMismatch { computed: HexHash(fr), expected: HexHash(r1) });
    }
    if sr != r2 {
        return Err(ProofError::RootMismatch { computed: HexHash(sr), expected: HexHash(r2) });
    }
    Ok(())
}

/// A compact range `[0, size)`: the roots of the maximal complete subtrees, left to right.
/// Leaves (or aligned complete subtrees) are appended one at a time, so a log of any size can be
/// rebuilt tile by tile in `O(log n)` memory.
#[derive(Debug, Clone, Default)]
pub struct CompactRange {
    size: u64,
    /// (hash, level): a complete subtree of `2^level` leaves.
    stack: Vec<(Hash, u32)>,
}

impl CompactRange {
    /// An empty range.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many leaves the range covers.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append one leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.push_aligned(leaf, 0);
    }

    fn push_aligned(&mut self, mut hash: Hash, level: u32) {
        let mut level = level;
        self.size += 1u64 << level;
        while let Some(&(top, top_level)) = self.stack.last() {
            if top_level != level {
                break;
            }
            self.stack.pop();
            hash = node_hash(&top, &hash);
            level += 1;
        }
        self.stack.push((hash, level));
    }

    /// Append the root of a complete subtree of `2^level` leaves. The range's size must be a
    /// multiple of `2^level`; returns `false` (and changes nothing) otherwise.
    pub fn push_subtree(&mut self, hash: Hash, level: u32) -> bool {
        if level >= 63 || self.size % (1u64 << level) != 0 {
            return false;
        }
        self.push_aligned(hash, level);
        true
    }

    /// Append many leaf hashes; aligned complete blocks are hashed in parallel.
    pub fn extend(&mut self, mut leaves: &[Hash]) {
        while !leaves.is_empty() {
            let align = if self.size == 0 { 63 } else { self.size.trailing_zeros() };
            let fit = 63 - (leaves.len() as u64).leading_zeros();
            let level = align.min(fit);
            let n = 1usize << level;
            let (block, rest) = leaves.split_at(n.min(leaves.len()));
            if level >= 10 {
                self.push_aligned(root(block), level);
            } else {
                for h in block {
                    self.push(*h);
                }
            }
            leaves = rest;
        }
    }

    /// The root of the tree of the leaves appended so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(&(mut acc, _)) = it.next() else {
            return empty_root();
        };
        for (h, _) in it {
            acc = node_hash(h, &acc);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_range_matches_root() {
        let leaves: Vec<Hash> = (0u32..1300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in [0usize, 1, 2, 3, 7, 8, 255, 256, 257, 1024, 1025, 1300] {
            let mut one = CompactRange::new();
            for h in &leaves[..n] {
                one.push(*h);
            }
            let mut many = CompactRange::new();
            many.extend(&leaves[..n / 3]);
            many.extend(&leaves[n / 3..n]);
            assert_eq!(one.root(), root(&leaves[..n]), "n={n}");
            assert_eq!(many.root(), root(&leaves[..n]), "n={n}");
        }
    }
}
