//! The transparency-log formats, none of them Sightline's own: RFC 6962/9162 Merkle trees and
//! proofs (`merkle.rs`), the right edge of a tiled tree that a log keeps in memory (`edge.rs`), C2SP signed notes and checkpoints (`note.rs`), tiles and entry bundles
//! (`tiles.rs`, the only place tile paths are spelled), witnesses' cosignatures
//! (`cosignature.rs`) and the witness protocol (`tlog_witness.rs`).
//!
//! They know nothing of records: what a leaf holds is the model's (`crate::model`).

pub mod cosignature;
pub(crate) mod edge;
pub mod merkle;
pub mod note;
pub mod tiles;
pub mod tlog_witness;
