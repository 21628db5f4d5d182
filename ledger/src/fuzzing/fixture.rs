//! The fuzz fixtures: the origin and fixed keys of `ledger/tests/common` (log key seed `[3; 32]`,
//! server secret `[7; 32]`, submitter `acme` with seed `[9; 32]`), a fixture tree, and a fixture
//! ledger in memory that holds every kind of entry, private record and index row.

use std::sync::{Arc, OnceLock};

use ed25519_dalek::SigningKey;

use crate::error::{Error, Result};
use crate::evidence::receipt::Receipt;
use crate::ledger::Ledger;
use crate::model::record::MessageBody;
use crate::pipeline::state::LedgerOptions;
use crate::pipeline::submission::Submission;
use crate::privacy::ServerSecret;
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

/// A message of the fixture submitter: the example of SPEC.md §3.4 (`tests/fixtures/message.json`).
pub(super) fn fixture_submission(message_id: &str, recipient: &str) -> Result<Submission> {
    let key = SigningKey::from_bytes(&SUBMITTER_SEED);
    sign_message(&key, super::example::message("acme", message_id), &super::example::personal(recipient))
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
    ledger.register_party("p-civic-holding", "Civic Holding SE", "info@holding.example", "LU", "self")?;
    ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic.example", "DE", "p-civic-holding")?;
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
