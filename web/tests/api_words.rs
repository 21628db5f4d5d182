//! The public read API answers a wrong query in plain words naming the parameter (SPEC.md §12),
//! never in the framework's words, and `GET /api/v1/registry` lists who the log knows.

mod common;

use axum::http::StatusCode;
use common::{personal_for, political_message, Fixture};
use serde_json::Value;

/// Words that belong to the server's framework or language, not to an answer.
const JARGON: [&str; 6] = ["Failed to deserialize", "u64", "invalid digit", "struct", "query string:", "ParseIntError"];

#[tokio::test]
async fn query_and_body_errors_are_plain_words() {
    let fx = Fixture::new();
    fx.submit(political_message(&fx.next_id(), "Words"), &personal_for("w@example.org"));
    for (path, parameter) in [
        ("/api/v1/entries?start=0", "`end` is required"),
        ("/api/v1/entries?end=3", "`start` is required"),
        ("/api/v1/entries?start=zero&end=3", "`start` must be a whole number"),
        ("/api/v1/entries?start=0&end=-1", "`end` must be a whole number"),
        ("/api/v1/proof/inclusion?size=3", "`index` is required"),
        ("/api/v1/proof/inclusion?index=1x", "`index` must be a whole number"),
        ("/api/v1/proof/consistency?old=a", "`old` must be a whole number"),
        ("/api/v1/entries?start=0&start=1&end=2", "`start`"),
    ] {
        let (status, headers, body) = fx.get(path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json");
        let p: Value = serde_json::from_str(&body).expect("a problem document");
        let detail = p["detail"].as_str().expect("detail");
        assert!(detail.contains(parameter), "{path}: {detail}");
        for j in JARGON {
            assert!(!detail.contains(j), "{path}: {detail}");
        }
    }
    // `end` is exclusive: entries 0 and 1.
    let (status, _, body) = fx.get("/api/v1/entries?start=0&end=2").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&body).unwrap();
    let indexes: Vec<u64> = v["entries"].as_array().unwrap().iter().map(|e| e["index"].as_u64().unwrap()).collect();
    assert_eq!(indexes, [0, 1]);
}

#[tokio::test]
async fn the_registry_lists_log_keys_submitters_and_parties_with_their_entries() {
    let fx = Fixture::new();
    let (status, headers, body) = fx.get("/api/v1/registry").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"));
    let r: Value = serde_json::from_str(&body).unwrap();
    let keys = r["log_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["index"], 0);
    assert_eq!(keys[0]["vkey"], fx.ledger.vkey());
    let submitters = r["submitters"].as_array().unwrap();
    let ids: Vec<(Option<&str>, Option<u64>)> = submitters.iter().map(|s| (s["submitter"].as_str(), s["index"].as_u64())).collect();
    assert_eq!(ids, [(Some("acme-ads"), Some(1)), (Some("beta-mail"), Some(2))]);
    let s = &submitters[0];
    use base64::Engine as _;
    assert_eq!(s["public_key"], base64::engine::general_purpose::STANDARD.encode(fx.key.verifying_key().to_bytes()));
    let parties: Vec<(String, u64)> =
        r["parties"].as_array().unwrap().iter().map(|p| (p["party"].as_str().unwrap().to_string(), p["index"].as_u64().unwrap())).collect();
    assert_eq!(
        parties,
        [("p-top".to_string(), 3), ("p-civic-holding".to_string(), 4), ("p-civic-future".to_string(), 5), ("p-shoes".to_string(), 6)]
    );
    // Each index is the entry that registered it.
    for (party, index) in &parties {
        let (_, _, body) = fx.get(&format!("/api/v1/entries?start={index}&end={}", index + 1)).await;
        let e: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(e["entries"][0]["entry"]["body"]["party"], party.as_str());
    }
}
