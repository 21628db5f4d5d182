//! Privacy by design (SPEC.md §7): personal parts, commitments, per-recipient
//! encryption keys (erasure by crypto-shredding), and recipient tokens.
//!
//! Nothing in this module ever writes a recipient identifier into the public log;
//! the public record holds only the two salted commitments computed here.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use ring::aead::{self, Aad, LessSafeKey, UnboundKey, CHACHA20_POLY1305};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::canonical::jcs_value;
use crate::error::{Error, Result};
use crate::record::{check_id, check_text, invalid, MessageBody};

type HmacSha256 = Hmac<Sha256>;

/// The personal part of a message: never in the public log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Personal {
    pub v: u8,
    pub salt: String,
    pub recipient: String,
    pub matched: BTreeMap<String, String>,
    pub consent: BTreeMap<String, ConsentEvidence>,
}

/// Consent evidence for one lineage source (an IAB TCF or GPP string, a receipt...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentEvidence {
    pub format: String,
    pub value: String,
}

impl Personal {
    /// Parses a submitted personal part (JSON text, in any form) and checks it against
    /// its message body: schema, references to the body's criteria and lineage, and both
    /// commitments. Returns it with its canonical bytes (what is sealed): text already in
    /// canonical form is its own.
    pub fn parse_for(text: &str, body: &MessageBody, r: usize) -> Result<(Personal, Vec<u8>)> {
        // Canonical text cannot repeat a key; any other form is scanned for one first, as a
        // decoder keeps the last of two equal keys of `matched` or `consent` (SPEC.md §1).
        let canonical_text = crate::canonical::is_jcs(text);
        if !canonical_text {
            if let Some(path) = crate::json_keys::repeated_key(text, usize::MAX) {
                return Err(invalid(r, &format!("personal.{path}"), "is repeated: a JSON object must not repeat a key (SPEC.md §1)"));
            }
        }
        // Paths are tracked only to name the field of a value that fails.
        let p: Personal = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(plain) => {
                let failed = serde_path_to_error::deserialize::<_, Personal>(&mut serde_json::Deserializer::from_str(text)).err();
                let (path, why) = match failed {
                    Some(e) => crate::serde_words::field_and_reason(&e.path().to_string(), &e.into_inner().to_string()),
                    None => crate::serde_words::field_and_reason("", &plain.to_string()),
                };
                let field = if path.is_empty() { "personal".to_string() } else { format!("personal.{path}") };
                return Err(invalid(r, &field, why));
            }
        };
        if p.v != 1 {
            return Err(invalid(r, "personal.v", "must be 1"));
        }
        let salt = p.salt_bytes().map_err(|why| invalid(r, "personal.salt", why))?;
        let n = p.recipient.chars().count();
        if n == 0 || n > 256 || p.recipient.chars().any(char::is_control) {
            return Err(invalid(r, "personal.recipient", "must be 1–256 characters with no control characters"));
        }
        if let Some(c) = crate::text::first_formatting(&p.recipient) {
            return Err(invalid(r, "personal.recipient", crate::text::formatting_refusal(c)));
        }
        for (id, v) in &p.matched {
            check_id(r, "personal.matched", id)?;
            if !body.targeting.criteria.iter().any(|c| &c.id == id) {
                return Err(invalid(r, &format!("personal.matched.{id}"), "is not a criterion id of the record"));
            }
            check_text(r, || format!("personal.matched.{id}"), v)?;
        }
        for (id, c) in &p.consent {
            if !body.lineage.iter().any(|l| &l.id == id) {
                return Err(invalid(r, &format!("personal.consent.{id}"), "is not a lineage id of the record"));
            }
            if !["tcf", "gpp", "receipt", "other"].contains(&c.format.as_str()) {
                return Err(invalid(r, &format!("personal.consent.{id}.format"), "must be one of tcf, gpp, receipt, other"));
            }
            check_text(r, || format!("personal.consent.{id}.value"), &c.value)?;
        }
        if recipient_commitment(&salt, &p.recipient) != body.recipient.commitment {
            return Err(invalid(r, "recipient.commitment", "does not match the personal part's salt and recipient (SPEC.md §7)"));
        }
        let canonical = if canonical_text { text.as_bytes().to_vec() } else { p.canonical()? };
        if commitment_of(&canonical) != body.personal_commitment {
            return Err(invalid(r, "personal_commitment", "does not match SHA-256 of the canonical personal part (SPEC.md §7)"));
        }
        Ok((p, canonical))
    }

    /// The 32-byte salt.
    pub fn salt_bytes(&self) -> std::result::Result<[u8; 32], &'static str> {
        let raw = B64.decode(&self.salt).map_err(|_| "must be standard base64")?;
        raw.try_into().map_err(|_| "must be 32 random bytes")
    }

    /// `personal_commitment` of SPEC.md §7.
    pub fn commitment(&self) -> Result<String> {
        Ok(commitment_of(&self.canonical()?))
    }

    /// `JCS(personal part)`.
    pub fn canonical(&self) -> Result<Vec<u8>> {
        // Strings, maps and a small integer only: the fast path of `jcs_value` applies.
        let v = serde_json::to_value(self).map_err(|e| Error::malformed("personal part", e.to_string()))?;
        jcs_value(&v)
    }

    /// A fresh personal part with a random salt (for submitters and the demo).
    pub fn new(recipient: &str, matched: BTreeMap<String, String>, consent: BTreeMap<String, ConsentEvidence>) -> Personal {
        let mut salt = [0u8; 32];
        OsRng.fill_bytes(&mut salt);
        Personal { v: 1, salt: B64.encode(salt), recipient: recipient.to_string(), matched, consent }
    }
}

/// `personal_commitment` of SPEC.md §7, from the personal part's canonical bytes.
fn commitment_of(canonical: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"sightline/personal/v1\n");
    h.update(canonical);
    hex::encode(h.finalize())
}

/// `recipient.commitment` of SPEC.md §7.
pub fn recipient_commitment(salt: &[u8; 32], recipient: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sightline/recipient/v1\n");
    h.update(salt);
    h.update(recipient.as_bytes());
    hex::encode(h.finalize())
}

/// A per-recipient encryption key. Destroying it erases the recipient's personal parts.
#[derive(Clone)]
pub struct RecipientKey(pub [u8; 32]);

impl RecipientKey {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        RecipientKey(k)
    }

    /// Encrypts a personal part for entry `index`: `nonce (12 bytes) || ciphertext`
    /// (ChaCha20-Poly1305 of RFC 8439, the index in decimal as associated data; SPEC.md §7).
    pub fn seal(&self, index: u64, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(12 + plaintext.len() + 16);
        self.seal_into(index, plaintext, &mut out)?;
        Ok(out)
    }

    /// [`RecipientKey::seal`], appended to `out`.
    pub fn seal_into(&self, index: u64, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        // A random 96-bit nonce from the thread's CSPRNG (ChaCha, seeded and reseeded from the
        // OS): unique per key with overwhelming probability, without a system call per record.
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        self.seal_with_nonce(index, plaintext, nonce, out)
    }

    fn seal_with_nonce(&self, index: u64, plaintext: &[u8], nonce: [u8; 12], out: &mut Vec<u8>) -> Result<()> {
        let failed = || Error::Storage("encryption of a personal part failed".into());
        let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0).map_err(|_| failed())?);
        let start = out.len();
        out.reserve(12 + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = key
            .seal_in_place_separate_tag(aead::Nonce::assume_unique_for_key(nonce), Aad::from(index.to_string()), &mut out[start + 12..])
            .map_err(|_| failed())?;
        out.extend_from_slice(tag.as_ref());
        Ok(())
    }

    /// Decrypts what [`RecipientKey::seal`] produced for the same index.
    pub fn open(&self, index: u64, sealed: &[u8]) -> Result<Vec<u8>> {
        let (nonce, ciphertext) = sealed
            .split_first_chunk::<12>()
            .filter(|(_, c)| c.len() >= 16)
            .ok_or_else(|| Error::Corrupt(format!("personal part of entry {index} is truncated")))?;
        let wrong = || Error::Corrupt(format!("personal part of entry {index} does not decrypt with its recipient's key"));
        let key = LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &self.0).map_err(|_| wrong())?);
        let mut plain = ciphertext.to_vec();
        let len = key
            .open_in_place(aead::Nonce::assume_unique_for_key(*nonce), Aad::from(index.to_string()), &mut plain)
            .map_err(|_| wrong())?
            .len();
        plain.truncate(len);
        Ok(plain)
    }
}

/// The server's secret for keyed hashes: recipient handles and why-tokens.
#[derive(Clone)]
pub struct ServerSecret(pub [u8; 32]);

impl ServerSecret {
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        ServerSecret(k)
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length; a 32-byte key cannot fail.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The private, keyed handle of a recipient identifier (trimmed, lower-cased).
    pub fn recipient_handle(&self, identifier: &str) -> [u8; 32] {
        let normalised = identifier.trim().to_lowercase();
        self.mac(&[b"sightline/recipient-handle/v1", normalised.as_bytes()])
    }

    /// The keyed digest a message is found by in the private lookup index: 16 bytes of
    /// HMAC over `(signer, message_id)`, so that no submitter can choose colliding ones.
    pub(crate) fn message_key(&self, signer: &str, message_id: &str) -> [u8; 16] {
        let mac = self.mac(&[b"sightline/message-key/v1", signer.as_bytes(), &[0], message_id.as_bytes()]);
        let mut key = [0u8; 16];
        key.copy_from_slice(&mac[..16]);
        key
    }

    /// The why-token of entry `index` (SPEC.md §12): 8-byte index || 16-byte MAC, base64url.
    pub fn why_token(&self, index: u64) -> String {
        let idx = index.to_be_bytes();
        let mac = self.mac(&[b"sightline/why/v1", &idx]);
        let mut raw = idx.to_vec();
        raw.extend_from_slice(&mac[..16]);
        B64URL.encode(raw)
    }

    /// The entry index a token names, if the token is genuine.
    pub fn check_why_token(&self, token: &str) -> Option<u64> {
        if token.len() != 32 {
            return None;
        }
        let raw = B64URL.decode(token).ok()?;
        let idx: [u8; 8] = raw.get(..8)?.try_into().ok()?;
        let mac = self.mac(&[b"sightline/why/v1", &idx]);
        // Constant-time comparison of the MAC.
        let diff = raw.get(8..24)?.iter().zip(&mac[..16]).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        (diff == 0).then(|| u64::from_be_bytes(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_why_token_names_its_index_and_a_forged_one_names_nothing() {
        let s = ServerSecret::generate();
        let t = s.why_token(41);
        assert_eq!(s.check_why_token(&t), Some(41));
        let mut forged = t.clone().into_bytes();
        forged[20] = if forged[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(s.check_why_token(std::str::from_utf8(&forged).unwrap()), None);
        assert_eq!(ServerSecret::generate().check_why_token(&t), None);
        assert_eq!(s.check_why_token("short"), None);
    }

    #[test]
    fn sealing_is_rfc_8439_chacha20_poly1305_with_the_index_as_associated_data() {
        // Sealed by the RustCrypto `chacha20poly1305` crate, which wrote the personal parts of
        // data folders before 2026-12-02: they must still open, byte for byte the same.
        let known =
            "010101010101010101010101592039dd9757286bbe9bc884e7da6385d2d81c79475f7205d78272f530d9eb7b32ab14c4f595e8356eae96a0549f0bbd43";
        let key = RecipientKey([5; 32]);
        let plain = b"{\"recipient\":\"alice@example.org\"}";
        let mut sealed = Vec::new();
        key.seal_with_nonce(7, plain, [1; 12], &mut sealed).unwrap();
        assert_eq!(hex::encode(&sealed), known);
        assert_eq!(key.open(7, &hex::decode(known).unwrap()).unwrap(), plain);
        assert!(key.open(7, &sealed[..27]).is_err(), "shorter than nonce and tag");
    }

    #[test]
    fn sealed_personal_parts_open_only_with_their_key_and_index() {
        let k = RecipientKey::generate();
        let sealed = k.seal(5, b"alice").unwrap();
        assert_eq!(k.open(5, &sealed).unwrap(), b"alice");
        assert!(k.open(6, &sealed).is_err());
        assert!(RecipientKey::generate().open(5, &sealed).is_err());
    }

    #[test]
    fn handles_ignore_case_and_surrounding_space() {
        let s = ServerSecret::generate();
        assert_eq!(s.recipient_handle(" Alice@Example.org "), s.recipient_handle("alice@example.org"));
        assert_ne!(s.recipient_handle("bob@example.org"), s.recipient_handle("alice@example.org"));
    }
}
