//! The golden log (`tests/golden/`): a frozen Sightline log of every record kind, written once
//! per format version by `golden/write.rs` and never again. The tests that hold the current
//! code to it come with the folder it writes.

#[path = "golden/folder.rs"]
mod folder;
#[path = "golden/write.rs"]
mod write;
