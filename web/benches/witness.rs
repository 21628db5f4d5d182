//! Witness benchmark (not a timed test), in process, over loopback HTTP:
//!
//! (a) cosignatures/s of one `sightline witness` (its real router: parse, check the log's
//!     signature and the consistency proof, save the state with its fsyncs, cosign), with one
//!     client per log, for 1 and for SIGHTLINE_BENCH_LOGS (8) logs at once;
//! (b) the time from an append (the `200` of the submission) to a witnessed checkpoint that
//!     includes it, with three local witnesses and a 2-of-3 policy: appends spaced wider than
//!     the one-submission-per-second rate (what one append waits), and appends every 100 ms
//!     (what a busy log's records wait), p50 and p99.
//!
//! cargo bench -p sightline-web --bench witness
//! Knobs (environment): SIGHTLINE_BENCH_SECS (seconds per throughput run, 10),
//! SIGHTLINE_BENCH_LOGS (8), SIGHTLINE_BENCH_SPARSE (sparse appends, 30),
//! SIGHTLINE_BENCH_BUSY_SECS (seconds of appends every 100 ms, 20), SIGHTLINE_BENCH_DIR (where
//! the data folders go; a tmpfs measures the CPU, a disk its fsyncs).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use sightline_ledger::merkle::{leaf_hash, Tree};
use sightline_ledger::note::{Checkpoint, NoteSigner};
use sightline_ledger::tlog_witness::{AddCheckpoint, KnownLog};
use sightline_web::cosigning::{config, Cosigning};
use sightline_web::witness::{self, Witness};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn tempdir() -> tempfile::TempDir {
    match std::env::var_os("SIGHTLINE_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).expect("SIGHTLINE_BENCH_DIR is a writable folder"),
        None => tempfile::tempdir().expect("tempdir"),
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A witness router on a loopback port, knowing `logs`.
fn serve_witness(rt: &tokio::runtime::Runtime, name: &str, logs: Vec<KnownLog>) -> (Arc<Witness>, String, tempfile::TempDir) {
    let dir = tempdir();
    let (cosigner, _) = witness::cli::init(dir.path(), name).expect("witness init");
    let state = witness::state::WitnessState::open(&dir.path().join("state.json")).expect("state");
    let w = Arc::new(Witness { cosigner, logs, state });
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = witness::router(Arc::clone(&w));
    rt.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (w, url, dir)
}

/// (a) Cosignatures per second for `logs` logs, one sequential client each.
fn throughput(rt: &tokio::runtime::Runtime, logs: usize, secs: u64) -> f64 {
    let signers: Vec<NoteSigner> =
        (0..logs).map(|i| NoteSigner::from_seed(&format!("bench.example/log{i}"), &[i as u8 + 1; 32]).expect("key")).collect();
    let known = signers.iter().map(|s| KnownLog { origin: s.name().to_string(), keys: vec![s.verifier()] }).collect();
    let (_w, url, _dir) = serve_witness(rt, "bench.example/witness", known);
    // A tree large enough for every run: one leaf per cosignature.
    let tree = Arc::new(Tree::from_leaf_hashes((0..200_000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect()));
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    std::thread::scope(|s| {
        for signer in &signers {
            let (tree, done, url) = (Arc::clone(&tree), Arc::clone(&done), url.clone());
            s.spawn(move || {
                let agent = ureq::AgentBuilder::new().build();
                let mut held = 0u64;
                while Instant::now() < deadline {
                    let size = held + 1;
                    let text =
                        Checkpoint { origin: signer.name().into(), size, root: tree.root_at(size).expect("root"), extensions: vec![] }
                            .to_text();
                    let req = AddCheckpoint {
                        old_size: held,
                        proof: tree.consistency_proof(held, size).expect("proof"),
                        checkpoint: signer.sign_note(&text).expect("sign"),
                    };
                    let r = agent.post(&format!("{url}/add-checkpoint")).send_string(&req.to_body());
                    assert!(r.is_ok(), "the witness refused an honest checkpoint: {:?}", r.err());
                    held = size;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    done.load(Ordering::Relaxed) as f64 / secs as f64
}

/// (b) Seconds from each append's acknowledgement to a witnessed checkpoint that includes it.
fn append_to_witnessed(fx: &Fixture, cosigning: &Cosigning, appends: usize, every: Duration) -> Vec<f64> {
    let mut waits = Vec::with_capacity(appends);
    let mut pending: Vec<(u64, Instant)> = Vec::new();
    let mut next = Instant::now();
    while waits.len() < appends {
        if pending.len() + waits.len() < appends && Instant::now() >= next {
            fx.submit(political_message(&fx.next_id(), "Bench"), &personal_for("bench@example.org"));
            pending.push((fx.ledger.size(), Instant::now()));
            next += every;
        }
        let witnessed = cosigning.witnessed().map_or(0, |w| w.size);
        pending.retain(|(size, at)| {
            let keep = *size > witnessed;
            if !keep {
                waits.push(at.elapsed().as_secs_f64());
            }
            keep
        });
        std::thread::sleep(Duration::from_millis(1));
    }
    waits.sort_by(f64::total_cmp);
    waits
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let secs = env_or("SIGHTLINE_BENCH_SECS", 10u64);
    let logs = env_or("SIGHTLINE_BENCH_LOGS", 8usize);
    println!("witness benchmark (data in {})", std::env::var("SIGHTLINE_BENCH_DIR").unwrap_or_else(|_| "the system temp folder".into()));
    for n in [1, logs] {
        let rate = throughput(&rt, n, secs);
        println!("(a) cosignatures/s, {n} log(s), one client each: {rate:.0}");
    }

    let fx = Fixture::new();
    let vkey = fx.ledger.vkey();
    let log = || {
        vec![KnownLog {
            origin: fx.ledger.origin().to_string(),
            keys: vec![sightline_ledger::note::NoteVerifier::from_vkey(&vkey).expect("vkey")],
        }]
    };
    let ws: Vec<_> = (1..=3).map(|i| serve_witness(&rt, &format!("bench.example/w{i}"), log())).collect();
    let flags: Vec<String> = ws.iter().map(|(w, url, _)| format!("{} {url}", w.cosigner.vkey())).collect();
    let cosigning =
        Cosigning::start(Arc::clone(&fx.ledger), config::build(None, &flags, Some(2)).expect("config").expect("witnesses"), fx._dir.path());
    let sparse = env_or("SIGHTLINE_BENCH_SPARSE", 30usize);
    let waits = append_to_witnessed(&fx, &cosigning, sparse, Duration::from_millis(1_200));
    println!(
        "(b) append -> witnessed checkpoint, 3 witnesses, 2 of 3, appends 1.2 s apart ({} samples): p50 {:.1} ms, p99 {:.1} ms",
        waits.len(),
        pct(&waits, 0.5) * 1e3,
        pct(&waits, 0.99) * 1e3
    );
    let busy = env_or("SIGHTLINE_BENCH_BUSY_SECS", 20u64);
    let waits = append_to_witnessed(&fx, &cosigning, (busy * 10) as usize, Duration::from_millis(100));
    println!(
        "(b) append -> witnessed checkpoint, appends every 100 ms ({} samples): p50 {:.1} ms, p99 {:.1} ms (at most one submission per witness per second)",
        waits.len(),
        pct(&waits, 0.5) * 1e3,
        pct(&waits, 0.99) * 1e3
    );
    cosigning.stop();
}
