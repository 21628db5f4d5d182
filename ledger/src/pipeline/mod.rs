//! The write path, cut along the threads that run it (SPEC.md §5, README "Group commit,
//! pipelined"):
//!
//! ```text
//!  caller's thread                 sequencer thread                committer thread
//!  ───────────────                 ────────────────                ────────────────
//!  submission.rs  parse            sequencer/mod.rs  the loop      committer.rs
//!  prepare.rs     check, verify ─► sequencer/plan.rs dedupe,  ──►  one atomic, fsynced
//!       (jobs.rs: Job)               chain, seal, extend, sign       commit per group,
//!                                  sequencer/log_records.rs,         then publish
//!                                  sequencer/tallies.rs: one          (group.rs: Group)
//!                                    commit each, on this thread
//!  receipts.rs    proofs, acks ◄──────────── (jobs.rs: Durable) ◄─────────┘
//! ```
//!
//! `follow_up.rs` checks, as a message is prepared, that an earlier entry its lineage names is
//! a message of the same submitter to the same recipient. `handoff.rs` is a job as it crosses
//! the database from a front end that does not sequence to the one that does, and the answer
//! that crosses back (SPEC.md §12.2). `state.rs` holds what the threads
//! share: the tree's right edge and what is published of it (`tree.rs` reads the rest of the
//! tree from the store's tiles), the indexes, the keys, the counters, and the two steps that change the tree
//! (extend-and-sign, store-and-publish). Nothing here knows the [`Ledger`](crate::Ledger)
//! façade that starts the threads and queues the jobs.

pub(crate) mod committer;
pub(crate) mod follow_up;
pub(crate) mod group;
pub(crate) mod handoff;
pub(crate) mod jobs;
pub(crate) mod prepare;
pub(crate) mod receipts;
pub(crate) mod sequencer;
pub(crate) mod state;
pub(crate) mod submission;
pub(crate) mod tree;
