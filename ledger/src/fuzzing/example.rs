//! The example message of SPEC.md §3.4 and its personal part, read from the one shared fixture
//! file, `tests/fixtures/message.json` at the repository root. The ledger's tests, benchmarks
//! and fuzz targets and the server's tests build their messages from it (the end-to-end tests
//! read the same file), and a test holds SPEC.md's example to it, so the example a submitter
//! reads is one the log accepts.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use crate::model::audience::Evaluation;
use crate::privacy::{ConsentEvidence, Personal};

/// The fixture file's text.
pub const FIXTURE_JSON: &str = include_str!("../../../tests/fixtures/message.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    body: Value,
    personal: PersonalValues,
}

/// The personal part without its salt (each use draws a fresh one).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonalValues {
    recipient: String,
    evaluation: BTreeMap<String, Evaluation>,
    consent: BTreeMap<String, ConsentEvidence>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    // The file is compiled in: a broken one is a bug of this repository, found by every test.
    F.get_or_init(|| serde_json::from_str(FIXTURE_JSON).unwrap_or_else(|e| panic!("tests/fixtures/message.json does not parse: {e}")))
}

/// The example body exactly as the file holds it (its commitments are zeros until
/// [`crate::submitter::sign_message`] fills them from a personal part).
pub fn body() -> Value {
    fixture().body.clone()
}

/// The example body as submitter `signer`'s message `message_id`.
pub fn message(signer: &str, message_id: &str) -> Value {
    let mut b = body();
    b["signer"] = Value::String(signer.to_string());
    b["message_id"] = Value::String(message_id.to_string());
    b
}

/// The recipient the file's personal part names.
pub fn recipient() -> &'static str {
    &fixture().personal.recipient
}

/// The example's personal part for `recipient`, with a fresh salt.
pub fn personal(recipient: &str) -> Personal {
    let p = &fixture().personal;
    Personal::new(recipient, p.evaluation.clone(), p.consent.clone())
}
