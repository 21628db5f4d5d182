#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # sightline-ledger
//!
//! The core of Sightline: an append-only, hash-chained, Merkle-tree,
//! Ed25519-signed log of served messages (ads, emails, SMS, push), each with
//! its targeting criteria and data lineage. `SPEC.md` at the repository root is
//! normative; this crate is one implementation of it (`verifier/` is another).
//!
//! ## Guarantees
//! - **Nothing acknowledged is lost.** [`Ledger::submit`] returns only after the
//!   batch is in one atomic, fsynced store commit (group commit, `pipeline/`).
//! - **Nothing corrupted is served.** [`Ledger::open`] reads the tree's right edge
//!   from the stored tiles and refuses a store whose root differs from its last
//!   signed checkpoint; every full tile read later must hash to its place in that
//!   tree, and every entry read back ([`Ledger::entry`], [`Ledger::entries`]) to its
//!   leaf, or is refused.
//! - **The ledger's cost does not grow with the log.** Its memory holds the tree's
//!   right edge and bounded caches; opening reads no entry but the registry's and
//!   the last (`pipeline/tree.rs`, `privacy/lookup.rs`). The sled store keeps no sled
//!   key per message (sled's memory grows with its keys): the message-id and recipient
//!   rows are hash tables on disk beside it (`store/sled/hashed_rows.rs`).
//! - **Only registered submitters append**, each record signed with the key the
//!   log itself registered; sponsors and payers are registered parties.
//! - **No personal data in the public log.** Recipients appear only as salted
//!   commitments; personal parts are encrypted per recipient and can be erased
//!   (crypto-shredding) while the chain still verifies.
//! - **A recipient is one identifier in one submitter's scope.** No identifier a
//!   submitter writes links its messages to another submitter's recipient; a
//!   recipient's list, objections and erasure through a why link need the address
//!   the message was sent to and stay in that scope (`ledger/rights.rs`).
//!
//! - **Several front ends, one sequencer at a time.** On a store several servers share
//!   (PostgreSQL, `store/postgres/`), [`Ledger::open_shared`] makes each a front end that checks
//!   and serves on its own; the one holding the store's lease sequences, its commits fenced by the
//!   lease, and the others hand it their checked batches (`cluster/`, SPEC.md §12.2).
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
//! Each folder of `src/` is one layer; a layer uses the ones above it in this table, never
//! one below (a test holds the crate to it: `tests/tests/architecture.rs`).
//!
//! | folder | concern | public as |
//! |---|---|---|
//! | `tlog/` | the transparency-log formats: RFC 6962/9162 trees and proofs, C2SP notes, checkpoints, tiles, cosignatures, the witness protocol | [`merkle`], [`note`], [`tiles`], [`cosignature`], [`tlog_witness`] |
//! | `model/` | what a record is: RFC 8785 bytes, entries, record types and their rules (the audience and a recipient's evaluation among them), code lists, signatures, the registry, the request header | [`canonical`], [`entry`], [`record`], [`audience`], [`selection`], [`tally`], [`codes`], [`text`], [`json_text`], [`serde_words`], [`registry`], [`request_auth`] |
//! | `evidence/` | what leaves the log as evidence: receipts and entry references | [`receipt`], [`reference`](mod@reference) |
//! | `store/` | the storage trait, its key names, and its backends (`sled/`, `memory/`, `postgres/`); what a store several front ends share offers | [`store`] |
//! | `privacy/` | personal parts, commitments, keys and tokens; the private recipient index, its rows and caches, and its conversions | [`privacy`] |
//! | `pipeline/` | the write path by thread: the caller's (parse, prepare and a follow-up's earlier entry, receipts), the sequencer's, the committer's; the state they share; a job handed between front ends | [`Submission`], [`BatchText`], [`Ack`], [`Metrics`] |
//! | `cluster/` | several front ends on one store: the lease, catching up, handing jobs to the one that sequences | [`ClusterOptions`], [`FrontEndRole`] |
//! | `ledger/` | the [`Ledger`]: open, read, write, a recipient's rights, witnessed receipts, fsck | [`Ledger`] |
//! | `export.rs` | compliance exports: bundles, JSONL, CSV | [`export`] |
//! | `submitter.rs` | the submitter's side: commitments and signatures | [`submitter`] |
//! | `fuzzing/` | fuzz bodies, fixtures and store damage, and the example message of SPEC.md §3.4 read from `tests/fixtures/message.json`, behind the `fuzzing` feature (never in the server) | `fuzzing` |

pub mod error;
pub mod export;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod privacy;
pub mod store;
pub mod submitter;

mod cluster;
mod evidence;
mod ledger;
mod model;
mod pipeline;
mod tlog;

pub use evidence::{receipt, reference};
pub use model::{audience, canonical, codes, entry, json_text, record, registry, request_auth, selection, serde_words, tally, text};
pub use tlog::{cosignature, merkle, note, tiles, tlog_witness};

pub use cluster::{ClusterOptions, FrontEndRole};
pub use error::{Error, Result};
pub use ledger::{EntrySnapshot, Ledger, PersonalState};
pub use model::codes::{is_member_state, MEMBER_STATES};
pub use pipeline::receipts::{Ack, BatchAck};
pub use pipeline::state::{CommitListener, LedgerOptions, Metrics, BATCH_SIZE_BUCKETS};
pub use pipeline::submission::{BatchText, Submission, Submissions};
