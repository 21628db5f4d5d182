//! Privacy by design (SPEC.md §7): personal parts, commitments, per-recipient
//! encryption keys (erasure by crypto-shredding), and recipient tokens.
//!
//! Nothing in this module ever writes a recipient identifier into the public log;
//! the public record holds only the two salted commitments computed here.
//!
//! Beside it, the private recipient index the ledger keeps in its store:
//! `recipients.rs` (its layout: a chain per recipient through the private records),
//! `lookup.rs` (message ids and recipients as store rows, with bounded caches),
//! `migrate.rs` and `rescope.rs` (the conversions of older layouts on open).
//!
//! Over 400 lines because a personal part, its two commitments, its recipient's key and the
//! tokens that name it are one design (SPEC.md §7), read and changed together.

pub(crate) mod lookup;
pub(crate) mod migrate;
pub(crate) mod recipients;
pub(crate) mod rescope;

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD as B64, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use ring::aead::{self, Aad, LessSafeKey, UnboundKey, CHACHA20_POLY1305};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::audience::Evaluation;
use crate::model::canonical::jcs_value;
use crate::model::record::{check_text, invalid, MessageBody};

type HmacSha256 = Hmac<Sha256>;

/// The personal part of a message: never in the public log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Personal {
    /// The format version, `1`.
    pub v: u8,
    /// The salt of both commitments, 32 random bytes in standard base64 (SPEC.md §7).
    pub salt: String,
    /// The recipient's identifier as the platform knows it (an address, an account, a device).
    pub recipient: String,
    /// Revision 2's form (criterion id → value matched), kept so that such a part's commitment opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<BTreeMap<String, String>>,
    /// Every criterion's result for this recipient, with the value used (SPEC.md §7, revision 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<BTreeMap<String, Evaluation>>,
    /// For each lineage source that relies on consent, the evidence of it.
    pub consent: BTreeMap<String, ConsentEvidence>,
}

/// Consent evidence for one lineage source (an IAB TCF or GPP string, a receipt...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentEvidence {
    /// What the evidence is (an IAB TCF or GPP string, a receipt, …).
    pub format: String,
    /// The evidence itself.
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
        let canonical_text = crate::model::canonical::is_jcs(text);
        if !canonical_text {
            if let Some(path) = crate::model::json_keys::repeated_key(text, usize::MAX) {
                return Err(invalid(r, &format!("personal.{path}"), "is repeated: a JSON object must not repeat a key (SPEC.md §1)"));
            }
        }
        // Paths are tracked only to name the field of a value that fails.
        let p: Personal = match serde_json::from_str(text) {
            Ok(p) => p,
            Err(plain) => {
                let failed = serde_path_to_error::deserialize::<_, Personal>(&mut serde_json::Deserializer::from_str(text)).err();
                let (path, why) = match failed {
                    Some(e) => crate::model::serde_words::field_and_reason(&e.path().to_string(), &e.into_inner().to_string()),
                    None => crate::model::serde_words::field_and_reason("", &plain.to_string()),
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
        if let Some(c) = crate::model::text::first_formatting(&p.recipient) {
            return Err(invalid(r, "personal.recipient", crate::model::text::formatting_refusal(c)));
        }
        crate::model::selection::check_evaluation(p.matched.is_some(), p.evaluation.as_ref(), body, r)?;
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
    pub fn new(recipient: &str, evaluation: BTreeMap<String, Evaluation>, consent: BTreeMap<String, ConsentEvidence>) -> Personal {
        let mut salt = [0u8; 32];
        OsRng.fill_bytes(&mut salt);
        Personal { v: 1, salt: B64.encode(salt), recipient: recipient.to_string(), matched: None, evaluation: Some(evaluation), consent }
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

/// How an identifier is compared (SPEC.md §7): without surrounding white space, lower-cased.
pub fn normalise(identifier: &str) -> String {
    identifier.trim().to_lowercase()
}

/// A per-recipient encryption key. Destroying it erases the recipient's personal parts.
#[derive(Clone)]
pub struct RecipientKey(pub [u8; 32]);

impl RecipientKey {
    /// A new random key.
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
    /// A new random secret.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        OsRng.fill_bytes(&mut k);
        ServerSecret(k)
    }

    /// HMAC-SHA256 under the secret, fed `parts` in order.
    fn keyed(&self, parts: &[&[u8]]) -> HmacSha256 {
        // HMAC accepts keys of any length; a 32-byte key cannot fail.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        for p in parts {
            m.update(p);
        }
        m
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.keyed(parts).finalize().into_bytes().into()
    }

    /// The private, keyed handle of a recipient **within one submitter's scope** (SPEC.md §7):
    /// `HMAC(secret, "sightline/recipient-handle/v2" || signer || 0x00 || normalised)`, the
    /// identifier trimmed and lower-cased. Whatever identifier a submitter claims, its handle
    /// never equals one of another submitter's recipients (ids hold no 0x00), so no record of
    /// one submitter reaches another's: a recipient's list, objections and erasure stay in it.
    pub fn recipient_handle(&self, signer: &str, identifier: &str) -> [u8; 32] {
        self.mac(&[b"sightline/recipient-handle/v2", signer.as_bytes(), &[0], normalise(identifier).as_bytes()])
    }

    /// The handle layouts 1 to 3 used, one per identifier across every submitter. Only the
    /// conversion to layout 4 computes it, to carry the objections filed under it over.
    pub(crate) fn recipient_handle_v1(&self, identifier: &str) -> [u8; 32] {
        self.mac(&[b"sightline/recipient-handle/v1", normalise(identifier).as_bytes()])
    }

    /// Whether `handle` is the handle of `identifier` in `signer`'s scope (constant time).
    pub(crate) fn is_recipient_handle(&self, signer: &str, identifier: &str, handle: &[u8]) -> bool {
        self.verify(&[b"sightline/recipient-handle/v2", signer.as_bytes(), &[0], normalise(identifier).as_bytes()], handle, 32)
    }

    /// The suppression tag an erasure keeps for each erased message (SPEC.md §7): 16 bytes of
    /// `HMAC(secret, "sightline/suppression/v1" || index (8 bytes) || handle)`. It opens
    /// nothing, and the tags of one person's messages cannot be linked to each other without
    /// the secret and their address; with both, the person can still object (GDPR Art. 21).
    pub(crate) fn suppression_tag(&self, index: u64, handle: &[u8; 32]) -> [u8; 16] {
        let mac = self.mac(&[b"sightline/suppression/v1", &index.to_be_bytes(), handle]);
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&mac[..16]);
        tag
    }

    /// Whether `tag` is the suppression tag of entry `index` for `handle` (constant time).
    pub(crate) fn is_suppression_tag(&self, index: u64, handle: &[u8; 32], tag: &[u8]) -> bool {
        self.verify(&[b"sightline/suppression/v1", &index.to_be_bytes(), handle], tag, 16)
    }

    /// The form token of a why link (SPEC.md §12 "Recipients"): base64url of 16 bytes of
    /// `HMAC(secret, "sightline/form/v1" || token)`. The recipient forms carry it, so a page
    /// of another site cannot make a visitor's browser send them.
    pub fn form_token(&self, why_token: &str) -> String {
        B64URL.encode(&self.mac(&[b"sightline/form/v1", why_token.as_bytes()])[..16])
    }

    /// Whether `given` is the form token of `why_token` (constant time).
    pub fn check_form_token(&self, why_token: &str, given: &str) -> bool {
        B64URL.decode(given).is_ok_and(|raw| self.verify(&[b"sightline/form/v1", why_token.as_bytes()], &raw, 16))
    }

    /// Whether `expected` is the first `len` bytes of the MAC of `parts` (constant time).
    fn verify(&self, parts: &[&[u8]], expected: &[u8], len: usize) -> bool {
        expected.len() == len && len > 0 && self.keyed(parts).verify_truncated_left(expected).is_ok()
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
        let mac = raw.get(8..24)?;
        self.verify(&[b"sightline/why/v1", &idx], mac, 16).then(|| u64::from_be_bytes(idx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sled store's row index places a message by its key (`store/sled/hash_table.rs`): a
    /// submitter who does not hold the server secret cannot choose ids that crowd one segment.
    #[test]
    fn message_keys_depend_on_the_server_secret_and_spread_over_the_row_segments() {
        let (a, b) = (ServerSecret([1; 32]), ServerSecret([2; 32]));
        assert_ne!(a.message_key("acme", "m-1"), b.message_key("acme", "m-1"));
        let segments: std::collections::HashSet<u16> =
            (0..1000).map(|i| a.message_key("acme", &format!("m-{i}"))).map(|k| u16::from(k[0]) << 4 | u16::from(k[1]) >> 4).collect();
        assert!(segments.len() > 800, "1,000 sequential ids fell into {} of 4,096 segments", segments.len());
    }

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
    fn handles_ignore_case_and_surrounding_space_within_one_submitter() {
        let s = ServerSecret::generate();
        assert_eq!(s.recipient_handle("acme", " Alice@Example.org "), s.recipient_handle("acme", "alice@example.org"));
        assert_ne!(s.recipient_handle("acme", "bob@example.org"), s.recipient_handle("acme", "alice@example.org"));
        let h = s.recipient_handle("acme", "alice@example.org");
        assert!(s.is_recipient_handle("acme", "  ALICE@example.org", &h));
        assert!(!s.is_recipient_handle("acme", "bob@example.org", &h));
        assert!(!s.is_recipient_handle("acme", "alice@example.org", &h[..31]), "a shortened handle is not the handle");
    }

    #[test]
    fn no_identifier_a_submitter_claims_has_another_submitters_handle() {
        let s = ServerSecret::generate();
        let alice_at_a = s.recipient_handle("a", "alice@example.org");
        for claimed in ["alice@example.org", "  ALICE@Example.org ", "\0alice@example.org"] {
            assert_ne!(s.recipient_handle("b", claimed), alice_at_a, "{claimed:?}");
        }
        // The signer and the identifier are separated, so shifting a character across does not collide.
        assert_ne!(s.recipient_handle("ab", "c"), s.recipient_handle("a", "bc"));
        assert_ne!(s.recipient_handle_v1("alice@example.org"), alice_at_a, "the old handle is another value");
    }

    #[test]
    fn suppression_tags_and_form_tokens_verify_only_for_what_made_them() {
        let s = ServerSecret::generate();
        let h = s.recipient_handle("acme", "alice@example.org");
        let tag = s.suppression_tag(7, &h);
        assert!(s.is_suppression_tag(7, &h, &tag));
        assert!(!s.is_suppression_tag(8, &h, &tag), "another message");
        assert!(!s.is_suppression_tag(7, &s.recipient_handle("acme", "bob@example.org"), &tag), "another person");
        assert!(!s.is_suppression_tag(7, &h, &[]), "an empty tag");
        assert_ne!(s.suppression_tag(8, &h), tag, "one person's tags are not linkable by equality");
        let t = s.why_token(41);
        let f = s.form_token(&t);
        assert_eq!(f.len(), 22);
        assert!(s.check_form_token(&t, &f));
        assert!(!s.check_form_token(&s.why_token(42), &f), "a token of another link");
        assert!(!ServerSecret::generate().check_form_token(&t, &f), "another server");
        assert!(!s.check_form_token(&t, "") && !s.check_form_token(&t, "not base64!") && !s.check_form_token(&t, &f[..20]));
    }
}
