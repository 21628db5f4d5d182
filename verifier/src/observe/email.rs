//! An observed e-mail (an `.eml` file, RFC 5322): its `Sightline-Entry` reference (SPEC §10.2),
//! its content hash (SPEC §3.9: SHA-256 of the body under DKIM's relaxed body
//! canonicalisation, RFC 6376 §3.4.4), who it says it is from and when it was sent.
//!
//! Parsing the message is `mail-parser`'s job and canonicalising the body `mail-auth`'s (the
//! DKIM implementation of the Stalwart mail server); nothing here re-implements either. The
//! body hash is compared with the `bh=` of every DKIM-Signature that uses the same rule, so a
//! body changed after signing is noted.

use mail_auth::common::headers::Writable as _;
use mail_auth::dkim::Canonicalization;
use mail_auth::AuthenticatedMessage;
use mail_parser::{HeaderValue, MessageParser};
use sha2::{Digest, Sha256};

use super::reference::{parse_reference, Reference};
use crate::error::{Error, Result};
use crate::merkle::Hash;

/// The header that carries the reference.
pub const HEADER: &str = "Sightline-Entry";
/// Largest message read (a message with a gigantic attachment is refused, not read).
pub const MAX_MESSAGE: u64 = 32 << 20;
/// Most header fields read from one message.
const MAX_HEADERS: usize = 1000;

/// What an e-mail shows an observer.
#[derive(Debug, Clone)]
pub struct Email {
    /// SHA-256 of the whole message as read (names the file in evidence).
    pub message_sha256: Hash,
    /// SHA-256 of the relaxed-canonical body (SPEC §3.9).
    pub body_sha256: Hash,
    /// The `Sightline-Entry` reference it carries, if any.
    pub reference: Option<Reference>,
    /// `From:` display name, else its address.
    pub from: Option<String>,
    /// `Date:` as Unix seconds, and as written.
    pub date: Option<(i64, String)>,
    /// `Subject:`.
    pub subject: Option<String>,
    /// `bh=` of the DKIM-Signatures with relaxed body canonicalisation, SHA-256 and no `l=`,
    /// and whether each equals [`Email::body_sha256`].
    pub dkim_body_hashes: Vec<(Hash, bool)>,
}

/// Reads an e-mail. `what` names it in messages (a file name or a batch line).
pub fn parse_email(raw: &[u8], what: &str) -> Result<Email> {
    let bad = |d: String| Error::unusable(what, d);
    if raw.len() as u64 > MAX_MESSAGE {
        return Err(bad(format!("the message is {} bytes, more than the {} MiB this tool reads", raw.len(), MAX_MESSAGE >> 20)));
    }
    let message = MessageParser::default()
        .parse_headers(raw)
        .ok_or_else(|| bad("it is not an RFC 5322 e-mail message (no header fields could be read)".into()))?;
    let headers = message.headers();
    if headers.is_empty() {
        return Err(bad("it has no header fields; is this an .eml file?".into()));
    }
    if headers.len() > MAX_HEADERS {
        return Err(bad(format!("it has more than {MAX_HEADERS} header fields")));
    }
    let mut references = Vec::new();
    for h in headers {
        if h.name().eq_ignore_ascii_case(HEADER) {
            let value = raw.get(h.offset_start() as usize..h.offset_end() as usize).unwrap_or_default();
            let text = std::str::from_utf8(value).map_err(|_| bad(format!("its {HEADER} header is not UTF-8 text")))?;
            references.push(parse_reference(text, &format!("the {HEADER} header of {what}"))?);
        }
    }
    references.dedup();
    if references.len() > 1 {
        return Err(bad(format!(
            "it has {} different {HEADER} headers; a message names one entry, so it cannot be judged",
            references.len()
        )));
    }

    if message.from().is_none() && message.date().is_none() {
        return Err(bad("it has neither a From: nor a Date: header field, so it is not an e-mail message as sent".into()));
    }
    // Where the body starts, as the DKIM implementation splits the message.
    let auth = AuthenticatedMessage::parse(raw)
        .ok_or_else(|| bad("it is not an RFC 5322 e-mail message (its header section cannot be read)".into()))?;
    let body_offset = auth.body_offset as usize;
    if body_offset > raw.len() {
        return Err(bad("its header section is cut off".into()));
    }
    if body_offset == raw.len() && !raw.ends_with(b"\n") {
        return Err(bad("its header section is cut off (no empty line ends it)".into()));
    }
    let body = raw.get(body_offset..).unwrap_or_default();

    let body_sha256 = relaxed_body_sha256(body);
    let dkim_body_hashes = auth
        .dkim_headers
        .iter()
        .filter_map(|h| h.header.as_ref().ok())
        .filter(|s| s.cb == Canonicalization::Relaxed && s.l == 0 && s.bh.len() == 32)
        .filter(|s| matches!(s.a, mail_auth::common::crypto::Algorithm::RsaSha256 | mail_auth::common::crypto::Algorithm::Ed25519Sha256))
        .filter_map(|s| Hash::try_from(s.bh.as_slice()).ok())
        .map(|bh| (bh, bh == body_sha256))
        .collect();

    let from = message
        .from()
        .and_then(|a| a.first())
        .and_then(|a| a.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).or_else(|| a.address().map(str::to_string)));
    let date = message.date().map(|d| (d.to_timestamp(), d.to_rfc3339()));
    let date = match (date, message.header("Date")) {
        (None, Some(HeaderValue::Text(t))) => return Err(bad(format!("its Date: header {t:?} is not an RFC 5322 date"))),
        (d, _) => d,
    };
    Ok(Email {
        message_sha256: Sha256::digest(raw).into(),
        body_sha256,
        reference: references.pop(),
        from,
        date,
        subject: message.subject().map(str::to_string),
        dkim_body_hashes,
    })
}

/// SHA-256 of a body under DKIM relaxed body canonicalisation (RFC 6376 §3.4.4), no length
/// limit: what a DKIM-Signature with `c=…/relaxed` carries as `bh=`.
pub fn relaxed_body_sha256(body: &[u8]) -> Hash {
    let mut canonical: Vec<u8> = Vec::with_capacity(body.len() + 2);
    Canonicalization::Relaxed.canonical_body(body, 0).write(&mut canonical);
    Sha256::digest(&canonical).into()
}
