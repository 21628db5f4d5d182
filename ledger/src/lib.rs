#![forbid(unsafe_code)]
//! # sightline-ledger
//!
//! The core of Sightline: an append-only, hash-chained, Merkle-tree,
//! Ed25519-signed log of served messages (ads, emails, SMS, push), each with
//! its targeting criteria and data lineage. `SPEC.md` at the repository root is
//! normative; this crate is one implementation of it (`verifier/` is another).
//!
//! ## Guarantees
//! - **Nothing acknowledged is lost.** [`Ledger::submit`] returns only after the
//!   batch is in one atomic, fsynced store commit (group commit, `append.rs`).
//! - **Nothing corrupted is served.** [`Ledger::open`] rebuilds the tree from
//!   the stored tiles and refuses a store whose root differs from its last
//!   signed checkpoint; every entry read back ([`Ledger::entry`],
//!   [`Ledger::entries`]) must hash to its leaf in that tree or is refused.
//! - **Only registered submitters append**, each record signed with the key the
//!   log itself registered; sponsors and payers are registered parties.
//! - **No personal data in the public log.** Recipients appear only as salted
//!   commitments; personal parts are encrypted per recipient and can be erased
//!   (crypto-shredding) while the chain still verifies.
//! - **A recipient is one identifier in one submitter's scope.** No identifier a
//!   submitter writes links its messages to another submitter's recipient; a
//!   recipient's list, objections and erasure through a why link need the address
//!   the message was sent to and stay in that scope (`rights.rs`).
//!
//! ## Non-goals
//! - Hiding *that* a message was served: the log is public by design.
//! - Proving by itself that a submitter reported every message it served; the log
//!   proves what was reported was not changed, removed or reordered. What it adds
//!   for completeness is outside evidence: every acknowledged message gets the
//!   reference it must carry ([`reference`](mod@reference)), and submitters log signed daily
//!   counts ([`tally`]) that the verifier holds to the logged messages.
//! - Physical erasure below the file system: erasure overwrites the recipient's
//!   keys, their link to their entries and the ciphertexts in place with zeros;
//!   the file system or the disk may keep old blocks.
//!
//! ## Map
//! | module | concern |
//! |---|---|
//! | [`record`], `record_fields`, `record_rules` | the record model of SPEC.md §3 and its validation |
//! | `disclosures` | what revision 3 adds to a message: creative content, Art. 9 conditions, match keys, data labels, the TTPA notice |
//! | [`audience`] | the audience expression and a recipient's evaluation: what proves they were selected |
//! | `omitted` | reading a body logged before a field was required |
//! | `follow_up` | a source that is an earlier message of this log: same submitter, same recipient |
//! | [`codes`] | the ISO country, language and currency lists, the EU Member States |
//! | [`text`] | free text: the formatting characters refused, and their visible markers |
//! | `json_keys` | finding a repeated JSON key (SPEC.md §1) in text not in canonical form |
//! | [`serde_words`] | a JSON decoding error in plain words, naming its own field |
//! | [`tally`], `tally_append` | the `tally` record of SPEC.md §3.8 and how a batch of them is appended |
//! | [`reference`](mod@reference) | entry references a served message carries (SPEC.md §10.2) |
//! | [`canonical`] | RFC 8785 bytes, the entry envelope, the signed message |
//! | [`merkle`] | RFC 6962/9162 hashing, tree, inclusion and consistency proofs |
//! | [`note`] | C2SP signed-note and tlog-checkpoint |
//! | [`cosignature`] | C2SP tlog-cosignature: witnesses' Ed25519 cosignatures (type 0x04) |
//! | [`tlog_witness`] | C2SP tlog-witness: the `add-checkpoint` request and the witness's rules |
//! | `witnessed` | receipts and exports at an older checkpoint that witnesses cosigned |
//! | [`tiles`] | C2SP tlog-tiles paths, tiles and entry bundles |
//! | [`receipt`] | offline receipts (C2SP tlog-proof) |
//! | `signatures` | how a record signature is checked (ZIP 215), alone and in batches |
//! | [`privacy`] | personal parts, commitments, per-recipient keys, tokens |
//! | `recipients` | the private recipient index on disk: chains through the private records, layouts |
//! | `rescope` | the conversion to layout 4: recipient handles scoped to their submitter |
//! | `rights` (on [`Ledger`]) | a recipient's rights through a why link (address checked), compliance erasure |
//! | `lookup` | message ids and recipients in memory, rebuilt from the lookup records on open |
//! | [`registry`] | log keys, submitters and parties learned from the log |
//! | [`request_auth`] | the submitter's signed `Authorization` header of a submission request |
//! | [`store`] | the storage trait and the sled backend |
//! | `append` | the caller's side of a write: prepare (parse, check, verify signatures), receipts |
//! | [`BatchText`] (`batch_text.rs`) | a submission batch's JSON text split into records in one pass |
//! | `batcher` | the sequencer thread: dedupe, sequence, chain, extend the tree, sign |
//! | `commit` | the committer thread: one atomic, fsynced store commit per group, then publish |
//! | [`Ledger`] (`ledger.rs`, `writes.rs`) | opening, reading, writing |
//! | [`export`] | compliance exports: bundles, JSONL, CSV |
//! | [`submitter`] | the submitter's side: commitments and signatures |
//! | `example` | the example message of SPEC.md §3.4 from `tests/fixtures/message.json` (hidden) |
//! | `fuzzing` | fuzz bodies for `fuzz/` and `tests/no_panic.rs` (hidden) |
//! | `witness_fuzzing` | the fuzz body of a witness's request handling (hidden) |

pub mod audience;
pub mod canonical;
pub mod codes;
pub mod cosignature;
pub mod error;
#[doc(hidden)]
pub mod example;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod merkle;
pub mod note;
pub mod privacy;
pub mod receipt;
pub mod record;
pub mod reference;
pub mod registry;
pub mod request_auth;
pub mod serde_words;
pub mod store;
pub mod submitter;
pub mod tally;
pub mod text;
pub mod tiles;
pub mod tlog_witness;
#[doc(hidden)]
pub mod witness_fuzzing;

mod append;
mod batch_text;
mod batcher;
mod commit;
mod disclosed;
mod disclosures;
mod follow_up;
mod json_keys;
mod ledger;
mod lookup;
mod omitted;
mod recipients;
mod record_fields;
mod record_rules;
mod rescope;
mod rights;
mod signatures;
mod tally_append;
mod witnessed;
mod writes;

pub use append::{Ack, BatchAck, Submission};
pub use batch_text::{BatchText, Submissions};
pub use codes::{is_member_state, MEMBER_STATES};
pub use error::{Error, Result};
pub use ledger::{Ledger, LedgerOptions, Metrics, PersonalState, BATCH_SIZE_BUCKETS};
