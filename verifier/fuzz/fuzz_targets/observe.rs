#![no_main]
//! `cargo +nightly fuzz run observe` (from verifier/fuzz): e-mails, ad observations and entry
//! references as `sightline-verifier observe` reads them. The body lives in the library so that
//! `tests/no_panic.rs` runs it on stable too.
libfuzzer_sys::fuzz_target!(|data: &[u8]| sightline_verifier::fuzzing::observe(data));
