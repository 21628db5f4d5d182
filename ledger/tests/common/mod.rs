//! Test fixtures shared by the ledger's integration tests and benchmarks:
//! a fresh ledger in a temp folder, a registered submitter, valid messages.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::privacy::{ConsentEvidence, Personal, ServerSecret};
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
    if !reg.parties.contains_key("p-holding") {
        ledger.register_party("p-holding", "Civic Holding SE", "info@holding.example", "LU", "self").unwrap();
    }
    if !reg.parties.contains_key("p-civic") {
        ledger.register_party("p-civic", "Civic Future e.V.", "info@civic.example", "DE", "p-holding").unwrap();
    }
}

/// Registers a second submitter, `beta`, whose messages [`submission_by_beta`] signs (idempotent).
pub fn register_beta(ledger: &Ledger, keys: &Keys) {
    if !ledger.registry().unwrap().submitters.contains_key("beta") {
        ledger.register_submitter("beta", "Beta Mail SA", "dpo@beta.example", &public_key_b64(&keys.beta)).unwrap();
    }
}

/// A realistic political message body (about 1.5 KB canonical) without commitments.
pub fn body(message_id: &str, subject: &str) -> Value {
    json!({
        "kind": "message",
        "signer": "acme",
        "message_id": message_id,
        "delivery": {
            "channel": "social",
            "served_at": "2026-11-20T18:04:05Z",
            "member_state": "DE",
            "creative": {
                "sha256": "9f2c6f1e0b8f4a3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c",
                "brand": "Civic Future",
                "subject": subject,
                "language": "de",
                "campaign_id": "ocean-2026",
                "ad_id": "ad-17",
                "creative_id": "cr-fear-3"
            },
            "email_headers": null
        },
        "sponsor": {
            "on_behalf_of": "p-civic",
            "payer": "p-holding",
            "political": {
                "kind": "election",
                "linked_to": "Bundestag election 2029",
                "date": "2029-09-23",
                "amount": { "value": "48000.00", "currency": "EUR" },
                "funding_origin": "private donations from within the EU",
                "notice_url": "https://civic.example/transparency/ocean-2026"
            }
        },
        "recipient": { "commitment": "" },
        "personal_commitment": "",
        "targeting": {
            "criteria": [
                { "id": "c1", "effect": "include", "type": "modelled", "description": "Personality score: high neuroticism (OCEAN model)",
                  "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-model"] },
                { "id": "c2", "effect": "exclude", "type": "observed", "description": "People who follow the party's own page",
                  "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-follows"] }
            ],
            "delivery_optimisation": { "ai_system": true, "goal": "engagement" }
        },
        "lineage": [
            { "id": "s-quiz", "provider": "Quiz app", "contact": "dpo@quiz.example", "kind": "via_other_person_permission", "model": null,
              "collection_method": "A friend's quiz app read their friends' page likes", "collected_at": "2026-03-01", "refresh": "once",
              "lookback_days": "not_disclosed", "legal_basis": "not_disclosed", "derived_from": [] },
            { "id": "s-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme.example", "kind": "inferred",
              "model": { "name": "ocean-v2", "version": "2.3.1" }, "collection_method": "Model inferring OCEAN traits from page likes",
              "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365, "legal_basis": "legitimate_interests", "derived_from": ["s-quiz"] },
            { "id": "s-follows", "provider": "Acme Social", "contact": "dpo@social.example", "kind": "observed", "model": null,
              "collection_method": "Page follows on the platform", "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 30,
              "legal_basis": "contract", "derived_from": [] }
        ],
        "controls": {
            "change_parameters_url": "https://social.example/settings/ads",
            "object_url": "https://social.example/settings/ads/object",
            "opt_out_url": "https://social.example/settings/ads/opt-out",
            "controller_contact": "mailto:dpo@acme.example"
        }
    })
}

/// A personal part for `recipient`.
pub fn personal(recipient: &str) -> Personal {
    let mut matched = BTreeMap::new();
    matched.insert("c1".to_string(), "neuroticism score 0.82 (high)".to_string());
    let mut consent = BTreeMap::new();
    consent.insert(
        "s-quiz".to_string(),
        ConsentEvidence { format: "tcf".into(), value: "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA".into() },
    );
    Personal::new(recipient, matched, consent)
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
