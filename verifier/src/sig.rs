//! Record signatures (SPEC §4): the ZIP 215 rules, one at a time or in batches.
//!
//! The cofactored equation `[8][S]B = [8]R + [8][k]A`, with `A` and `R` any encoding of a
//! curve point and `S` canonical. Under these rules a batch verifies exactly when each of its
//! signatures does, so it does not matter whether a record is checked alone or with thousands
//! of others, here or in the ledger. `ed25519-zebra` implements them; it coalesces the
//! signatures made with one key into one term, which is most of a log.
//!
//! Checkpoint signatures are C2SP signed notes (RFC 8032), checked in [`crate::note`].

use ed25519_dalek::VerifyingKey;
use ed25519_zebra::batch;
use ed25519_zebra::{Signature, VerificationKeyBytes};

/// One record signature, its message hashed.
#[derive(Clone)]
pub struct SigCheck(batch::Item);

impl SigCheck {
    /// `msg` is the record's signed message, `"sightline/record/v1\n" || JCS(body)`.
    pub fn new(key: &VerifyingKey, sig: &[u8; 64], msg: &[u8]) -> SigCheck {
        SigCheck(batch::Item::from((VerificationKeyBytes::from(key.to_bytes()), Signature::from_bytes(sig), msg)))
    }

    /// Whether this signature verifies.
    pub fn verifies(self) -> bool {
        self.0.verify_single().is_ok()
    }
}

/// Whether every one of `checks` verifies.
pub fn all_verify(checks: &[SigCheck]) -> bool {
    let mut v = batch::Verifier::new();
    for c in checks {
        v.queue(c.0.clone());
    }
    // Fresh random coefficients for every batch (a system call per batch of a thousand).
    v.verify(rand_core::OsRng).is_ok()
}

/// A key no submitter may be registered with: one of small order, under which ZIP 215
/// accepts forged signatures.
pub fn is_weak(key: &VerifyingKey) -> bool {
    key.is_weak()
}
