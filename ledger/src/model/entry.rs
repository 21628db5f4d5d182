//! Log entries (SPEC.md §2): the envelope `{v, index, prev, logged_at, flags, body, sig}` the
//! log writes around a record's canonical body. The one place where entry bytes are built
//! ([`Entry::encode`]) and read back: strictly ([`Entry::parse`], for bytes from outside),
//! as logged ([`Entry::parse_logged`]), or decoded into the record types ([`LoggedEntry`]).
//!
//! The canonical bytes themselves (RFC 8785) are [`crate::canonical`]'s; the record types are
//! [`crate::record`]'s.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::canonical::{jcs, jcs_value};
use crate::model::json_text::push_str;
use crate::model::record::{Body, Kind, MessageBody};
use crate::tlog::merkle::Hash;

/// Largest entry, in bytes (the entry-bundle limit of C2SP tlog-tiles).
pub const MAX_ENTRY_BYTES: usize = 65_535;

/// Largest canonical body the ledger accepts (SPEC.md §13): the entry limit less 512 bytes for the
/// envelope the log writes around it (`index`, `prev`, `logged_at`, at most one flag, `sig`: under
/// 300 bytes). Checked at submission, so an oversized record is the submitter's 422, never a
/// failure of the group commit it would have shared with other requests.
pub const MAX_BODY_BYTES: usize = MAX_ENTRY_BYTES - 512;

/// An entry already in the log, its body decoded into its record type (see
/// [`Body::parse_logged`]): what pages and exports read.
#[derive(Clone, Debug)]
pub struct LoggedEntry {
    /// The entry's index in the log.
    pub index: u64,
    /// The leaf hash of the previous entry, hex (zeros for entry 0).
    pub prev: String,
    /// When the log sequenced the entry.
    pub logged_at: String,
    /// Flags the log added, such as `objected:<index>`.
    pub flags: Vec<String>,
    /// The record, decoded into its type.
    pub body: Body,
    /// The signer's signature over the body, standard base64.
    pub sig: String,
    /// Nullable fields the body leaves out, read as `null` (see
    /// [`Body::parse_logged_noting`]): only an entry logged before revision 3 has
    /// any, and what shows it says the record does not state them.
    pub omitted: Vec<String>,
}

impl LoggedEntry {
    /// Decodes entry bytes that were checked against their leaf hash, without
    /// building a JSON value of the body first.
    pub fn parse(bytes: &[u8]) -> Result<LoggedEntry> {
        /// The entry object of SPEC.md §2, its body decoded as `B`.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Envelope<B> {
            #[allow(dead_code)]
            v: u8,
            index: u64,
            prev: String,
            logged_at: String,
            flags: Vec<String>,
            body: B,
            sig: String,
        }
        impl<B> Envelope<B> {
            fn logged(self, body: impl FnOnce(B) -> Result<(Body, Vec<String>)>) -> Result<LoggedEntry> {
                let (body, omitted) = body(self.body)?;
                Ok(LoggedEntry {
                    index: self.index,
                    prev: self.prev,
                    logged_at: self.logged_at,
                    flags: self.flags,
                    body,
                    sig: self.sig,
                    omitted,
                })
            }
        }
        // UTF-8 is checked once here, so the decoder does not check each string again.
        let text = std::str::from_utf8(bytes).map_err(|err| Error::malformed("entry", err.to_string()))?;
        // Most entries are messages: one pass decodes envelope and body at once
        // (`body` is the first key in canonical order, so nothing is buffered).
        let tried_message = match serde_json::from_str::<Envelope<Box<MessageBody>>>(text) {
            Ok(e) if e.body.kind == Kind::Message => return e.logged(|m| Ok((Body::Message(m), Vec::new()))),
            Ok(_) => false,
            Err(_) => true,
        };
        let e: Envelope<&serde_json::value::RawValue> =
            serde_json::from_str(text).map_err(|err| Error::malformed("entry", err.to_string()))?;
        // A message body that failed above is not decoded strictly a second time.
        e.logged(|raw| Body::parse_logged_from(raw.get(), !tried_message))
    }
}

/// One log entry (SPEC.md §2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The entry format version, `1`.
    pub v: u8,
    /// The entry's index in the log.
    pub index: u64,
    /// The leaf hash of the previous entry, hex (zeros for entry 0).
    pub prev: String,
    /// When the log sequenced the entry.
    pub logged_at: String,
    /// Flags the log added, such as `objected:<index>`.
    pub flags: Vec<String>,
    /// The record's body, as signed.
    pub body: Value,
    /// The signer's signature over the body, standard base64.
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
        if e.canonical_bytes()? != bytes {
            return Err(Error::malformed("entry", "bytes are not in RFC 8785 canonical form"));
        }
        Ok(e)
    }

    /// `JCS(entry)`, members in key order (what [`jcs`] of the entry gives).
    fn canonical_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(b"{\"body\":");
        out.extend_from_slice(&jcs_value(&self.body)?);
        out.extend_from_slice(b",\"flags\":[");
        for (i, f) in self.flags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(&mut out, f);
        }
        out.extend_from_slice(b"],\"index\":");
        out.extend_from_slice(&jcs_value(&Value::from(self.index))?);
        out.extend_from_slice(b",\"logged_at\":");
        push_str(&mut out, &self.logged_at);
        out.extend_from_slice(b",\"prev\":");
        push_str(&mut out, &self.prev);
        out.extend_from_slice(b",\"sig\":");
        push_str(&mut out, &self.sig);
        out.extend_from_slice(b",\"v\":");
        out.extend_from_slice(self.v.to_string().as_bytes());
        out.push(b'}');
        Ok(out)
    }

    /// Parses entry bytes already known to be exactly the logged bytes, skipping the
    /// canonical-form check of [`Entry::parse`]: bytes this process has just encoded with
    /// [`Entry::encode`], or bytes read through `Ledger::entry`/`Ledger::entries`, which checked
    /// their leaf hash against the signed tree (and the logged bytes were canonical when
    /// written). Never use it on bytes from anywhere else.
    pub fn parse_logged(bytes: &[u8]) -> Result<Entry> {
        serde_json::from_slice(bytes).map_err(|err| Error::malformed("entry", err.to_string()))
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
