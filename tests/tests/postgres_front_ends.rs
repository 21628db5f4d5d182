//! Two `sightline serve --store postgres://…` on one database, as an operator runs them
//! (SPEC.md §12.2, §14.11): submissions to both, the verifier passing the live log through
//! either, a why page from one for a message submitted through the other; `kill -9` of the
//! front end that sequences while clients ingest, and the database stopped as a crash would
//! stop it while they ingest: every acknowledged receipt is in the log, once. Each test starts
//! its own throw-away PostgreSQL cluster, or is skipped, saying why, where PostgreSQL is not
//! installed (under `CI` it fails instead).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sightline_e2e::ingestion::{Acked, Ingestion};
use sightline_e2e::postgres::PgCluster;
use sightline_e2e::*;

/// Two front ends on database `name` of `pg`, sharing one data folder (the keys), with
/// submitter `acme-ads` and the standard parties registered through the first.
fn two_front_ends(pg: &PgCluster, name: &str, data: &std::path::Path) -> (Server, Server, Submitter) {
    let opts =
        ServerOptions { data: Some(data.to_path_buf()), args: vec!["--store".into(), pg.database(name)], ..ServerOptions::default() };
    let one = Server::start_with(opts.clone());
    let two = Server::start_with(opts);
    let acme = Submitter::new("acme-ads");
    one.register_submitter(&acme);
    one.register_standard_parties();
    two.knows(&acme);
    (one, two, acme)
}

/// The role line of a front end's `/healthz`.
fn role(server: &Server) -> String {
    let health = server.get("/healthz");
    assert_eq!(health.status, 200, "{}", health.text());
    health.text().lines().find(|l| l.starts_with("role: ")).unwrap_or_else(|| panic!("no role line: {}", health.text())).to_string()
}

/// Waits until `server` says it sequences.
fn wait_until_sequencer(server: &Server, within: Duration) {
    let deadline = Instant::now() + within;
    while !role(server).starts_with("role: sequencer") {
        assert!(Instant::now() < deadline, "{} did not take over within {within:?}: {}", server.base, role(server));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every acknowledged record is the entry at its index, and no message id is in the log twice.
fn every_acknowledged_record_is_in_the_log_once(server: &Server, acked: &[Acked]) {
    let size = server.tree_size();
    let mut logged: HashMap<String, u64> = HashMap::new();
    let mut entries = HashMap::new();
    for start in (0..size).step_by(1000) {
        let page = server.get(&format!("/api/v1/entries?start={start}&end={}", (start + 1000).min(size))).json();
        for e in page["entries"].as_array().expect("entries") {
            let index = e["index"].as_u64().expect("index");
            if let Some(id) = e["entry"]["body"]["message_id"].as_str() {
                if let Some(first) = logged.insert(id.to_string(), index) {
                    panic!("message id {id} is in the log twice: entries {first} and {index}");
                }
            }
            entries.insert(index, e["entry"].clone());
        }
    }
    assert_eq!(entries.len() as u64, size, "the entries API served every entry");
    for a in acked {
        assert_eq!(
            entries.get(&a.index),
            Some(&a.entry),
            "acknowledged {} (entry {}) is not the log's entry {}",
            a.message_id,
            a.index,
            a.index
        );
        assert_eq!(logged.get(&a.message_id), Some(&a.index), "acknowledged {} is logged at another entry", a.message_id);
    }
}

/// Clients, batches per client and records per batch of the ingestion the tests break.
const CLIENTS: usize = 4;
const BATCHES: usize = 40;
const RECORDS: usize = 10;

/// Clients ingesting through `servers`, once the first 120 records are acknowledged.
fn ingesting(servers: [&Server; 2], acme: &Submitter, prefix: &str) -> Ingestion {
    let ingestion = Ingestion::start(&servers.map(|s| s.base.clone()), acme, prefix, CLIENTS, BATCHES, RECORDS);
    ingestion.wait_for(120, Duration::from_secs(120));
    ingestion
}

fn verifies(server: &Server) {
    let (code, out, err) = verifier(&["verify", &server.base, "--vkey", &server.vkey, "--quiet"]);
    assert_eq!(code, 0, "the verifier fails the live log through {}: {out}{err}", server.base);
}

#[test]
fn two_front_ends_take_submissions_and_serve_one_log() {
    let Some(pg) = PgCluster::start("two_front_ends_take_submissions_and_serve_one_log") else { return };
    let data = tempfile::tempdir().expect("tempdir");
    let (one, two, acme) = two_front_ends(&pg, "two_front_ends", &data.path().join("data"));
    assert_eq!(one.vkey, two.vkey, "both front ends sign for the same log");
    let roles = [role(&one), role(&two)];
    assert_eq!(roles.iter().filter(|r| r.starts_with("role: sequencer")).count(), 1, "one front end sequences: {roles:?}");
    assert_eq!(roles.iter().filter(|r| r.starts_with("role: follower")).count(), 1, "the other follows: {roles:?}");

    // The follower takes a submission at once, from a submitter registered through the other
    // front end a moment ago.
    let through_two = two
        .submit(&[acme.record(political_message("acme-ads", "m/two", "Sent through the second"), &political_personal("bob@example.org"))]);
    let through_one = one
        .submit(&[acme.record(political_message("acme-ads", "m/one", "Sent through the first"), &political_personal("alice@example.org"))]);
    let why = |ack: &serde_json::Value| why_token(ack["receipts"][0]["why_url"].as_str().expect("why_url")).to_string();
    // A why page from either front end for a message submitted through the other.
    for (server, token, subject) in
        [(&two, why(&through_one), "Sent through the first"), (&one, why(&through_two), "Sent through the second")]
    {
        let page = server.get(&format!("/why/{token}"));
        assert_eq!(page.status, 200, "{}", page.text());
        assert!(page.text().contains(&html_escape(subject)), "the page of another front end's message shows it: {}", page.text());
    }
    // Both serve the same signed head, and the verifier passes the live log through either.
    let deadline = Instant::now() + Duration::from_secs(10);
    while one.get("/checkpoint").text() != two.get("/checkpoint").text() {
        assert!(Instant::now() < deadline, "the front ends serve different checkpoints");
        std::thread::sleep(Duration::from_millis(50));
    }
    verifies(&one);
    verifies(&two);
}

#[test]
fn killing_the_sequencing_front_end_loses_no_acknowledged_record() {
    let Some(pg) = PgCluster::start("killing_the_sequencing_front_end_loses_no_acknowledged_record") else { return };
    let data = tempfile::tempdir().expect("tempdir");
    let (one, two, acme) = two_front_ends(&pg, "kill_sequencer", &data.path().join("data"));
    let (mut sequencer, follower) = if role(&one).starts_with("role: sequencer") { (one, two) } else { (two, one) };
    let ingestion = ingesting([&sequencer, &follower], &acme, "kill");
    sequencer.kill9();
    let killed_at = Instant::now();
    wait_until_sequencer(&follower, Duration::from_secs(20));
    eprintln!("the follower took over {:?} after the kill", killed_at.elapsed());
    let (acked, refusals) = ingestion.finish();
    assert_eq!(acked.len(), CLIENTS * BATCHES * RECORDS, "every batch was acknowledged in the end ({refusals:?})");
    every_acknowledged_record_is_in_the_log_once(&follower, &acked);
    verifies(&follower);
}

#[test]
fn restarting_the_database_during_ingestion_loses_no_acknowledged_record() {
    let Some(pg) = PgCluster::start("restarting_the_database_during_ingestion_loses_no_acknowledged_record") else { return };
    let data = tempfile::tempdir().expect("tempdir");
    let (one, two, acme) = two_front_ends(&pg, "restart_database", &data.path().join("data"));
    let ingestion = ingesting([&one, &two], &acme, "restart");
    pg.stop_immediately();
    // While the database is down, clients are told to come back, in words and with Retry-After.
    let deadline = Instant::now() + Duration::from_secs(30);
    while ingestion.refusals.unavailable_with_retry_after.load(std::sync::atomic::Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "no 503 with Retry-After while the database was down: {:?}", ingestion.refusals);
        std::thread::sleep(Duration::from_millis(50));
    }
    let down = one.post_submission_json(&serde_json::json!({ "records": [acme.record(
        plain_message("acme-ads", "restart/while-down", "Sent while the database is down"),
        &personal("down@example.org", &[], &[]),
    )] }));
    let problem = down.problem(503);
    assert!(down.header("retry-after").is_some(), "a 503 without Retry-After: {problem}");
    assert!(problem["detail"].as_str().is_some_and(|d| d.contains("again")), "the 503 says to try again: {problem}");
    pg.start_again();
    let (acked, refusals) = ingestion.finish();
    assert_eq!(acked.len(), CLIENTS * BATCHES * RECORDS, "every batch was acknowledged once the database was back ({refusals:?})");
    assert_eq!(
        refusals.unavailable.load(std::sync::atomic::Ordering::SeqCst),
        refusals.unavailable_with_retry_after.load(std::sync::atomic::Ordering::SeqCst),
        "every 503 carried Retry-After"
    );
    let server = if role(&one).starts_with("role: sequencer") { &one } else { &two };
    every_acknowledged_record_is_in_the_log_once(server, &acked);
    verifies(&one);
    verifies(&two);
}
