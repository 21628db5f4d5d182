//! Admission through the real router, in process (SPEC.md §13): the in-flight body budget, the
//! per-route body limit of a body without a length, and rate limits keyed by the peer address
//! (absent in `oneshot` tests, which are therefore never limited).

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use common::{Fixture, ORIGIN, SUBMITTER};
use sightline_ledger::request_auth::authorization;
use sightline_web::limits::Limits;
use sightline_web::rate_limit::RateLimits;
use sightline_web::router::router;
use sightline_web::setup::{random_token, Credentials};
use sightline_web::state::AppState;
use sightline_web::submitter_auth::now_unix;
use tower::ServiceExt;

const KIB: usize = 1024;

fn app_with(fx: &Fixture, limits: Limits) -> Router {
    let credentials = Credentials { admin: random_token(), compliance: random_token() };
    router(AppState::new(Arc::clone(&fx.ledger), "https://sightline.test".into(), credentials, limits).expect("state"))
}

/// A submission request with a valid `Authorization` header and the given body.
fn submission(fx: &Fixture, body: Body) -> Request<Body> {
    Request::post("/api/v1/submissions")
        .header("content-type", "application/json")
        .header("authorization", authorization(&fx.key, ORIGIN, SUBMITTER, now_unix()))
        .body(body)
        .expect("request")
}

async fn problem(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let resp = app.clone().oneshot(req).await.expect("infallible");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.expect("body");
    (status, headers, serde_json::from_slice(&bytes).unwrap_or_default())
}

#[tokio::test]
async fn a_body_the_in_flight_budget_cannot_take_is_503_with_retry_after_at_once() {
    let fx = Fixture::new();
    let app = app_with(&fx, Limits { max_body_bytes: 256 * KIB, max_in_flight_bytes: 256 * KIB, ..Limits::default() });
    // A body without a length takes 200 KiB of the budget and then stalls.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tx.send(Ok(Bytes::from(vec![b' '; 200 * KIB]))).await.unwrap();
    let stalled = tokio::spawn(app.clone().oneshot(submission(&fx, Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx)))));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (status, headers, p) = problem(&app, submission(&fx, Body::from(vec![b' '; 100 * KIB]))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{p}");
    assert_eq!(p["type"], "https://sightline.dev/problems/over-capacity");
    assert_eq!(headers["retry-after"], "1");
    // What fits in the rest of the budget is still read.
    let (status, _, p) = problem(&app, submission(&fx, Body::from("{\"records\": []}"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "read and refused for being empty: {p}");

    // Once the stalled body ends, its bytes are released.
    drop(tx);
    let _ = stalled.await;
    let (status, _, p) = problem(&app, submission(&fx, Body::from(vec![b' '; 100 * KIB]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "admitted now: {p}");
}

#[tokio::test]
async fn a_body_without_a_length_is_cut_at_the_routes_limit() {
    let fx = Fixture::new();
    let app = app_with(&fx, Limits { max_body_bytes: 64 * KIB, ..Limits::default() });
    let chunks = (0..4).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 20 * KIB])));
    let (status, _, p) = problem(&app, submission(&fx, Body::from_stream(tokio_stream::iter(chunks)))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{p}");
    assert_eq!(p["type"], "https://sightline.dev/problems/body-too-large");
    // A form route takes at most 64 KiB whatever the ingestion limit.
    let app = app_with(&fx, Limits::default());
    let req = Request::post("/why/AAAA/object")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(vec![b'a'; 65 * KIB]))
        .expect("request");
    let (status, _, _) = problem(&app, req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn rate_limits_key_on_the_peer_address_and_spare_requests_without_one() {
    let fx = Fixture::new();
    let rates = RateLimits { why_reads: "2/min".parse().unwrap(), ..RateLimits::default() };
    let app = app_with(&fx, Limits { rates, ..Limits::default() });
    let get = |peer: Option<SocketAddr>| {
        let mut req = Request::get("/why/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").body(Body::empty()).expect("request");
        if let Some(p) = peer {
            req.extensions_mut().insert(ConnectInfo(p));
        }
        req
    };
    let a: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    let b: SocketAddr = "192.0.2.2:40000".parse().unwrap();
    for _ in 0..2 {
        assert_eq!(problem(&app, get(Some(a))).await.0, StatusCode::NOT_FOUND);
    }
    let (status, headers, p) = problem(&app, get(Some(a))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{p}");
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(problem(&app, get(Some(b))).await.0, StatusCode::NOT_FOUND, "another client");
    for _ in 0..5 {
        assert_eq!(problem(&app, get(None)).await.0, StatusCode::NOT_FOUND, "no peer address, no limit");
    }
}
