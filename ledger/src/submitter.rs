//! The submitter's side of SPEC.md §4 and §7, for platforms written in Rust,
//! the demo and the benchmarks: build the personal part's commitments and sign
//! a body.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::canonical::{jcs_value, signed_message};
use crate::pipeline::submission::Submission;
use crate::privacy::{recipient_commitment, Personal};

/// Fills `recipient.commitment` and `personal_commitment` of a message body
/// from its personal part, signs the body and returns the submission.
pub fn sign_message(key: &SigningKey, mut body: Value, personal: &Personal) -> Result<Submission> {
    let salt = personal.salt_bytes().map_err(|e| Error::malformed("personal part", e))?;
    body["recipient"] = serde_json::json!({ "commitment": recipient_commitment(&salt, &personal.recipient) });
    body["personal_commitment"] = Value::String(personal.commitment()?);
    let canonical = jcs_value(&body)?;
    let sig = sign_canonical(key, &canonical);
    // Both travel in canonical form: the body as the bytes it was signed over, the personal
    // part as the bytes it is committed to.
    let raw = |bytes: Vec<u8>, what: &'static str| {
        let text = String::from_utf8(bytes).map_err(|e| Error::malformed(what, e.to_string()))?;
        RawValue::from_string(text).map_err(|e| Error::malformed(what, e.to_string()))
    };
    let body = raw(canonical, "message body")?;
    let personal = raw(personal.canonical()?, "personal part")?;
    Ok(Submission { body, sig, personal: Some(personal) })
}

/// Signs a `tally` body (SPEC.md §3.8), which has no personal part, and returns the submission.
pub fn sign_tally(key: &SigningKey, body: &Value) -> Result<Submission> {
    let canonical = jcs_value(body)?;
    let sig = sign_canonical(key, &canonical);
    let text = String::from_utf8(canonical).map_err(|e| Error::malformed("tally body", e.to_string()))?;
    let body = RawValue::from_string(text).map_err(|e| Error::malformed("tally body", e.to_string()))?;
    Ok(Submission { body, sig, personal: None })
}

/// The base64 signature of a body (SPEC.md §4).
pub fn sign_body(key: &SigningKey, body: &Value) -> Result<String> {
    Ok(sign_canonical(key, &jcs_value(body)?))
}

/// The base64 signature of a body whose canonical bytes are `body_jcs`.
fn sign_canonical(key: &SigningKey, body_jcs: &[u8]) -> String {
    B64.encode(key.sign(&signed_message(body_jcs)).to_bytes())
}

/// A submitter public key as the registry wants it (standard base64).
pub fn public_key_b64(key: &SigningKey) -> String {
    B64.encode(key.verifying_key().to_bytes())
}
