#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # sightline-verifier
//!
//! A second, independent implementation of the Sightline log formats (SPEC.md, sightline/v1)
//! for regulators and anyone else who must not take the operator's word. It shares no code
//! with the ledger or the server.
//!
//! ## What it guarantees
//!
//! When `verify` succeeds on a **complete** export bundle or a live log:
//! - every entry is in RFC 8785 canonical form and its RFC 6962 leaf hash chains to the next
//!   entry (`prev`), so no entry was changed, removed, inserted or reordered;
//! - the Merkle root rebuilt from all entries equals the root of the signed checkpoint;
//! - the checkpoint is signed by the log key current at its size, and that key descends, via
//!   `log_key` entries each signed by its predecessor, from a key you trusted (`--vkey`);
//! - every record's Ed25519 signature verifies (ZIP 215 rules, SPEC §4) with the key of its
//!   signer as registered in the log before it (log records with the log key current at their
//!   index), and no submitter key is of small order;
//! - sponsors, payers, controlling parties and objection flags name entries that exist earlier;
//!   `message_id`s are unique per submitter;
//! - personal parts shipped in a bundle match both commitments, and a revision-3 part's
//!   evaluation proves that the record's audience held for the person; an erased one is
//!   reported, not treated as tampering;
//! - every `tally` (SPEC §3.8) equals the number of message entries of its submitter, campaign,
//!   day and Member State, and no day is tallied twice.
//!
//! `observe` adds what the log alone cannot show: a message seen in the wild either names an
//! entry the log holds, with the content, time, channel and sponsor it shows, or is itself
//! evidence that it was not logged (or was logged as something else).
//!
//! For a **filtered** bundle it guarantees that each entry it holds is in the log at the
//! checkpoint (inclusion proofs) with the same signature and registry checks; `consistency`
//! and `watch` guarantee a log only grew; `receipt` guarantees one entry's inclusion.
//!
//! ## Non-goals
//! - It does not prove a filtered export selected *every* matching entry.
//! - It cannot find a message nobody observed and no tally counts: completeness is checked
//!   against what recipients, panels and advertisers bring.
//! - It re-applies the content rules of SPEC §3 only as far as [`content`] says (nullable fields
//!   present, Member State, language, currency and country codes on their lists; formatting
//!   characters warned about): not URL shapes or text lengths.
//! - It cannot tell whether what a submitter declared is true, nor open erased commitments.
//! - One checkpoint cannot show a split view; compare checkpoints over time (`watch`) or with
//!   other parties (`consistency`), or require cosignatures of witnesses you trust
//!   (`--witness`): a witness cosigns only checkpoints consistent with all it cosigned before.
//! - ML-DSA-44 cosignatures are recognised but not checked (and never counted).
//! - `--structural` skips record and `log_key` signatures: it proves structure, not authorship.
//!
//! ## Module map
//! - [`error`]: the one error type, messages for reports, exit codes.
//! - [`merkle`]: RFC 6962/9162 hashing, roots, proof verification, compact ranges.
//! - [`note`]: C2SP signed notes, vkeys, tlog checkpoints.
//! - [`tiles`]: C2SP tlog-tiles paths, entry bundles, reading a log over HTTP or from a folder.
//! - `tilehash`: consistency proofs built from hash tiles (any tlog-tiles log).
//! - [`json`]: a strict JSON reader that recognises RFC 8785 canonical bytes.
//! - `record`: one Sightline entry's fields, signed message and personal-part commitments.
//! - [`content`]: the content rules re-applied to a body; [`content::neutralise`] for printing.
//! - `audience`: a revision-3 body's audience expression, and a shipped personal part's
//!   evaluation, which must prove the audience held for the person.
//! - `prepare`: one entry's canonical bytes, leaf hash and fields (the parallel stage).
//! - [`chain`]: walking entries in order: chain, log keys, registries, batched signatures.
//! - [`sig`]: record signatures by the ZIP 215 rules, alone or in batches.
//! - [`trust`]: trusted keys and checkpoint signature rules.
//! - `cosignature`: witness keys and cosignatures (C2SP tlog-cosignature);
//!   [`witness_policy`]: k-of-n witness policies and what the witnesses say about a checkpoint.
//! - [`bundle`]: export bundles; [`live`]: live logs; [`receipt`]: receipts.
//! - [`consistency`]: append-only proofs and the state file; [`watch`]: polling monitor.
//! - `tally`: tallies (SPEC §3.8) reconciled with the messages of their campaign and day.
//! - [`observe`]: messages seen in the wild judged against the log (logged, not logged,
//!   misreported), evidence files and batch audits; [`reconcile`]: billed counts against the log.
//! - [`report`]: human and JSON output, progress bar; `fuzzing`: fuzz bodies (the `fuzzing` feature: the fuzz crate and
//!   the `no_panic` tests enable it, the binary does not).

pub mod bundle;
pub mod chain;
pub mod consistency;
pub mod content;
pub mod error;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod json;
pub mod live;
pub mod merkle;
pub mod note;
pub mod observe;
pub mod receipt;
pub mod reconcile;
pub mod report;
pub mod sig;
pub mod tiles;
pub mod trust;
pub mod watch;
pub mod witness_policy;

mod audience;
mod cosignature;
mod prepare;
mod record;
mod tally;
mod tilehash;

pub use error::{Error, Result};
pub use report::Summary;
