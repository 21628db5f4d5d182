//! Sightline entries (SPEC §2–§4, §7): reading one entry's canonical bytes into the fields the
//! verifier checks, the signed message, and personal-part commitments.
//!
//! The envelope, the top-level fields of each body kind and the fields other checks need are
//! validated here, with the content rules of [`crate::content`] (nullable fields present, code
//! lists, formatting characters); the finer §3 rules (URL shapes, text lengths) are the ledger's
//! admission checks.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::json::{self, Doc, Kind};
use crate::merkle::Hash;

/// Prefix of the message a record signature covers (SPEC §4).
pub const SIG_CONTEXT: &[u8] = b"sightline/record/v1\n";
/// Largest entry (the entry-bundle limit).
pub const MAX_ENTRY: usize = 65_535;

const ENTRY_KEYS: [&str; 7] = ["body", "flags", "index", "logged_at", "prev", "sig", "v"];

/// The record kinds of sightline/v1 and their top-level body fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    LogKey {
        vkey: String,
    },
    Submitter {
        id: String,
        public_key: [u8; 32],
    },
    Party {
        id: String,
        name: String,
        controlled_by: String,
    },
    Message {
        message_id: String,
        on_behalf_of: String,
        payer: String,
        recipient: Hash,
        personal: Hash,
        /// A 128-bit keyed hash of (signer, message_id), for the uniqueness check.
        id_key: [u8; 16],
        /// What an observer of the message can compare (SPEC §3.9, §10.2), and what a tally counts.
        delivery: Box<Delivery>,
    },
    Objection,
    Erasure,
    /// SPEC §3.8: a submitter's count of one campaign's messages on one day.
    Tally {
        campaign: String,
        day: String,
        /// Member State and count, in key order.
        delivered: Vec<(String, u64)>,
    },
}

/// The `delivery` fields of a message that completeness checks read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub channel: String,
    pub served_at: String,
    pub member_state: String,
    /// `delivery.creative.sha256`: the content hash of SPEC §3.9.
    pub creative: Hash,
    pub brand: String,
    pub campaign: String,
}

impl Detail {
    /// The `kind` string.
    pub fn kind(&self) -> &'static str {
        match self {
            Detail::LogKey { .. } => "log_key",
            Detail::Submitter { .. } => "submitter",
            Detail::Party { .. } => "party",
            Detail::Message { .. } => "message",
            Detail::Objection => "objection",
            Detail::Erasure => "erasure",
            Detail::Tally { .. } => "tally",
        }
    }

    /// Whether a submitter (not the log) signs records of this kind.
    pub fn submitter_signed(&self) -> bool {
        matches!(self, Detail::Message { .. } | Detail::Tally { .. })
    }
}

/// The record kinds, in the order [`crate::chain::Walker::kinds`] counts them.
pub const KINDS: [&str; 7] = ["log_key", "submitter", "party", "message", "objection", "erasure", "tally"];

fn body_keys(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "log_key" => &["announced_at", "kind", "signer", "vkey"],
        "submitter" => &["contact", "kind", "name", "public_key", "registered_at", "signer", "submitter"],
        "party" => &["contact", "established_in", "kind", "name", "party", "signer", "ultimately_controlled_by"],
        "message" => {
            &["controls", "delivery", "kind", "lineage", "message_id", "personal_commitment", "recipient", "signer", "sponsor", "targeting"]
        }
        "objection" => &["advertiser", "kind", "received_at", "recipient", "scope", "signer"],
        "erasure" => &["by", "kind", "records", "requested_at", "signer"],
        "tally" => &["campaign_id", "day", "delivered", "kind", "reported_at", "signer"],
        _ => return None,
    })
}

/// One entry, read from its canonical bytes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub index: u64,
    pub prev: Hash,
    pub signer: String,
    pub sig: [u8; 64],
    /// Indexes named by `objected:<n>` flags.
    pub objected: Vec<u64>,
    /// Byte span of `body` inside the entry bytes (its JCS form).
    pub body: (usize, usize),
    pub detail: Detail,
    /// What the body holds that revision 3 refuses but an older entry may hold (SPEC §1: a
    /// formatting character in a string), each naming its field: reported, not a failure.
    pub warnings: Vec<String>,
}

/// Lowercase hex digit values; 0xff for any other byte.
static HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Parse a `hex32` (64 lowercase hex digits).
pub fn hex32(s: &str) -> Option<Hash> {
    let b: &[u8; 64] = s.as_bytes().try_into().ok()?;
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
        let (hi, lo) = match pair {
            [h, l] => (HEX[usize::from(*h)], HEX[usize::from(*l)]),
            _ => (0xff, 0xff),
        };
        bad |= (hi | lo) & 0xf0;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad == 0).then_some(out)
}

/// An RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z` (shape only).
pub fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let head = (0..4).all(d) && at(4, b'-') && d(5) && d(6) && at(7, b'-') && d(8) && d(9) && at(10, b'T');
    let clock = d(11) && d(12) && at(13, b':') && d(14) && d(15) && at(16, b':') && d(17) && d(18);
    let tail = match b.get(19..) {
        Some(b"Z") => true,
        Some([b'.', rest @ ..]) => {
            rest.len() >= 2 && rest.len() <= 4 && rest.last() == Some(&b'Z') && rest.iter().take(rest.len() - 1).all(u8::is_ascii_digit)
        }
        _ => false,
    };
    head && clock && tail
}

/// A date `YYYY-MM-DD` (shape only).
pub fn is_day(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// Read a Sightline entry from bytes that are already canonical (checked by the caller). The
/// verifier itself reads entries inside a parsed document ([`entry_from_doc`]); this is the fuzz
/// target's way in.
#[cfg(feature = "fuzzing")]
pub fn parse_entry(bytes: &[u8]) -> Result<Entry, String> {
    if bytes.len() > MAX_ENTRY {
        return Err(format!("it is {} bytes, over the 65,535-byte limit", bytes.len()));
    }
    let doc = json::parse(bytes).map_err(|e| format!("it is not valid JSON ({e})"))?;
    entry_from_doc(&doc, 0)
}

/// Read the entry whose object is node `at` of `doc`.
pub fn entry_from_doc(doc: &Doc<'_>, at: usize) -> Result<Entry, String> {
    if doc.kind(at) != Some(Kind::Obj) {
        return Err("it is not a JSON object".into());
    }
    // Canonical entries have exactly ENTRY_KEYS in that order: one pass finds them all.
    let [b, flags, index, logged_at, prev, sig, v] = match doc.fields(at, &ENTRY_KEYS) {
        Some(found) => found,
        None if doc.keys_are(at, &ENTRY_KEYS) => ENTRY_KEYS.map(|k| doc.get(at, k).unwrap_or(usize::MAX)),
        None => {
            let keys: Vec<String> = doc.members(at).into_iter().map(|(k, _)| k.into_owned()).collect();
            return Err(format!("its fields are {keys:?}; an entry has exactly {ENTRY_KEYS:?}"));
        }
    };
    if doc.raw(v) != "1" {
        return Err("field v is not 1 (unknown entry version)".into());
    }
    let index = doc.u64(index).ok_or("field index is not a non-negative integer")?;
    let prev = doc.str(prev).as_deref().and_then(hex32).ok_or("field prev is not 64 lowercase hex digits")?;
    let logged = doc.str(logged_at).unwrap_or_default();
    if !is_time(&logged) {
        return Err("field logged_at is not an RFC 3339 UTC time".into());
    }
    let mut objected = Vec::new();
    if doc.kind(flags) != Some(Kind::Arr) {
        return Err("field flags is not an array".into());
    }
    let mut last: Option<Cow<str>> = None;
    for item in doc.items(flags) {
        let s = doc.str(item).ok_or("a flag is not a string")?;
        let n = s
            .strip_prefix("objected:")
            .and_then(crate::note::parse_decimal)
            .ok_or_else(|| format!("flag {s:?} is not defined by sightline/v1 (only objected:<index>)"))?;
        if last.as_ref().is_some_and(|l| l.as_ref() >= s.as_ref()) {
            return Err("flags are not sorted and unique".into());
        }
        objected.push(n);
        last = Some(s);
    }
    let sig = doc
        .str(sig)
        .and_then(|s| B64.decode(s.as_bytes()).ok())
        .and_then(|v| <[u8; 64]>::try_from(v.as_slice()).ok())
        .ok_or("field sig is not a base64 Ed25519 signature (64 bytes)")?;
    let node = doc.node(b).filter(|n| n.kind == Kind::Obj).ok_or("field body is not an object")?;
    let body = (node.start, node.end);
    let (signer, detail) = body_detail(doc, b)?;
    let warnings = crate::content::formatting_warnings(doc, b);
    Ok(Entry { index, prev, signer, sig, objected, body, detail, warnings })
}

fn body_detail(doc: &Doc<'_>, b: usize) -> Result<(String, Detail), String> {
    let text = |k: &str| -> Result<String, String> {
        doc.get(b, k)
            .and_then(|i| doc.str(i))
            .map(Cow::into_owned)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("body.{k} is missing or not a non-empty string"))
    };
    let kind = doc.get(b, "kind").and_then(|i| doc.str(i)).unwrap_or_default();
    let allowed = body_keys(kind.as_ref()).ok_or_else(|| format!("body.kind {kind:?} is not a sightline/v1 record kind"))?;
    if !doc.keys_are(b, allowed) {
        let keys: Vec<String> = doc.members(b).into_iter().map(|(k, _)| k.into_owned()).collect();
        let extra: Vec<&String> = keys.iter().filter(|k| !allowed.contains(&k.as_str())).collect();
        let missing: Vec<&&str> = allowed.iter().filter(|k| !keys.iter().any(|x| x == *k)).collect();
        return Err(format!("body ({kind}) has unknown fields {extra:?} or lacks {missing:?}"));
    }
    let signer = text("signer")?;
    if matches!(kind.as_ref(), "message" | "tally") == (signer == "log") {
        return Err(format!("body.signer {signer:?} is wrong for a {kind} record"));
    }
    let detail = match kind.as_ref() {
        "log_key" => Detail::LogKey { vkey: text("vkey")? },
        "submitter" => {
            let pk = B64
                .decode(text("public_key")?)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                .ok_or("body.public_key is not a base64 Ed25519 public key (32 bytes)")?;
            Detail::Submitter { id: text("submitter")?, public_key: pk }
        }
        "party" => {
            crate::content::check_party(doc, b)?;
            Detail::Party { id: text("party")?, name: text("name")?, controlled_by: text("ultimately_controlled_by")? }
        }
        "message" => {
            crate::content::check_message(doc, b)?;
            let sp = doc.get(b, "sponsor").ok_or("body.sponsor is missing")?;
            let rc = doc.get(b, "recipient").ok_or("body.recipient is missing")?;
            let sub = |o: usize, k: &str, name: &str| -> Result<String, String> {
                doc.get(o, k).and_then(|i| doc.str(i)).map(Cow::into_owned).ok_or_else(|| format!("{name} is missing or not a string"))
            };
            let hash = |s: String, name: &str| hex32(&s).ok_or_else(|| format!("{name} is not 64 lowercase hex digits"));
            let message_id = text("message_id")?;
            let id_key = id_key(&signer, &message_id);
            let dl = doc.get(b, "delivery").ok_or("body.delivery is missing")?;
            let cr = doc.get(dl, "creative").ok_or("body.delivery.creative is missing")?;
            let delivery = Delivery {
                channel: sub(dl, "channel", "body.delivery.channel")?,
                served_at: sub(dl, "served_at", "body.delivery.served_at")?,
                member_state: sub(dl, "member_state", "body.delivery.member_state")?,
                creative: hash(sub(cr, "sha256", "body.delivery.creative.sha256")?, "body.delivery.creative.sha256")?,
                brand: sub(cr, "brand", "body.delivery.creative.brand")?,
                campaign: sub(cr, "campaign_id", "body.delivery.creative.campaign_id")?,
            };
            if !is_time(&delivery.served_at) {
                return Err("body.delivery.served_at is not an RFC 3339 UTC time".into());
            }
            Detail::Message {
                message_id,
                id_key,
                delivery: Box::new(delivery),
                on_behalf_of: sub(sp, "on_behalf_of", "body.sponsor.on_behalf_of")?,
                payer: sub(sp, "payer", "body.sponsor.payer")?,
                recipient: hash(sub(rc, "commitment", "body.recipient.commitment")?, "body.recipient.commitment")?,
                personal: hash(text("personal_commitment")?, "body.personal_commitment")?,
            }
        }
        "objection" => Detail::Objection,
        "tally" => {
            let day = text("day")?;
            if !is_day(&day) {
                return Err("body.day is not a date YYYY-MM-DD".into());
            }
            let d = doc.get(b, "delivered").filter(|&d| doc.kind(d) == Some(Kind::Obj)).ok_or("body.delivered is not an object")?;
            let mut delivered = Vec::new();
            for (state, v) in doc.members(d) {
                let n = doc.u64(v).ok_or_else(|| format!("body.delivered.{state} is not a non-negative integer"))?;
                delivered.push((state.into_owned(), n));
            }
            if delivered.is_empty() {
                return Err("body.delivered names no Member State".into());
            }
            Detail::Tally { campaign: text("campaign_id")?, day, delivered }
        }
        _ => Detail::Erasure,
    };
    Ok((signer, detail))
}

/// A 128-bit key for `(signer, message_id)`: two SipHash values keyed at random per process,
/// so that nobody can craft colliding ids to raise a false "duplicate" alarm.
fn id_key(signer: &str, message_id: &str) -> [u8; 16] {
    use std::hash::BuildHasher;
    static KEYS: std::sync::OnceLock<[std::collections::hash_map::RandomState; 2]> = std::sync::OnceLock::new();
    let keys = KEYS.get_or_init(|| [Default::default(), Default::default()]);
    let mut out = [0u8; 16];
    for (o, k) in out.chunks_exact_mut(8).zip(keys) {
        o.copy_from_slice(&k.hash_one((signer, message_id)).to_le_bytes());
    }
    out
}

/// Check a personal part (SPEC §7) against the two commitments of its message. Returns the
/// name of the commitment that fails.
pub fn check_personal(personal: &[u8], recipient: &Hash, personal_c: &Hash) -> Result<(), &'static str> {
    let (canon, _) = json::canonicalize(personal).map_err(|_| "personal part (not valid JSON)")?;
    let doc = json::parse(&canon).map_err(|_| "personal part (not valid JSON)")?;
    let salt = doc
        .get(0, "salt")
        .and_then(|i| doc.str(i))
        .and_then(|s| B64.decode(s.as_bytes()).ok())
        .filter(|s| s.len() == 32)
        .ok_or("recipient (the personal part has no 32-byte salt)")?;
    let who = doc.get(0, "recipient").and_then(|i| doc.str(i)).ok_or("recipient (the personal part has no recipient)")?;
    let mut h = Sha256::new();
    h.update(b"sightline/recipient/v1\n");
    h.update(&salt);
    h.update(who.as_bytes());
    if <Hash>::from(h.finalize()) != *recipient {
        return Err("recipient");
    }
    let mut h = Sha256::new();
    h.update(b"sightline/personal/v1\n");
    h.update(&canon);
    if <Hash>::from(h.finalize()) != *personal_c {
        return Err("personal");
    }
    Ok(())
}
