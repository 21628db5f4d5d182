//! Store benchmark (not a timed test): appends/s and the p99 of a batch's submit-to-receipt
//! time, side by side in one run, for
//!
//! 1. `sightline serve` on its sled store;
//! 2. `sightline serve --store postgres://…`, one front end;
//! 3. two such front ends on one database, the clients' connections split between them (one
//!    sequences; the other checks its batches and hands them over, SPEC.md §12.2);
//! 4. the baseline `stores/baseline.sql`: a PostgreSQL table whose trigger chains SHA-256 hashes
//!    (pgcrypto `digest`), fed rows of the size of one submitted record in batches of 1,000 by
//!    one writer, synchronous_commit on.
//!
//! cargo bench -p sightline-web --bench stores
//! SIGHTLINE_BENCH_RECORDS=20000 cargo bench -p sightline-web --bench stores
//!
//! Knobs (environment): SIGHTLINE_BENCH_RECORDS (records per configuration, 100,000),
//! SIGHTLINE_BENCH_BATCH (records per request, 1,000), SIGHTLINE_BENCH_CONNS (client
//! connections, 4), SIGHTLINE_BENCH_DIR (where the data folders go). PostgreSQL is a throw-away
//! cluster the bench starts itself (initdb in a temporary folder, fsync on; `tests/src/
//! postgres.rs`); without PostgreSQL installed, rows 2–4 are left out, saying why. Every
//! configuration starts from an empty log with the same submitter, parties and signed records;
//! client and servers share the machine's cores.

#[path = "../tests/common/mod.rs"]
mod common;
// The load bench's server process and HTTP client; this bench uses part of them.
#[allow(dead_code)]
#[path = "load/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use ed25519_dalek::SigningKey;
use http_body_util::Full;
use hyper::{header, Request, StatusCode};
use rayon::prelude::*;
use serde_json::{json, Value};
use sightline_e2e::postgres::PgCluster;
use sightline_ledger::request_auth::authorization;
use sightline_ledger::submitter::{public_key_b64, sign_message};
use sightline_web::setup::{open_ledger_on, Access, DataDir, StoreChoice};

use server::{checkpoint_size, connect, send, Server};

const ORIGIN: &str = common::ORIGIN;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(default)
}

/// The `p` quantile of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len().max(1) - 1) as f64 * p).round() as usize).copied().unwrap_or(f64::NAN)
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9; 32])
}

/// One row of the report.
struct Measured {
    what: String,
    records: usize,
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The servers' CPU time per record (all front ends together), µs.
    server_cpu_us: f64,
}

/// Runs [`ingest`] against `servers`, counting their CPU time too.
fn measure(rt: &tokio::runtime::Runtime, what: &str, servers: &[&Server], batches: &Arc<Vec<(usize, Bytes)>>, conns: usize) -> Measured {
    let cpu = || servers.iter().map(|s| s.cpu_secs()).sum::<f64>();
    let before = cpu();
    let addrs: Vec<SocketAddr> = servers.iter().map(|s| s.addr).collect();
    let mut m = ingest(rt, what, &addrs, batches, conns);
    m.server_cpu_us = (cpu() - before) * 1e6 / m.records as f64;
    m
}

/// The parties the records name: id, name, country, controlling party.
const PARTIES: [(&str, &str, &str, &str); 3] = [
    ("p-top", "Top Trust Ltd", "KY", "self"),
    ("p-civic-holding", "Civic Holding AG", "CH", "p-top"),
    ("p-civic-future", "Civic Future e.V.", "DE", "p-civic-holding"),
];

/// Registers the submitter and parties of the records in a new log kept in `store`, through the
/// server's own code, then closes it so that the servers can open it.
fn new_log(dir: &Path, store: &StoreChoice) {
    let ledger = open_ledger_on(&DataDir::new(dir), ORIGIN, store, Access::Write).expect("open the new log");
    let submitter_key = public_key_b64(&key());
    ledger.register_submitter(common::SUBMITTER, "Acme Ads GmbH", "transparency@acme-ads.example", &submitter_key).expect("submitter");
    for (id, name, country, controlled_by) in PARTIES {
        ledger.register_party(id, name, &format!("info@{id}.example"), country, controlled_by).expect("party");
    }
    ledger.shutdown();
}

/// Sends every batch once, connection `c` to `addrs[c % len]`; appends/s and batch latency.
fn ingest(rt: &tokio::runtime::Runtime, what: &str, addrs: &[SocketAddr], batches: &Arc<Vec<(usize, Bytes)>>, conns: usize) -> Measured {
    let next = Arc::new(AtomicUsize::new(0));
    let before = rt.block_on(checkpoint_size(addrs[0]));
    let start = Instant::now();
    let tasks: Vec<_> = (0..conns)
        .map(|c| {
            let (batches, next, addr) = (Arc::clone(batches), Arc::clone(&next), addrs[c % addrs.len()]);
            rt.spawn(async move {
                let mut conn = connect(addr).await;
                let (mut latencies, mut records) = (Vec::new(), 0);
                while let Some((n, body)) = batches.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
                    let req = Request::post("/api/v1/submissions")
                        .header(header::HOST, addr.to_string())
                        .header(header::CONTENT_TYPE, "application/json")
                        .header(header::AUTHORIZATION, authorization(&key(), ORIGIN, common::SUBMITTER, now))
                        .body(Full::new(body.clone()))
                        .expect("request");
                    let t = Instant::now();
                    let (status, answer) = send(&mut conn, req).await;
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer[..answer.len().min(2000)]));
                    records += n;
                }
                (records, latencies)
            })
        })
        .collect();
    let (mut records, mut latencies) = (0, Vec::new());
    for t in tasks {
        let (n, l) = rt.block_on(t).expect("a client task");
        records += n;
        latencies.extend(l);
    }
    let secs = start.elapsed().as_secs_f64();
    let after = rt.block_on(checkpoint_size(addrs[0]));
    assert_eq!(after - before, records as u64, "{what}: every record appended once");
    latencies.sort_by(|a, b| a.total_cmp(b));
    Measured {
        what: what.into(),
        records,
        per_s: records as f64 / secs,
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        server_cpu_us: f64::NAN,
    }
}

/// The trigger baseline: `rows` rows of `size` bytes, in batches of 1,000, on one connection.
fn baseline(pg: &PgCluster, rows: usize, size: usize) -> Measured {
    let name = "baseline";
    let url = pg.database(name);
    pg.psql(name, include_str!("stores/baseline.sql"));
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("connect to the baseline database");
    client.batch_execute("SET synchronous_commit TO on").expect("synchronous_commit");
    let insert = client.prepare("INSERT INTO baseline_log (body) SELECT * FROM UNNEST($1::BYTEA[])").expect("prepare");
    let bodies: Vec<Vec<Vec<u8>>> = (0..rows.div_ceil(1000))
        .map(|b| (0..1000.min(rows - b * 1000)).map(|i| format!("{:0size$}", b * 1000 + i).into_bytes()).collect())
        .collect();
    let start = Instant::now();
    let mut latencies = Vec::new();
    for batch in &bodies {
        let t = Instant::now();
        let mut tx = client.transaction().expect("begin");
        tx.execute(&insert, &[batch]).expect("insert a batch");
        tx.commit().expect("commit");
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = start.elapsed().as_secs_f64();
    let count: i64 = client.query_one("SELECT count(*) FROM baseline_log", &[]).and_then(|r| r.try_get(0)).expect("count");
    assert_eq!(count as usize, rows, "the baseline holds every row once");
    latencies.sort_by(|a, b| a.total_cmp(b));
    Measured {
        what: "PostgreSQL trigger baseline (SHA-256 chain only)".into(),
        records: rows,
        per_s: rows as f64 / secs,
        p50_ms: quantile(&latencies, 0.5),
        p99_ms: quantile(&latencies, 0.99),
        server_cpu_us: f64::NAN,
    }
}

fn main() {
    let records = knob("SIGHTLINE_BENCH_RECORDS", 100_000);
    let batch = knob("SIGHTLINE_BENCH_BATCH", 1_000).max(1);
    let conns = knob("SIGHTLINE_BENCH_CONNS", 4).max(2);
    let root = match std::env::var("SIGHTLINE_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d),
        Err(_) => tempfile::tempdir(),
    }
    .expect("a folder for the data");
    eprintln!("signing {records} records …");
    let signed: Vec<Value> = (0..records)
        .into_par_iter()
        .map(|i| {
            let body = common::political_message(&format!("stores/{i:08}"), "They don't want you to know what's coming");
            let s = sign_message(&key(), body, &common::personal_for(&format!("r{}@example.org", i % 10_000))).expect("sign");
            json!({ "body": s.body, "sig": s.sig, "personal": s.personal })
        })
        .collect();
    let record_bytes = signed.first().map(|r| r.to_string().len()).unwrap_or(0);
    let batches: Arc<Vec<(usize, Bytes)>> =
        Arc::new(signed.chunks(batch).map(|c| (c.len(), Bytes::from(json!({ "records": c }).to_string()))).collect());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("client runtime");
    let mut rows = Vec::new();

    let sled = root.path().join("sled");
    new_log(&sled, &StoreChoice::Sled);
    let server = Server::start(&sled, &root.path().join("sled.log"));
    rows.push(measure(&rt, "sled, one server", &[&server], &batches, conns));
    server.stop();

    match PgCluster::start("the store benchmark") {
        None => eprintln!("PostgreSQL is not installed: the PostgreSQL rows are left out"),
        Some(pg) => {
            let url = pg.database("one_front_end");
            let dir = root.path().join("pg-one");
            new_log(&dir, &StoreChoice::Postgres(url.clone()));
            let server = Server::start_with(&dir, &root.path().join("pg-one.log"), &["--store", &url]);
            rows.push(measure(&rt, "PostgreSQL, one front end", &[&server], &batches, conns));
            server.stop();

            let url = pg.database("two_front_ends");
            let dir = root.path().join("pg-two");
            new_log(&dir, &StoreChoice::Postgres(url.clone()));
            let one = Server::start_with(&dir, &root.path().join("pg-two-a.log"), &["--store", &url]);
            let two = Server::start_with(&dir, &root.path().join("pg-two-b.log"), &["--store", &url]);
            rows.push(measure(&rt, "PostgreSQL, two front ends", &[&one, &two], &batches, conns));
            two.stop();
            one.stop();

            rows.push(baseline(&pg, records, record_bytes));
        }
    }

    println!("\nStore benchmark: {records} records of about {record_bytes} bytes, batches of {batch}, {conns} connections, one run");
    println!("| configuration | records | appends/s | p50 per batch | p99 per batch | server CPU per record |");
    println!("|---|---:|---:|---:|---:|---:|");
    for m in &rows {
        let cpu = if m.server_cpu_us.is_nan() { "–".to_string() } else { format!("{:.0} µs", m.server_cpu_us) };
        println!("| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {cpu} |", m.what, m.records, m.per_s, m.p50_ms, m.p99_ms);
    }
}
