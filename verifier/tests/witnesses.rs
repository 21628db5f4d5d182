//! Witness policies (`--witness`, `--witness-file`, `--witness-threshold`): real cosignatures by
//! other implementations' witnesses verify (tests/data/witness/README.md says where each byte
//! comes from), keys not trusted are listed and never counted, ML-DSA-44 is reported as not yet
//! checked, and a split view is reported with both checkpoints as evidence.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use sha2::{Digest, Sha256};
use sightline_verifier::error::Error;
use sightline_verifier::note::{SignedCheckpoint, Skey, Vkey};
use sightline_verifier::witness_policy::{self, WitnessPolicy};

const BIN: &str = env!("CARGO_BIN_EXE_sightline-verifier");

fn data(f: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/witness").join(f)
}

fn read(f: &str) -> String {
    std::fs::read_to_string(data(f)).unwrap()
}

fn policy(files: &[&str], keys: &[String], k: Option<usize>) -> WitnessPolicy {
    let files: Vec<PathBuf> = files.iter().map(|f| data(f)).collect();
    witness_policy::load(keys, &files, k).unwrap().unwrap()
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

const NOW: u64 = 1_790_000_000;

#[test]
fn armored_witness_cosignatures_verify_against_the_keys_the_devices_attest() {
    let cp = SignedCheckpoint::parse(read("aw-ftlog-ci-3.checkpoint").as_bytes()).unwrap();
    let log = Vkey::parse(&read("aw-ftlog-ci-3.vkey")).unwrap();
    cp.verify(std::slice::from_ref(&log)).unwrap();
    let p = policy(&["armored-witness.witnesses"], &[], Some(2));
    let r = p.evaluate("the checkpoint", &cp, std::slice::from_ref(&log), NOW).unwrap();
    assert!(r.met);
    let names: Vec<&str> = r.cosigned.iter().map(|c| c.witness.as_str()).collect();
    assert_eq!(names, ["ArmoredWitness-weathered-rain", "ArmoredWitness-floral-sky"]);
    assert_eq!(r.cosigned[0].time, "2024-10-23T15:48:23Z");
    assert_eq!(r.not_cosigned, ["ArmoredWitness-small-breeze", "ArmoredWitness-autumn-wood"]);
    assert!(r.untrusted.is_empty(), "the log's own signature is not listed: {:?}", r.untrusted);

    let pixel = SignedCheckpoint::parse(read("pixel-611.checkpoint").as_bytes()).unwrap();
    let r = p.evaluate("the checkpoint", &pixel, &[], NOW).unwrap();
    let names: Vec<&str> = r.cosigned.iter().map(|c| c.witness.as_str()).collect();
    assert_eq!(names, ["ArmoredWitness-small-breeze", "ArmoredWitness-autumn-wood"]);
    assert_eq!(r.untrusted.len(), 1, "the ECDSA log signature is a key we were not told to trust");
    assert!(r.untrusted[0].starts_with("pixel_transparency_log+"));
}

#[test]
fn keys_not_trusted_are_listed_and_never_counted() {
    let cp = SignedCheckpoint::parse(read("aw-ftlog-ci-3.checkpoint").as_bytes()).unwrap();
    let floral = read("armored-witness.witnesses").lines().find(|l| l.starts_with("ArmoredWitness-floral-sky")).unwrap().to_string();
    let p = policy(&[], &[floral], None);
    let r = p.evaluate("the checkpoint", &cp, &[], NOW).unwrap();
    assert_eq!((r.cosigned.len(), r.threshold), (1, 1));
    assert!(r.untrusted.contains(&"ArmoredWitness-weathered-rain+0a78df20".to_string()), "{:?}", r.untrusted);
}

#[test]
fn an_altered_checkpoint_fails_its_trusted_cosignatures() {
    let altered = read("aw-ftlog-ci-3.checkpoint").replacen("\n59\n", "\n60\n", 1);
    let cp = SignedCheckpoint::parse(altered.as_bytes()).unwrap();
    let e = policy(&["armored-witness.witnesses"], &[], Some(1)).evaluate("the checkpoint", &cp, &[], NOW).unwrap_err();
    assert!(matches!(e, Error::BadCosignature { .. }), "{e}");
    assert!(e.to_string().contains("altered after the witness cosigned it"), "{e}");
    assert_eq!(e.exit_code(), 1);
}

#[test]
fn the_cli_names_who_cosigned_and_fails_in_words_when_the_policy_is_unmet() {
    let (cp, vk, ws) = (data("aw-ftlog-ci-3.checkpoint"), data("aw-ftlog-ci-3.vkey"), data("armored-witness.witnesses"));
    let (cp, vk, ws) = (cp.to_str().unwrap(), vk.to_str().unwrap(), ws.to_str().unwrap());
    let base = ["consistency", cp, cp, "--vkey-file", vk, "--witness-file", ws];
    let (code, out, err) = run(&[&base[..], &["--witness-threshold", "2"]].concat());
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 4 trusted witnesses cosigned (policy: at least 2)"), "{out}");
    assert!(out.contains("cosigned by ArmoredWitness-weathered-rain at 2024-10-23T15:48:23Z"), "{out}");
    assert!(out.contains("not cosigned by ArmoredWitness-small-breeze, ArmoredWitness-autumn-wood"), "{out}");
    let (code, out, _) = run(&[&base[..], &["--witness-threshold", "2", "--json"]].concat());
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["summary"]["witnesses"]["cosigned"].as_array().unwrap().len(), 2, "{v}");
    let (code, _, err) = run(&[&base[..], &["--witness-threshold", "3"]].concat());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is cosigned by 2 of the 3 witnesses the policy requires, of 4 trusted"), "{err}");
    assert!(err.contains("not cosigned: ArmoredWitness-small-breeze, ArmoredWitness-autumn-wood"), "{err}");
    let (code, out, _) = run(&[&base[..], &["--witness-threshold", "3", "--json"]].concat());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["code"], "witness_policy_unmet");
    assert_eq!(v["error"]["witnesses"]["not_cosigned"], serde_json::json!(["ArmoredWitness-small-breeze", "ArmoredWitness-autumn-wood"]));
    let (code, _, err) = run(&[&base[..], &["--witness-threshold", "5"]].concat());
    assert_eq!(code, 2, "an impossible policy is unusable input: {err}");
}

#[test]
fn ml_dsa_44_cosignatures_are_reported_as_not_yet_checked() {
    let note = format!("{}{}\n", read("aw-ftlog-ci-3.checkpoint"), read("ml-dsa-44.cosignature").trim_end());
    let cp = SignedCheckpoint::parse(note.as_bytes()).unwrap();
    let p = policy(&[], &[read("ml-dsa-44.witness").trim().to_string()], Some(1));
    let r = p.evaluate("the checkpoint", &cp, &[], NOW).unwrap();
    assert!(!r.met && r.cosigned.is_empty());
    assert_eq!(r.not_checked.len(), 1);
    assert!(r.not_checked[0].reason.contains("not yet checked"), "{:?}", r.not_checked);
    let e = p.enforce("the checkpoint", &cp, &[]).unwrap_err().to_string();
    assert!(e.contains("witness.example/w1 not counted: ML-DSA-44 cosignature"), "{e}");
}

/// A witness key from a seed, its vkey (type 0x04) and a cosignature line over `text` at `ts`.
fn cosigner(name: &str, seed: u8) -> (SigningKey, String) {
    let k = SigningKey::from_bytes(&[seed; 32]);
    let typed = [&[4u8][..], k.verifying_key().as_bytes()].concat();
    let id = &Sha256::digest([name.as_bytes(), b"\n", &typed].concat())[..4];
    (k, format!("{name}+{}+{}", hex::encode(id), B64.encode(typed)))
}

fn cosign(name: &str, k: &SigningKey, text: &str, ts: u64) -> String {
    let typed = [&[4u8][..], k.verifying_key().as_bytes()].concat();
    let id = &Sha256::digest([name.as_bytes(), b"\n", &typed].concat())[..4];
    let sig = k.sign(format!("cosignature/v1\ntime {ts}\n{text}").as_bytes());
    format!("— {name} {}\n", B64.encode([id, &ts.to_be_bytes()[..], &sig.to_bytes()].concat()))
}

#[test]
fn future_timestamps_are_not_counted() {
    let log = Skey::new(common::ORIGIN, common::key(1));
    let text = format!("{}\n5\n{}\n", common::ORIGIN, B64.encode([7u8; 32]));
    let (k, vkey) = cosigner("w.test/a", 2);
    let p = policy(&[], &[vkey], None);
    for (ts, counted) in [(NOW - 60, true), (NOW + 3600, false)] {
        let note = format!("{}{}", log.sign_note(&text), cosign("w.test/a", &k, &text, ts));
        let r = p.evaluate("the checkpoint", &SignedCheckpoint::parse(note.as_bytes()).unwrap(), &[log.vkey()], NOW).unwrap();
        assert_eq!(r.met, counted, "{ts}");
        assert_eq!(r.rejected.iter().any(|x| x.reason.contains("in the future")), !counted);
    }
}

#[test]
fn a_split_view_is_reported_with_both_checkpoints_as_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let log = Skey::new(common::ORIGIN, common::key(1));
    let (k, vkey) = cosigner("w.test/a", 2);
    let mut files = Vec::new();
    for (name, root) in [("a.checkpoint", [1u8; 32]), ("b.checkpoint", [2u8; 32])] {
        let text = format!("{}\n9\n{}\n", common::ORIGIN, B64.encode(root));
        let note = format!("{}{}", log.sign_note(&text), cosign("w.test/a", &k, &text, NOW));
        let path = dir.path().join(name);
        std::fs::write(&path, note).unwrap();
        files.push(path.to_str().unwrap().to_string());
    }
    let vk = log.vkey().to_text();
    let args = ["consistency", &files[0], &files[1], "--vkey", &vk, "--witness", &vkey];
    let (code, _, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("split view: two validly signed checkpoints of size 9"), "{err}");
    assert!(err.contains("evidence, the older checkpoint (cosigned by w.test/a):"), "{err}");
    assert!(err.contains(&B64.encode([1u8; 32])) && err.contains(&B64.encode([2u8; 32])), "both roots: {err}");
    let (code, out, _) = run(&[&args[..], &["--json"]].concat());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["code"], "split_view");
    let ev = &v["error"]["evidence"];
    assert_eq!(ev["older"].as_str().unwrap(), std::fs::read_to_string(&files[0]).unwrap());
    assert_eq!(ev["newer"].as_str().unwrap(), std::fs::read_to_string(&files[1]).unwrap());
    assert_eq!(ev["newer_cosigned_by"], serde_json::json!(["w.test/a"]), "the witness cosigned both sides: {ev}");
}

#[test]
fn a_witness_key_given_as_a_log_key_is_explained() {
    let (_, vkey) = cosigner("w.test/a", 2);
    let cp = data("aw-ftlog-ci-3.checkpoint");
    let (code, _, err) = run(&["consistency", cp.to_str().unwrap(), cp.to_str().unwrap(), "--vkey", &vkey]);
    assert_eq!(code, 2);
    assert!(err.contains("is a witness's cosignature key, not a log key; pass it with --witness"), "{err}");
}
