//! What a message carries out of the log as evidence (SPEC.md §10): the offline receipt of an
//! entry (`receipt.rs`: the entry with a C2SP tlog-proof) and the reference a served message
//! carries to its entry (`reference.rs`).

pub mod receipt;
pub mod reference;
