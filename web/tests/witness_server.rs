//! `sightline witness` over its real router: another implementation's log is witnessed, every bad
//! input gets the status C2SP tlog-witness gives it and changes nothing, and what was cosigned
//! survives a restart.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sightline_ledger::cosignature::Cosigner;
use sightline_ledger::merkle::{leaf_hash, Hash, Tree};
use sightline_ledger::note::{parse_signature_lines, Checkpoint, NoteSigner, SignedNote};
use sightline_ledger::tlog_witness::{AddCheckpoint, MAX_REQUEST_BYTES};
use sightline_web::witness::{cli, log_list, router, Witness};
use tower::ServiceExt;

const ORIGIN: &str = "sightline.test/log";

/// A witness in a fresh data folder that knows the logs of `list` (log-list text).
fn witness(list: &str) -> (tempfile::TempDir, Arc<Witness>, Router) {
    let dir = tempfile::tempdir().unwrap();
    cli::init(dir.path(), "witness.test/w1").unwrap();
    std::fs::write(dir.path().join("logs.txt"), list).unwrap();
    let w = Arc::new(cli::load(dir.path(), None, &[]).unwrap());
    let app = router(Arc::clone(&w));
    (dir, w, app)
}

async fn post(app: &Router, body: Vec<u8>) -> (StatusCode, String, String) {
    let req = Request::post("/add-checkpoint").body(Body::from(body)).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (status, ctype, String::from_utf8_lossy(&bytes).into_owned())
}

/// A log of 20 leaves signed by `signer`.
struct Log {
    signer: NoteSigner,
    tree: Tree,
}

impl Log {
    fn new(seed: u8, salt: u8) -> Log {
        Log {
            signer: NoteSigner::from_seed(ORIGIN, &[seed; 32]).unwrap(),
            tree: Tree::from_leaf_hashes((0..20u8).map(|i| leaf_hash(&[i, salt])).collect()),
        }
    }
    fn checkpoint(&self, size: u64) -> String {
        let cp = Checkpoint { origin: ORIGIN.into(), size, root: self.tree.root_at(size).unwrap(), extensions: vec![] };
        self.signer.sign_note(&cp.to_text()).unwrap()
    }
    fn request(&self, old: u64, size: u64) -> AddCheckpoint {
        AddCheckpoint { old_size: old, proof: self.tree.consistency_proof(old, size).unwrap(), checkpoint: self.checkpoint(size) }
    }
    fn body(&self, old: u64, size: u64) -> Vec<u8> {
        self.request(old, size).to_body().into_bytes()
    }
}

/// The cosignature in a 200 answer verifies over the checkpoint text.
fn assert_cosigned(w: &Witness, answer: &str, checkpoint_note: &str) {
    let sigs = parse_signature_lines(answer).unwrap();
    let text = SignedNote::parse(checkpoint_note).unwrap().text;
    assert_eq!(sigs.len(), 1, "{answer}");
    w.cosigner.verifier().verify(&text, &sigs[0]).unwrap();
}

#[tokio::test]
async fn another_implementations_log_is_witnessed() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/transparency-dev-witness");
    let read = |f: &str| std::fs::read_to_string(data.join(f)).unwrap();
    let list = format!("logs/v0\nvkey {}\norigin Log Checkpoint v0\n", read("log.vkey").trim());
    let (_dir, w, app) = witness(&list);
    let first = AddCheckpoint { old_size: 0, proof: vec![], checkpoint: read("checkpoint-5") };
    let (status, _, answer) = post(&app, first.to_body().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_cosigned(&w, &answer, &first.checkpoint);
    let proof: Vec<Hash> = read("proof-5-8.hex").lines().map(|l| hex::decode(l).unwrap().try_into().unwrap()).collect();
    let next = AddCheckpoint { old_size: 5, proof, checkpoint: read("checkpoint-8") };
    let (status, _, answer) = post(&app, next.to_body().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_cosigned(&w, &answer, &next.checkpoint);
    assert_eq!(w.state.held("Log Checkpoint v0").unwrap().size, 8);
}

#[tokio::test]
async fn bad_inputs_get_their_status_and_change_nothing() {
    let log = Log::new(1, 0);
    let (dir, w, app) = witness(&format!("logs/v0\nvkey {}\n", log.signer.vkey()));
    let (status, _, answer) = post(&app, log.body(0, 8)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let state_file = dir.path().join("state.json");
    let saved = std::fs::read(&state_file).unwrap();

    let mut bad_proof = log.request(8, 12);
    bad_proof.proof[0][3] ^= 0x20;
    let impostor = Log::new(2, 0);
    let stranger = NoteSigner::from_seed("other.test/log", &[1; 32]).unwrap();
    let stranger_cp = Checkpoint { origin: "other.test/log".into(), size: 3, root: log.tree.root_at(3).unwrap(), extensions: vec![] };
    let fork = Log::new(1, 1);
    let mut too_many = String::from("old 8\n");
    for _ in 0..64 {
        too_many.push_str(&B64.encode([0u8; 32]));
        too_many.push('\n');
    }
    too_many.push('\n');
    too_many.push_str(&log.checkpoint(12));
    let cases: Vec<(&str, Vec<u8>, StatusCode, Option<&str>)> = vec![
        ("garbage", b"\x00\xffnot a request at all".to_vec(), StatusCode::BAD_REQUEST, None),
        ("no empty line", b"old 8\n".to_vec(), StatusCode::BAD_REQUEST, None),
        ("leading zero", log.body(8, 12).splice(4..5, *b"08").collect::<Vec<u8>>(), StatusCode::BAD_REQUEST, None),
        ("64 proof lines", too_many.into_bytes(), StatusCode::BAD_REQUEST, None),
        ("bad proof", bad_proof.to_body().into_bytes(), StatusCode::UNPROCESSABLE_ENTITY, None),
        ("wrong key", impostor.body(8, 12), StatusCode::FORBIDDEN, None),
        (
            "unknown origin",
            AddCheckpoint { old_size: 0, proof: vec![], checkpoint: stranger.sign_note(&stranger_cp.to_text()).unwrap() }
                .to_body()
                .into_bytes(),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "old size above the checkpoint",
            AddCheckpoint { old_size: 8, proof: vec![], checkpoint: log.checkpoint(5) }.to_body().into_bytes(),
            StatusCode::BAD_REQUEST,
            None,
        ),
        ("size going backwards", log.body(5, 5), StatusCode::CONFLICT, Some("8\n")),
        ("stale old size", log.body(3, 12), StatusCode::CONFLICT, Some("8\n")),
        ("a second tree of the same size", fork.body(8, 8), StatusCode::CONFLICT, Some("8\n")),
        ("oversized body", vec![b'a'; MAX_REQUEST_BYTES + 1], StatusCode::PAYLOAD_TOO_LARGE, None),
    ];
    for (what, body, want, size_body) in cases {
        let (status, ctype, answer) = post(&app, body).await;
        assert_eq!(status, want, "{what}: {answer}");
        if let Some(b) = size_body {
            assert_eq!((ctype.as_str(), answer.as_str()), ("text/x.tlog.size", b), "{what}");
        } else {
            assert!(!answer.starts_with('—'), "{what}: no cosignature on a refusal");
        }
        assert_eq!(std::fs::read(&state_file).unwrap(), saved, "{what}: the state changed");
        assert_eq!(w.state.held(ORIGIN).unwrap().size, 8, "{what}");
    }
    // After all that, the honest next step is still cosigned.
    let (status, _, answer) = post(&app, log.body(8, 12)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_cosigned(&w, &answer, &log.checkpoint(12));
}

#[tokio::test]
async fn a_restarted_witness_remembers_and_says_its_size() {
    let log = Log::new(1, 0);
    let list = format!("logs/v0\nvkey {}\n", log.signer.vkey());
    let (dir, w, app) = witness(&list);
    assert_eq!(post(&app, log.body(0, 10)).await.0, StatusCode::OK);
    drop((w, app));
    let again = Arc::new(cli::load(dir.path(), None, &[]).unwrap());
    let app = router(Arc::clone(&again));
    // A log that lost track asks from 0 and learns the size, as tlog-witness says.
    let (status, ctype, answer) = post(&app, log.body(0, 15)).await;
    assert_eq!((status, ctype.as_str(), answer.as_str()), (StatusCode::CONFLICT, "text/x.tlog.size", "10\n"));
    assert_eq!(post(&app, log.body(10, 15)).await.0, StatusCode::OK);
    // The same checkpoint again is cosigned again (a fresh timestamp), not refused.
    assert_eq!(post(&app, log.body(15, 15)).await.0, StatusCode::OK);
}

#[test]
fn an_unreadable_state_stops_the_witness_from_starting() {
    let log = Log::new(1, 0);
    let (dir, _, _) = witness(&format!("logs/v0\nvkey {}\n", log.signer.vkey()));
    std::fs::write(dir.path().join("state.json"), b"{\"format\":").unwrap();
    let e = cli::load(dir.path(), None, &[]).err().expect("refused").to_string();
    assert!(e.contains("Do not delete it"), "{e}");
}

#[test]
fn a_witness_keeps_its_name_and_knows_at_least_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let (key, created) = cli::init(dir.path(), "witness.test/w1").unwrap();
    assert!(created);
    let (again, created) = cli::init(dir.path(), "witness.test/w1").unwrap();
    assert!(!created);
    assert_eq!(again.vkey(), key.vkey());
    assert!(cli::init(dir.path(), "witness.test/other").is_err());
    assert!(Cosigner::from_skey(&std::fs::read_to_string(dir.path().join("witness.key")).unwrap()).is_ok());
    let e = cli::load(dir.path(), None, &[]).err().expect("no logs").to_string();
    assert!(e.contains("knows no log"), "{e}");
    let log = NoteSigner::from_seed(ORIGIN, &[1; 32]).unwrap();
    assert_eq!(cli::load(dir.path(), None, &[log.vkey()]).unwrap().logs.len(), 1);
    let parsed = log_list::parse(&format!("logs/v0\nvkey {}\n", log.vkey()), "x").unwrap();
    assert_eq!(parsed[0].origin, ORIGIN);
}
