//! The fuzz body of a witness's request handling ([`crate::tlog_witness`]): the parser of
//! `add-checkpoint` bodies and the rules applied to what parses. It backs the `witness` cargo-fuzz
//! target in `ledger/fuzz/` and the `witness` family of `tests/no_panic.rs`, and must never panic.
//!
//! Asserts: a body that parses writes back to the same request ([`AddCheckpoint::to_body`]); a
//! request that is accepted leaves the witness on the fixture log's one history (the new state's
//! root is the fixture tree's root at its size, the size never goes down, and the same size
//! keeps its root). The fixture log signs with the seed `[3; 32]` as `ledger/tests/common` does.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use crate::tlog::merkle::{leaf_hash, Tree};
use crate::tlog::note::{Checkpoint, NoteSigner};
use crate::tlog::tlog_witness::{AddCheckpoint, Cosigned, KnownLog};

/// The fixture log's origin.
pub const ORIGIN: &str = "sightline.test/log";
const LOG_SEED: [u8; 32] = [3; 32];
/// Leaves of the fixture tree.
const LEAVES: u8 = 40;

struct Fixture {
    signer: NoteSigner,
    tree: Tree,
    known: Vec<KnownLog>,
    /// States a witness may hold: none, and the fixture's checkpoints of a few sizes.
    held: Vec<Option<Cosigned>>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let signer = NoteSigner::from_seed(ORIGIN, &LOG_SEED).unwrap_or_else(|e| panic!("the fixture log key does not build: {e}"));
        let tree = Tree::from_leaf_hashes((0..LEAVES).map(|i| leaf_hash(&[i])).collect());
        let known = vec![KnownLog { origin: ORIGIN.into(), keys: vec![signer.verifier()] }];
        let mut held = vec![None];
        for size in [1u64, 7, 8, 33] {
            if let Ok(root) = tree.root_at(size) {
                let text = Checkpoint { origin: ORIGIN.into(), size, root, extensions: vec![] }.to_text();
                held.push(Some(Cosigned { size, root: B64.encode(root), checkpoint: text }));
            }
        }
        Fixture { signer, tree, known, held }
    })
}

/// Valid request bodies for the fixture log, to seed the fuzzer: every way a witness at one of
/// the held states accepts, and a few it refuses.
pub fn seeds() -> Vec<Vec<u8>> {
    let f = fixture();
    let mut out = Vec::new();
    for held in &f.held {
        let old = held.as_ref().map_or(0, |c| c.size);
        for size in [old, old + 1, u64::from(LEAVES)] {
            let (Ok(root), Ok(proof)) = (f.tree.root_at(size), f.tree.consistency_proof(old, size)) else { continue };
            let text = Checkpoint { origin: ORIGIN.into(), size, root, extensions: vec![] }.to_text();
            let Ok(checkpoint) = f.signer.sign_note(&text) else { continue };
            out.push(AddCheckpoint { old_size: old, proof, checkpoint }.to_body().into_bytes());
        }
    }
    out
}

/// Parses `data` as a request and, if it parses, applies the rules at every fixture state.
pub fn add_checkpoint(data: &[u8]) {
    let Ok(req) = AddCheckpoint::parse(data) else { return };
    assert_eq!(AddCheckpoint::parse(req.to_body().as_bytes()).ok().as_ref(), Some(&req), "a parsed request must write back to itself");
    let f = fixture();
    let Ok(verified) = req.verify(&f.known) else { return };
    for held in &f.held {
        let Ok(new) = verified.advance(held.as_ref()) else { continue };
        let root = f.tree.root_at(new.size).map(|r| B64.encode(r));
        assert_eq!(root.as_ref().ok(), Some(&new.root), "an accepted checkpoint must be on the fixture log's history");
        if let Some(h) = held {
            assert!(new.size >= h.size, "a witness must never move back from size {} to {}", h.size, new.size);
            if new.size == h.size {
                assert_eq!(new.root, h.root, "the same size must keep its root");
            }
        }
    }
}
