//! The tamper matrix: each alteration of a bundle, checkpoint, receipt or live log is caught
//! with its own precise message and exit code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use sightline_verifier::note::SignedCheckpoint;
use sightline_verifier::trust::Options;
use sightline_verifier::{bundle, consistency, Error};

const BIN: &str = env!("CARGO_BIN_EXE_sightline-verifier");

fn opts(_log: &Log) -> Options {
    Options { trusted: vec![skey(1).vkey()], signatures: true, quiet: true, ..Options::default() }
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let p = dir.join(name);
    write_lines(&p, lines);
    p
}

fn verify(lines: &[String], o: &Options) -> Result<sightline_verifier::Summary, Error> {
    let d = tempfile::tempdir().unwrap();
    bundle::verify_bundle(&write(d.path(), "b.sightline-bundle.jsonl", lines), o)
}

fn expect_err(lines: &[String], code: &str, needle: &str) -> Error {
    let (log, _) = Log::demo(1);
    let e = verify(lines, &opts(&log)).expect_err("tampering was not detected");
    assert_eq!(e.code(), code, "{e}");
    assert!(e.to_string().contains(needle), "message {:?} lacks {needle:?}", e.to_string());
    assert_eq!(e.exit_code(), 1);
    e
}

fn demo() -> (Log, Vec<String>) {
    let (log, _) = Log::demo(20);
    let cp = log.checkpoint();
    let lines = log.bundle_lines(&cp, None, true);
    (log, lines)
}

fn run_bin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn happy_path_complete_bundle() {
    let (log, lines) = demo();
    let s = verify(&lines, &opts(&log)).unwrap();
    assert_eq!(s.entries_checked, 24);
    assert_eq!(s.signatures_checked, 24);
    assert_eq!(s.personal_parts_checked, 20);
    assert!(s.complete);
    let mut o = opts(&log);
    o.signatures = false;
    assert_eq!(verify(&lines, &o).unwrap().signatures_checked, 0);
}

#[test]
fn happy_path_filtered_bundle() {
    let (log, _) = Log::demo(20);
    let lines = log.bundle_lines(&log.checkpoint(), Some(&[7, 9, 10, 23]), false);
    assert_eq!(lines.len(), 1 + 4 + 4);
    let s = verify(&lines, &opts(&log)).unwrap();
    assert_eq!(s.entries_checked, 8);
    assert!(!s.complete);
    // A filtered line whose proof was altered.
    let mut bad = lines.clone();
    bad[6] = bad[6].replacen("\"proof\":[\"", "\"proof\":[\"AAAA", 1);
    expect_err(&bad, "bad_proof", "entry 9");
}

#[test]
fn changed_field_in_one_record() {
    let (_, mut lines) = demo();
    lines[8] = lines[8].replacen("Civic Future\"", "Civic Futures\"", 1);
    expect_err(&lines, "bad_signature", "entry 7 (kind message, signer \"acme-ads\"): the signature does not verify");
    // Without signature checks the chain catches it at the next entry.
    let (log, _) = Log::demo(1);
    let mut o = opts(&log);
    o.signatures = false;
    let e = verify(&lines, &o).unwrap_err();
    assert_eq!(e.code(), "chain_broken");
    assert!(e.to_string().contains("the chain is broken at entry 8"), "{e}");
}

#[test]
fn deleted_record() {
    let (_, mut lines) = demo();
    lines.remove(11);
    expect_err(&lines, "missing_entry", "entry 10 is missing: the records jump from entry 9 to 11");
}

#[test]
fn swapped_records() {
    let (_, mut lines) = demo();
    lines.swap(11, 12);
    expect_err(&lines, "out_of_order", "expected index 10, found 11");
}

#[test]
fn inserted_record() {
    let (_, mut lines) = demo();
    let copy = lines[11].clone();
    lines.insert(12, copy);
    expect_err(&lines, "duplicate_entry", "entry 10 appears more than once");
    // A validly signed record appended after the checkpoint's last entry.
    let (mut log, acme) = Log::demo(20);
    let cp = log.checkpoint();
    let (body, _) = message("acme-ads", 999);
    log.append_signed(&body, &acme, None);
    let l = log.bundle_lines(&cp, None, false);
    expect_err(&l, "beyond_checkpoint", "entry 24 is beyond the checkpoint size 24");
}

#[test]
fn truncated_tail() {
    let (_, mut lines) = demo();
    lines.truncate(lines.len() - 3);
    expect_err(&lines, "truncated", "the checkpoint covers 24 entries but only 21 are present");
}

#[test]
fn root_mismatch_when_checkpoint_is_for_another_tree() {
    use base64::Engine as _;
    let (log, _) = Log::demo(20);
    let mut leaves = log.leaves.clone();
    leaves[23][0] ^= 1;
    let root = base64::engine::general_purpose::STANDARD.encode(sightline_verifier::merkle::root(&leaves));
    let cp = log.log_key.sign_note(&format!("{ORIGIN}\n24\n{root}\n"));
    expect_err(&log.bundle_lines(&cp, None, false), "root_mismatch", "but the checkpoint says");
}

#[test]
fn forged_checkpoint_signature() {
    let (log, _) = Log::demo(20);
    let cp = log.checkpoint();
    let sig_start = cp.rfind(' ').unwrap() + 8;
    let mut b = cp.into_bytes();
    b[sig_start] = if b[sig_start] == b'A' { b'B' } else { b'A' };
    let lines = log.bundle_lines(&String::from_utf8(b).unwrap(), None, false);
    expect_err(&lines, "bad_checkpoint_signature", "the checkpoint: the signature by key sightline.test/log+");
}

#[test]
fn checkpoint_signed_by_wrong_key() {
    let (log, _) = Log::demo(20);
    let cp = skey(66).sign_note(&log.checkpoint_text(24));
    let lines = log.bundle_lines(&cp, None, false);
    expect_err(&lines, "untrusted_checkpoint", "is not signed by any trusted key");
}

#[test]
fn trusted_key_not_in_log() {
    let (log, lines) = demo();
    let mut o = opts(&log);
    o.trusted = vec![skey(66).vkey()];
    let e = verify(&lines, &o).unwrap_err();
    assert_eq!(e.code(), "trusted_key_not_in_log", "{e}");
}

#[test]
fn bad_submitter_signature() {
    let (mut log, _) = Log::demo(5);
    let (body, _) = message("acme-ads", 77);
    log.append_signed(&body, &key(9), None);
    let lines = log.bundle_lines(&log.checkpoint(), None, false);
    expect_err(&lines, "bad_signature", "entry 9 (kind message, signer \"acme-ads\")");
}

/// A signature whose `R` has a component of order 8 (`R + T`): valid under the cofactored
/// ZIP 215 rules of SPEC §4, whether checked in a batch or alone, though RFC 8032's
/// cofactorless check would refuse it. Ledger and verifier must agree on such a record.
fn torsioned_signature(k: &ed25519_dalek::SigningKey, body: &serde_json::Value) -> String {
    use base64::Engine as _;
    use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT as B, EIGHT_TORSION};
    use curve25519_dalek::scalar::Scalar;
    use sha2::{Digest, Sha512};
    let mut msg = b"sightline/record/v1\n".to_vec();
    msg.extend(serde_jcs::to_vec(body).unwrap());
    let r = Scalar::from(987_654_321u64);
    let big_r = (r * B + EIGHT_TORSION[3]).compress();
    let h = Scalar::from_hash(Sha512::new().chain_update(big_r.as_bytes()).chain_update(k.verifying_key().as_bytes()).chain_update(&msg));
    let s = r + h * k.to_scalar();
    base64::engine::general_purpose::STANDARD.encode([big_r.to_bytes(), s.to_bytes()].concat())
}

#[test]
fn a_signature_with_a_small_order_component_verifies_under_zip_215() {
    let (mut log, acme) = Log::demo(3);
    let (body, _) = message("acme-ads", 50);
    let sig = torsioned_signature(&acme, &body);
    log.append_raw(&serde_jcs::to_vec(&body).unwrap(), &sig, &[], None);
    let lines = log.bundle_lines(&log.checkpoint(), None, false);
    let s = verify(&lines, &opts(&log)).expect("the record verifies under the rules of SPEC §4");
    assert_eq!(s.signatures_checked, 8);
    // Over another body, the same kind of signature is caught like any other.
    let (other, _) = message("acme-ads", 51);
    let (mut log, acme) = Log::demo(3);
    log.append_raw(&serde_jcs::to_vec(&other).unwrap(), &torsioned_signature(&acme, &body), &[], None);
    expect_err(&log.bundle_lines(&log.checkpoint(), None, false), "bad_signature", "entry 7 (kind message");
}

#[test]
fn a_submitter_registered_with_a_key_of_small_order_is_reported() {
    use base64::Engine as _;
    use curve25519_dalek::constants::EIGHT_TORSION;
    let (mut log, _) = Log::demo(1);
    let weak = base64::engine::general_purpose::STANDARD.encode(EIGHT_TORSION[2].compress().to_bytes());
    log.log_body(serde_json::json!({"kind":"submitter","signer":"log","submitter":"forgeable","name":"F",
        "contact":"f@example.org","public_key":weak,"registered_at":"2026-11-24T09:00:01Z"}));
    let lines = log.bundle_lines(&log.checkpoint(), None, false);
    let e = verify(&lines, &opts(&log)).expect_err("a weak key is an invalid registration");
    assert!(e.to_string().contains("entry 5") && e.to_string().contains("small order"), "{e}");
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn unknown_submitter() {
    let (mut log, _) = Log::demo(2);
    let (body, _) = message("nobody", 1);
    log.append_signed(&body, &key(9), None);
    let lines = log.bundle_lines(&log.checkpoint(), None, false);
    expect_err(&lines, "unknown_signer", "entry 6: signer \"nobody\" has no submitter registration");
}

#[test]
fn erased_personal_part_still_verifies() {
    let (log, mut lines) = demo();
    let at = lines[10].find(",\"personal\":").unwrap();
    lines[10] = format!("{},\"personal\":\"erased\"}}", &lines[10][..at]);
    let s = verify(&lines, &opts(&log)).unwrap();
    assert_eq!((s.personal_parts_checked, s.personal_parts_erased), (19, 1));
    // An altered personal part is not erasure: the commitment catches it.
    lines[11] = lines[11].replace("person6@example.org", "person9@example.org");
    expect_err(&lines, "commitment_mismatch", "entry 10: the recipient commitment does not match");
}

#[test]
fn key_rotation_is_followed() {
    let (mut log, acme) = Log::demo(3);
    log.rotate(5);
    let (body, personal) = message("acme-ads", 50);
    log.append_signed(&body, &acme, Some(personal));
    log.party("p-after-rotation");
    let cp = log.checkpoint();
    let lines = log.bundle_lines(&cp, None, true);
    let s = verify(&lines, &opts(&log)).unwrap();
    assert_eq!(s.log_keys.len(), 2);
    // Signed by the old key after the rotation: refused.
    let old = skey(1).sign_note(&log.checkpoint_text(log.entries.len()));
    expect_err(&log.bundle_lines(&old, None, false), "untrusted_checkpoint", "the current log key");
}

#[test]
fn split_view_and_rollback() {
    let (log, _) = Log::demo(20);
    let mut fork = Log::demo(19).0;
    fork.party("p-fork");
    let a = SignedCheckpoint::parse(log.checkpoint().as_bytes()).unwrap();
    let b = SignedCheckpoint::parse(fork.checkpoint().as_bytes()).unwrap();
    assert_eq!(a.checkpoint.size, b.checkpoint.size);
    let e = consistency::check(&a, &b, None, &opts(&log)).unwrap_err();
    assert_eq!(e.code(), "split_view");
    assert!(e.to_string().contains("split view: two validly signed checkpoints of size 24"), "{e}");
    let small = SignedCheckpoint::parse(log.log_key.sign_note(&log.checkpoint_text(10)).as_bytes()).unwrap();
    let e = consistency::check(&a, &small, None, &opts(&log)).unwrap_err();
    assert!(e.to_string().contains("rollback: the newer checkpoint has size 10, smaller than the older size 24"), "{e}");
    // Via the binary: exit 1 and the words on stderr.
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a"), log.checkpoint()).unwrap();
    std::fs::write(d.path().join("b"), fork.checkpoint()).unwrap();
    let (code, _, err) = run_bin(&[
        "consistency",
        d.path().join("a").to_str().unwrap(),
        d.path().join("b").to_str().unwrap(),
        "--vkey",
        &skey(1).vkey().to_text(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("split view"), "{err}");
}

#[test]
fn binary_exit_codes_and_messages() {
    let (log, mut lines) = demo();
    let d = tempfile::tempdir().unwrap();
    let vk = skey(1).vkey().to_text();
    let good = write(d.path(), "good.jsonl", &lines);
    let (code, out, err) = run_bin(&["verify", good.to_str().unwrap(), "--vkey", &vk]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("OK: export bundle"), "{out}");
    lines.remove(11);
    let bad = write(d.path(), "bad.jsonl", &lines);
    let (code, _, err) = run_bin(&["verify", bad.to_str().unwrap(), "--vkey", &vk]);
    assert_eq!(code, 1);
    assert!(err.contains("entry 10 is missing"), "{err}");
    let (code, out, _) = run_bin(&["verify", bad.to_str().unwrap(), "--vkey", &vk, "--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["error"]["index"], 10);
    assert_eq!(v["error"]["code"], "missing_entry");
    let (code, _, err) = run_bin(&["verify", d.path().join("nope.jsonl").to_str().unwrap(), "--vkey", &vk]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run_bin(&["verify", good.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no trusted log key"), "{err}");
    let (code, _, _) = run_bin(&["verify", good.to_str().unwrap(), "--structural"]);
    assert_eq!(code, 0);
    let (code, out, _) = run_bin(&["--help"]);
    assert_eq!(code, 0);
    for sub in ["verify", "consistency", "receipt", "watch"] {
        assert!(out.contains(sub), "{out}");
    }
    let _ = log;
}

#[test]
fn a_line_that_is_not_utf8_is_named() {
    let (log, lines) = demo();
    let d = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let mut l = l.clone().into_bytes();
        if i == 6 {
            let at = l.iter().position(|&b| b == b'C').unwrap();
            l[at] = 0xff;
        }
        bytes.extend_from_slice(&l);
        bytes.push(b'\n');
    }
    let p = d.path().join("b.sightline-bundle.jsonl");
    std::fs::write(&p, bytes).unwrap();
    let e = bundle::verify_bundle(&p, &opts(&log)).expect_err("a non-UTF-8 line was accepted");
    assert_eq!(e.exit_code(), 1);
    assert!(e.to_string().contains("bundle line 7") && e.to_string().contains("not UTF-8"), "{e}");
}
