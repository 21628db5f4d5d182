//! Record bodies from JSON (SPEC.md §3): [`Body::parse`] types and validates a submitted body,
//! naming the JSON path of whatever is wrong; [`Body::parse_logged`] decodes the body of an entry
//! already in the log, which passed those rules when it was appended.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::record::{invalid, Body, Kind, MessageBody};
use crate::model::rules::validate;
use crate::model::serde_words::field_and_reason;

impl Body {
    /// Parses and validates a body (SPEC.md §3). `record` is the position in the
    /// submitted batch, used only in error messages.
    pub fn parse(value: &Value, record: usize) -> Result<Body> {
        let kind = value.get("kind").and_then(Value::as_str).ok_or_else(|| {
            invalid(record, "kind", "missing; expected one of log_key, submitter, party, message, objection, erasure, tally")
        })?;
        let body = match kind {
            "log_key" => Body::LogKey(typed(value, record)?),
            "submitter" => Body::Submitter(typed(value, record)?),
            "party" => Body::Party(typed(value, record)?),
            "message" => Body::Message(Box::new(typed(value, record)?)),
            "objection" => Body::Objection(typed(value, record)?),
            "erasure" => Body::Erasure(typed(value, record)?),
            "tally" => Body::Tally(typed(value, record)?),
            other => {
                return Err(invalid(
                    record,
                    "kind",
                    format!("unknown kind `{other}`; expected one of log_key, submitter, party, message, objection, erasure, tally"),
                ))
            }
        };
        validate(&body, record)?;
        Ok(body)
    }

    /// Decodes the body of an entry already in the log, straight from its JSON
    /// text into its type. It is not validated again: it passed SPEC.md §3 when
    /// it was appended, and the caller has checked the entry against its leaf.
    pub fn parse_logged(json: &str) -> Result<Body> {
        Ok(Body::parse_logged_noting(json)?.0)
    }

    /// [`Body::parse_logged`], and the fields the body leaves out that the record would have to
    /// state now ([`NULLABLE_FIELDS`](crate::record::NULLABLE_FIELDS),
    /// [`REVISION_3_FIELDS`](crate::record::REVISION_3_FIELDS), spelled with indexes such as
    /// `lineage[2].model`). Only an entry logged before revision 3 can leave one out; it is read
    /// as `null`, and a page that shows it says the record does not state it.
    pub fn parse_logged_noting(json: &str) -> Result<(Body, Vec<String>)> {
        Body::parse_logged_from(json, true)
    }

    /// [`Body::parse_logged_noting`]; `try_strict: false` skips the strict decoding of a message
    /// body when the caller already tried it and it failed (an entry logged before revision 3:
    /// each pass over its text costs as much as the page it is read for).
    pub(crate) fn parse_logged_from(json: &str, try_strict: bool) -> Result<(Body, Vec<String>)> {
        #[derive(Deserialize)]
        struct KindOnly {
            kind: Kind,
        }
        let typed = |e: serde_json::Error| Error::malformed("entry body", e.to_string());
        Ok(match serde_json::from_str::<KindOnly>(json).map_err(typed)?.kind {
            Kind::LogKey => (Body::LogKey(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Submitter => (Body::Submitter(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Party => (Body::Party(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Message => match try_strict.then(|| serde_json::from_str(json)) {
                Some(Ok(m)) => (Body::Message(Box::new(m)), Vec::new()),
                _ => message_noting_omitted(json)?,
            },
            Kind::Objection => (Body::Objection(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Erasure => (Body::Erasure(serde_json::from_str(json).map_err(typed)?), Vec::new()),
            Kind::Tally => (Body::Tally(serde_json::from_str(json).map_err(typed)?), Vec::new()),
        })
    }
}

/// A message body that did not decode strictly: read with the fields it leaves out as `null`,
/// and those fields named. If it leaves out nothing a record had to state, the strict
/// decoding's own error is what is wrong with it (an error path: decoding again costs nothing
/// that matters).
fn message_noting_omitted(json: &str) -> Result<(Body, Vec<String>)> {
    let typed = |e: serde_json::Error| Error::malformed("entry body", e.to_string());
    let mut value: Value = serde_json::from_str(json).map_err(typed)?;
    let omitted = crate::model::omitted::fill_omitted(&mut value);
    if omitted.is_empty() {
        let m: MessageBody = serde_json::from_str(json).map_err(typed)?;
        return Ok((Body::Message(Box::new(m)), Vec::new()));
    }
    Ok((Body::Message(Box::new(serde_json::from_value(value).map_err(typed)?)), omitted))
}

/// Deserializes directly; only a value that fails is deserialized again with
/// path tracking, to name the field (tracking every path costs as much as the
/// deserialization itself, and almost every record is valid).
fn typed<T: DeserializeOwned>(value: &Value, record: usize) -> Result<T> {
    if let Ok(t) = T::deserialize(value) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let (field, why) = field_and_reason(&e.path().to_string(), &e.into_inner().to_string());
        invalid(record, if field.is_empty() { "(body)" } else { &field }, why)
    })
}
