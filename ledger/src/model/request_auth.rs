//! Request authentication (SPEC.md §12, "Ingestion"): who may make the server read a
//! submission's body.
//!
//! A submitter signs a short statement, with the same registered key that signs its records,
//! and sends it in the request's `Authorization` header:
//!
//! ```text
//! Authorization: Sightline v1 <submitter-id> <unix-seconds> <base64 Ed25519 signature>
//! signed bytes:  "sightline/request/v1\n" || origin || "\n" || submitter-id || "\n"
//!                || unix-seconds || "\n" || "POST /api/v1/submissions\n"
//! ```
//!
//! The origin binds the header to one log, so it cannot be replayed at another. The header says
//! nothing about the body: the records in it carry their own signatures (SPEC.md §4), and the
//! server refuses a batch holding a record of another signer. The server (not this module)
//! decides how far `unix-seconds` may be from its clock.
//!
//! This module holds the one spelling of the header and of the signed bytes, the submitter's
//! side ([`authorization`]) and the check against the registry ([`Registry::verify_request`]),
//! which uses the record signatures' ZIP 215 rules (`signatures.rs`).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};

use crate::error::{Error, Result};
use crate::model::canonical::decode_signature;
use crate::model::registry::Registry;
use crate::model::signatures::Check;

/// The domain-separation prefix of the signed bytes.
pub const REQUEST_CONTEXT: &str = "sightline/request/v1\n";
/// The one request the header authenticates today.
pub const SUBMISSIONS_REQUEST: &str = "POST /api/v1/submissions";
/// The header's scheme and version, as the header value starts.
pub const SCHEME: &str = "Sightline";
const VERSION: &str = "v1";

/// The bytes a submitter signs for `request` (e.g. [`SUBMISSIONS_REQUEST`]) at `unix_seconds`
/// (the decimal text exactly as the header carries it).
pub fn signed_request(origin: &str, submitter: &str, unix_seconds: &str, request: &str) -> Vec<u8> {
    [REQUEST_CONTEXT, origin, "\n", submitter, "\n", unix_seconds, "\n", request, "\n"].concat().into_bytes()
}

/// The `Authorization` header value a submitter sends with `POST /api/v1/submissions` to the
/// log named `origin`, signed with its registered key at `unix_seconds`.
pub fn authorization(key: &SigningKey, origin: &str, submitter: &str, unix_seconds: u64) -> String {
    let t = unix_seconds.to_string();
    let sig = key.sign(&signed_request(origin, submitter, &t, SUBMISSIONS_REQUEST));
    format!("{SCHEME} {VERSION} {submitter} {t} {}", B64.encode(sig.to_bytes()))
}

/// A parsed `Authorization: Sightline v1 …` header, not yet checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestAuth {
    /// The submitter the request claims to come from.
    pub submitter: String,
    /// The time as sent (decimal digits), which is what was signed.
    pub unix_text: String,
    /// The same time, as a number.
    pub unix_seconds: u64,
    /// The signature.
    pub sig: [u8; 64],
}

impl RequestAuth {
    /// Parses a header value. The error says what is wrong with it in words, for a `401`.
    pub fn parse(value: &str) -> std::result::Result<RequestAuth, String> {
        let mut parts = value.split(' ');
        let (Some(scheme), Some(version), Some(submitter), Some(t), Some(sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "it must be `{SCHEME} {VERSION} <submitter-id> <unix-seconds> <signature>`: five parts separated by single spaces"
            ));
        };
        if scheme != SCHEME {
            return Err(format!("the scheme is `{scheme}`; submissions are authenticated with the `{SCHEME}` scheme"));
        }
        if version != VERSION {
            return Err(format!("version `{version}` is not known; this log speaks `{VERSION}`"));
        }
        if crate::model::record::check_id(0, "submitter", submitter).is_err() {
            return Err("the submitter id must be 1–128 characters of A-Z a-z 0-9 . _ : / -".into());
        }
        let canonical_decimal =
            !t.is_empty() && t.len() <= 19 && t.bytes().all(|b| b.is_ascii_digit()) && (t == "0" || !t.starts_with('0'));
        let unix_seconds = t
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_decimal)
            .ok_or_else(|| format!("the time `{t}` must be the Unix time in seconds, as decimal digits without leading zeros"))?;
        let sig = decode_signature(sig).map_err(|e| format!("the signature {e}"))?;
        Ok(RequestAuth { submitter: submitter.to_string(), unix_text: t.to_string(), unix_seconds, sig })
    }
}

impl Registry {
    /// Checks a request's signature against the key the log registered for its submitter
    /// (ZIP 215, as record signatures). `Error::UnknownSubmitter` when the id is not
    /// registered, `Error::BadSignature` when the signature does not verify.
    pub fn verify_request(&self, origin: &str, auth: &RequestAuth, request: &str) -> Result<()> {
        let info = self.submitters.get(&auth.submitter).ok_or_else(|| Error::UnknownSubmitter(auth.submitter.clone()))?;
        let signed = signed_request(origin, &auth.submitter, &auth.unix_text, request);
        if Check::new(&info.key, &auth.sig, &signed).verifies() {
            Ok(())
        } else {
            Err(Error::BadSignature(format!(
                "the request's Authorization signature does not verify with the key registered for submitter `{}`; sign \"{}\" with the key that signs your records (SPEC.md §12)",
                auth.submitter,
                REQUEST_CONTEXT.escape_default()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::{Kind, SubmitterBody};

    fn registry_with(id: &str, key: &SigningKey) -> Registry {
        let mut reg = Registry::default();
        let body = SubmitterBody {
            kind: Kind::Submitter,
            signer: "log".into(),
            submitter: id.into(),
            name: "Acme".into(),
            contact: "a@example.org".into(),
            public_key: B64.encode(key.verifying_key().to_bytes()),
            registered_at: "2026-11-24T09:00:01Z".into(),
        };
        reg.apply(1, &crate::model::record::Body::Submitter(body)).unwrap();
        reg
    }

    #[test]
    fn a_signed_header_round_trips_and_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let reg = registry_with("acme-ads", &key);
        let header = authorization(&key, "example.org/log", "acme-ads", 1_800_000_000);
        let auth = RequestAuth::parse(&header).unwrap();
        assert_eq!((auth.submitter.as_str(), auth.unix_seconds), ("acme-ads", 1_800_000_000));
        reg.verify_request("example.org/log", &auth, SUBMISSIONS_REQUEST).unwrap();
    }

    #[test]
    fn the_signed_bytes_are_the_spec_layout() {
        assert_eq!(
            signed_request("o/log", "acme", "17", SUBMISSIONS_REQUEST),
            b"sightline/request/v1\no/log\nacme\n17\nPOST /api/v1/submissions\n".to_vec()
        );
    }

    #[test]
    fn another_log_another_key_another_time_or_an_unknown_id_do_not_verify() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let reg = registry_with("acme-ads", &key);
        let auth = RequestAuth::parse(&authorization(&key, "other.example/log", "acme-ads", 5)).unwrap();
        assert!(matches!(reg.verify_request("example.org/log", &auth, SUBMISSIONS_REQUEST), Err(Error::BadSignature(_))));
        let wrong_key = SigningKey::from_bytes(&[8; 32]);
        let auth = RequestAuth::parse(&authorization(&wrong_key, "example.org/log", "acme-ads", 5)).unwrap();
        assert!(matches!(reg.verify_request("example.org/log", &auth, SUBMISSIONS_REQUEST), Err(Error::BadSignature(_))));
        let mut auth = RequestAuth::parse(&authorization(&key, "example.org/log", "acme-ads", 5)).unwrap();
        auth.unix_text = "6".into();
        assert!(matches!(reg.verify_request("example.org/log", &auth, SUBMISSIONS_REQUEST), Err(Error::BadSignature(_))));
        let ghost = RequestAuth::parse(&authorization(&key, "example.org/log", "ghost", 5)).unwrap();
        assert!(matches!(reg.verify_request("example.org/log", &ghost, SUBMISSIONS_REQUEST), Err(Error::UnknownSubmitter(_))));
    }

    #[test]
    fn malformed_headers_are_refused_with_a_reason() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let good = authorization(&key, "o", "acme", 12);
        let sig = good.rsplit(' ').next().unwrap();
        for bad in [
            String::new(),
            "Bearer abc".to_string(),
            format!("Sightline v2 acme 12 {sig}"),
            format!("sightline v1 acme 12 {sig}"),
            format!("Sightline v1 acme 012 {sig}"),
            format!("Sightline v1 acme -12 {sig}"),
            format!("Sightline v1 acme 12.0 {sig}"),
            format!("Sightline v1 acme 99999999999999999999 {sig}"),
            format!("Sightline v1 ac&me 12 {sig}"),
            format!("Sightline v1 acme 12 {sig} extra"),
            format!("Sightline  v1 acme 12 {sig}"),
            "Sightline v1 acme 12 not-base64!".to_string(),
            format!("Sightline v1 acme 12 {}", B64.encode([0u8; 63])),
        ] {
            let err = RequestAuth::parse(&bad).expect_err(&bad);
            assert!(!err.is_empty());
        }
    }
}
