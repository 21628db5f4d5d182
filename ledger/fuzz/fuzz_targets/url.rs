#![no_main]
//! `cargo +nightly fuzz run url` (from ledger/fuzz). The body lives in the library so that
//! `tests/no_panic.rs` runs it on stable too.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sightline_ledger::fuzzing::url(data));
