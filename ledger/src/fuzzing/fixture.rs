//! The fuzz fixtures: the origin and fixed keys of `ledger/tests/common` (log key seed `[3; 32]`,
//! server secret `[7; 32]`, submitter `acme` with seed `[9; 32]`), a fixture tree, and a fixture
//! ledger in memory that holds every kind of entry, private record and index row.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::evidence::receipt::Receipt;
use crate::ledger::Ledger;
use crate::model::record::MessageBody;
use crate::pipeline::state::LedgerOptions;
use crate::pipeline::submission::Submission;
use crate::privacy::{ConsentEvidence, Personal, ServerSecret};
use crate::store::memory::{Mem, MemoryStore};
use crate::submitter::{public_key_b64, sign_message};
use crate::tlog::merkle::{leaf_hash, Tree};
use crate::tlog::note::{NoteSigner, NoteVerifier};

pub(super) const ORIGIN: &str = "sightline.test/log";
const LOG_SEED: [u8; 32] = [3; 32];
pub(super) const SECRET: [u8; 32] = [7; 32];
const SUBMITTER_SEED: [u8; 32] = [9; 32];
/// Leaves of the fixture tree: three full tiles and a partial one, a level-1 tile of width 3.
const TREE_LEAVES: u32 = 777;

pub(super) struct Keys {
    pub(super) signer: NoteSigner,
    pub(super) trusted: Vec<NoteVerifier>,
}

pub(super) fn keys() -> &'static Keys {
    static K: OnceLock<Keys> = OnceLock::new();
    K.get_or_init(|| {
        let signer = log_signer().unwrap_or_else(|e| panic!("the fixed fuzz log key does not parse: {e}"));
        Keys { trusted: vec![signer.verifier()], signer }
    })
}

/// The log key of `tests/common`.
pub(super) fn log_signer() -> Result<NoteSigner> {
    NoteSigner::from_seed(ORIGIN, &LOG_SEED)
}

pub(super) fn options() -> LedgerOptions {
    LedgerOptions { origin: ORIGIN.into(), max_batch_records: 1000 }
}

pub(super) fn tree() -> &'static Tree {
    static T: OnceLock<Tree> = OnceLock::new();
    T.get_or_init(|| Tree::from_leaf_hashes((0..TREE_LEAVES).map(|i| leaf_hash(&i.to_be_bytes())).collect()))
}

/// A message body of the fixture submitter (an email, political, with inferred lineage).
pub(super) fn message_body(message_id: &str) -> Value {
    json!({
        "kind": "message", "signer": "acme", "message_id": message_id,
        "delivery": {
            "channel": "email", "served_at": "2026-11-20T18:04:05Z", "member_state": "DE",
            "creative": {
                "sha256": "9f2c6f1e0b8f4a3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c", "brand": "Civic Future",
                "subject": "They don't want you to know", "language": "de", "campaign_id": "ocean-2026", "ad_id": "ad-17", "creative_id": "cr-3"
            },
            "email_headers": { "list_unsubscribe": "<mailto:unsubscribe@civic.example>", "list_unsubscribe_post": "List-Unsubscribe=One-Click" }
        },
        "sponsor": {
            "on_behalf_of": "p-civic", "payer": "p-holding",
            "political": {
                "kind": "election", "linked_to": "Bundestag election 2029", "date": "2029-09-23",
                "amount": { "value": "48000.00", "currency": "EUR" }, "funding_origin": "not_disclosed",
                "notice_url": "https://civic.example/transparency/ocean-2026"
            }
        },
        "recipient": { "commitment": "" },
        "personal_commitment": "",
        "targeting": {
            "criteria": [
                { "id": "c1", "effect": "include", "type": "modelled", "description": "High neuroticism (OCEAN model)",
                  "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-model"] },
                { "id": "c2", "effect": "exclude", "type": "observed", "description": "Follows the party's own page",
                  "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-quiz"] }
            ],
            "delivery_optimisation": { "ai_system": true, "goal": "not_disclosed" }
        },
        "lineage": [
            { "id": "s-quiz", "provider": "Quiz app", "contact": "dpo@quiz.example", "kind": "via_other_person_permission", "model": null,
              "collection_method": "A friend's quiz app read their page likes", "collected_at": "2026-03-01", "refresh": "once",
              "lookback_days": "not_disclosed", "legal_basis": "consent", "derived_from": [] },
            { "id": "s-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme.example", "kind": "inferred",
              "model": { "name": "ocean-v2", "version": "2.3.1" }, "collection_method": "Model over page likes",
              "collected_at": "not_disclosed", "refresh": "weekly", "lookback_days": 365, "legal_basis": "legitimate_interests",
              "derived_from": ["s-quiz"] }
        ],
        "controls": {
            "change_parameters_url": "https://social.example/settings/ads", "object_url": "not_disclosed",
            "opt_out_url": "https://social.example/settings/ads/opt-out", "controller_contact": "mailto:dpo@acme.example"
        }
    })
}

pub(super) fn fixture_submission(message_id: &str, recipient: &str) -> Result<Submission> {
    let matched = BTreeMap::from([("c1".to_string(), "neuroticism score 0.82 (high)".to_string())]);
    let consent = BTreeMap::from([("s-quiz".to_string(), ConsentEvidence { format: "tcf".into(), value: "CPXxRfAPXxRfAAfKABENB".into() })]);
    let key = SigningKey::from_bytes(&SUBMITTER_SEED);
    sign_message(&key, message_body(message_id), &Personal::new(recipient, matched, consent))
}

/// A message body with its commitments filled (what `Personal::parse_for` checks against).
pub(super) fn fixture_message() -> &'static MessageBody {
    static M: OnceLock<MessageBody> = OnceLock::new();
    M.get_or_init(|| {
        let message = fixture_submission("fuzz-body", "carol@example.org")
            .and_then(|s| serde_json::from_str(s.body.get()).map_err(|e| Error::malformed("fuzz fixture", e.to_string())));
        message.unwrap_or_else(|e| panic!("the fuzz fixture message does not build: {e}"))
    })
}

pub(super) struct Fixture {
    pub(super) ledger: Ledger,
    pub(super) signer: NoteSigner,
    pub(super) trusted: Vec<NoteVerifier>,
    /// The store as the fixture's own writes left it, before any fuzz input reached the ledger.
    pub(super) snapshot: Mem,
    /// A receipt of one message, and that message's entry bytes.
    pub(super) receipt: Receipt,
    pub(super) receipt_entry: Vec<u8>,
    /// A submission already in the log (a duplicate when sent again).
    pub(super) submission: Submission,
}

pub(super) fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| build_fixture().unwrap_or_else(|e| panic!("the fuzz fixture ledger does not build: {e}")))
}

/// Genesis, a submitter, two parties, messages to two recipients, an objection, a message
/// flagged by it, and an erasure: every kind of entry, private record and index row.
pub(super) fn build_fixture() -> Result<Fixture> {
    let k = keys();
    let store = Arc::new(MemoryStore::default());
    let ledger = Ledger::open(store.clone(), k.signer.clone(), ServerSecret(SECRET), options())?;
    let key = SigningKey::from_bytes(&SUBMITTER_SEED);
    ledger.register_submitter("acme", "Acme Ads GmbH", "dpo@acme.example", &public_key_b64(&key))?;
    ledger.register_party("p-holding", "Civic Holding SE", "info@holding.example", "LU", "self")?;
    ledger.register_party("p-civic", "Civic Future e.V.", "info@civic.example", "DE", "p-holding")?;
    let submission = fixture_submission("fuzz-1", "alice@example.org")?;
    let first = ledger.submit(vec![submission.clone()])?;
    let first = first.acks.first().ok_or_else(|| Error::Storage("the fixture's first message was not acknowledged".into()))?;
    ledger.submit(vec![fixture_submission("fuzz-2", "alice@example.org")?, fixture_submission("fuzz-3", "bob@example.org")?])?;
    ledger.object(first.index, "alice@example.org")?;
    ledger.submit(vec![fixture_submission("fuzz-4", "alice@example.org")?])?;
    ledger.erase_recipient("bob@example.org")?;
    let receipt = ledger.receipt(first.index)?;
    let receipt_entry = ledger.entry(first.index)?.ok_or_else(|| Error::Storage("the fixture's first message is missing".into()))?;
    let snapshot = store.snapshot()?;
    Ok(Fixture { ledger, signer: k.signer.clone(), trusted: k.trusted.clone(), snapshot, receipt, receipt_entry, submission })
}
