//! C2SP transparency-log cosignatures (`c2sp.org/tlog-cosignature@v1.0.0`), Ed25519 type.
//!
//! A cosignature is a witness's statement that, at a given time, the checkpoint it signs is the
//! largest consistent tree it has seen of the log named by the origin line. It is a note
//! signature line whose key id is `SHA-256(name || "\n" || 0x04 || public key)[:4]` and whose
//! signature bytes are `timestamp (8 bytes, big-endian) || Ed25519 signature` over
//!
//! ```text
//! cosignature/v1
//! time <timestamp, decimal>
//! <the whole checkpoint text, final newline included>
//! ```
//!
//! The witness server (`sightline witness`, web crate) signs with a [`Cosigner`]; the log checks
//! what witnesses return with a [`CosignatureVerifier`]. The signed-note syntax itself lives in
//! [`crate::note`]; the add-checkpoint protocol that carries cosignatures in
//! [`crate::tlog_witness`]. ML-DSA-44 cosignatures (type 0x06) are not made or checked here.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::tlog::note::{check_name, hex_id, key_id, split_typed_key, Checkpoint, NoteSignature};
use crate::{Error, Result};

/// Signature type byte of Ed25519 cosignatures (C2SP tlog-cosignature).
pub const COSIGNATURE_V1: u8 = 0x04;
/// Signature type byte of plain Ed25519 note keys, which some witnesses publish as their key.
const ED25519_NOTE: u8 = 0x01;
/// Largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// The message a cosignature signs: the `cosignature/v1` header, the time line and the text.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// `0x04 || public key`, what the key id hashes.
fn typed(key: &[u8; 32]) -> Vec<u8> {
    [&[COSIGNATURE_V1][..], key].concat()
}

/// A witness's signing key.
#[derive(Clone)]
pub struct Cosigner {
    name: String,
    key: SigningKey,
    key_id: [u8; 4],
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cosigner({}, secret redacted)", hex_id(&self.name, self.key_id))
    }
}

impl Cosigner {
    /// A fresh random key named `name` (non-empty, no spaces, no '+'; a schema-less URL is usual).
    pub fn generate(name: &str) -> Result<Self> {
        check_name("witness name", name)?;
        Ok(Self::new(name, SigningKey::generate(&mut rand_core::OsRng)))
    }

    /// The key named `name` with this 32-byte Ed25519 seed (fixtures and benches).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self> {
        check_name("witness name", name)?;
        Ok(Self::new(name, SigningKey::from_bytes(seed)))
    }

    fn new(name: &str, key: SigningKey) -> Self {
        let key_id = key_id(name, &typed(key.verifying_key().as_bytes()));
        Cosigner { name: name.to_string(), key, key_id }
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x04 || seed)>`, checking the key id.
    pub fn from_skey(skey: &str) -> Result<Self> {
        let what = "witness private key";
        let rest = skey.strip_prefix(SKEY_PREFIX).ok_or_else(|| Error::malformed(what, "does not start with PRIVATE+KEY+"))?;
        let (name, id, alg, seed) = split_typed_key(what, rest)?;
        let seed: [u8; 32] = match (alg, <[u8; 32]>::try_from(seed.as_slice())) {
            (COSIGNATURE_V1, Ok(seed)) => seed,
            (COSIGNATURE_V1, Err(_)) => return Err(Error::malformed(what, "an Ed25519 seed must be 32 bytes")),
            _ => return Err(Error::malformed(what, "only Ed25519 cosignature keys (type 0x04) are supported")),
        };
        let cosigner = Self::new(name, SigningKey::from_bytes(&seed));
        if cosigner.key_id != id {
            return Err(Error::malformed(what, "the key id does not match the key; the key file was altered"));
        }
        Ok(cosigner)
    }

    /// The private key string (keep it secret).
    pub fn skey(&self) -> String {
        format!("{SKEY_PREFIX}{}+{}", hex_id(&self.name, self.key_id), B64.encode(typed(self.key.as_bytes())))
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), key_id: self.key_id, key: self.key.verifying_key() }
    }

    /// The public verifier key string `<name>+<hex8>+<base64(0x04 || key)>`.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Cosigns a checkpoint text (origin, size, root hash lines and any extension lines, with the
    /// final newline) at `timestamp` (POSIX seconds).
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> Result<NoteSignature> {
        Checkpoint::parse(checkpoint_text)?;
        if timestamp > MAX_TIMESTAMP {
            return Err(Error::malformed("cosignature", format!("timestamp {timestamp} is larger than 2^63 - 1")));
        }
        let sig = self.key.sign(&signed_message(checkpoint_text, timestamp));
        let signature = [&timestamp.to_be_bytes()[..], &sig.to_bytes()].concat();
        Ok(NoteSignature { name: self.name.clone(), key_id: self.key_id, signature })
    }
}

/// A trusted witness's public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a witness vkey `<name>+<hex8>+<base64(0x04 || key)>`. A key published in the plain
    /// Ed25519 note form (type 0x01, as some witnesses publish theirs) is accepted as the same
    /// Ed25519 key: its cosignatures carry the key id computed with type 0x04.
    pub fn from_vkey(vkey: &str) -> Result<Self> {
        let what = "witness key";
        let (name, id, alg, raw) = split_typed_key(what, vkey.trim())?;
        let raw: [u8; 32] = match (alg, <[u8; 32]>::try_from(raw.as_slice())) {
            (COSIGNATURE_V1 | ED25519_NOTE, Ok(raw)) => raw,
            (COSIGNATURE_V1 | ED25519_NOTE, Err(_)) => return Err(Error::malformed(what, "an Ed25519 key must be 32 bytes")),
            (0x06, _) => {
                return Err(Error::malformed(what, "ML-DSA-44 cosignature keys (type 0x06) are not supported for gathering cosignatures"))
            }
            (other, _) => return Err(Error::malformed(what, format!("signature type 0x{other:02x} is not a cosignature key type"))),
        };
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| Error::malformed(what, "not an Ed25519 public key"))?;
        if key_id(name, &[&[alg][..], &raw].concat()) != id {
            return Err(Error::malformed(what, "the key id does not match the name and key; the key string was altered"));
        }
        Ok(CosignatureVerifier { name: name.to_string(), key_id: key_id(name, &typed(&raw)), key })
    }

    /// The vkey string, in the type 0x04 form.
    pub fn vkey(&self) -> String {
        format!("{}+{}", hex_id(&self.name, self.key_id), B64.encode(typed(self.key.as_bytes())))
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key id its cosignature lines carry.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// Whether a signature line claims to be by this witness (name and key id).
    pub fn claims(&self, sig: &NoteSignature) -> bool {
        sig.name == self.name && sig.key_id == self.key_id
    }

    /// Checks a cosignature over `checkpoint_text`; returns its timestamp.
    pub fn verify(&self, checkpoint_text: &str, sig: &NoteSignature) -> Result<u64> {
        let who = hex_id(&self.name, self.key_id);
        if !self.claims(sig) {
            return Err(Error::BadSignature(format!("the signature line is not by witness {who}")));
        }
        let Some((ts, ed)) = sig.signature.split_first_chunk::<8>() else {
            return Err(Error::BadSignature(format!("the cosignature by {who} is shorter than a timestamp and a signature")));
        };
        let timestamp = u64::from_be_bytes(*ts);
        let ok = timestamp <= MAX_TIMESTAMP
            && Signature::from_slice(ed).is_ok_and(|s| self.key.verify_strict(&signed_message(checkpoint_text, timestamp), &s).is_ok());
        if !ok {
            return Err(Error::BadSignature(format!(
                "the cosignature by witness {who} does not verify over this checkpoint; the checkpoint was altered or the cosignature forged"
            )));
        }
        Ok(timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::note::SignedNote;

    const TEXT: &str = "example.com/log\n5\n41smjBUiAU70EtKlT6lIOIYtRTYxYXsDB+XHfcvu/BE=\n";

    /// A cosignature verifies over the exact text and time, and nothing else.
    #[test]
    fn a_cosignature_covers_the_text_and_the_time() {
        let w = Cosigner::from_seed("witness.example/w1", &[5; 32]).unwrap();
        let sig = w.cosign(TEXT, 1_700_000_000).unwrap();
        assert_eq!(sig.signature.len(), 72);
        let v = w.verifier();
        assert_eq!(v.verify(TEXT, &sig).unwrap(), 1_700_000_000);
        assert!(v.verify(&TEXT.replace("\n5\n", "\n6\n"), &sig).is_err());
        let mut later = sig.clone();
        later.signature[7] ^= 1;
        assert!(v.verify(TEXT, &later).is_err(), "the time is signed");
        assert!(w.cosign("not a checkpoint\n", 1).is_err());
        assert!(w.cosign(TEXT, MAX_TIMESTAMP + 1).is_err());
    }

    /// The key id is computed with type 0x04; a key string round-trips, and a 0x01 form of the
    /// same key is the same witness.
    #[test]
    fn keys_round_trip_and_use_type_4_ids() {
        let w = Cosigner::from_seed("w", &[6; 32]).unwrap();
        let back = Cosigner::from_skey(&w.skey()).unwrap();
        assert_eq!(back.vkey(), w.vkey());
        let v = CosignatureVerifier::from_vkey(&w.vkey()).unwrap();
        assert_eq!(v, w.verifier());
        let pk = *w.verifier().key.as_bytes();
        assert_eq!(v.key_id(), key_id("w", &[&[4u8][..], &pk].concat()));
        let plain = format!("w+{}+{}", hex::encode(key_id("w", &[&[1u8][..], &pk].concat())), B64.encode([&[1u8][..], &pk].concat()));
        assert_eq!(CosignatureVerifier::from_vkey(&plain).unwrap(), v);
        let mut bad = w.vkey();
        bad.replace_range(2..3, if &bad[2..3] == "0" { "1" } else { "0" });
        assert!(CosignatureVerifier::from_vkey(&bad).is_err());
        assert!(Cosigner::from_skey(&w.vkey()).is_err());
    }

    /// A cosignature line is ignored by a note verifier that trusts only the log key.
    #[test]
    fn log_key_verification_ignores_cosignatures() {
        let log = crate::tlog::note::NoteSigner::from_seed("example.com/log", &[1; 32]).unwrap();
        let w = Cosigner::from_seed("witness.example/w1", &[2; 32]).unwrap();
        let mut note = SignedNote::parse(&log.sign_note(TEXT).unwrap()).unwrap();
        note.signatures.push(w.cosign(TEXT, 7).unwrap());
        let text = note.to_text();
        let parsed = SignedNote::parse(&text).unwrap();
        assert_eq!(parsed.verify(&[log.verifier()]).unwrap().len(), 1);
        assert_eq!(w.verifier().verify(&parsed.text, &parsed.signatures[1]).unwrap(), 7);
    }
}
