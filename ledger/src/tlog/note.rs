//! C2SP signed notes (`c2sp.org/signed-note`) with Ed25519 signatures (type
//! `0x01`), the Go `golang.org/x/mod/sumdb/note` key strings, and C2SP
//! transparency-log checkpoints (`c2sp.org/tlog-checkpoint`).
//!
//! A note is a text ending in a newline, a blank line, then signature lines
//! `— <key name> base64(key id || signature)`. Signatures by unknown keys
//! (name or id not trusted) are ignored; a signature by a trusted key that fails
//! is an error, and so is a note with no valid trusted signature.
//!
//! The file is over 400 lines because key strings, signature lines and checkpoints are one
//! format: split, the key-string and signature-line syntax would be spelled in two places
//! (`cosignature.rs` reuses both for witnesses' keys).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::tlog::merkle::Hash;
use crate::{Error, Result};

/// Signature type byte of Ed25519 note signatures.
const ED25519: u8 = 0x01;
/// Most signature lines a note may carry (as Go's sumdb/note; C2SP requires ≥ 16).
const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "— ";
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// C2SP key id: the first 4 bytes of `SHA-256(name || "\n" || type || public key)`.
pub fn key_id(name: &str, sig_type_and_pubkey: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(sig_type_and_pubkey);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

pub(crate) fn check_name(what: &'static str, name: &str) -> Result<()> {
    if name.is_empty() || name.chars().any(char::is_whitespace) || name.contains('+') {
        let why = format!("key name `{name}` must be non-empty, with no spaces and no '+'");
        return Err(Error::malformed(what, why));
    }
    Ok(())
}

/// No ASCII control characters except newline (C2SP signed-note §Format).
pub(crate) fn check_text(what: &'static str, text: &str) -> Result<()> {
    match text.chars().find(|c| *c < ' ' && *c != '\n') {
        Some(c) => Err(Error::malformed(what, format!("control character U+{:04X}; only newlines are allowed", c as u32))),
        None => Ok(()),
    }
}

/// `0x01 || public key`.
fn typed(key: &[u8; 32]) -> Vec<u8> {
    [&[ED25519][..], key].concat()
}

pub(crate) fn hex_id(name: &str, id: [u8; 4]) -> String {
    format!("{name}+{}", hex::encode(id))
}

/// Splits `<name>+<hex8>+<base64(type || key)>`, checking the name and syntax; returns the
/// name, the key id, the signature type byte and the key bytes.
pub(crate) fn split_typed_key<'a>(what: &'static str, s: &'a str) -> Result<(&'a str, [u8; 4], u8, Vec<u8>)> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::malformed(what, "expected `<name>+<key id>+<base64 key>`"));
    };
    check_name(what, name)?;
    let mut id = [0u8; 4];
    let lower = id_hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !lower || hex::decode_to_slice(id_hex, &mut id).is_err() {
        let why = format!("key id `{id_hex}` is not 8 lower-case hex digits");
        return Err(Error::malformed(what, why));
    }
    let raw = B64.decode(key64).map_err(|_| Error::malformed(what, "key is not base64"))?;
    match raw.split_first() {
        Some((&alg, key)) => Ok((name, id, alg, key.to_vec())),
        None => Err(Error::malformed(what, "the key is empty")),
    }
}

/// Splits `<name>+<hex8>+<base64(0x01 || 32 bytes)>`, checking the name and syntax.
fn split_key<'a>(what: &'static str, s: &'a str) -> Result<(&'a str, [u8; 4], [u8; 32])> {
    match split_typed_key(what, s)? {
        (name, id, ED25519, key) => match <[u8; 32]>::try_from(key.as_slice()) {
            Ok(key) => Ok((name, id, key)),
            Err(_) => Err(Error::malformed(what, "an Ed25519 key must be 32 bytes")),
        },
        (_, _, 0x04, _) => {
            Err(Error::malformed(what, "this is a witness cosignature key (type 0x04, C2SP tlog-cosignature), not a log key (type 0x01)"))
        }
        _ => Err(Error::malformed(what, "only Ed25519 keys (type 0x01) are supported")),
    }
}

fn check_id(what: &'static str, name: &str, given: [u8; 4], key: &[u8; 32]) -> Result<()> {
    let computed = key_id(name, &typed(key));
    if given != computed {
        let why = format!(
            "key id {} does not match the key (it should be {}); the key string was altered",
            hex::encode(given),
            hex::encode(computed)
        );
        return Err(Error::malformed(what, why));
    }
    Ok(())
}

/// A note signer: key name and Ed25519 signing key.
#[derive(Clone)]
pub struct NoteSigner {
    name: String,
    key: SigningKey,
    key_id: [u8; 4],
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}, secret redacted)", hex_id(&self.name, self.key_id))
    }
}

impl NoteSigner {
    /// A fresh random key named `name` (non-empty, no spaces, no '+').
    pub fn generate(name: &str) -> Result<Self> {
        check_name("note key name", name)?;
        Ok(Self::new(name, SigningKey::generate(&mut rand_core::OsRng)))
    }

    /// The key named `name` with this 32-byte Ed25519 seed (fixtures and deterministic set-ups;
    /// a production log key comes from [`NoteSigner::generate`]).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self> {
        check_name("note key name", name)?;
        Ok(Self::new(name, SigningKey::from_bytes(seed)))
    }

    fn new(name: &str, key: SigningKey) -> Self {
        let key_id = key_id(name, &typed(key.verifying_key().as_bytes()));
        NoteSigner { name: name.to_string(), key, key_id }
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>`.
    pub fn from_skey(skey: &str) -> Result<Self> {
        let what = "private note key";
        let rest = skey.strip_prefix(SKEY_PREFIX).ok_or_else(|| Error::malformed(what, "does not start with PRIVATE+KEY+"))?;
        let (name, id, seed) = split_key(what, rest)?;
        let signer = Self::new(name, SigningKey::from_bytes(&seed));
        check_id(what, name, id, signer.key.verifying_key().as_bytes())?;
        Ok(signer)
    }

    /// The private key string (keep it secret).
    pub fn skey(&self) -> String {
        let id = hex_id(&self.name, self.key_id);
        format!("{SKEY_PREFIX}{id}+{}", B64.encode(typed(self.key.as_bytes())))
    }

    /// The public verifier key string.
    pub fn vkey(&self) -> String {
        self.verifier().vkey()
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> NoteVerifier {
        let key = self.key.verifying_key();
        NoteVerifier { name: self.name.clone(), key_id: self.key_id, key }
    }

    /// A raw Ed25519 signature of `msg`.
    pub fn sign_bytes(&self, msg: &[u8]) -> [u8; 64] {
        self.key.sign(msg).to_bytes()
    }

    /// Signs `text` (which must end in a newline) into a complete note.
    pub fn sign_note(&self, text: &str) -> Result<String> {
        if !text.ends_with('\n') {
            return Err(Error::malformed("signed note", "the text must end with a newline"));
        }
        check_text("signed note", text)?;
        let mut note = SignedNote { text: text.to_string(), signatures: Vec::new() };
        note.add_signature(self);
        Ok(note.to_text())
    }
}

/// A trusted Ed25519 note verifier key.
#[derive(Clone, Debug)]
pub struct NoteVerifier {
    name: String,
    key_id: [u8; 4],
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Parses `<name>+<hex8 key id>+<base64(0x01 || public key)>`, checking the key id.
    pub fn from_vkey(vkey: &str) -> Result<Self> {
        let what = "note verifier key";
        let (name, key_id, raw) = split_key(what, vkey)?;
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| Error::malformed(what, "not an Ed25519 public key"))?;
        check_id(what, name, key_id, &raw)?;
        Ok(NoteVerifier { name: name.to_string(), key_id, key })
    }

    /// The verifier key string.
    pub fn vkey(&self) -> String {
        let key = B64.encode(typed(self.key.as_bytes()));
        format!("{}+{key}", hex_id(&self.name, self.key_id))
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id.
    pub fn key_id(&self) -> [u8; 4] {
        self.key_id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Verifies a raw Ed25519 signature of `msg` (strict RFC 8032 verification).
    pub fn verify_bytes(&self, msg: &[u8], sig: &[u8]) -> Result<()> {
        let ok = Signature::from_slice(sig).is_ok_and(|s| self.key.verify_strict(msg, &s).is_ok());
        if !ok {
            return Err(Error::BadSignature(format!(
                "key {} rejects it; was the key rotated, or the message altered?",
                hex_id(&self.name, self.key_id)
            )));
        }
        Ok(())
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key's name (a checkpoint's origin, or a witness's name).
    pub name: String,
    /// The key id: the first four bytes of SHA-256 over the name, a newline and the key type and bytes.
    pub key_id: [u8; 4],
    /// The signature bytes after the key id.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The signature line `— <name> base64(key id || signature)`, with its newline.
    pub fn to_line(&self) -> String {
        let raw = [&self.key_id[..], &self.signature].concat();
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }
}

/// Parses a block of 1 to 100 signature lines, each `— <name> base64(key id || signature)` and
/// ending in a newline: a note's signatures, or a witness's answer (C2SP tlog-witness).
pub fn parse_signature_lines(block: &str) -> Result<Vec<NoteSignature>> {
    let m = |why: String| Error::malformed("signed note", why);
    check_text("signed note", block)?;
    let Some(body) = block.strip_suffix('\n') else {
        return Err(m("no signature lines, or the last one lacks its newline".into()));
    };
    let lines: Vec<&str> = body.split('\n').collect();
    if lines.len() > MAX_SIGNATURES {
        return Err(m(format!("{} signatures, more than {MAX_SIGNATURES}", lines.len())));
    }
    let mut signatures = Vec::with_capacity(lines.len());
    for line in lines {
        let (name, b64) = line
            .strip_prefix(SIG_PREFIX)
            .and_then(|l| l.split_once(' '))
            .ok_or_else(|| m(format!("`{line}` is not a line `— <key name> <signature>`")))?;
        check_name("signed note", name)?;
        let raw = B64.decode(b64).unwrap_or_default();
        let Some((id, sig)) = raw.split_first_chunk::<4>().filter(|(_, s)| !s.is_empty()) else {
            return Err(m(format!("the signature by `{name}` is not base64 of key id || signature")));
        };
        let (name, key_id, signature) = (name.to_string(), *id, sig.to_vec());
        signatures.push(NoteSignature { name, key_id, signature });
    }
    Ok(signatures)
}

/// A parsed signed note (signatures not yet verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    /// The text, including its final newline.
    pub text: String,
    /// Its signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Parses a note strictly (C2SP signed-note); does not verify signatures.
    pub fn parse(note: &str) -> Result<Self> {
        let m = |why: String| Error::malformed("signed note", why);
        check_text("signed note", note)?;
        let split = note.rfind("\n\n").ok_or_else(|| m("no blank line before the signatures".into()))?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        let signatures = parse_signature_lines(sigs)?;
        Ok(SignedNote { text: text.to_string(), signatures })
    }

    /// The note: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n", self.text);
        for s in &self.signatures {
            out.push_str(&s.to_line());
        }
        out
    }

    /// Returns the trusted verifiers whose signature is present and valid.
    /// Signatures by unknown keys (name or id not trusted) are ignored; a bad
    /// signature by a trusted key, or no valid trusted signature, is an error.
    pub fn verify(&self, trusted: &[NoteVerifier]) -> Result<Vec<NoteVerifier>> {
        let mut ok: Vec<NoteVerifier> = Vec::new();
        for s in &self.signatures {
            let same = |v: &&NoteVerifier| v.name == s.name && v.key_id == s.key_id;
            let Some(v) = trusted.iter().find(same) else {
                continue;
            };
            if ok.iter().any(|o| same(&o)) {
                continue; // a repeated signature by one key counts once
            }
            if v.verify_bytes(self.text.as_bytes(), &s.signature).is_err() {
                return Err(Error::BadSignature(format!(
                    "the note's signature by key {} is invalid; was the note altered, or the log key rotated?",
                    hex_id(&v.name, v.key_id)
                )));
            }
            ok.push(v.clone());
        }
        if ok.is_empty() {
            let list = |it: &mut dyn Iterator<Item = String>| it.collect::<Vec<_>>().join(", ");
            let signed = list(&mut self.signatures.iter().map(|s| hex_id(&s.name, s.key_id)));
            let known = list(&mut trusted.iter().map(|v| hex_id(&v.name, v.key_id)));
            return Err(Error::BadSignature(format!(
                "no signature by a trusted key (signed by [{signed}], trusted [{known}]); if the log key was rotated, trust the new key the log announced"
            )));
        }
        Ok(ok)
    }

    /// Adds the signature of `signer` over the text (replacing an older one by the same key).
    pub fn add_signature(&mut self, signer: &NoteSigner) {
        let signature = signer.sign_bytes(self.text.as_bytes()).to_vec();
        let sig = NoteSignature { name: signer.name.clone(), key_id: signer.key_id, signature };
        match self.signatures.iter_mut().find(|s| s.name == sig.name && s.key_id == sig.key_id) {
            Some(existing) => *existing = sig,
            None => self.signatures.push(sig),
        }
    }
}

/// A C2SP tlog-checkpoint: the note text of a signed tree head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree's root hash at that size.
    pub root: Hash,
    /// Extension lines (without newlines); Sightline v1 writes none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// `<origin>\n<size>\n<base64 root>\n` followed by the extension lines.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint text strictly: at least three non-empty lines, each
    /// ending in a newline; decimal size without leading zeros; 32-byte root.
    pub fn parse(text: &str) -> Result<Self> {
        let m = |why: String| Error::malformed("checkpoint", why);
        check_text("checkpoint", text)?;
        let body = text.strip_suffix('\n').ok_or_else(|| m("no final newline".into()))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 || lines.iter().any(|l| l.is_empty()) {
            return Err(m("expected non-empty lines: origin, tree size, root hash[, extensions]".into()));
        }
        let size_s = lines[1];
        let canonical = size_s.bytes().all(|b| b.is_ascii_digit()) && !(size_s.len() > 1 && size_s.starts_with('0'));
        let size = size_s
            .parse::<u64>()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| m(format!("tree size `{size_s}` is not a decimal u64 without leading zeros")))?;
        let root = B64
            .decode(lines[2])
            .ok()
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or_else(|| m("the root hash is not base64 of 32 bytes".into()))?;
        let extensions = lines[3..].iter().map(|l| l.to_string()).collect();
        Ok(Checkpoint { origin: lines[0].to_string(), size, root, extensions })
    }
}
