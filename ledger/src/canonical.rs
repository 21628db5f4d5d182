//! Canonical bytes (SPEC.md §1, §2, §4): RFC 8785 JSON, the entry envelope,
//! and the message a signer signs. The one place where entry bytes are built.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Domain separation prefix of every record signature (SPEC.md §4).
pub const SIGNATURE_CONTEXT: &[u8] = b"sightline/record/v1\n";

/// Largest entry, in bytes (the entry-bundle limit of C2SP tlog-tiles).
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// `JCS(v)`: RFC 8785 canonical JSON.
pub fn jcs<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_jcs::to_vec(value).map_err(|e| Error::malformed("JSON value", e.to_string()))
}

/// The bytes a signer signs for a body whose canonical bytes are `body_jcs`.
pub fn signed_message(body_jcs: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNATURE_CONTEXT.len() + body_jcs.len());
    m.extend_from_slice(SIGNATURE_CONTEXT);
    m.extend_from_slice(body_jcs);
    m
}

/// Decodes a submitter public key (32 bytes, standard base64).
pub fn decode_public_key(b64: &str) -> std::result::Result<VerifyingKey, String> {
    let raw = B64.decode(b64).map_err(|_| "must be standard base64".to_string())?;
    let arr: [u8; 32] = raw.try_into().map_err(|_| "must be a 32-byte Ed25519 public key".to_string())?;
    VerifyingKey::from_bytes(&arr).map_err(|_| "is not a valid Ed25519 public key".to_string())
}

/// Decodes a 64-byte Ed25519 signature from standard base64.
pub fn decode_signature(b64: &str) -> std::result::Result<[u8; 64], String> {
    let raw = B64.decode(b64).map_err(|_| "must be standard base64".to_string())?;
    raw.try_into().map_err(|_| "must be a 64-byte Ed25519 signature".to_string())
}

/// One log entry (SPEC.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u8,
    pub index: u64,
    pub prev: String,
    pub logged_at: String,
    pub flags: Vec<String>,
    pub body: Value,
    pub sig: String,
}

impl Entry {
    /// Builds entry bytes from parts, without re-serialising the body: the
    /// envelope's keys are written in JCS order around the body's canonical bytes.
    pub fn encode(index: u64, prev: &Hash, logged_at: &str, flags: &[String], body_jcs: &[u8], sig: &[u8; 64]) -> Result<Vec<u8>> {
        let flags_jcs = jcs(flags)?;
        let logged_at_jcs = jcs(logged_at)?;
        let mut out = Vec::with_capacity(body_jcs.len() + 256);
        out.extend_from_slice(b"{\"body\":");
        out.extend_from_slice(body_jcs);
        out.extend_from_slice(b",\"flags\":");
        out.extend_from_slice(&flags_jcs);
        out.extend_from_slice(b",\"index\":");
        out.extend_from_slice(index.to_string().as_bytes());
        out.extend_from_slice(b",\"logged_at\":");
        out.extend_from_slice(&logged_at_jcs);
        out.extend_from_slice(b",\"prev\":\"");
        out.extend_from_slice(hex::encode(prev).as_bytes());
        out.extend_from_slice(b"\",\"sig\":\"");
        out.extend_from_slice(B64.encode(sig).as_bytes());
        out.extend_from_slice(b"\",\"v\":1}");
        if out.len() > MAX_ENTRY_BYTES {
            return Err(Error::malformed(
                "entry",
                format!("{} bytes is over the {MAX_ENTRY_BYTES}-byte limit; shorten the record's free text or lineage", out.len()),
            ));
        }
        Ok(out)
    }

    /// Parses entry bytes and checks that they are canonical.
    pub fn parse(bytes: &[u8]) -> Result<Entry> {
        let e: Entry = serde_json::from_slice(bytes).map_err(|err| Error::malformed("entry", err.to_string()))?;
        if jcs(&e)? != bytes {
            return Err(Error::malformed("entry", "bytes are not in RFC 8785 canonical form"));
        }
        Ok(e)
    }

    /// The body's `kind`, if it is a string.
    pub fn kind(&self) -> &str {
        self.body.get("kind").and_then(Value::as_str).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_entry_is_the_jcs_of_the_entry_object() {
        let body = serde_json::json!({"signer": "log", "kind": "erasure", "zeta": "é\u{2028}", "records": 3});
        let body_jcs = jcs(&body).unwrap();
        let bytes = Entry::encode(7, &[0xab; 32], "2026-11-24T10:00:00.000Z", &["objected:3".into()], &body_jcs, &[9; 64]).unwrap();
        let parsed = Entry::parse(&bytes).unwrap();
        assert_eq!(parsed.index, 7);
        assert_eq!(jcs(&parsed).unwrap(), bytes);
    }

    #[test]
    fn non_canonical_entry_bytes_are_rejected() {
        let body_jcs = jcs(&serde_json::json!({"kind": "erasure"})).unwrap();
        let bytes = Entry::encode(0, &[0; 32], "2026-11-24T10:00:00.000Z", &[], &body_jcs, &[1; 64]).unwrap();
        let mut spaced = b" ".to_vec();
        spaced.extend_from_slice(&bytes);
        assert!(Entry::parse(&spaced).is_err());
    }
}
