#![no_main]
//! `cargo +nightly fuzz run witness` (from ledger/fuzz): a witness's `add-checkpoint` parser and
//! rules. The body lives in the library so that `tests/no_panic.rs` runs it on stable too.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sightline_ledger::fuzzing::witness::add_checkpoint(data));
