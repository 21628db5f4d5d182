//! A watchdog's batch audit: M observations (default 100,000) judged against a log of N records
//! (default 1,000,000; a complete signed bundle built in a temporary folder). Times reading and
//! verifying the log into `observe`'s index, then the audit itself, in observations per second.
//!
//! `cargo bench -p sightline-verifier --bench observe` (N from SIGHTLINE_BENCH_RECORDS, M from
//! SIGHTLINE_BENCH_OBSERVATIONS; SIGHTLINE_BENCH_STRUCTURAL=1 reads the log without checking
//! record signatures). A smoke run: SIGHTLINE_BENCH_RECORDS=2000 SIGHTLINE_BENCH_OBSERVATIONS=500.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::time::Instant;

use common::*;
use sha2::{Digest, Sha256};
use sightline_verifier::observe::batch::audit;
use sightline_verifier::observe::index::LogIndex;
use sightline_verifier::observe::Rules;
use sightline_verifier::trust::Options;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let n = env("SIGHTLINE_BENCH_RECORDS", 1_000_000);
    let m = env("SIGHTLINE_BENCH_OBSERVATIONS", 100_000);
    let signatures = std::env::var("SIGHTLINE_BENCH_STRUCTURAL").is_err();
    let runs = 3;
    let t = Instant::now();
    let (mut log, acme) = Log::demo(0);
    let first = log.entries.len();
    bulk_messages(&mut log, &acme, n, true);
    let cp = log.checkpoint();
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle = dir.path().join("bench.sightline-bundle.jsonl");
    write_complete_bundle(&log, &cp, &bundle);

    // 90% logged as seen, 5% never logged (no reference, unknown content), 5% misreported
    // (the right entry, other content): what a panel's week might bring.
    let observations = dir.path().join("panel.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&observations).expect("create"));
    let (mut logged, mut not_logged, mut misreported) = (0u64, 0u64, 0u64);
    for k in 0..m as u64 {
        let msg = (k.wrapping_mul(2_654_435_761) % n as u64) as usize;
        let index = first + msg;
        let creative = hex::encode(Sha256::digest((msg as u64).to_be_bytes()));
        let reference = format!("{ORIGIN} {index} {}", hex::encode(log.leaves[index]));
        let line = match k % 20 {
            0 => {
                not_logged += 1;
                serde_json::json!({"channel":"social","asset_sha256":hex::encode(Sha256::digest(k.to_le_bytes())),
                    "seen_at":"2026-11-20T18:10:00Z","advertiser":"Civic Future","platform":"acme-ads"})
            }
            1 => {
                misreported += 1;
                serde_json::json!({"channel":"social","asset_sha256":hex::encode(Sha256::digest(k.to_le_bytes())),
                    "seen_at":"2026-11-20T18:10:00Z","advertiser":"Civic Future","reference":reference})
            }
            _ => {
                logged += 1;
                serde_json::json!({"channel":"social","asset_sha256":creative,"seen_at":"2026-11-20T18:10:00Z",
                    "seen_where":"https://news.example/","member_state":"DE","advertiser":"Civic Future","reference":reference})
            }
        };
        writeln!(f, "{line}").expect("write");
    }
    f.flush().expect("flush");
    drop(f);
    let records = log.entries.len();
    println!("built {records} records and {m} observations in {:.1}s", t.elapsed().as_secs_f64());
    drop(log);

    let opts = Options { trusted: vec![skey(1).vkey()], signatures, quiet: true, ..Options::default() };
    let t = Instant::now();
    let index = LogIndex::load(bundle.to_str().expect("UTF-8 path"), &opts).expect("the bench log verifies");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "read and verified the log into the index ({}): {secs:.2}s, {:.0} records/s",
        if signatures { "signatures checked" } else { "structural" },
        records as f64 / secs
    );

    let mut rates = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let a = audit(&observations, &index, &Rules::default(), true).expect("audit");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!((a.totals.logged, a.totals.not_logged, a.totals.misreported), (logged, not_logged, misreported));
        assert!(a.unusable.is_empty());
        rates.push(m as f64 / secs);
        println!("  audit: {secs:.2}s, {:.0} observations/s ({} cases with evidence)", m as f64 / secs, a.cases.len());
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "batch audit: median {:.0} observations/s over {runs} runs against {records} records ({} threads)",
        rates[runs / 2],
        rayon::current_num_threads()
    );
}
