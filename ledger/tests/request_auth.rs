//! A request authenticated as one submitter (SPEC.md §12): its header verifies against the key
//! the log registered, for this log only, and its batch may hold only that submitter's records.

mod common;

use common::*;
use ed25519_dalek::SigningKey;
use serde_json::json;
use sightline_ledger::request_auth::{authorization, RequestAuth, SUBMISSIONS_REQUEST};
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{BatchText, Error};

#[test]
fn the_header_verifies_against_the_registered_key_of_this_log_only() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let ok = RequestAuth::parse(&authorization(&keys.submitter, ORIGIN, "acme", 1_800_000_000)).unwrap();
    ledger.verify_request(&ok, SUBMISSIONS_REQUEST).unwrap();
    let elsewhere = RequestAuth::parse(&authorization(&keys.submitter, "other.example/log", "acme", 1_800_000_000)).unwrap();
    assert!(matches!(ledger.verify_request(&elsewhere, SUBMISSIONS_REQUEST), Err(Error::BadSignature(_))));
    let stranger = SigningKey::from_bytes(&[42; 32]);
    let forged = RequestAuth::parse(&authorization(&stranger, ORIGIN, "acme", 1_800_000_000)).unwrap();
    assert!(matches!(ledger.verify_request(&forged, SUBMISSIONS_REQUEST), Err(Error::BadSignature(_))));
    let ghost = RequestAuth::parse(&authorization(&stranger, ORIGIN, "ghost", 1_800_000_000)).unwrap();
    assert!(matches!(ledger.verify_request(&ghost, SUBMISSIONS_REQUEST), Err(Error::UnknownSubmitter(_))));
}

#[test]
fn a_batch_holding_another_signers_record_is_refused_naming_it_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let beta = SigningKey::from_bytes(&[11; 32]);
    ledger.register_submitter("beta", "Beta Mail SA", "dpo@beta.example", &public_key_b64(&beta)).unwrap();
    let mut beta_body = body("b-1", "Beta's own");
    beta_body["signer"] = json!("beta");
    let betas = sign_message(&beta, beta_body, &personal("carol@example.org")).unwrap();
    let acmes = submission(&keys, "a-1", "dave@example.org");
    let size = ledger.size();

    // The general path, and the one-pass split of the same batch text.
    let err = ledger.submit_as("beta", vec![betas.clone(), acmes.clone()]).unwrap_err();
    assert!(
        matches!(err, Error::ForeignRecord { record: 1, ref signer, ref submitter } if signer == "acme" && submitter == "beta"),
        "{err}"
    );
    let text = json!({ "records": [
        { "body": betas.body, "sig": betas.sig, "personal": betas.personal },
        { "body": acmes.body, "sig": acmes.sig, "personal": acmes.personal },
    ] })
    .to_string();
    let batch = BatchText::split(&text).expect("a canonical batch splits");
    let err = ledger.submit_batch_as("beta", &batch).unwrap_err();
    assert!(matches!(err, Error::ForeignRecord { record: 1, .. }), "{err}");
    assert_eq!(ledger.size(), size, "nothing appended");

    // Its own records alone are appended; a trusted caller (import) may mix signers.
    ledger.submit_as("beta", vec![betas.clone()]).unwrap();
    ledger.submit(vec![betas, acmes]).unwrap();
    assert_eq!(ledger.size(), size + 2);
}
