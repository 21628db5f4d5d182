//! Live logs (tlog-tiles folders), consistency proofs built from tiles, `watch --once` and
//! receipts.

mod common;

use std::process::Command;

use common::*;
use sightline_verifier::note::SignedCheckpoint;
use sightline_verifier::trust::Options;
use sightline_verifier::{consistency, live, receipt, tiles, watch};

const BIN: &str = env!("CARGO_BIN_EXE_sightline-verifier");

fn opts(_log: &Log) -> Options {
    Options { trusted: vec![skey(1).vkey()], signatures: true, quiet: true, ..Options::default() }
}

fn run_bin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn live_folder_and_consistency_from_tiles() {
    let (mut log, acme) = Log::demo(600);
    let d = tempfile::tempdir().unwrap();
    let old_cp = log.log_key.sign_note(&log.checkpoint_text(300));
    for i in 0..100 {
        let (body, _) = message("acme-ads", 1000 + i);
        log.append_signed(&body, &acme, None);
    }
    let cp = log.checkpoint();
    log.write_tiles(d.path(), &cp);
    let s = live::verify_live(d.path().to_str().unwrap(), false, &opts(&log)).unwrap();
    assert_eq!(s.entries_checked, 704);
    let g = live::verify_live(d.path().to_str().unwrap(), true, &opts(&log)).unwrap();
    assert_eq!(g.entries_checked, 704);
    let src = tiles::Source::open(d.path().to_str().unwrap()).unwrap();
    let old = SignedCheckpoint::parse(old_cp.as_bytes()).unwrap();
    let new = SignedCheckpoint::parse(cp.as_bytes()).unwrap();
    for m in [1u64, 2, 3, 255, 256, 257, 300, 511, 512, 703] {
        let proof = consistency::fetch_proof(&src, m, 704).unwrap();
        let r = sightline_verifier::merkle::root(&log.leaves[..m as usize]);
        sightline_verifier::merkle::verify_consistency(
            m,
            704,
            &r,
            &new.checkpoint.root,
            &proof,
            sightline_verifier::merkle::ZeroRule::AcceptEmptyProof,
        )
        .unwrap_or_else(|e| panic!("m={m}: {e}"));
    }
    consistency::check(&old, &new, Some(&src), &opts(&log)).unwrap();
    // watch --once: first run remembers, second run checks growth.
    let state = d.path().join("state.json");
    std::fs::write(&state, "").unwrap();
    std::fs::remove_file(&state).unwrap();
    consistency::save_state(&state, &old).unwrap();
    watch::poll_once(d.path().to_str().unwrap(), &state, &opts(&log)).unwrap();
    let (code, out, err) =
        run_bin(&["watch", d.path().to_str().unwrap(), "--once", "--state", state.to_str().unwrap(), "--vkey", &skey(1).vkey().to_text()]);
    assert_eq!(code, 0, "{out}{err}");
    // A tile that disagrees with its entries.
    let t = d.path().join("tile/0/001");
    let mut b = std::fs::read(&t).unwrap();
    b[40] ^= 1;
    std::fs::write(&t, b).unwrap();
    let e = live::verify_live(d.path().to_str().unwrap(), false, &opts(&log)).unwrap_err();
    assert_eq!(e.code(), "tile_mismatch", "{e}");
    assert!(e.to_string().contains("entry 257"), "{e}");
}

#[test]
fn receipts() {
    let (log, _) = Log::demo(10);
    let cp = log.checkpoint();
    let r = log.receipt(7, &cp);
    receipt::verify_receipt_bytes(r.as_bytes(), &opts(&log)).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut v: serde_json::Value = serde_json::from_str(&r).unwrap();
    let entry = String::from_utf8(b64.decode(v["entry"].as_str().unwrap()).unwrap()).unwrap();
    v["entry"] = b64.encode(entry.replace("Civic Future\"", "Civic Futurx\"")).into();
    let e = receipt::verify_receipt_bytes(v.to_string().as_bytes(), &opts(&log)).unwrap_err();
    assert_eq!((e.code(), e.exit_code()), ("bad_proof", 1), "{e}");
    assert!(e.to_string().contains("entry 7: the receipt's inclusion proof"), "{e}");
    let other: serde_json::Value = serde_json::from_str(&log.receipt(8, &cp)).unwrap();
    v["entry"] = other["entry"].clone();
    let e = receipt::verify_receipt_bytes(v.to_string().as_bytes(), &opts(&log)).unwrap_err();
    assert!(e.to_string().contains("the entry says index 8 but the proof is for index 7"), "{e}");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("r.sightline-receipt.json");
    std::fs::write(&f, &r).unwrap();
    let (code, out, _) = run_bin(&["receipt", f.to_str().unwrap(), "--vkey", &skey(1).vkey().to_text(), "--json"]);
    assert_eq!(code, 0);
    assert!(out.contains("\"ok\":true"), "{out}");
    let (code, _, err) = run_bin(&["receipt", f.to_str().unwrap(), "--vkey", &skey(3).vkey().to_text()]);
    assert_eq!(code, 1, "{err}");
}

/// A tiny static file server on 127.0.0.1 for `dir` (GET only, 404 when absent).
fn serve(dir: std::path::PathBuf) -> String {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10_000) {
            let Ok(mut s) = stream else { continue };
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                    break;
                }
            }
            let path = line.split(' ').nth(1).unwrap_or("/").trim_start_matches('/').to_string();
            let file = (!path.contains("..") && !path.contains('?')).then(|| std::fs::read(dir.join(&path)).ok()).flatten();
            let _ = match file {
                Some(b) => s
                    .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()).as_bytes())
                    .and_then(|_| s.write_all(&b)),
                None => s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    format!("http://{addr}/")
}

#[test]
fn over_http() {
    let (mut log, acme) = Log::demo(300);
    let d = tempfile::tempdir().unwrap();
    let old_cp = log.checkpoint();
    let old_path = d.path().join("old.checkpoint");
    std::fs::write(&old_path, &old_cp).unwrap();
    for i in 0..40 {
        let (body, _) = message("acme-ads", 5000 + i);
        log.append_signed(&body, &acme, None);
    }
    let site = d.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    log.write_tiles(&site, &log.checkpoint());
    let url = serve(site);
    let s = live::verify_live(&url, false, &opts(&log)).unwrap();
    assert_eq!(s.entries_checked, 344);
    let vk = skey(1).vkey().to_text();
    // The proof API is absent (404): the proof is built from tiles.
    let (code, out, err) = run_bin(&["consistency", old_path.to_str().unwrap(), &url, "--vkey", &vk]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("consistency proof of"), "{out}");
    let state = d.path().join("state.json");
    let (code, _, err) = run_bin(&["watch", &url, "--once", "--state", state.to_str().unwrap(), "--vkey", &vk]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run_bin(&["verify", &url, "--vkey", &vk, "--quiet"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("entries:    344 checked"), "{out}");
    // A rolled-back state (newer than the server) is an alert.
    let bigger = log.log_key.sign_note(&format!("{ORIGIN}\n400\n{}\n", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    consistency::save_state(&state, &SignedCheckpoint::parse(bigger.as_bytes()).unwrap()).unwrap();
    let (code, _, err) = run_bin(&["watch", &url, "--once", "--state", state.to_str().unwrap(), "--vkey", &vk]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("ALERT") && err.contains("rollback"), "{err}");
    // Unreachable: exit 2.
    let (code, _, _) = run_bin(&["verify", "http://127.0.0.1:9/", "--vkey", &vk]);
    assert_eq!(code, 2);
}
