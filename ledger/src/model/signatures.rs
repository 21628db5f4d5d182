//! Record signatures (SPEC.md §4): how an entry's `sig` is checked.
//!
//! Record signatures follow the **ZIP 215** rules: the cofactored equation
//! `[8][S]B = [8]R + [8][k]A`, `A` and `R` any encoding of a curve point, `S`
//! canonical. Under these rules a batch of signatures verifies exactly when
//! each one does, so the ledger (which checks batches) and a verifier (which
//! may check one at a time) cannot disagree about a record, whatever a
//! submitter crafts. A signature valid under RFC 8032's stricter cofactorless
//! check is valid here too. The `ed25519-zebra` crate implements the rules; its
//! batches coalesce the signatures made with one key, which is what a
//! submitter's request is.
//!
//! Checkpoint signatures are C2SP signed notes and are checked in `note.rs`.

use ed25519_dalek::VerifyingKey;
use ed25519_zebra::batch;
use ed25519_zebra::{Signature, VerificationKeyBytes};

/// Signatures per batch: large enough that a batch costs about 10 µs a signature, small
/// enough that one request's records spread over every core.
pub(crate) const VERIFY_BATCH: usize = 256;

/// One record signature, its message already hashed.
#[derive(Clone)]
pub(crate) struct Check(batch::Item);

impl Check {
    /// `signed` is the signed message (`canonical::signed_message`).
    pub(crate) fn new(key: &VerifyingKey, sig: &[u8; 64], signed: &[u8]) -> Check {
        Check(batch::Item::from((VerificationKeyBytes::from(key.to_bytes()), Signature::from_bytes(sig), signed)))
    }

    /// Whether this one signature verifies.
    pub(crate) fn verifies(self) -> bool {
        self.0.verify_single().is_ok()
    }
}

/// Whether every signature of `checks` verifies (one batch, with fresh random coefficients).
pub(crate) fn all_verify(checks: &[Check]) -> bool {
    let mut verifier = batch::Verifier::new();
    for c in checks {
        verifier.queue(c.0.clone());
    }
    verifier.verify(rand::thread_rng()).is_ok()
}

/// Why a public key cannot be registered, if it cannot: under ZIP 215 a key of small order
/// would accept a forged signature on any message.
pub(crate) fn unusable_key(key: &VerifyingKey) -> Option<&'static str> {
    key.is_weak().then_some("is a point of small order, for which anyone could forge signatures; generate a new key pair")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::canonical::signed_message;
    use curve25519_dalek::constants::EIGHT_TORSION;
    use ed25519_dalek::{Signer, SigningKey};

    fn signed(i: u8) -> Vec<u8> {
        signed_message(format!("{{\"n\":{i}}}").as_bytes())
    }

    #[test]
    fn a_batch_verifies_when_every_signature_does_and_fails_with_one_bad() {
        let sk = SigningKey::from_bytes(&[9; 32]);
        let key = sk.verifying_key();
        let mut checks: Vec<Check> = (0..20).map(|i| Check::new(&key, &sk.sign(&signed(i)).to_bytes(), &signed(i))).collect();
        assert!(all_verify(&checks));
        assert!(checks.iter().cloned().all(Check::verifies));
        // Signature 7 over another message.
        checks[7] = Check::new(&key, &sk.sign(&signed(99)).to_bytes(), &signed(7));
        assert!(!all_verify(&checks));
        assert_eq!(checks.iter().cloned().map(Check::verifies).collect::<Vec<_>>().iter().filter(|ok| !**ok).count(), 1);
        let mut flipped = sk.sign(&signed(1)).to_bytes();
        flipped[40] ^= 1;
        assert!(!Check::new(&key, &flipped, &signed(1)).verifies());
    }

    #[test]
    fn small_order_keys_cannot_be_registered() {
        for t in EIGHT_TORSION.iter() {
            let weak = VerifyingKey::from_bytes(&t.compress().to_bytes()).unwrap();
            assert!(unusable_key(&weak).is_some());
        }
        assert_eq!(unusable_key(&SigningKey::from_bytes(&[9; 32]).verifying_key()), None);
    }

    #[test]
    fn batch_and_single_checks_agree_on_a_signature_with_a_torsion_component() {
        // R' = R + T for a point T of order 8: the cofactored rules accept it, in a batch and
        // alone alike (RFC 8032's cofactorless check would reject it, and dalek's cofactorless
        // batch would accept it only for some random coefficients).
        use curve25519_dalek::{constants::ED25519_BASEPOINT_POINT as B, scalar::Scalar};
        use sha2::{Digest, Sha512};
        let sk = SigningKey::from_bytes(&[5; 32]);
        let a = sk.to_scalar();
        let key = sk.verifying_key();
        let msg = signed(3);
        let r = Scalar::from(12345u64);
        let big_r = (r * B + EIGHT_TORSION[1]).compress();
        let k = Scalar::from_hash(Sha512::new().chain_update(big_r.as_bytes()).chain_update(key.as_bytes()).chain_update(&msg));
        let s = r + k * a;
        let mut sig = [0u8; 64];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        let check = Check::new(&key, &sig, &msg);
        assert!(check.clone().verifies());
        assert!(all_verify(&[check.clone(), check]));
        assert!(key.verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&sig)).is_err(), "RFC 8032 strict rejects it");
    }
}
