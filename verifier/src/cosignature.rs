//! Witness cosignatures (C2SP `tlog-cosignature`, v1.0.0 Ed25519 and v1.1 ML-DSA-44), read
//! independently of the ledger.
//!
//! A witness key is a vkey `<name>+<hex key id>+<base64(type || public key)>`:
//! - type `0x04`: an Ed25519 cosigner. A cosignature line carries `key id || timestamp (u64,
//!   big-endian) || Ed25519 signature` over `"cosignature/v1\ntime <timestamp>\n" || checkpoint
//!   text`; the key id is `SHA-256(name || "\n" || 0x04 || key)[:4]`.
//! - type `0x01`: the same Ed25519 key in the plain signed-note form some witnesses publish (the
//!   Armored Witness fleet does); its cosignatures carry the type-0x04 key id.
//! - type `0x06`: an ML-DSA-44 cosigner (1312-byte key). Its cosignatures are recognised and
//!   reported as not yet checked: this verifier has no ML-DSA-44 implementation, and never counts
//!   what it did not check.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use crate::error::{Error, Result};
use crate::note::{is_valid_name, typed_key_id, NoteSig};

/// Key type of Ed25519 cosignatures.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// Key type of ML-DSA-44 cosignatures.
pub const ALG_ML_DSA_44: u8 = 0x06;
const ML_DSA_44_KEY: usize = 1312;
const ML_DSA_44_SIG: usize = 2420;

/// The algorithm of a witness key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WitnessAlg {
    Ed25519(VerifyingKey),
    /// Recognised, not checked.
    MlDsa44,
}

/// A witness key a verifier was told to trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    pub name: String,
    /// The key id its cosignature lines carry.
    pub id: u32,
    pub alg: WitnessAlg,
}

/// What one cosignature line by a trusted witness came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    Valid {
        timestamp: u64,
    },
    /// A well-formed ML-DSA-44 cosignature, not checked.
    NotChecked {
        timestamp: u64,
    },
    /// The signature does not verify over the text.
    Forged,
    /// Not the layout of a cosignature (wrong length, timestamp above 2^63 - 1).
    Malformed(String),
}

impl WitnessKey {
    /// Parses a witness vkey (type 0x04, 0x01 or 0x06), checking its key id.
    pub fn parse(text: &str) -> Result<WitnessKey> {
        let bad = |d: &str| Error::BadVkey { vkey: text.to_string(), detail: d.to_string() };
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("a witness key has the form <name>+<8 hex digits>+<base64>"));
        };
        if !is_valid_name(name) {
            return Err(bad("the key name is empty or contains spaces, '+' or control characters"));
        }
        let id = (id_hex.len() == 8)
            .then(|| u32::from_str_radix(id_hex, 16).ok())
            .flatten()
            .ok_or_else(|| bad("the key id must be 8 hex digits"))?;
        let raw = B64.decode(key_b64).map_err(|_| bad("the key is not standard base64"))?;
        let (alg, key) = raw.split_first().ok_or_else(|| bad("the key is empty"))?;
        if typed_key_id(name, *alg, key) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        let alg = match *alg {
            0x01 | ALG_COSIGNATURE_V1 => {
                let key: [u8; 32] = key.try_into().map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
                WitnessAlg::Ed25519(VerifyingKey::from_bytes(&key).map_err(|_| bad("not a valid Ed25519 point"))?)
            }
            ALG_ML_DSA_44 if key.len() == ML_DSA_44_KEY => WitnessAlg::MlDsa44,
            ALG_ML_DSA_44 => return Err(bad("an ML-DSA-44 key is 1312 bytes")),
            other => {
                return Err(bad(&format!("signature type 0x{other:02x} is not a witness cosignature type (0x04 Ed25519, 0x06 ML-DSA-44)")))
            }
        };
        let cosig_id = match &alg {
            WitnessAlg::Ed25519(k) => typed_key_id(name, ALG_COSIGNATURE_V1, k.as_bytes()),
            WitnessAlg::MlDsa44 => id,
        };
        Ok(WitnessKey { name: name.to_string(), id: cosig_id, alg })
    }

    /// `<name>+<key id>` as printed in reports.
    pub fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.id)
    }

    /// Whether a signature line claims to be by this witness.
    pub fn claims(&self, sig: &NoteSig) -> bool {
        sig.name == self.name && sig.id == self.id
    }

    /// Checks one cosignature line over `text` (the checkpoint's note text).
    pub fn check(&self, text: &str, sig: &NoteSig) -> Check {
        let (want, what) = match self.alg {
            WitnessAlg::Ed25519(_) => (8 + 64, "an Ed25519 cosignature is 72 bytes (timestamp and signature)"),
            WitnessAlg::MlDsa44 => (8 + ML_DSA_44_SIG, "an ML-DSA-44 cosignature is 2428 bytes (timestamp and signature)"),
        };
        let Some((ts, rest)) = sig.sig.split_first_chunk::<8>().filter(|_| sig.sig.len() == want) else {
            return Check::Malformed(what.to_string());
        };
        let timestamp = u64::from_be_bytes(*ts);
        if timestamp > i64::MAX as u64 {
            return Check::Malformed(format!("its timestamp {timestamp} is above 2^63 - 1"));
        }
        match &self.alg {
            WitnessAlg::MlDsa44 => Check::NotChecked { timestamp },
            WitnessAlg::Ed25519(key) => {
                let msg = format!("cosignature/v1\ntime {timestamp}\n{text}");
                let ok = <[u8; 64]>::try_from(rest).is_ok_and(|b| key.verify(msg.as_bytes(), &Signature::from_bytes(&b)).is_ok());
                if ok {
                    Check::Valid { timestamp }
                } else {
                    Check::Forged
                }
            }
        }
    }
}

/// A POSIX time as RFC 3339 UTC (`2024-10-23T15:48:23Z`).
pub fn rfc3339(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{secs} seconds after 1970"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_729_698_503), "2024-10-23T15:48:23Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn witness_keys_of_each_type() {
        // The Armored Witness key of transparency-dev/armored-witness devices/prod/720A9DEAD4413E39.
        let k = WitnessKey::parse("ArmoredWitness-floral-sky+504ec40f+AekCmTmKTTnQMNqIigkj7PFnhogawSJD23PJ8M8qLYDm").unwrap();
        assert_eq!(k.label(), "ArmoredWitness-floral-sky+c7cf0b6d", "cosignatures carry the type-0x04 key id");
        assert!(WitnessKey::parse("ArmoredWitness-floral-sky+504ec40e+AekCmTmKTTnQMNqIigkj7PFnhogawSJD23PJ8M8qLYDm").is_err());
        let e = WitnessKey::parse("w+00000000+AwEB").unwrap_err().to_string();
        assert!(e.contains("does not match") || e.contains("not a witness"), "{e}");
    }
}
