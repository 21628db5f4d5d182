//! Property tests of the RFC 9162 tree (`sightline_ledger::merkle`): random
//! append sequences, every proof verifies, any flipped byte fails, roots at
//! every size match a fresh build, truncate + re-extend is lossless.

use proptest::prelude::*;
use sightline_ledger::merkle::{leaf_hash, root_from_inclusion, verify_consistency, verify_inclusion, Hash, Tree};

const MAX_LEAVES: usize = 300;

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat())).collect()
}

/// Appends `all` to `t` by alternating extends and pushes of the given chunk sizes.
fn grow(t: &mut Tree, all: &[Hash], chunks: &[usize]) {
    let mut at = 0;
    for (i, c) in chunks.iter().cycle().enumerate() {
        if at >= all.len() {
            break;
        }
        let end = (at + c).min(all.len());
        if i % 2 == 0 {
            t.extend(&all[at..end]);
        } else {
            all[at..end].iter().for_each(|h| t.push(*h));
        }
        at = end;
    }
}

fn same_levels(a: &Tree, b: &Tree) -> bool {
    a.size() == b.size() && (0..64).all(|k| a.level(k) == b.level(k))
}

fn flip(h: &mut Hash, byte: usize, bit: u8) {
    h[byte % 32] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn roots_at_every_size_match_a_fresh_build(
        n in 0..=MAX_LEAVES, seed in any::<u64>(), chunks in prop::collection::vec(1usize..40, 1..8),
    ) {
        let all = leaves(n, seed);
        let mut t = Tree::new();
        grow(&mut t, &all, &chunks);
        let built = Tree::from_leaf_hashes(all.clone());
        prop_assert!(same_levels(&t, &built));
        prop_assert_eq!(t.root(), built.root());
        for size in 0..=n {
            let fresh = Tree::from_leaf_hashes(all[..size].to_vec()).root();
            prop_assert_eq!(t.root_at(size as u64).unwrap(), fresh, "size {}", size);
        }
        prop_assert!(t.root_at(n as u64 + 1).is_err());
    }

    #[test]
    fn proofs_made_together_equal_proofs_made_one_by_one(
        n in 1..=MAX_LEAVES, seed in any::<u64>(), a in any::<u64>(), picks in prop::collection::vec(any::<u64>(), 1..60),
    ) {
        let t = Tree::from_leaf_hashes(leaves(n, seed));
        let size = 1 + a % n as u64;
        let indexes: Vec<u64> = picks.iter().map(|p| p % size).collect();
        let together = t.inclusion_proofs(&indexes, size).unwrap();
        for (i, proof) in indexes.iter().zip(&together) {
            prop_assert_eq!(proof, &t.inclusion_proof(*i, size).unwrap(), "index {} of {}", i, size);
        }
        prop_assert!(t.inclusion_proofs(&[size], size).is_err());
    }

    #[test]
    fn sampled_inclusion_proofs_verify_and_any_flip_fails(
        n in 1..=MAX_LEAVES, seed in any::<u64>(),
        picks in prop::collection::vec((any::<u64>(), any::<u64>(), any::<usize>(), any::<usize>(), any::<u8>()), 1..40),
    ) {
        let all = leaves(n, seed);
        let t = Tree::from_leaf_hashes(all.clone());
        for (a, b, which, byte, bit) in picks {
            let size = 1 + a % n as u64;
            let index = b % size;
            let root = t.root_at(size).unwrap();
            let proof = t.inclusion_proof(index, size).unwrap();
            let leaf = all[index as usize];
            prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());
            prop_assert_eq!(root_from_inclusion(&leaf, index, size, &proof).unwrap(), root);
            if !proof.is_empty() {
                let mut bad = proof.clone();
                flip(&mut bad[which % proof.len()], byte, bit);
                prop_assert!(verify_inclusion(&leaf, index, size, &bad, &root).is_err());
                let mut short = proof.clone();
                short.pop();
                prop_assert!(verify_inclusion(&leaf, index, size, &short, &root).is_err());
            }
            let mut bad_root = root;
            flip(&mut bad_root, byte, bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &proof, &bad_root).is_err());
            let mut bad_leaf = leaf;
            flip(&mut bad_leaf, byte, bit);
            prop_assert!(verify_inclusion(&bad_leaf, index, size, &proof, &root).is_err());
            let mut long = proof.clone();
            long.push(root);
            prop_assert!(verify_inclusion(&leaf, index, size, &long, &root).is_err());
            prop_assert!(t.inclusion_proof(size, size).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_between_sizes_and_any_flip_fails(
        n in 1..=MAX_LEAVES, seed in any::<u64>(),
        picks in prop::collection::vec((any::<u64>(), any::<u64>(), any::<usize>(), any::<usize>(), any::<u8>()), 1..40),
    ) {
        let t = Tree::from_leaf_hashes(leaves(n, seed));
        let roots: Vec<Hash> = (0..=n as u64).map(|s| t.root_at(s).unwrap()).collect();
        // All pairs for small trees, sampled pairs for larger ones.
        let pairs: Vec<(u64, u64, usize, usize, u8)> = if n <= 40 {
            (0..=n as u64).flat_map(|new| (0..=new).map(move |old| (old, new, 0, 0, 0))).collect()
        } else {
            picks.iter().map(|&(a, b, w, y, z)| {
                let new = b % (n as u64 + 1);
                (a % (new + 1), new, w, y, z)
            }).collect()
        };
        for (old, new, which, byte, bit) in pairs {
            let (r1, r2) = (roots[old as usize], roots[new as usize]);
            let proof = t.consistency_proof(old, new).unwrap();
            prop_assert!(verify_consistency(old, new, &r1, &r2, &proof).is_ok(), "{} -> {}", old, new);
            if !proof.is_empty() {
                let mut bad = proof.clone();
                flip(&mut bad[which % proof.len()], byte, bit);
                prop_assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err());
                prop_assert!(verify_consistency(old, new, &r1, &r2, &proof[1..]).is_err());
            }
            let (mut bad1, mut bad2) = (r1, r2);
            flip(&mut bad1, byte, bit);
            flip(&mut bad2, byte, bit);
            prop_assert!(verify_consistency(old, new, &bad1, &r2, &proof).is_err());
            if old > 0 || new == 0 {
                // From size 0 any new root is consistent: only root1 is checked.
                prop_assert!(verify_consistency(old, new, &r1, &bad2, &proof).is_err());
            }
            let mut long = proof.clone();
            long.push(r2);
            prop_assert!(verify_consistency(old, new, &r1, &r2, &long).is_err());
        }
        prop_assert!(t.consistency_proof(2, 1).is_err());
        prop_assert!(t.consistency_proof(0, n as u64 + 1).is_err());
    }

    #[test]
    fn truncate_then_re_extend_is_identical(
        n in 0..=MAX_LEAVES, cut in any::<usize>(), seed in any::<u64>(), chunks in prop::collection::vec(1usize..40, 1..8),
    ) {
        let all = leaves(n, seed);
        let full = Tree::from_leaf_hashes(all.clone());
        let cut = cut % (n + 1);
        let mut t = full.clone();
        t.truncate(cut as u64);
        prop_assert!(same_levels(&t, &Tree::from_leaf_hashes(all[..cut].to_vec())));
        grow(&mut t, &all[cut..], &chunks);
        prop_assert!(same_levels(&t, &full));
        prop_assert_eq!(t.root(), full.root());
        t.truncate(n as u64 + 5);
        prop_assert!(same_levels(&t, &full));
    }
}
