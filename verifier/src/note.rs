//! C2SP signed notes (`c2sp.org/signed-note`, Ed25519 type `0x01`) and tlog checkpoints
//! (`c2sp.org/tlog-checkpoint`).
//!
//! The parser is strict: UTF-8, no control characters but newline, text ending in a newline, a
//! blank line, then 1 to 100 signature lines `— <name> <base64(key id || signature)>`.
//! Verification ignores signatures by unknown keys and fails on a bad signature by a known one.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Signature type byte of Ed25519 note keys.
pub const ALG_ED25519: u8 = 0x01;
/// At most this many signature lines are read.
pub const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

/// A note verifier key: `<name>+<hex key id>+<base64(0x01 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vkey {
    /// The key's name.
    pub name: String,
    /// The key id (first four bytes of SHA-256 over name, newline, type and key).
    pub id: u32,
    /// The Ed25519 public key.
    pub key: VerifyingKey,
}

/// C2SP key id: the first 4 bytes of `SHA-256(name || "\n" || 0x01 || public key)`.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    typed_key_id(name, ALG_ED25519, public_key)
}

/// C2SP key id of a key of any signature type: `SHA-256(name || "\n" || type || key)[:4]`.
pub fn typed_key_id(name: &str, alg: u8, key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([alg]);
    h.update(key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A valid key name: non-empty UTF-8 without white space, `+` or control characters.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

impl Vkey {
    /// A vkey for `name` and an Ed25519 public key.
    pub fn new(name: &str, key: VerifyingKey) -> Self {
        Vkey { name: name.to_string(), id: key_id(name, key.as_bytes()), key }
    }

    /// Parse `<name>+<hex8>+<base64(0x01 || 32-byte key)>`, checking the key id.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |d: &str| Error::BadVkey { vkey: text.to_string(), detail: d.to_string() };
        let text_t = text.trim();
        let (name, rest) = text_t.split_once('+').ok_or_else(|| bad("no '+' separators"))?;
        let (id_hex, key_b64) = rest.split_once('+').ok_or_else(|| bad("only one '+'"))?;
        if !is_valid_name(name) {
            return Err(bad("the key name is empty or contains spaces, '+' or control characters"));
        }
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the key id must be 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("the key id is not hex"))?;
        let raw = B64.decode(key_b64).map_err(|_| bad("the key is not standard base64"))?;
        let Some((&alg, key)) = raw.split_first() else {
            return Err(bad("the key is empty"));
        };
        if alg == 0x04 || alg == 0x06 {
            return Err(bad(&format!("signature type 0x{alg:02x} is a witness's cosignature key, not a log key; pass it with --witness")));
        }
        if alg != ALG_ED25519 {
            return Err(bad(&format!("signature type 0x{alg:02x} is not supported (only Ed25519 notes, type 0x01)")));
        }
        let key: [u8; 32] = key.try_into().map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| bad("not a valid Ed25519 point"))?;
        if key_id(name, key.as_bytes()) != id {
            return Err(bad("the key id does not match the name and key"));
        }
        Ok(Vkey { name: name.to_string(), id, key })
    }

    /// The text form.
    pub fn to_text(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }
}

/// A note signer key in the Go `x/mod/sumdb/note` text form
/// `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || 32-byte seed)>`. Used by tests and benches to
/// write notes; the verifier itself never signs.
pub struct Skey {
    /// The key's name.
    pub name: String,
    /// The key id.
    pub id: u32,
    /// The Ed25519 signing key.
    pub key: SigningKey,
}

impl Skey {
    /// A signer for `name` with an Ed25519 key.
    pub fn new(name: &str, key: SigningKey) -> Self {
        Skey { name: name.to_string(), id: key_id(name, key.verifying_key().as_bytes()), key }
    }

    /// Parse the Go text form, checking the key id.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |d: &str| Error::BadVkey { vkey: "PRIVATE+KEY+…".into(), detail: d.into() };
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| bad("no prefix"))?;
        let (name, rest) = rest.split_once('+').ok_or_else(|| bad("no name"))?;
        let (id_hex, b64) = rest.split_once('+').ok_or_else(|| bad("no key id"))?;
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| bad("bad key id"))?;
        let raw = B64.decode(b64).map_err(|_| bad("bad base64"))?;
        let seed: [u8; 32] = match raw.split_first() {
            Some((&ALG_ED25519, seed)) => seed.try_into().map_err(|_| bad("bad seed length"))?,
            _ => return Err(bad("not an Ed25519 key")),
        };
        let s = Skey::new(name, SigningKey::from_bytes(&seed));
        if s.id != id || !is_valid_name(name) {
            return Err(bad("the key id does not match"));
        }
        Ok(s)
    }

    /// The matching verifier key.
    pub fn vkey(&self) -> Vkey {
        Vkey::new(&self.name, self.key.verifying_key())
    }

    /// The signature line for `text` (ending in a newline).
    pub fn sign_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }

    /// `text`, a blank line and this key's signature line.
    pub fn sign_note(&self, text: &str) -> String {
        format!("{text}\n{}", self.sign_line(text))
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSig {
    /// The signer's name.
    pub name: String,
    /// The signer's key id.
    pub id: u32,
    /// The signature bytes after the key id.
    pub sig: Vec<u8>,
}

/// A parsed, not yet verified, signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// Its signature lines, in order.
    pub sigs: Vec<NoteSig>,
}

impl Note {
    /// Strictly parse a signed note; `what` names it in errors ("the checkpoint").
    pub fn parse(what: &str, bytes: &[u8]) -> Result<Note> {
        let bad = |d: &str| Error::malformed(what, d);
        let msg = std::str::from_utf8(bytes).map_err(|_| bad("it is not valid UTF-8"))?;
        if msg.chars().any(|c| c != '\n' && c.is_ascii_control()) {
            return Err(bad("it contains control characters other than newline"));
        }
        let split = msg.rfind("\n\n").ok_or_else(|| bad("there is no blank line before the signatures"))?;
        let text = msg.get(..split + 1).ok_or_else(|| bad("cannot split text"))?;
        let sig_block = msg.get(split + 2..).ok_or_else(|| bad("cannot split signatures"))?;
        if text.len() < 2 {
            return Err(bad("the text is empty"));
        }
        if !sig_block.ends_with('\n') {
            return Err(bad("the last signature line does not end with a newline"));
        }
        let mut sigs = Vec::new();
        for line in sig_block.split_terminator('\n') {
            if sigs.len() >= MAX_SIGNATURES {
                return Err(bad("it has more than 100 signatures"));
            }
            let body = line.strip_prefix(SIG_PREFIX).ok_or_else(|| bad("a signature line does not start with \"— \""))?;
            let (name, b64) = body.split_once(' ').ok_or_else(|| bad("a signature line has no signature"))?;
            let raw = B64.decode(b64).map_err(|_| bad("a signature is not standard base64"))?;
            if !is_valid_name(name) || raw.len() < 5 {
                return Err(bad("a signature line has a bad key name or a short signature"));
            }
            let (id, sig) = raw.split_at(4);
            let id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
            sigs.push(NoteSig { name: name.to_string(), id, sig: sig.to_vec() });
        }
        Ok(Note { text: text.to_string(), sigs })
    }

    /// Verify against trusted keys. Unknown keys are ignored; a known key whose signature does
    /// not verify is an error; at least one known key must have signed. Returns the keys that
    /// verified.
    pub fn verify(&self, what: &str, trusted: &[Vkey]) -> Result<Vec<Vkey>> {
        let mut ok: Vec<Vkey> = Vec::new();
        for s in &self.sigs {
            let Some(k) = trusted.iter().find(|k| k.name == s.name && k.id == s.id) else {
                continue;
            };
            let good = <[u8; 64]>::try_from(s.sig.as_slice())
                .map(|b| k.key.verify(self.text.as_bytes(), &Signature::from_bytes(&b)).is_ok())
                .unwrap_or(false);
            if !good {
                return Err(Error::BadNoteSignature { what: what.to_string(), key: format!("{}+{:08x}", k.name, k.id) });
            }
            if !ok.contains(k) {
                ok.push(k.clone());
            }
        }
        if ok.is_empty() {
            let list = |v: Vec<String>| {
                if v.is_empty() {
                    "none".into()
                } else {
                    v.join(", ")
                }
            };
            return Err(Error::UntrustedNote {
                what: what.to_string(),
                trusted: list(trusted.iter().map(|k| format!("{}+{:08x}", k.name, k.id)).collect()),
                signed_by: list(self.sigs.iter().map(|s| format!("{}+{:08x}", s.name, s.id)).collect()),
            });
        }
        Ok(ok)
    }
}

/// A parsed C2SP tlog checkpoint body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin.
    pub origin: String,
    /// The tree size.
    pub size: u64,
    /// The tree's root hash.
    pub root: Hash,
    /// Extension lines, without newlines.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parse `<origin>\n<size>\n<base64 root>\n[extension lines\n]`.
    pub fn parse(text: &str) -> Result<Checkpoint> {
        let bad = |d: &str| Error::malformed("the checkpoint", d);
        let body = text.strip_suffix('\n').ok_or_else(|| bad("it does not end with a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(bad("the origin line is empty"));
        }
        let size_s = lines.next().ok_or_else(|| bad("the tree size line is missing"))?;
        let size = parse_decimal(size_s).ok_or_else(|| bad("the tree size is not a decimal number without leading zeros"))?;
        let root_s = lines.next().ok_or_else(|| bad("the root hash line is missing"))?;
        let root = B64
            .decode(root_s)
            .ok()
            .and_then(|r| <Hash>::try_from(r.as_slice()).ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of standard base64"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(bad("an extension line is empty"));
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root, extensions })
    }

    /// The body text.
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }
}

/// A decimal `u64` with no sign, no leading zeros (except "0") and nothing else.
pub fn parse_decimal(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// A signed checkpoint: the note and its parsed body.
#[derive(Clone, Debug)]
pub struct SignedCheckpoint {
    /// The note.
    pub note: Note,
    /// Its body, parsed.
    pub checkpoint: Checkpoint,
    /// The exact note bytes as read.
    pub raw: String,
}

impl SignedCheckpoint {
    /// Parse a signed checkpoint note (signatures are not checked here).
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let note = Note::parse("the checkpoint", bytes)?;
        let checkpoint = Checkpoint::parse(&note.text)?;
        let raw = String::from_utf8_lossy(bytes).into_owned();
        Ok(SignedCheckpoint { note, checkpoint, raw })
    }

    /// Verify the signatures against trusted keys whose name is the origin.
    pub fn verify(&self, trusted: &[Vkey]) -> Result<Vec<Vkey>> {
        self.note.verify("the checkpoint", trusted)
    }
}
