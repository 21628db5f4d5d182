//! Web load benchmark (not a timed test): a load generator against the real
//! `sightline serve` binary on loopback, measuring
//!
//! (a) signed records/s ingested end to end by `POST /api/v1/submissions`
//!     (pre-built submitter-signed records with personal parts, in batches, on
//!     several keep-alive connections) and the batch submit-to-receipt latency;
//! (b) `GET /why/<token>` pages/s over random tokens of a >= 1,000,000-record
//!     ledger, and their latency.
//!
//! cargo bench -p sightline-web --bench load                       (1,000,000 records, 200,000 ingested)
//! SIGHTLINE_BENCH_RECORDS=20000 SIGHTLINE_BENCH_INGEST=20000 cargo bench -p sightline-web --bench load
//!
//! Other knobs (environment): SIGHTLINE_BENCH_RUNS (3), SIGHTLINE_BENCH_BATCH (records per
//! request), SIGHTLINE_BENCH_CONNS (ingestion connections), SIGHTLINE_BENCH_WHY_CONNS,
//! SIGHTLINE_BENCH_SECS (seconds per why-page run), SIGHTLINE_BENCH_CLIENT_THREADS,
//! SIGHTLINE_BENCH_DIR (where the data folders go), SIGHTLINE_BENCH_SERVER (another server
//! binary to drive, for before/after comparisons in one sitting), SIGHTLINE_BENCH_ONLY
//! (`ingest` or `why`: run one half), SIGHTLINE_BENCH_WHY_DIR (a data folder for the why
//! ledger that is kept: built there on the first run, reused by later runs; a reused folder is
//! opened only by the server under test, so one load generator can drive an older binary on a
//! copy of it).
//!
//! Each ingestion request carries the submitter's signed `Authorization` header (SPEC.md §12),
//! signed per request on the client. The server runs with its default limits except the
//! per-client rate of why pages, which the run turns off (`SIGHTLINE_RATE_WHY=off`: every
//! request comes from 127.0.0.1, far above what one real client reads); an older binary given
//! by SIGHTLINE_BENCH_SERVER ignores the variable and the header.
//!
//! The data folders are laid out by `sightline_web::setup::open_ledger` (the
//! server's own code), so the server binary opens them as it would in production.
//! The 1M-record ledger is built in-process with the ledger crate (every record
//! still signed by the submitter and verified by the ledger); only the measured
//! traffic goes over HTTP. Client and server share the machine's cores.
//! Over 400 lines: the data set, the load generator and the report are one program.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "load/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use ed25519_dalek::SigningKey;
use http_body_util::Full;
use hyper::{header, Request, StatusCode};
use rayon::prelude::*;
use serde_json::{json, Value};
use sightline_ledger::privacy::ServerSecret;
use sightline_ledger::request_auth::authorization;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_ledger::{Ledger, Submission};
use sightline_web::setup::{open_ledger, DataDir};

use server::{checkpoint_size, connect, folder_bytes, process_cpu_secs, send, server_binary, Server};

const ORIGIN: &str = common::ORIGIN;

/// The client shares the cores with the server: keep its allocations cheap too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(default)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    pct(&s, 0.5)
}

fn spread(v: &[f64], digits: usize) -> String {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{min:.digits$}–{max:.digits$}")
}

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The submitter key every benchmark record is signed with.
fn submitter_key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// The submitter's `Authorization` header for a submission now (SPEC.md §12).
fn auth_header() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    authorization(&submitter_key(), ORIGIN, common::SUBMITTER, now)
}

/// A data folder as the server lays it out, with the submitter and parties the
/// records use; returns the still-open ledger.
fn prepare_dir(dir: &Path) -> Arc<Ledger> {
    let ledger = open_ledger(&DataDir::new(dir), ORIGIN).expect("open the data folder");
    ledger
        .register_submitter(common::SUBMITTER, "Acme Ads GmbH", "transparency@acme-ads.example", &public_key_b64(&submitter_key()))
        .expect("submitter");
    ledger.register_party("p-top", "Top Trust Ltd", "trust@top.example", "KY", "self").expect("party");
    ledger.register_party("p-civic-holding", "Civic Holding AG", "info@civic-holding.example", "CH", "p-top").expect("party");
    ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic-future.example", "DE", "p-civic-holding").expect("party");
    ledger
}

/// Entries [`prepare_dir`] writes before the first message: the log key, the submitter and
/// three parties.
const SETUP_ENTRIES: u64 = 5;

/// Closes a ledger so that the server process can open its store.
fn close(ledger: Arc<Ledger>) {
    ledger.shutdown();
    drop(Arc::into_inner(ledger).expect("the only handle on the ledger"));
}

/// One signed record with its personal part: the SPEC.md §3.4 political "dark post".
fn record(key: &SigningKey, i: usize, recipients: usize) -> Submission {
    let body = common::political_message(&format!("bench/{i:08}"), "They don't want you to know what's coming");
    sign_message(key, body, &common::personal_for(&format!("r{}@example.org", i % recipients))).expect("sign")
}

fn submission_json(s: &Submission) -> Value {
    json!({ "body": s.body, "sig": s.sig, "personal": s.personal })
}

struct IngestRun {
    records_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The server's CPU time per ingested record, µs.
    server_cpu_us: f64,
    /// The load generator's own CPU time per ingested record, µs (it shares the cores).
    client_cpu_us: f64,
}

/// Sends every batch once, over `conns` connections; returns throughput and latency.
async fn ingest(addr: SocketAddr, batches: Arc<Vec<(usize, Bytes)>>, conns: usize) -> IngestRun {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|_| {
            let (batches, next) = (batches.clone(), next.clone());
            tokio::spawn(async move {
                let mut c = connect(addr).await;
                let mut lat = Vec::new();
                let mut records = 0;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((n, body)) = batches.get(i) else { break };
                    let req = Request::post("/api/v1/submissions")
                        .header(header::HOST, addr.to_string())
                        .header(header::CONTENT_TYPE, "application/json")
                        .header(header::AUTHORIZATION, auth_header())
                        .body(Full::new(body.clone()))
                        .expect("request");
                    let t = Instant::now();
                    let (status, resp) = send(&mut c, req).await;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    assert_eq!(status, StatusCode::OK, "batch {i}: {}", String::from_utf8_lossy(&resp[..resp.len().min(2000)]));
                    if i == 0 {
                        // Check one response completely: a receipt per record, all new.
                        let v: Value = serde_json::from_slice(&resp).expect("receipts JSON");
                        let receipts = v["receipts"].as_array().expect("receipts");
                        assert_eq!(receipts.len(), *n);
                        assert!(receipts.iter().all(|r| r["duplicate"] == false && r["why_url"].is_string()));
                    }
                    records += n;
                }
                (records, lat)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut records = 0;
    for t in tasks {
        let (n, l) = t.await.expect("client task");
        records += n;
        lat.extend(l);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    IngestRun {
        records_per_s: records as f64 / secs,
        p50_ms: pct(&lat, 0.5),
        p99_ms: pct(&lat, 0.99),
        server_cpu_us: f64::NAN,
        client_cpu_us: f64::NAN,
    }
}

struct WhyRun {
    pages: usize,
    pages_per_s: f64,
    /// The server's CPU time (user + system) per page, µs.
    server_cpu_us: f64,
    p50_ms: f64,
    p99_ms: f64,
    bytes_per_page: f64,
}

/// GETs `/why/<token>` for random tokens on `conns` keep-alive connections for `secs`.
async fn why_load(addr: SocketAddr, tokens: Arc<Vec<String>>, conns: usize, secs: f64, seed: u64) -> WhyRun {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|c| {
            let tokens = tokens.clone();
            tokio::spawn(async move {
                let mut conn = connect(addr).await;
                let mut rng = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (c as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
                let mut lat = Vec::new();
                let mut bytes = 0usize;
                while Instant::now() < deadline {
                    // xorshift64*
                    rng ^= rng >> 12;
                    rng ^= rng << 25;
                    rng ^= rng >> 27;
                    let pick = (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) % tokens.len() as u64) as usize;
                    let req = Request::get(format!("/why/{}", tokens[pick]))
                        .header(header::HOST, addr.to_string())
                        .body(Full::new(Bytes::new()))
                        .expect("request");
                    let t = Instant::now();
                    let (status, body) = send(&mut conn, req).await;
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    assert_eq!(status, StatusCode::OK, "why page of token {}", tokens[pick]);
                    bytes += body.len();
                }
                (lat, bytes)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (l, b) = t.await.expect("client task");
        lat.extend(l);
        bytes += b;
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_by(|a, b| a.total_cmp(b));
    WhyRun {
        pages: lat.len(),
        pages_per_s: lat.len() as f64 / secs,
        server_cpu_us: f64::NAN,
        p50_ms: pct(&lat, 0.5),
        p99_ms: pct(&lat, 0.99),
        bytes_per_page: bytes as f64 / lat.len().max(1) as f64,
    }
}

/// Appends `total` signed records to `ledger` in-process, signing and submitting
/// on a few threads at once. Returns the seconds taken.
fn fill(ledger: &Arc<Ledger>, total: usize, recipients: usize) -> f64 {
    let key = Arc::new(submitter_key());
    let chunk = 1_000;
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (ledger, key, next) = (ledger.clone(), key.clone(), next.clone());
            std::thread::spawn(move || loop {
                let start = next.fetch_add(chunk, Ordering::Relaxed);
                if start >= total {
                    break;
                }
                let end = (start + chunk).min(total);
                let subs: Vec<Submission> = (start..end).into_par_iter().map(|i| record(&key, i, recipients)).collect();
                ledger.submit(subs).expect("append");
                if end % 100_000 < chunk {
                    eprintln!("  ~{end} records appended, {:.0}/s", end as f64 / t.elapsed().as_secs_f64());
                }
            })
        })
        .collect();
    for h in threads {
        h.join().expect("filler thread");
    }
    t.elapsed().as_secs_f64()
}

fn server_secret(dir: &Path) -> ServerSecret {
    let hex_secret = std::fs::read_to_string(DataDir::new(dir).secret()).expect("server.secret");
    ServerSecret(hex::decode(hex_secret.trim()).expect("hex").try_into().expect("32 bytes"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ledger_records: usize = env_or("SIGHTLINE_BENCH_RECORDS", 1_000_000);
    let only = std::env::var("SIGHTLINE_BENCH_ONLY").unwrap_or_default();
    let (do_ingest, do_why) = (only != "why", only != "ingest");
    // Without the ingestion half, one record is still signed (it sizes the table's notes).
    let ingest_records: usize = if do_ingest { env_or("SIGHTLINE_BENCH_INGEST", 200_000) } else { 1 };
    let runs: usize = env_or("SIGHTLINE_BENCH_RUNS", 3).max(1);
    let batch: usize = env_or("SIGHTLINE_BENCH_BATCH", 500).max(1);
    let conns: usize = env_or("SIGHTLINE_BENCH_CONNS", 4).max(1);
    let why_conns: usize = env_or("SIGHTLINE_BENCH_WHY_CONNS", 16).max(1);
    let why_secs: f64 = env_or("SIGHTLINE_BENCH_SECS", 10.0);
    let client_threads: usize = env_or("SIGHTLINE_BENCH_CLIENT_THREADS", 1).max(1);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let base = tempfile::Builder::new()
        .prefix("sightline-web-bench")
        .tempdir_in(std::env::var("SIGHTLINE_BENCH_DIR").unwrap_or_else(|_| std::env::temp_dir().display().to_string()))
        .expect("bench folder");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(client_threads).enable_all().build().expect("client runtime");
    let key = submitter_key();
    eprintln!("server: {} (the real binary, on 127.0.0.1); client: tokio + hyper HTTP/1.1, {client_threads} thread(s); {cores} cores shared by both", server_binary());

    // ---- (a) ingestion ----
    eprintln!("(a) signing {ingest_records} records with personal parts (submitter side, not timed)...");
    let t = Instant::now();
    let subs: Vec<Submission> = (0..ingest_records).into_par_iter().map(|i| record(&key, i, 50_000)).collect();
    let record_bytes = serde_jcs::to_vec(&subs[0].body).expect("jcs").len();
    let batches: Vec<(usize, Bytes)> = subs
        .par_chunks(batch)
        .map(|c| {
            (
                c.len(),
                Bytes::from(serde_json::to_vec(&json!({ "records": c.iter().map(submission_json).collect::<Vec<_>>() })).expect("json")),
            )
        })
        .collect();
    drop(subs);
    let request_bytes = batches.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / ingest_records as f64;
    let batches = Arc::new(batches);
    eprintln!("signed in {:.1}s; a record body is {record_bytes} canonical bytes, {request_bytes:.0} request bytes with signature and personal part", t.elapsed().as_secs_f64());
    let mut ingest_runs = Vec::new();
    for run in (0..runs).filter(|_| do_ingest) {
        let dir = base.path().join(format!("ingest-{run}"));
        close(prepare_dir(&dir));
        let server = Server::start(&dir, &base.path().join(format!("ingest-{run}.log")));
        let before = rt.block_on(checkpoint_size(server.addr));
        let (cpu_before, client_before) = (server.cpu_secs(), process_cpu_secs("self"));
        let mut r = rt.block_on(ingest(server.addr, batches.clone(), conns));
        r.server_cpu_us = (server.cpu_secs() - cpu_before) * 1e6 / ingest_records as f64;
        r.client_cpu_us = (process_cpu_secs("self") - client_before) * 1e6 / ingest_records as f64;
        let after = rt.block_on(checkpoint_size(server.addr));
        assert_eq!(after - before, ingest_records as u64, "every record appended exactly once");
        eprintln!(
            "  run {}: {:.0} records/s, batch p50 {:.1} ms, p99 {:.1} ms, server CPU {:.1} µs/record, client CPU {:.1} µs/record",
            run + 1,
            r.records_per_s,
            r.p50_ms,
            r.p99_ms,
            r.server_cpu_us,
            r.client_cpu_us
        );
        ingest_runs.push(r);
        server.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }

    // ---- (b) why pages ----
    let mut why_runs = Vec::new();
    let mut why_facts = None;
    if do_why {
        let kept = std::env::var("SIGHTLINE_BENCH_WHY_DIR").ok().map(std::path::PathBuf::from);
        let dir = kept.clone().unwrap_or_else(|| base.path().join("why"));
        let reuse = kept.is_some() && DataDir::new(&dir).secret().exists();
        // A kept folder is not opened in-process: the server under test (maybe an older binary,
        // SIGHTLINE_BENCH_SERVER) opens it, and its size is read from the server's checkpoint.
        let (first_message, size, fill_secs, disk) = if reuse {
            eprintln!("(b) reusing the ledger in {}", dir.display());
            (SETUP_ENTRIES, 0, f64::NAN, folder_bytes(&dir))
        } else {
            eprintln!("(b) building a {ledger_records}-record ledger in-process in {} ...", dir.display());
            let ledger = prepare_dir(&dir);
            let first_message = ledger.size();
            assert_eq!(first_message, SETUP_ENTRIES, "the setup entries before the first message");
            let fill_secs = fill(&ledger, ledger_records, 100_000);
            let size = ledger.size();
            assert_eq!(size, first_message + ledger_records as u64);
            let disk = ledger.size_on_disk().unwrap_or(0);
            close(ledger);
            eprintln!(
                "built in {fill_secs:.1}s ({:.0} records/s in-process), {size} entries, {:.0} MB on disk",
                ledger_records as f64 / fill_secs,
                disk as f64 / 1e6
            );
            (first_message, size, fill_secs, disk)
        };
        let secret = server_secret(&dir);
        let server = Server::start(&dir, &base.path().join("why.log"));
        let served = rt.block_on(checkpoint_size(server.addr));
        let size = if reuse { served } else { size };
        assert_eq!(served, size);
        eprintln!("server started on {} entries in {:.1}s", size, server.startup.as_secs_f64());
        let tokens: Arc<Vec<String>> = Arc::new((first_message..size).into_par_iter().map(|i| secret.why_token(i)).collect());
        eprintln!("warming up for 2s...");
        rt.block_on(why_load(server.addr, tokens.clone(), why_conns, 2.0, 0));
        for run in 0..runs {
            let cpu_before = server.cpu_secs();
            let mut r = rt.block_on(why_load(server.addr, tokens.clone(), why_conns, why_secs, run as u64 + 1));
            r.server_cpu_us = (server.cpu_secs() - cpu_before) * 1e6 / r.pages as f64;
            eprintln!(
                "  run {}: {:.0} pages/s, p50 {:.2} ms, p99 {:.2} ms, {:.0} bytes/page, server CPU {:.1} µs/page",
                run + 1,
                r.pages_per_s,
                r.p50_ms,
                r.p99_ms,
                r.bytes_per_page,
                r.server_cpu_us
            );
            why_runs.push(r);
        }
        why_facts = Some(WhyFacts { size, fill_secs, disk, startup: server.startup.as_secs_f64() });
        server.stop();
    }

    // ---- the table ----
    let ir = |f: fn(&IngestRun) -> f64| ingest_runs.iter().map(f).collect::<Vec<_>>();
    let wr = |f: fn(&WhyRun) -> f64| why_runs.iter().map(f).collect::<Vec<_>>();
    let (rps, ip50, ip99, icpu) = (ir(|r| r.records_per_s), ir(|r| r.p50_ms), ir(|r| r.p99_ms), ir(|r| r.server_cpu_us));
    let ccpu = ir(|r| r.client_cpu_us);
    // What the cores could ingest if every cycle went to server and client: the rate's ceiling
    // on this machine for this code, however the work is scheduled.
    let ceiling: Vec<f64> = ingest_runs.iter().map(|r| cores as f64 * 1e6 / (r.server_cpu_us + r.client_cpu_us)).collect();
    let (pps, wp50, wp99, wbytes) = (wr(|r| r.pages_per_s), wr(|r| r.p50_ms), wr(|r| r.p99_ms), wr(|r| r.bytes_per_page));
    println!();
    println!("Web server under load: the real `sightline serve` binary on 127.0.0.1, driven by a tokio + hyper");
    println!("HTTP/1.1 keep-alive client ({client_threads} client thread(s)) on the same machine: client and server share {cores} cores.");
    println!("Median of {runs} runs; spread is min–max.");
    println!();
    println!("| metric | median | spread |");
    println!("|---|---|---|");
    if !ingest_runs.is_empty() {
        println!(
            "| ingestion: signed records/s, `POST /api/v1/submissions` ({} records, {batch}-record batches, {conns} connections, fresh data folder per run) | {} | {} |",
            thousands(ingest_records as f64),
            thousands(median(&rps)),
            spread(&rps, 0)
        );
        println!("| ingestion: batch submit-to-receipt latency p50 | {:.1} ms | {} ms |", median(&ip50), spread(&ip50, 1));
        println!("| ingestion: batch submit-to-receipt latency p99 | {:.1} ms | {} ms |", median(&ip99), spread(&ip99, 1));
        println!("| ingestion: server CPU time (user + system) per record | {:.1} µs | {} µs |", median(&icpu), spread(&icpu, 1));
        println!("| ingestion: load generator's CPU time per record | {:.1} µs | {} µs |", median(&ccpu), spread(&ccpu, 1));
        println!(
            "| ingestion: CPU ceiling, {cores} cores ÷ (server + client CPU per record), records/s | {} | {} |",
            thousands(median(&ceiling)),
            spread(&ceiling, 0)
        );
    }
    if let Some(f) = why_facts {
        println!(
            "| why pages/s, `GET /why/<token>`, random tokens over {} entries ({why_conns} connections, {why_secs:.0} s per run) | {} | {} |",
            thousands(f.size as f64),
            thousands(median(&pps)),
            spread(&pps, 0)
        );
        println!("| why page latency p50 | {:.2} ms | {} ms |", median(&wp50), spread(&wp50, 2));
        println!("| why page latency p99 | {:.2} ms | {} ms |", median(&wp99), spread(&wp99, 2));
        let wcpu = wr(|r| r.server_cpu_us);
        println!("| why pages: server CPU time (user + system) per page | {:.1} µs | {} µs |", median(&wcpu), spread(&wcpu, 1));
        println!();
        println!("Record body {record_bytes} canonical bytes ({request_bytes:.0} bytes per record in the request, with signature and personal part); why page {:.0} bytes.", median(&wbytes));
        if f.fill_secs.is_finite() {
            println!(
                "The {}-entry ledger was built in-process in {:.0} s ({} signed records/s incl. signing), {:.0} bytes on disk per entry; the server opened it in {:.1} s.",
                thousands(f.size as f64),
                f.fill_secs,
                thousands(ledger_records as f64 / f.fill_secs),
                f.disk as f64 / f.size as f64,
                f.startup
            );
        } else {
            println!(
                "The {}-entry ledger was kept from an earlier run; {:.0} bytes on disk per entry; the server opened it in {:.1} s.",
                thousands(f.size as f64),
                f.disk as f64 / f.size as f64,
                f.startup
            );
        }
    }
}

/// What the why-page half measured about its ledger.
struct WhyFacts {
    size: u64,
    fill_secs: f64,
    disk: u64,
    startup: f64,
}
