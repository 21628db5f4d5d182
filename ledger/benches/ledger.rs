//! Ledger benchmark (not a timed test): durable signed appends/s, submit-to-receipt
//! latency, inclusion proofs/s and bytes on disk per record, at >= 1 M records.
//!
//! cargo bench -p sightline-ledger --bench ledger            (1,000,000 records)
//! SIGHTLINE_BENCH_RECORDS=200000 cargo bench -p sightline-ledger --bench ledger
//! SIGHTLINE_BENCH_RECIPIENTS=10 ...   (records spread over 10 recipients instead of 50,000)
//! SIGHTLINE_BENCH_ONLY=appends ...    (only the appends: no ceiling, proofs or reads; for profiling)
//!
//! Submitters run on several threads, each sending batches of 1,000 signed
//! records, so the batcher's group commit sees realistic concurrency.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU time (user + system) this process has used so far, from `/proc/self/stat`; NaN where
/// that is not readable. The append phase's share, per record, is what the server's load bench
/// compares its own per-record CPU with.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, rest)| rest.split(' ').collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // USER_HZ is 100 on every Linux this runs on.
        (Some(u), Some(k)) => (u + k) / 100.0,
        _ => f64::NAN,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Records the signature ceiling is measured on (the first ones of the run).
const CEILING_RECORDS: usize = 100_000;

/// Signature verifications per second on all cores for these records, with the ledger's own
/// rules (ZIP 215, `ed25519-zebra`) and batch size, with nothing else done: the most any append
/// path that verifies every signature can reach on this machine (median of 3).
fn signature_ceiling(keys: &common::Keys, subs: &[sightline_ledger::Submission]) -> f64 {
    use base64::Engine;
    use ed25519_zebra::{batch, Signature, VerificationKeyBytes};
    let n = subs.len().min(CEILING_RECORDS);
    let key = VerificationKeyBytes::from(keys.submitter.verifying_key().to_bytes());
    let items: Vec<batch::Item> = subs[..n]
        .iter()
        .map(|s| {
            let sig: [u8; 64] = base64::engine::general_purpose::STANDARD.decode(&s.sig).unwrap().try_into().unwrap();
            let msg = sightline_ledger::canonical::signed_message(s.body.get().as_bytes());
            batch::Item::from((key, Signature::from_bytes(&sig), &msg))
        })
        .collect();
    let mut rates: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            items.par_chunks(VERIFY_BATCH).for_each(|chunk| {
                let mut verifier = batch::Verifier::new();
                for item in chunk {
                    verifier.queue(item.clone());
                }
                verifier.verify(rand::thread_rng()).unwrap();
            });
            n as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    rates[1]
}

/// The ledger's batch size for signature verification (`signatures::VERIFY_BATCH`).
const VERIFY_BATCH: usize = 256;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let total: usize = std::env::var("SIGHTLINE_BENCH_RECORDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let recipients: usize = std::env::var("SIGHTLINE_BENCH_RECIPIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(50_000).max(1);
    let batch = 1_000;
    let threads: usize = std::env::var("SIGHTLINE_BENCH_THREADS").ok().and_then(|s| s.parse().ok()).unwrap_or(4).max(1);
    let dir = tempfile::Builder::new()
        .prefix("sightline-bench")
        .tempdir_in(std::env::var("SIGHTLINE_BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()))
        .unwrap();
    let keys = common::Keys::fixed();
    let ledger = Arc::new(common::open(dir.path(), &keys).unwrap());
    common::register(&ledger, &keys);

    eprintln!("signing {total} records (submitter side, not timed)...");
    let t = Instant::now();
    let subs: Vec<_> = (0..total)
        .into_par_iter()
        .map(|i| common::submission(&keys, &format!("bench-{i}"), &format!("r{}@example.org", i % recipients)))
        .collect();
    let record_bytes = serde_jcs::to_vec(&subs[0].body).unwrap().len();
    eprintln!("signed in {:.1}s; a record body is {record_bytes} canonical bytes", t.elapsed().as_secs_f64());

    let only_appends = std::env::var("SIGHTLINE_BENCH_ONLY").is_ok_and(|v| v == "appends");
    let ceiling_before = if only_appends { f64::NAN } else { signature_ceiling(&keys, &subs) };
    eprintln!("Ed25519 (ZIP 215) batch-verification ceiling of these records on all cores: {ceiling_before:.0}/s");

    let ceiling_sample: Vec<_> = subs.iter().take(CEILING_RECORDS).cloned().collect();
    let chunks: Vec<Vec<_>> = {
        let mut it = subs.into_iter();
        let mut v = Vec::new();
        loop {
            let c: Vec<_> = it.by_ref().take(batch).collect();
            if c.is_empty() {
                break v;
            }
            v.push(c);
        }
    };
    let queue = Arc::new(Mutex::new(chunks));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_secs();
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (queue, latencies, ledger, done) = (queue.clone(), latencies.clone(), ledger.clone(), done.clone());
            std::thread::spawn(move || loop {
                let Some(chunk) = queue.lock().unwrap().pop() else { break };
                let n = chunk.len();
                let t = Instant::now();
                ledger.submit(chunk).unwrap();
                latencies.lock().unwrap().push(t.elapsed().as_secs_f64() * 1000.0);
                let d = done.fetch_add(n, Ordering::Relaxed) + n;
                if d % 100_000 < n {
                    eprintln!("  {d} records durable, {:.0}/s", d as f64 / start.elapsed().as_secs_f64());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu_us = (cpu_secs() - cpu_before) * 1e6 / total as f64;
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(|a, b| a.total_cmp(b));
    let m = ledger.metrics();
    let batches = m.batches_committed.load(Ordering::Relaxed);
    if only_appends {
        println!("| durable appends/s | {:.0} |", total as f64 / secs);
        println!("| CPU time per appended record (user + system, every thread) | {cpu_us:.1} µs |");
        return;
    }

    // Inclusion proofs at the final size: random indices, several rounds, median.
    let size = ledger.size();
    let mut rounds = Vec::new();
    for r in 0..5u64 {
        let n = 200_000u64;
        let t = Instant::now();
        let mut acc = 0u8;
        for i in 0..n {
            let idx = (i.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(r)) % size;
            acc ^= ledger.inclusion_proof(idx, size).unwrap()[0][0];
        }
        std::hint::black_box(acc);
        rounds.push(n as f64 / t.elapsed().as_secs_f64());
    }
    rounds.sort_by(|a, b| a.total_cmp(b));

    // Personal parts opened (what every why page reads): random message entries, median of 5.
    let mut opened = Vec::new();
    for r in 0..5u64 {
        let n = 50_000u64;
        let t = Instant::now();
        for i in 0..n {
            let idx = 4 + (i.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(r)) % (size - 4);
            std::hint::black_box(ledger.personal(idx).unwrap());
        }
        opened.push(n as f64 / t.elapsed().as_secs_f64());
    }
    opened.sort_by(|a, b| a.total_cmp(b));
    let disk = ledger.size_on_disk().unwrap();
    let ceiling_after = signature_ceiling(&keys, &ceiling_sample);
    let appends = total as f64 / secs;

    println!("| metric | value |");
    println!("|---|---|");
    println!("| records appended (durable, signature-verified) | {total} |");
    println!("| record body size (canonical JSON) | {record_bytes} bytes |");
    println!("| recipients (messages each) | {recipients} ({}) |", total.div_ceil(recipients));
    println!("| durable appends/s | {appends:.0} |");
    println!("| CPU time per appended record (user + system, every thread) | {cpu_us:.1} µs |");
    println!(
        "| Ed25519 (ZIP 215) batch-verification ceiling of the same records, all cores, before / after the run (median of 3) | {ceiling_before:.0} / {ceiling_after:.0} |"
    );
    println!(
        "| appends/s as a share of that ceiling (mean of before and after) | {:.0}% |",
        100.0 * appends / ((ceiling_before + ceiling_after) / 2.0)
    );
    println!("| group commits (fsyncs) | {batches} ({:.0} records each) |", total as f64 / batches.max(1) as f64);
    println!(
        "| batcher time in durable commits (tree, checkpoint, store commit with fsync) | {:.0}% of the run |",
        m.commit_micros_total.load(Ordering::Relaxed) as f64 / 1e6 / secs * 100.0
    );
    println!("| submit-to-receipt latency per 1,000-record request, p50 / p99 | {:.1} ms / {:.1} ms |", pct(&lat, 0.5), pct(&lat, 0.99));
    println!("| inclusion proofs/s at {size} entries (median of 5 × 200k) | {:.0} |", rounds[2]);
    println!("| personal parts opened/s, one thread (median of 5 × 50k) | {:.0} |", opened[2]);
    println!("| bytes on disk per record (sled, incl. private parts and indexes) | {:.0} |", disk as f64 / size as f64);
}
