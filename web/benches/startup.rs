//! Start-up bench (not a timed test): how long the real `sightline serve` binary takes to open a
//! log and serve, and how much memory it holds then, at each size of SIGHTLINE_BENCH_SIZES
//! (default `1000000,10000000` messages).
//!
//! cargo bench -p sightline-web --bench startup                                   (1 M, then 10 M)
//! SIGHTLINE_BENCH_SIZES=100000,1000000 SIGHTLINE_BENCH_DIR=/work/bench-data cargo bench -p sightline-web --bench startup
//! SIGHTLINE_BENCH_STORE=postgres SIGHTLINE_BENCH_SIZES=100000 cargo bench -p sightline-web --bench startup
//!
//! With SIGHTLINE_BENCH_STORE=postgres the log is kept in a throw-away PostgreSQL cluster the
//! bench starts itself (`tests/src/postgres.rs`: initdb in a temporary folder, removed at the
//! end) and the server is started with `--store postgres://…`; the data folder then holds only
//! the keys. The memory figures are the server process's alone, not the database's.
//!
//! One data folder grows from size to size: the messages of each size are appended in-process
//! with the ledger crate (every record signed by the submitter and verified by the ledger, 1,000
//! per batch on 3 threads), then the server binary is started on it SIGHTLINE_BENCH_STARTS times
//! (default 3) and stopped. Records are compact (a short e-mail record, about 2.9 KB on disk
//! with its entry, sealed personal part and rows): the bytes per entry change nothing the server
//! holds in memory, and 10 M of them fit the bench machine's disk. The folder is deleted at the
//! end unless SIGHTLINE_BENCH_KEEP is set; check `df -h` first (about 3 KB per message).
//!
//! Per size it prints: the first start (the ad library, never saved by the in-process fill, is
//! indexed from every entry once and saved: what a data folder from before the saved library
//! costs once) and the later starts: seconds from spawn to serving, resident memory when
//! serving (VmRSS) and its peak during start-up (VmHWM), from `/proc/<pid>/status`.

#[path = "../tests/common/mod.rs"]
mod common;
// The load bench's server process; this bench uses only its start and stop.
#[allow(dead_code)]
#[path = "load/server.rs"]
mod server;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ed25519_dalek::SigningKey;
use rayon::prelude::*;
use sightline_e2e::postgres::PgCluster;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{Ledger, Submission};
use sightline_web::setup::{open_ledger_on, Access, DataDir, StoreChoice};

use server::{folder_bytes, Server};

const ORIGIN: &str = common::ORIGIN;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `VmRSS` and `VmHWM` of process `pid`, MiB.
fn memory_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (kib("VmRSS:") / 1024.0, kib("VmHWM:") / 1024.0)
}

/// The submitter key every record is signed with.
fn submitter_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// Opens (or creates, with the submitter and party the records name) the log.
fn open(dir: &Path, store: &StoreChoice) -> Arc<Ledger> {
    let ledger = open_ledger_on(&DataDir::new(dir), ORIGIN, store, Access::Write).expect("open the log");
    if !ledger.registry().expect("registry").submitters.contains_key(common::SUBMITTER) {
        ledger
            .register_submitter(common::SUBMITTER, "Acme Ads GmbH", "transparency@acme-ads.example", &public_key_b64(&submitter_key()))
            .expect("submitter");
        ledger.register_party("p-shoes", "Shoe Shop SE", "hello@shoes.example", "FR", "not_disclosed").expect("party");
    }
    ledger
}

/// Appends messages `from..to` (ids and recipients by number), signing on all cores; prints
/// the slowest batches' submit-to-receipt times (a checkpoint of the row index, every 64 MiB
/// of its journal, is synced inline).
fn append(ledger: &Arc<Ledger>, from: u64, to: u64) {
    let key = Arc::new(submitter_key());
    let next = Arc::new(AtomicU64::new(from));
    let times = Arc::new(std::sync::Mutex::new(Vec::new()));
    let t = Instant::now();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (ledger, key, next, times) = (ledger.clone(), key.clone(), next.clone(), times.clone());
            std::thread::spawn(move || loop {
                let start = next.fetch_add(1_000, Ordering::Relaxed);
                if start >= to {
                    return;
                }
                let subs: Vec<Submission> = (start..(start + 1_000).min(to))
                    .into_par_iter()
                    .map(|i| {
                        let body = common::shoe_email(&format!("startup/{i:09}"), "Winter sale");
                        sign_message(&key, body, &common::bare_personal(&format!("r{}@example.org", i % 100_000))).expect("sign")
                    })
                    .collect();
                let submitted = Instant::now();
                ledger.submit(subs).expect("append");
                times.lock().expect("times").push(submitted.elapsed().as_secs_f64() * 1e3);
                if (start - from) % 500_000 < 1_000 {
                    eprintln!("  ~{start} messages, {:.0}/s", (start - from) as f64 / t.elapsed().as_secs_f64());
                }
            })
        })
        .collect();
    for h in threads {
        h.join().expect("appending thread");
    }
    let mut times = std::mem::take(&mut *times.lock().expect("times"));
    times.sort_by(f64::total_cmp);
    if let Some(&slowest) = times.last() {
        let p99 = times[times.len() * 99 / 100];
        eprintln!("  batches of 1,000: p50 {:.0} ms, p99 {p99:.0} ms, slowest {slowest:.0} ms", times[times.len() / 2]);
    }
}

/// One start of the server: seconds to serving, memory when serving and its peak.
fn start(dir: &Path, log: &Path, store: &StoreChoice) -> (f64, f64, f64) {
    let server = match store {
        StoreChoice::Postgres(url) => Server::start_with(dir, log, &["--store", url]),
        StoreChoice::Sled => Server::start(dir, log),
    };
    let secs = server.startup.as_secs_f64();
    let (rss, peak) = memory_mib(server.pid());
    server.stop();
    (secs, rss, peak)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let sizes: Vec<u64> = std::env::var("SIGHTLINE_BENCH_SIZES")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SIGHTLINE_BENCH_SIZES: sizes separated by commas"))
        .collect();
    let starts: usize = std::env::var("SIGHTLINE_BENCH_STARTS").ok().and_then(|s| s.parse().ok()).unwrap_or(3).max(1);
    let base = tempfile::Builder::new()
        .prefix("sightline-startup-bench")
        .tempdir_in(std::env::var("SIGHTLINE_BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()))
        .expect("bench folder");
    // SIGHTLINE_BENCH_DATA: grow a data folder an earlier run kept (SIGHTLINE_BENCH_KEEP),
    // whose messages SIGHTLINE_BENCH_FROM says, instead of a new one.
    let dir = std::env::var("SIGHTLINE_BENCH_DATA").map_or_else(|_| base.path().join("data"), std::path::PathBuf::from);
    // The cluster lives as long as this function: it is stopped and removed when it returns.
    let pg = match std::env::var("SIGHTLINE_BENCH_STORE").as_deref() {
        Ok("postgres") => match PgCluster::start("the start-up bench") {
            Some(pg) => Some(pg),
            None => return,
        },
        Ok("sled") | Err(_) => None,
        Ok(other) => panic!("SIGHTLINE_BENCH_STORE: `{other}` is neither sled nor postgres"),
    };
    let store = pg.as_ref().map_or(StoreChoice::Sled, |pg| StoreChoice::Postgres(pg.database("startup")));
    // What the log takes on disk: the data folder, and the database if there is one.
    let disk_bytes = |dir: &Path| {
        let database = pg.as_ref().map_or(0, |pg| pg.psql("startup", "SELECT pg_database_size('startup')").parse::<u64>().unwrap_or(0));
        folder_bytes(dir) + database
    };
    eprintln!("store: {}", if pg.is_some() { "PostgreSQL (a throw-away cluster)" } else { "sled (the data folder)" });
    let mut rows = Vec::new();
    let mut messages: u64 = std::env::var("SIGHTLINE_BENCH_FROM").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    for &size in &sizes {
        eprintln!("appending messages {messages}..{size} in-process...");
        let t = Instant::now();
        let ledger = open(&dir, &store);
        append(&ledger, messages, size);
        messages = size;
        let entries = ledger.size();
        ledger.shutdown();
        drop(Arc::into_inner(ledger).expect("the only handle on the ledger"));
        let disk = disk_bytes(&dir) as f64;
        eprintln!("{entries} entries, {:.1} GB on disk, in {:.0} s", disk / 1e9, t.elapsed().as_secs_f64());
        let first = start(&dir, &base.path().join(format!("first-{size}.log")), &store);
        eprintln!("  first start: {:.2} s, {:.0} MiB resident, peak {:.0} MiB", first.0, first.1, first.2);
        let later: Vec<(f64, f64, f64)> = (0..starts)
            .map(|i| {
                let s = start(&dir, &base.path().join(format!("start-{size}-{i}.log")), &store);
                eprintln!("  start {}: {:.2} s, {:.0} MiB resident, peak {:.0} MiB", i + 1, s.0, s.1, s.2);
                s
            })
            .collect();
        rows.push((entries, disk, first, later));
    }
    println!("\n| entries | on disk | first start (library indexed once) | later starts: to serving | resident when serving | peak during start-up |");
    println!("|---|---|---|---|---|---|");
    for (entries, disk, first, later) in rows {
        let list = |f: fn(&(f64, f64, f64)) -> f64, digits: usize| {
            later.iter().map(|s| format!("{:.*}", digits, f(s))).collect::<Vec<_>>().join(" / ")
        };
        println!(
            "| {entries} | {:.1} GB | {:.2} s, {:.0} MiB | {} s | {} MiB | {} MiB |",
            disk / 1e9,
            first.0,
            first.1,
            list(|s| s.0, 2),
            list(|s| s.1, 0),
            list(|s| s.2, 0)
        );
    }
    if std::env::var_os("SIGHTLINE_BENCH_KEEP").is_some() {
        let kept = base.keep();
        eprintln!("kept the data folder in {}", kept.display());
    }
}
