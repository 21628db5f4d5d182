//! RFC 6962 / RFC 9162 §2.1 Merkle tree with SHA-256: leaf and node hashing,
//! an in-memory tree of every complete subtree, inclusion proofs (§2.1.3) and
//! consistency proofs (§2.1.4), generated and verified. Proofs are generated from any
//! [`Subtrees`]: an in-memory [`Tree`], or the ledger's tiles read from its store
//! (`pipeline/tree.rs`), which keeps only the tree's right edge in memory (`edge.rs`).
//!
//! **Size-0 rule** (SPEC.md §6; the public suites differ). transparency-dev/merkle
//! rejects every consistency proof from size 0; C2SP tlog-witness accepts old size
//! 0 with an empty proof. We implement the C2SP rule, made exact: a proof from
//! size 0 is accepted only if it is empty **and** `root1` is the empty tree's root
//! `SHA-256("")` (and `root2` too when `size2` is 0); [`Tree::consistency_proof`]
//! from size 0 returns the empty proof. No vector file conflicts with this rule:
//! every size-0 vector of the transparency-dev suite is still rejected, because
//! each has a non-empty proof, a `root1` that is not the empty root, or a stand-in
//! "hash" that is not 32 bytes (e.g. `size1-is-zero-and-size2-is-not-zero`, whose
//! `root2` is 12 bytes). `tests/vectors.rs` checks every file against `wantErr`.
//!
//! Over 400 lines because each proof's verifier sits beside its generator and mirrors it step
//! by step (RFC 9162 §2.1.3–§2.1.4); apart they would drift.

use std::collections::HashMap;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A SHA-256 hash: a leaf hash, node hash or tree root.
pub type Hash = [u8; 32];

/// Levels at least this long are hashed in parallel by [`Tree::from_leaf_hashes`].
const PARALLEL_MIN: usize = 1 << 14;

/// Where the hashes of a tree's complete subtrees come from. Proofs and roots are computed from
/// these alone ([`root_at`], [`inclusion_proof`], [`consistency_proof`]).
pub trait Subtrees {
    /// Number of leaves.
    fn size(&self) -> u64;

    /// The hash of the complete subtree of `2^level` leaves that starts at leaf
    /// `index << level`. Asked only for subtrees inside the tree; an error if the hash
    /// cannot be had (a backend's storage error, or damage it found).
    fn node(&self, level: u32, index: u64) -> Result<Hash>;

    /// `count` hashes of `level` from `start` on (a tile's hashes), by default one [`Subtrees::node`] each.
    fn nodes(&self, level: u32, start: u64, count: u64) -> Result<Vec<Hash>> {
        (start..start + count).map(|i| self.node(level, i)).collect()
    }
}

/// RFC 6962 leaf hash: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

fn hash_pairs(level: &[Hash]) -> Vec<Hash> {
    if level.len() >= PARALLEL_MIN {
        level.par_chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect()
    } else {
        level.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect()
    }
}

/// In-memory tree: `levels[k][i]` = hash of the complete subtree of `2^k`
/// leaves starting at leaf `i * 2^k`. No level is ever empty, so `levels` is
/// empty exactly when the tree is.
#[derive(Clone, Default, Debug)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds every level from the leaf hashes (large levels in parallel).
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Self {
        let mut levels = Vec::new();
        let mut current = leaves;
        while !current.is_empty() {
            let next = hash_pairs(&current);
            levels.push(current);
            current = next;
        }
        Tree { levels }
    }

    /// Appends one leaf hash, completing the subtrees it closes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut k = 0;
        loop {
            if self.levels.len() == k {
                self.levels.push(Vec::new());
            }
            let level = &mut self.levels[k];
            level.push(hash);
            let n = level.len();
            if n % 2 == 1 {
                return;
            }
            hash = node_hash(&level[n - 2], &level[n - 1]);
            k += 1;
        }
    }

    /// Appends leaf hashes in order.
    pub fn extend(&mut self, leaves: &[Hash]) {
        for leaf in leaves {
            self.push(*leaf);
        }
    }

    /// Drops the leaves `>= size` and every node that covers them (no-op if
    /// `size >= self.size()`).
    pub fn truncate(&mut self, size: u64) {
        for (k, level) in self.levels.iter_mut().enumerate() {
            let keep = size.checked_shr(k as u32).unwrap_or(0);
            level.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
        }
        while self.levels.last().is_some_and(Vec::is_empty) {
            self.levels.pop();
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// The complete-subtree hashes at `level` (subtrees of `2^level` leaves);
    /// empty if there are none.
    pub fn level(&self, level: usize) -> &[Hash] {
        self.levels.get(level).map_or(&[], Vec::as_slice)
    }

    /// The root at the current size.
    pub fn root(&self) -> Hash {
        self.fold(0, self.size())
    }

    /// The root of the tree of the first `size` leaves, in O(log n).
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        root_at(self, size)
    }

    /// RFC 9162 §2.1.3 inclusion proof (audit path, leaf to root) of leaf
    /// `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        inclusion_proof(self, index, size)
    }

    /// Inclusion proofs of many leaves in the tree of the first `size`, in the
    /// order of `indexes` (see [`inclusion_proofs`]).
    pub fn inclusion_proofs(&self, indexes: &[u64], size: u64) -> Result<Vec<Vec<Hash>>> {
        inclusion_proofs(self, indexes, size)
    }

    /// RFC 9162 §2.1.4 consistency proof from size `old` to size `new`
    /// (`old <= new <= self.size()`). From `old == 0` the proof is empty (size-0
    /// rule in the module docs), as it is for `old == new`.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>> {
        consistency_proof(self, old, new)
    }

    /// `MTH(D[lo:hi])` of a range the RFC recursion visits, from the stored levels.
    fn fold(&self, lo: u64, hi: u64) -> Hash {
        range_hash(self, lo, hi).unwrap_or_else(|_| empty_root())
    }
}

impl Subtrees for Tree {
    fn size(&self) -> u64 {
        Tree::size(self)
    }

    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        let missing = || Error::OutOfRange(format!("the tree holds no complete subtree {index} of level {level}"));
        let i = usize::try_from(index).map_err(|_| missing())?;
        self.levels.get(level as usize).and_then(|l| l.get(i)).copied().ok_or_else(missing)
    }
}

/// The root of the tree of the first `size` leaves of `tree`, in O(log n) subtree hashes.
pub fn root_at<S: Subtrees + ?Sized>(tree: &S, size: u64) -> Result<Hash> {
    check_size(tree, size)?;
    range_hash(tree, 0, size)
}

/// RFC 9162 §2.1.3 inclusion proof (audit path, leaf to root) of leaf `index` in the tree of
/// the first `size` leaves of `tree`.
pub fn inclusion_proof<S: Subtrees + ?Sized>(tree: &S, index: u64, size: u64) -> Result<Vec<Hash>> {
    inclusion_proof_with(tree, index, size, &mut HashMap::new())
}

/// Inclusion proofs of many leaves in the tree of the first `size`, in the order of
/// `indexes`. The right-border subtree hashes they share are computed once (a group
/// commit's receipts all use one tree size).
pub fn inclusion_proofs<S: Subtrees + ?Sized>(tree: &S, indexes: &[u64], size: u64) -> Result<Vec<Vec<Hash>>> {
    let mut border = HashMap::new();
    indexes.iter().map(|&i| inclusion_proof_with(tree, i, size, &mut border)).collect()
}

/// `border` caches `range_hash(lo, size)` by `lo`: only ranges that end at `size` cost
/// hashing; every other range of the path is one complete subtree.
fn inclusion_proof_with<S: Subtrees + ?Sized>(tree: &S, index: u64, size: u64, border: &mut HashMap<u64, Hash>) -> Result<Vec<Hash>> {
    check_size(tree, size)?;
    if index >= size {
        return Err(Error::OutOfRange(format!("entry {index} is not in a tree of size {size}; ask for an index below the tree size")));
    }
    // PATH(m, D[lo:hi]) unrolled from the top; reversed at the end.
    let mut proof = Vec::with_capacity(64);
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            let h = match (hi == size, border.get(&(lo + k))) {
                (true, Some(h)) => *h,
                (true, None) => {
                    let h = range_hash(tree, lo + k, hi)?;
                    border.insert(lo + k, h);
                    h
                }
                (false, _) => range_hash(tree, lo + k, hi)?,
            };
            proof.push(h);
            hi = lo + k;
        } else {
            proof.push(range_hash(tree, lo, lo + k)?);
            lo += k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// RFC 9162 §2.1.4 consistency proof from size `old` to size `new` of `tree`
/// (`old <= new <= tree.size()`). From `old == 0` the proof is empty (size-0 rule in the
/// module docs), as it is for `old == new`.
pub fn consistency_proof<S: Subtrees + ?Sized>(tree: &S, old: u64, new: u64) -> Result<Vec<Hash>> {
    check_size(tree, new)?;
    if old > new {
        return Err(Error::OutOfRange(format!(
            "old size {old} is larger than new size {new}; a consistency proof goes from an older, smaller tree to a newer one"
        )));
    }
    let mut proof = Vec::with_capacity(64);
    if old == 0 || old == new {
        return Ok(proof);
    }
    // SUBPROOF(m, D[lo:hi], b) unrolled from the top; `m` is relative to `lo`.
    let (mut lo, mut hi, mut m, mut whole) = (0, new, old, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole {
                proof.push(range_hash(tree, lo, hi)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            proof.push(range_hash(tree, lo + k, hi)?);
            hi = lo + k;
        } else {
            proof.push(range_hash(tree, lo, lo + k)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    proof.reverse();
    Ok(proof)
}

fn check_size<S: Subtrees + ?Sized>(tree: &S, size: u64) -> Result<()> {
    if size > tree.size() {
        return Err(Error::OutOfRange(format!(
            "tree size {size} is beyond the {} leaves this tree holds; ask for a size up to the latest checkpoint",
            tree.size()
        )));
    }
    Ok(())
}

/// `MTH(D[lo:hi])` for `lo <= hi <= size` where `lo` is a multiple of the largest power of
/// two not above `hi - lo` (true of every range the RFC recursion visits): the complete
/// subtrees of the range, folded from the right.
fn range_hash<S: Subtrees + ?Sized>(tree: &S, lo: u64, hi: u64) -> Result<Hash> {
    let mut rest = hi - lo;
    let mut end = hi;
    let mut acc: Option<Hash> = None;
    while rest != 0 {
        let k = rest.trailing_zeros();
        let start = end - (1u64 << k);
        let h = tree.node(k, start >> k)?;
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
        end = start;
        rest &= rest - 1;
    }
    Ok(acc.unwrap_or_else(empty_root))
}

fn bad(why: String) -> Error {
    Error::BadProof(why)
}

/// Recomputes the root an RFC 9162 §2.1.3.2 inclusion proof leads to.
pub fn root_from_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash]) -> Result<Hash> {
    if index >= size {
        return Err(bad(format!("entry {index} cannot be in a tree of size {size}")));
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(bad(format!(
                "the inclusion proof has {} hashes, more than a tree of size {size} needs for entry {index}",
                proof.len()
            )));
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(bad(format!(
            "the inclusion proof has {} hashes, fewer than a tree of size {size} needs for entry {index}",
            proof.len()
        )));
    }
    Ok(r)
}

/// Verifies an RFC 9162 §2.1.3.2 inclusion proof.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> Result<()> {
    let got = root_from_inclusion(leaf, index, size, proof)?;
    if got != *root {
        return Err(bad(format!(
            "the inclusion proof of entry {index} leads to root {}, not to the root {} of the checkpoint of size {size}; the entry, the proof or the checkpoint is wrong",
            hex::encode(got),
            hex::encode(root)
        )));
    }
    Ok(())
}

/// Verifies an RFC 9162 §2.1.4.2 consistency proof from (`size1`, `root1`) to
/// (`size2`, `root2`), with the size-0 rule of the module docs.
pub fn verify_consistency(size1: u64, size2: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> Result<()> {
    if size1 > size2 {
        return Err(bad(format!("old size {size1} is larger than new size {size2}; a log never shrinks")));
    }
    if size1 == 0 {
        if !proof.is_empty() {
            return Err(bad(format!("a consistency proof from size 0 must be empty, this one has {} hashes", proof.len())));
        }
        if *root1 != empty_root() || (size2 == 0 && *root2 != empty_root()) {
            return Err(bad("the root of a tree of size 0 must be SHA-256(\"\") (47DEQpj8...)".into()));
        }
        return Ok(());
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(bad(format!("a consistency proof between equal sizes must be empty, this one has {} hashes", proof.len())));
        }
        if root1 != root2 {
            return Err(bad(format!(
                "two different roots for the same tree size {size1}: the log forked; keep both checkpoints as evidence"
            )));
        }
        return Ok(());
    }
    let (first, rest) = match proof.split_first() {
        None => return Err(bad(format!("the consistency proof from size {size1} to {size2} is empty"))),
        Some(_) if size1.is_power_of_two() => (root1, proof),
        Some((first, rest)) => (first, rest),
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(bad(format!("the consistency proof from size {size1} to {size2} has {} hashes, more than needed", proof.len())));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(bad(format!("the consistency proof from size {size1} to {size2} has {} hashes, fewer than needed", proof.len())));
    }
    if fr != *root1 || sr != *root2 {
        let which = if fr != *root1 { "old" } else { "new" };
        return Err(bad(format!(
            "the consistency proof from size {size1} to {size2} does not lead to the {which} root; the log may have forked or rewritten history: keep both checkpoints as evidence"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MTH straight from RFC 6962's recursive definition.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_recursive_definition_and_truncate_drops_nodes() {
        let all: Vec<Hash> = (0..70u8).map(|i| leaf_hash(&[i])).collect();
        let mut t = Tree::new();
        for n in 0..=70 {
            assert_eq!(t.root(), mth(&all[..n]), "n={n}");
            t.extend(all.get(n..n + 1).unwrap_or_default());
        }
        assert!(matches!(t.root_at(71), Err(Error::OutOfRange(_))));
        t.truncate(37);
        assert_eq!(t.levels, Tree::from_leaf_hashes(all[..37].to_vec()).levels);
        t.truncate(0);
        assert!(t.levels.is_empty() && t.level(3).is_empty() && t.root() == empty_root());
    }

    #[test]
    fn size_zero_rule() {
        let (e, one) = (empty_root(), leaf_hash(b"a"));
        let t = Tree::from_leaf_hashes(vec![one]);
        assert!(t.consistency_proof(0, 1).unwrap().is_empty());
        verify_consistency(0, 0, &e, &e, &[]).unwrap();
        verify_consistency(0, 1, &e, &one, &[]).unwrap();
        assert!(verify_consistency(0, 1, &e, &one, &[e]).is_err());
        assert!(verify_consistency(0, 1, &one, &one, &[]).is_err());
        assert!(verify_consistency(0, 0, &e, &one, &[]).is_err());
        assert!(verify_inclusion(&e, 0, 0, &[], &e).is_err());
    }
}
