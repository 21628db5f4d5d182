//! Per-client rate limits against the real server (SPEC.md §13): beyond the configured rate a
//! client is answered `429` with `Retry-After`, and nothing is written. Every request of these
//! tests comes from 127.0.0.1, one client.

use serde_json::json;
use sightline_e2e::*;

/// The `Retry-After` seconds of a 429, after checking its problem document.
fn retry_after(r: &Resp) -> u64 {
    let p = r.problem(429);
    assert_eq!(p["type"], "https://sightline.dev/problems/rate-limited");
    r.header("retry-after").and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("429 without a Retry-After in seconds: {r:?}"))
}

fn refusals(server: &Server, reason: &str) -> u64 {
    let metrics = server.get("/metrics").text();
    let prefix = format!("sightline_refusals_total{{reason=\"{reason}\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&prefix)?.parse().ok()).unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
}

#[test]
fn submissions_and_why_pages_beyond_their_rate_are_429_with_retry_after_and_write_nothing() {
    let server = Server::start_with(ServerOptions {
        args: ["--rate-submissions", "2/min", "--rate-why", "3/min"].map(String::from).to_vec(),
        ..Default::default()
    });
    let acme = Submitter::new("acme-ads");
    server.register_submitter(&acme);
    server.register_standard_parties();
    let message = |i: u32| acme.record(political_message("acme-ads", &format!("rate/{i}"), "Rated"), &political_personal("r@example.org"));

    let ack = server.submit(&[message(1)]);
    server.submit(&[message(2)]);
    let size = server.tree_size();
    let r = server.post_submission_json(&json!({ "records": [message(3)] }));
    let wait = retry_after(&r);
    assert!((1..=30).contains(&wait), "2/min: the next one is at most 30 s away, not {wait}");
    assert_eq!(server.tree_size(), size, "a rate-limited submission wrote nothing");

    let why = why_path(&server, ack["receipts"][0]["why_url"].as_str().expect("why_url")).to_string();
    for _ in 0..3 {
        assert_eq!(server.get(&why).status, 200);
    }
    let r = server.get(&why);
    assert!(retry_after(&r) >= 1);
    // Other routes and classes are not held back.
    assert_eq!(server.get("/checkpoint").status, 200);
    assert_eq!(server.get("/library").status, 200);
    assert_eq!(refusals(&server, "rate_limited_submissions"), 1);
    assert_eq!(refusals(&server, "rate_limited_why_reads"), 1);
}

#[test]
fn admin_requests_beyond_their_rate_are_429_and_write_nothing() {
    let server = Server::start_with(ServerOptions { args: ["--rate-admin", "1/h"].map(String::from).to_vec(), ..Default::default() });
    let party = |p: &str| json!({ "party": p, "name": "Rated Party", "contact": "r@rated.example", "established_in": "DE", "ultimately_controlled_by": "self" });
    let r = server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &party("p-first"));
    assert_eq!(r.status, 200, "{}", r.text());
    let size = server.tree_size();
    let r = server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &party("p-second"));
    assert!(retry_after(&r) > 60, "1/h: the next one is most of an hour away");
    assert_eq!(server.tree_size(), size);
    assert_eq!(refusals(&server, "rate_limited_admin"), 1);
}
