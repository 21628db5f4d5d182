//! Reads at a checkpoint witnesses cosigned (SPEC.md §8.1, §10, §11).
//!
//! The newest checkpoint the log signed is often not yet cosigned: witnesses answer after it is
//! published. Receipts and bundles that should carry cosignatures are therefore built at an
//! older checkpoint, the newest one whose cosignatures met the log's witness policy. The note
//! comes from outside the ledger (the web crate gathers cosignatures), so it is checked here
//! against the ledger's own tree before anything is built on it.

use crate::error::{Error, Result};
use crate::evidence::receipt::Receipt;
use crate::ledger::Ledger;
use crate::pipeline::state::check_leaf;
use crate::tlog::merkle::{self, Hash, Subtrees};
use crate::tlog::note::{Checkpoint, SignedNote};

impl Ledger {
    /// The root hash of the tree of `size` published entries.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        let tree = self.shared.tree()?;
        if size > tree.size() {
            return Err(Error::OutOfRange(format!("size {size} is beyond the published checkpoint size {}", tree.size())));
        }
        merkle::root_at(&tree, size)
    }

    /// Checks that `note` is a checkpoint of this log: its origin, a size no larger than the
    /// published one, and the root of this ledger's tree at that size. Its signatures are not
    /// checked here (the log's own key signed it when it was the head; witnesses are checked by
    /// whoever gathered them). Returns the parsed checkpoint.
    pub fn check_checkpoint(&self, note: &str) -> Result<Checkpoint> {
        let parsed = SignedNote::parse(note)?;
        let cp = Checkpoint::parse(&parsed.text)?;
        if cp.origin != self.origin() {
            return Err(Error::malformed("checkpoint", format!("it is of the log `{}`, not of `{}`", cp.origin, self.origin())));
        }
        let root = self.root_at(cp.size)?;
        if root != cp.root {
            return Err(Error::BadProof(format!(
                "the checkpoint of size {} has root {}, but this log's tree of that size has root {}; it is not a checkpoint of this log's history",
                cp.size,
                hex::encode(cp.root),
                hex::encode(root)
            )));
        }
        Ok(cp)
    }

    /// The offline receipt of entry `index` at the checkpoint `note` (one of this log's, see
    /// [`Ledger::check_checkpoint`]), which must include the entry.
    pub fn receipt_at(&self, index: u64, note: &str) -> Result<Receipt> {
        let cp = self.check_checkpoint(note)?;
        if index >= cp.size {
            return Err(Error::OutOfRange(format!("entry {index} is not in the checkpoint of size {}", cp.size)));
        }
        let (proof, leaf) = {
            let tree = self.shared.tree()?;
            (merkle::inclusion_proof(&tree, index, cp.size)?, tree.leaf(index)?)
        };
        let entry = self.entry(index)?.ok_or_else(|| Error::Corrupt(format!("entry {index} < size {} is missing", cp.size)))?;
        check_leaf(index, &entry, &leaf)?;
        Ok(Receipt::new(&entry, index, &proof, note))
    }
}
