//! Builds a synthetic signed Sightline bundle of N records (default 1,000,000; ~1 KB each) in a
//! temporary folder and times full and structural verification.
//!
//! `cargo bench -p sightline-verifier --bench verify` (N from SIGHTLINE_BENCH_RECORDS).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::*;
use sightline_verifier::bundle;
use sightline_verifier::trust::Options;

fn main() {
    let n: usize = std::env::var("SIGHTLINE_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let runs = 3;
    // SIGHTLINE_BENCH_FILE=path: verify that existing bundle instead of building one.
    if let Ok(p) = std::env::var("SIGHTLINE_BENCH_FILE") {
        let path = std::path::PathBuf::from(p);
        let records = std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(&path).expect("open"))).count() - 1;
        return time(&path, records, runs);
    }
    let t = Instant::now();
    let (mut log, acme) = Log::demo(0);
    bulk_messages(&mut log, &acme, n, true);
    let cp = log.checkpoint();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sightline-bundle.jsonl");
    write_complete_bundle(&log, &cp, &path);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let records = log.entries.len();
    println!(
        "built {records} records ({:.0} bytes/record, {:.1} MB) in {:.1}s",
        bytes as f64 / records as f64,
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    drop(log);
    time(&path, records, runs);
    if let Ok(keep) = std::env::var("SIGHTLINE_BENCH_KEEP") {
        std::fs::copy(&path, keep).expect("keep");
    }
}

/// The ceiling for full verification on this machine, measured in the same run: the verifier's
/// own signature check (ZIP 215 batches, `sig::all_verify`) of 1,200-byte messages from one
/// key on all cores, in batches of the verifier's size, hashing included, with no parsing or
/// chain walk.
fn signature_ceiling(runs: usize) {
    use ed25519_dalek::{Signer, SigningKey};
    use rayon::prelude::*;
    use sightline_verifier::sig::{all_verify, SigCheck};
    let n = 200_000;
    let key = SigningKey::from_bytes(&[7; 32]);
    let vk = key.verifying_key();
    let msgs: Vec<Vec<u8>> = (0..n).map(|i: u32| [i.to_be_bytes().as_slice(), &[b'x'; 1196]].concat()).collect();
    let sigs: Vec<[u8; 64]> = msgs.par_iter().map(|m| key.sign(m).to_bytes()).collect();
    let mut rates = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let batch = sightline_verifier::chain::BATCH;
        let ok = msgs.par_chunks(batch).zip(sigs.par_chunks(batch)).all(|(m, s)| {
            let checks: Vec<SigCheck> = m.iter().zip(s).map(|(m, s)| SigCheck::new(&vk, s, m)).collect();
            all_verify(&checks)
        });
        assert!(ok);
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    println!("ed25519 (ZIP 215) batch-verify ceiling (no parsing): median {:.0} signatures/s over {runs} runs", rates[runs / 2]);
}

/// What one record costs in each stage on one core, over the bundle's first 200,000 record
/// lines held in memory: the floor under the structural rate, which spends two cores' time.
fn stages(path: &std::path::Path, runs: usize) {
    use sightline_verifier::chain::Mode;
    use sightline_verifier::{json, merkle, note::SignedCheckpoint};
    use std::io::BufRead;
    let mut lines = std::io::BufReader::new(std::fs::File::open(path).expect("open")).lines();
    let manifest: serde_json::Value = serde_json::from_str(&lines.next().expect("manifest").expect("read")).expect("manifest JSON");
    let cp = SignedCheckpoint::parse(manifest["checkpoint"].as_str().expect("checkpoint").as_bytes()).expect("checkpoint");
    let recs: Vec<String> = lines.take(200_000).map(|l| l.expect("read")).collect();
    let bytes = recs.iter().map(String::len).sum::<usize>() / recs.len().max(1);
    let per_record = |f: &dyn Fn(usize, &[u8]) -> usize| {
        let mut t = Vec::new();
        for _ in 0..runs {
            let start = Instant::now();
            let sum: usize = recs.iter().enumerate().map(|(i, l)| f(i, l.as_bytes())).sum();
            std::hint::black_box(sum);
            t.push(start.elapsed().as_secs_f64() * 1e6 / recs.len() as f64);
        }
        t.sort_by(f64::total_cmp);
        t[runs / 2]
    };
    let sha = per_record(&|_, l| usize::from(merkle::leaf_hash(l)[0]));
    let parse = per_record(&|_, l| json::parse(l).map_or(0, |d| d.nodes.len()));
    let prepare =
        per_record(&|i, l| bundle::prepare_line(i as u64, l, Mode::Complete, &cp, false).map_or(0, |(r, _)| usize::from(r.leaf[0])));
    println!(
        "stages on one core, {} records of {bytes} bytes: SHA-256 of the line {sha:.2} µs, JSON parse with canonical check {parse:.2} µs, whole structural preparation {prepare:.2} µs per record (900,000/s on 2 cores leaves 2.22 µs)",
        recs.len()
    );
}

fn time(path: &std::path::Path, records: usize, runs: usize) {
    let path = path.to_path_buf();
    let only = std::env::var("SIGHTLINE_BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "ceiling" {
        signature_ceiling(runs);
    }
    if only.is_empty() || only == "stages" {
        stages(&path, runs);
    }
    for (name, signatures) in [("full (signatures)", true), ("structural", false)] {
        if !only.is_empty() && !name.starts_with(only.as_str()) {
            continue;
        }
        let opts = Options { trusted: vec![skey(1).vkey()], signatures, quiet: true, ..Options::default() };
        let mut rates = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let s = bundle::verify_bundle(&path, &opts).expect("the bench bundle verifies");
            assert_eq!(s.entries_checked as usize, records);
            let secs = t.elapsed().as_secs_f64();
            rates.push(records as f64 / secs);
            println!("  {name}: {secs:.2}s, {:.0} records/s", records as f64 / secs);
        }
        rates.sort_by(f64::total_cmp);
        println!("{name}: median {:.0} records/s over {runs} runs ({} threads)", rates[runs / 2], rayon::current_num_threads());
    }
}
