//! The log's side of witnessing, in process, against real `sightline witness` routers on
//! loopback: checkpoints get cosigned and served, receipts carry the cosignatures, a witness that
//! holds a larger size is caught up from it (409), and a witness that holds another tree of a
//! size the log signed raises the split-view alarm that `/healthz` and `/metrics` report.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use sightline_ledger::cosignature::Cosigner;
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::note::{Checkpoint, NoteSigner, SignedNote};
use sightline_ledger::tlog_witness::AddCheckpoint;
use sightline_web::cosigning::{config, Cosigning};
use sightline_web::limits::Limits;
use sightline_web::router::router;
use sightline_web::setup::{random_token, Credentials};
use sightline_web::state::AppState;
use sightline_web::witness::{self, Witness};
use tower::ServiceExt;

/// A witness router served on a loopback port.
struct Running {
    witness: Arc<Witness>,
    url: String,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn run_witness(name: &str, log_vkey: &str) -> Running {
    let dir = tempfile::tempdir().unwrap();
    witness::cli::init(dir.path(), name).unwrap();
    let w = Arc::new(witness::cli::load(dir.path(), None, &[log_vkey.to_string()]).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = witness::router(Arc::clone(&w));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running { witness: w, url, task, _dir: dir }
}

fn witness_list(ws: &[&Running], quorum: usize) -> config::WitnessConfig {
    let flags: Vec<String> = ws.iter().map(|w| format!("{} {}", w.witness.cosigner.vkey(), w.url)).collect();
    config::build(None, &flags, Some(quorum)).unwrap().unwrap()
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Waits (up to 20 s) until `f` holds.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

const COMPLIANCE: &str = "compliance-credential-for-the-cosigning-tests";

fn app_with(fx: &Fixture, cosigning: &Arc<Cosigning>) -> axum::Router {
    let credentials = Credentials { admin: random_token(), compliance: COMPLIANCE.into() };
    let mut state = AppState::new(Arc::clone(&fx.ledger), "https://sightline.test".into(), credentials, Limits::default()).unwrap();
    state.cosigning = Some(Arc::clone(cosigning));
    router(state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_cosigned_served_and_carried_by_receipts() {
    let fx = Fixture::new();
    let vkey = fx.ledger.vkey();
    let (a, b, c) = (run_witness("w.test/a", &vkey).await, run_witness("w.test/b", &vkey).await, run_witness("w.test/c", &vkey).await);
    let cosigning = Cosigning::start(Arc::clone(&fx.ledger), witness_list(&[&a, &b, &c], 2), fx._dir.path());
    let app = app_with(&fx, &cosigning);
    let ack = fx.submit(political_message(&fx.next_id(), "Vote"), &personal_for("alice@example.org"));
    let size = fx.ledger.size();
    until("all three cosign the newest checkpoint", || cosigning.witnessed().is_some_and(|w| w.size == size && w.names.len() == 3)).await;

    let (_, served) = get(&app, "/checkpoint").await;
    let note = SignedNote::parse(&served).unwrap();
    assert_eq!(note.signatures.len(), 4, "the log's signature and three cosignatures: {served}");
    for w in [&a, &b, &c] {
        let sig = note.signatures.iter().find(|s| w.witness.cosigner.verifier().claims(s)).unwrap();
        w.witness.cosigner.verifier().verify(&note.text, sig).unwrap();
    }
    let (status, health) = get(&app, "/healthz?witnessed").await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert!(health.contains("witness policy met: 3 cosignatures (2 required)"), "{health}");
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(metrics.contains("sightline_witness_policy_met 1"), "{metrics}");
    assert!(metrics.contains(&format!("sightline_witnessed_tree_size {size}")), "{metrics}");

    // The receipt is made at the witnessed checkpoint and carries its cosignatures.
    let (_, receipt) = get(&app, &format!("/api/v1/receipt/{}", ack.index)).await;
    let receipt: sightline_ledger::receipt::Receipt = serde_json::from_str(&receipt).unwrap();
    let (_, cp) = receipt
        .verify(&[NoteSigner::from_skey(&std::fs::read_to_string(fx._dir.path().join("log.key")).unwrap()).unwrap().verifier()])
        .unwrap();
    assert_eq!(cp.size, size);
    assert_eq!(receipt.tlog_proof.matches("\n— w.test/").count(), 3, "{}", receipt.tlog_proof);

    // So does a bundle's manifest.
    let req =
        Request::get("/api/v1/export?format=bundle").header("authorization", format!("Bearer {COMPLIANCE}")).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let bundle = String::from_utf8(axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(bundle.lines().next().unwrap()).unwrap();
    assert_eq!(manifest["checkpoint"].as_str().unwrap().matches("\n— w.test/").count(), 3, "{manifest}");

    // The why page says which witnesses vouch for the proof.
    let (_, page) = get(&app, &format!("/why/{}", ack.why_token.clone().unwrap())).await;
    assert!(page.contains("3 independent witnesses cosigned (w.test/a, w.test/b, w.test/c)"), "why page lacks the witnesses");

    // One witness gone: 2 of 3 still meets the policy for the next checkpoint.
    c.task.abort();
    fx.submit(political_message(&fx.next_id(), "Vote again"), &personal_for("bob@example.org"));
    let size = fx.ledger.size();
    until("a and b cosign without c", || cosigning.witnessed().is_some_and(|w| w.size == size && w.names == ["w.test/a", "w.test/b"]))
        .await;
    cosigning.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_ahead_of_the_log_record_is_caught_up_from_its_size() {
    let fx = Fixture::new();
    let vkey = fx.ledger.vkey();
    let w = run_witness("w.test/a", &vkey).await;
    // The witness already cosigned the current checkpoint (the log's record of it was lost).
    let (size, note) = fx.ledger.head().unwrap();
    let direct = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: note };
    assert!(w.witness.add_checkpoint(direct.to_body().as_bytes()).is_ok());
    fx.submit(political_message(&fx.next_id(), "Later"), &personal_for("carol@example.org"));
    let cosigning = Cosigning::start(Arc::clone(&fx.ledger), witness_list(&[&w], 1), fx._dir.path());
    let now = fx.ledger.size();
    until("the witness cosigns from the size it named", || cosigning.witnessed().is_some_and(|x| x.size == now)).await;
    let st = cosigning.status();
    assert_eq!(st.witnesses[0].counts.conflicts, 1, "one 409, then a submission from size {size}");
    assert_eq!(w.witness.state.held(fx.ledger.origin()).unwrap().size, now);
    cosigning.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_witness_holding_another_tree_raises_the_split_view_alarm() {
    let fx = Fixture::new();
    let vkey = fx.ledger.vkey();
    let w = run_witness("w.test/a", &vkey).await;
    // Someone with the log key showed the witness another tree of the current size.
    let log_key = NoteSigner::from_skey(std::fs::read_to_string(fx._dir.path().join("log.key")).unwrap().trim()).unwrap();
    let size = fx.ledger.size();
    let other = Checkpoint { origin: fx.ledger.origin().into(), size, root: leaf_hash(b"another history"), extensions: vec![] };
    let fork = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: log_key.sign_note(&other.to_text()).unwrap() };
    assert!(w.witness.add_checkpoint(fork.to_body().as_bytes()).is_ok());
    let cosigning = Cosigning::start(Arc::clone(&fx.ledger), witness_list(&[&w], 1), fx._dir.path());
    let app = app_with(&fx, &cosigning);
    until("the alarm is raised", || cosigning.status().witnesses[0].alarm.is_some()).await;
    let (status, health) = get(&app, "/healthz?witnessed").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
    assert!(health.contains("witness policy unmet: 0 of 1 required cosignatures"), "{health}");
    assert!(health.contains("holds a different tree of size"), "{health}");
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK, "liveness stays 200");
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(metrics.contains("sightline_witness_split_view{witness=\"w.test/a\"} 1"), "{metrics}");
    assert!(metrics.contains("sightline_witness_policy_met 0"), "{metrics}");
    assert!(cosigning.witnessed().is_none(), "nothing is witnessed");
    cosigning.stop();
}

#[test]
fn the_record_survives_a_restart_and_is_checked_again() {
    let fx = Fixture::new();
    let stranger = Cosigner::from_seed("w.test/a", &[9; 32]).unwrap();
    let flags = vec![format!("{} http://127.0.0.1:9", stranger.vkey())];
    let cfg = config::build(None, &flags, None).unwrap().unwrap();
    // A record whose witnessed checkpoint carries a forged cosignature is not believed.
    let (_, note) = fx.ledger.head().unwrap();
    let text = SignedNote::parse(&note).unwrap().text;
    let mut forged = stranger.cosign(&text, 1).unwrap();
    forged.signature[20] ^= 1;
    let record = format!(
        "{{\"format\":\"sightline-witnessing/v1\",\"witnesses\":{{}},\"witnessed\":{}}}",
        serde_json::to_string(&format!("{note}{}", forged.to_line())).unwrap()
    );
    std::fs::write(fx._dir.path().join("witnessing.json"), record).unwrap();
    let c = Cosigning::start(Arc::clone(&fx.ledger), cfg.clone(), fx._dir.path());
    assert!(c.witnessed().is_none());
    c.stop();
    // A genuine one is.
    let good = format!(
        "{{\"format\":\"sightline-witnessing/v1\",\"witnesses\":{{}},\"witnessed\":{}}}",
        serde_json::to_string(&format!("{note}{}", stranger.cosign(&text, 1).unwrap().to_line())).unwrap()
    );
    std::fs::write(fx._dir.path().join("witnessing.json"), good).unwrap();
    let c = Cosigning::start(Arc::clone(&fx.ledger), cfg, fx._dir.path());
    assert_eq!(c.witnessed().unwrap().names, ["w.test/a"]);
    c.stop();
}
