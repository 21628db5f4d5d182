//! Submitters authenticate before their body is read (SPEC.md §12): every
//! `POST /api/v1/submissions` carries `Authorization: Sightline v1 <id> <unix-seconds> <sig>`,
//! checked from the headers alone. Each refusal has its status, its problem type and a message
//! saying what to do, and writes nothing (the signed checkpoint does not grow).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sightline_e2e::raw_http::{addr_of, head, head_only};
use sightline_e2e::*;

const PROBLEMS: &str = "https://sightline.dev/problems/";

/// A signed record of `by`, to a fresh recipient.
fn record(by: &Submitter, id: &str) -> Value {
    by.record(political_message(&by.id, id, "Authenticated"), &political_personal("auth@example.org"))
}

fn post_with(server: &Server, authorization: Option<&str>, body: &Value) -> Resp {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(a) = authorization {
        headers.push(("authorization", a));
    }
    http_post(&server.url("/api/v1/submissions"), &headers, body.to_string().as_bytes())
}

/// The problem's type, after checking the status.
fn kind(r: &Resp, status: u16) -> String {
    r.problem(status)["type"].as_str().unwrap_or_default().trim_start_matches(PROBLEMS).to_string()
}

#[test]
fn a_missing_or_malformed_header_is_401_with_www_authenticate_and_writes_nothing() {
    let (server, acme) = operator_setup();
    let size = server.tree_size();
    let batch = json!({ "records": [record(&acme, "auth/missing")] });

    let r = post_with(&server, None, &batch);
    assert_eq!(kind(&r, 401), "authorization-required");
    assert_eq!(r.header("www-authenticate"), Some("Sightline"));
    assert!(r.json()["detail"].as_str().unwrap().contains("Authorization: Sightline v1"), "says what to send: {}", r.text());

    let good = acme.auth_header();
    let sig = good.rsplit(' ').next().unwrap().to_string();
    let now = now_unix();
    for bad in [
        "Bearer e2e-admin-credential-0123456789abcdef".to_string(),
        format!("Sightline v1 acme-ads {now}"),
        format!("Sightline v2 acme-ads {now} {sig}"),
        format!("Sightline v1 acme-ads {now}s {sig}"),
        format!("Sightline v1 acme-ads 0{now} {sig}"),
        format!("Sightline v1 acme ads {now} {sig}"),
        format!("Sightline v1 acme-ads {now} {}", &sig[4..]),
        format!("{good} extra"),
    ] {
        let r = post_with(&server, Some(&bad), &batch);
        assert_eq!(kind(&r, 401), "authorization-malformed", "{bad}");
        assert_eq!(r.header("www-authenticate"), Some("Sightline"), "{bad}");
        assert_eq!(server.tree_size(), size, "{bad} wrote to the log");
    }
    assert_eq!(server.tree_size(), size);
}

#[test]
fn a_stale_time_a_wrong_key_another_log_or_an_unknown_submitter_is_403_and_writes_nothing() {
    let (server, acme) = operator_setup();
    let size = server.tree_size();
    let batch = json!({ "records": [record(&acme, "auth/forbidden")] });
    let impostor = Submitter::new("acme-ads");
    let ghost = Submitter::new("ghost-ads");
    let now = now_unix();
    let cases = [
        (acme.auth_header_at(ORIGIN, now - 301), "request-time-skew", "a time 301 s in the past"),
        (acme.auth_header_at(ORIGIN, now + 3600), "request-time-skew", "a time an hour ahead"),
        (impostor.auth_header(), "request-signature", "a header signed with another key"),
        (acme.auth_header_at("other.example/log", now), "request-signature", "a header made for another log"),
        (ghost.auth_header(), "request-unknown-submitter", "an unregistered submitter"),
    ];
    for (header, expected, what) in cases {
        let r = post_with(&server, Some(&header), &batch);
        assert_eq!(kind(&r, 403), expected, "{what}: {}", r.text());
        assert_eq!(server.tree_size(), size, "{what} wrote to the log");
    }
    // Within the window either way is fine.
    let r = post_with(&server, Some(&acme.auth_header_at(ORIGIN, now_unix() - 200)), &batch);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.tree_size(), size + 1);
}

#[test]
fn a_batch_holding_another_submitters_record_is_403_naming_it_and_writes_nothing() {
    let (server, acme) = operator_setup();
    let beta = Submitter::new("beta-mail");
    server.register_submitter(&beta);
    let size = server.tree_size();
    // beta authenticates, and sends one of its own records and one of acme's (validly signed by acme).
    let batch = json!({ "records": [record(&beta, "beta/1"), record(&acme, "acme/1")] });
    let r = post_with(&server, Some(&beta.auth_header()), &batch);
    let p = r.problem(403);
    assert_eq!(p["type"], format!("{PROBLEMS}foreign-record"));
    assert_eq!((p["record"].clone(), p["field"].clone()), (json!(1), json!("signer")), "{p}");
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains("acme-ads") && detail.contains("beta-mail"), "{detail}");
    assert_eq!(server.tree_size(), size, "nothing of the batch was written");
    // Each submitter's records in its own request are accepted.
    server.submit(&[record(&beta, "beta/2")]);
    server.submit(&[record(&acme, "acme/2")]);
    assert_eq!(server.tree_size(), size + 2);
}

#[test]
fn the_header_is_checked_before_a_byte_of_the_body_is_read() {
    let (server, acme) = operator_setup();
    let impostor = Submitter::new("acme-ads");
    let addr = addr_of(&server.base);
    // A 16 MiB body is announced and never sent: the refusal comes from the headers alone.
    let declared = Some(16 * 1024 * 1024);
    for (auth, status) in [(None, 401), (Some(impostor.auth_header()), 403)] {
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("Authorization", a.as_str()));
        }
        let started = Instant::now();
        let out = head_only(&addr, &head("POST", "/api/v1/submissions", &addr, &headers, declared), Duration::from_secs(30));
        assert_eq!(out.status, Some(status), "{auth:?}: the server answered without the body");
        assert!(started.elapsed() < Duration::from_secs(20), "the answer did not wait for the body");
    }
    // A valid header on the same announcement is admitted and waits for the body.
    let good = acme.auth_header();
    let headers = [("Content-Type", "application/json"), ("Authorization", good.as_str())];
    let out = head_only(&addr, &head("POST", "/api/v1/submissions", &addr, &headers, declared), Duration::from_secs(2));
    assert_eq!(out.status, None, "an authenticated request is read: {out:?}");
    let metrics = server.get("/metrics").text();
    for reason in ["unauthenticated", "request_signature"] {
        assert!(!metrics.contains(&format!("sightline_refusals_total{{reason=\"{reason}\"}} 0")), "{reason} counted");
    }
}
