//! Test fixtures shared by the ledger's integration tests and benchmarks:
//! a fresh ledger in a temp folder, a registered submitter, valid messages.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::privacy::{Personal, ServerSecret};
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{Ledger, LedgerOptions, Submission};

pub const ORIGIN: &str = "sightline.test/log";

/// Keys that must survive a restart of the ledger in the same folder.
pub struct Keys {
    pub log: NoteSigner,
    pub secret: ServerSecret,
    pub submitter: SigningKey,
    /// The key of a second submitter, `beta` (see [`register_beta`]).
    pub beta: SigningKey,
}

impl Keys {
    /// Deterministic keys, so a child process and its parent agree.
    pub fn fixed() -> Keys {
        Keys {
            log: fixed_log_signer(),
            secret: ServerSecret([7; 32]),
            submitter: SigningKey::from_bytes(&[9; 32]),
            beta: SigningKey::from_bytes(&[11; 32]),
        }
    }
}

/// The log key from a fixed seed.
fn fixed_log_signer() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, &[3u8; 32]).unwrap()
}

/// Opens a ledger on a sled store in `dir`.
pub fn open(dir: &Path, keys: &Keys) -> sightline_ledger::Result<Ledger> {
    let store = SledStore::open(dir)?;
    let log = NoteSigner::from_skey(&keys.log.skey())?;
    Ledger::open(Arc::new(store), log, keys.secret.clone(), LedgerOptions { origin: ORIGIN.into(), max_batch_records: 20_000 })
}

/// Registers the submitter `acme` and the parties the messages use (idempotent).
pub fn register(ledger: &Ledger, keys: &Keys) {
    let reg = ledger.registry().unwrap();
    if !reg.submitters.contains_key("acme") {
        ledger.register_submitter("acme", "Acme Ads GmbH", "dpo@acme.example", &public_key_b64(&keys.submitter)).unwrap();
    }
    if !reg.parties.contains_key("p-civic-holding") {
        ledger.register_party("p-civic-holding", "Civic Holding SE", "info@holding.example", "LU", "self").unwrap();
    }
    if !reg.parties.contains_key("p-civic-future") {
        ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic.example", "DE", "p-civic-holding").unwrap();
    }
}

/// Registers a second submitter, `beta`, whose messages [`submission_by_beta`] signs (idempotent).
pub fn register_beta(ledger: &Ledger, keys: &Keys) {
    if !ledger.registry().unwrap().submitters.contains_key("beta") {
        ledger.register_submitter("beta", "Beta Mail SA", "dpo@beta.example", &public_key_b64(&keys.beta)).unwrap();
    }
}

/// The example message of SPEC.md §3.4 (`tests/fixtures/message.json`) as submitter `acme`'s
/// message `message_id` with `subject`, without commitments.
pub fn body(message_id: &str, subject: &str) -> Value {
    let mut b = sightline_ledger::fuzzing::example::message("acme", message_id);
    b["delivery"]["creative"]["subject"] = json!(subject);
    b
}

/// The example's personal part for `recipient`.
pub fn personal(recipient: &str) -> Personal {
    sightline_ledger::fuzzing::example::personal(recipient)
}

/// A signed, valid submission.
pub fn submission(keys: &Keys, message_id: &str, recipient: &str) -> Submission {
    sign_message(&keys.submitter, body(message_id, "They don't want you to know what's coming"), &personal(recipient)).unwrap()
}

/// A signed, valid submission by the second submitter, `beta`.
pub fn submission_by_beta(keys: &Keys, message_id: &str, recipient: &str) -> Submission {
    let mut b = body(message_id, "A message from another platform");
    b["signer"] = json!("beta");
    sign_message(&keys.beta, b, &personal(recipient)).unwrap()
}

/// A fresh ledger in a temporary folder with `acme`, `beta` and the example's parties registered.
pub fn fresh() -> (tempfile::TempDir, Keys, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    register_beta(&ledger, &keys);
    (dir, keys, ledger)
}

/// Submits one record; returns the field it was refused at and why (panics if it was accepted,
/// refused for another reason, or appended anything).
pub fn refused_at(ledger: &Ledger, sub: Submission) -> (String, String) {
    let size = ledger.size();
    let err = ledger.submit(vec![sub]).expect_err("the record was accepted");
    assert_eq!(ledger.size(), size, "a refused record appended something");
    match err {
        sightline_ledger::Error::InvalidRecord { record: 0, field, why } => (field, why),
        other => panic!("refused for another reason: {other}"),
    }
}
