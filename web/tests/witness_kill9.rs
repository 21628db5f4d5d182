//! A witness killed with `kill -9` while it cosigns, 100 times over, never cosigns a checkpoint
//! inconsistent with one it already signed, and never forgets the size it cosigned.
//!
//! The client plays a dishonest log with two histories that share their first entries: it sends
//! checkpoints of both, as fast as it can, to the real `sightline witness` binary, which is killed
//! at a random moment and restarted on the same data folder. Every cosignature received must be
//! valid; all of them together must lie on one history; the sizes cosigned never go down; and
//! after each restart the size the witness reports (409) is at least the largest it cosigned.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sightline_ledger::cosignature::CosignatureVerifier;
use sightline_ledger::merkle::{leaf_hash, Tree};
use sightline_ledger::note::{parse_signature_lines, Checkpoint, NoteSigner};
use sightline_ledger::tlog_witness::{parse_size_body, AddCheckpoint};

const BIN: &str = env!("CARGO_BIN_EXE_sightline");
const ORIGIN: &str = "kill9.test/log";
/// Leaves of each history, and how many they share.
const LEAVES: u32 = 3000;
const SHARED: u64 = 10;
const KILLS: usize = 100;

/// Two histories of one log, signed with one key.
struct Histories {
    signer: NoteSigner,
    trees: [Tree; 2],
}

impl Histories {
    fn new() -> Histories {
        let leaves = |fork: u8| {
            (0..LEAVES).map(|i| leaf_hash(&[&i.to_be_bytes()[..], &[if u64::from(i) < SHARED { 0 } else { fork }]].concat())).collect()
        };
        Histories {
            signer: NoteSigner::from_seed(ORIGIN, &[4; 32]).unwrap(),
            trees: [Tree::from_leaf_hashes(leaves(1)), Tree::from_leaf_hashes(leaves(2))],
        }
    }

    fn text(&self, fork: usize, size: u64) -> String {
        Checkpoint { origin: ORIGIN.into(), size, root: self.trees[fork].root_at(size).unwrap(), extensions: vec![] }.to_text()
    }
}

/// What the client saw, in order.
#[derive(Debug)]
enum Seen {
    Cosigned {
        fork: usize,
        size: u64,
    },
    Holds(u64),
    /// A request the kill cut off after it reached the witness.
    Interrupted,
}

/// The size the witness last said it holds or cosigned.
fn last_held(seen: &[Seen]) -> u64 {
    seen.iter().rev().find(|s| !matches!(s, Seen::Interrupted)).map_or(0, |s| match s {
        Seen::Cosigned { size, .. } => *size,
        Seen::Holds(n) => *n,
        Seen::Interrupted => 0,
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends checkpoints of both histories as fast as the witness answers, until `stop`.
/// `held` is the size the client believes the witness holds (0: it asks, and learns it by 409).
/// `answers` counts the witness's answers in this run.
fn client(
    h: &Histories,
    verifier: &CosignatureVerifier,
    url: &str,
    (seed, mut held): (u64, u64),
    run: (&AtomicBool, &AtomicUsize),
    seen: &Mutex<Vec<Seen>>,
) {
    let (stop, answers) = run;
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(800)).build();
    let mut rng = seed | 1;
    while !stop.load(Ordering::Relaxed) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Mostly the history the witness is on, now and then the other one.
        let fork = usize::from(rng % 4 == 0);
        let size = (held + (rng >> 8) % 4).clamp(1, u64::from(LEAVES));
        let old = if rng & 0x30 == 0 { held.saturating_sub(1) } else { held.min(size) };
        let text = h.text(fork, size);
        let req = AddCheckpoint {
            old_size: old,
            proof: h.trees[fork].consistency_proof(old, size).unwrap(),
            checkpoint: h.signer.sign_note(&text).unwrap(),
        };
        let (status, body) = match agent.post(&format!("{url}/add-checkpoint")).send_string(&req.to_body()) {
            Ok(r) => (200, r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(ureq::Error::Transport(t)) if t.kind() != ureq::ErrorKind::ConnectionFailed => {
                seen.lock().unwrap().push(Seen::Interrupted);
                continue;
            }
            Err(_) => continue, // killed before it connected
        };
        answers.fetch_add(1, Ordering::Relaxed);
        match status {
            200 => {
                let Ok(sigs) = parse_signature_lines(&body) else { continue }; // cut off by the kill
                let sig = sigs.iter().find(|s| verifier.claims(s)).expect("a cosignature by the witness");
                verifier.verify(&text, sig).expect("every cosignature verifies over the checkpoint it answers");
                seen.lock().unwrap().push(Seen::Cosigned { fork, size });
                held = size;
            }
            409 => {
                if let Some(n) = parse_size_body(body.as_bytes()) {
                    seen.lock().unwrap().push(Seen::Holds(n));
                    held = n;
                }
            }
            400 | 422 => {}
            other => panic!("unexpected status {other}: {body}"),
        }
    }
}

fn start(data: &std::path::Path, port: u16) -> Child {
    let child = Command::new(BIN)
        .args(["witness", "serve", "--data", data.to_str().unwrap(), "--listen", &format!("127.0.0.1:{port}")])
        .env("SIGHTLINE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the witness did not start");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

#[test]
fn a_witness_killed_while_cosigning_never_cosigns_a_second_history() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("witness");
    let out = Command::new(BIN).args(["witness", "init", "--data", data.to_str().unwrap(), "--name", "kill9.test/w"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let verifier = CosignatureVerifier::from_vkey(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let h = Histories::new();
    std::fs::write(data.join("logs.txt"), format!("logs/v0\nvkey {}\n", h.signer.vkey())).unwrap();

    let seen = Mutex::new(Vec::new());
    for i in 0..KILLS {
        let port = free_port();
        let mut child = start(&data, port);
        let (stop, answers) = (AtomicBool::new(false), AtomicUsize::new(0));
        std::thread::scope(|s| {
            // Every fourth run starts from 0, so that the witness must say what it remembers.
            let held = if i % 4 == 0 { 0 } else { last_held(&seen.lock().unwrap()) };
            let (h, verifier, stop_ref, answers_ref, seen) = (&h, &verifier, &stop, &answers, &seen);
            s.spawn(move || {
                client(h, verifier, &format!("http://127.0.0.1:{port}"), (i as u64 * 7919 + 17, held), (stop_ref, answers_ref), seen)
            });
            // Once it is answering, kill it at a random moment of the next requests.
            let deadline = Instant::now() + Duration::from_secs(10);
            while answers.load(Ordering::Relaxed) == 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_micros((i as u64 * 2654435761) % 40_000));
            child.kill().unwrap();
            child.wait().unwrap();
            stop.store(true, Ordering::Relaxed);
        });
    }

    let seen = seen.into_inner().unwrap();
    let cosigned: Vec<(usize, u64)> =
        seen.iter().filter_map(|s| if let Seen::Cosigned { fork, size } = s { Some((*fork, *size)) } else { None }).collect();
    let interrupted = seen.iter().filter(|s| matches!(s, Seen::Interrupted)).count();
    assert!(
        cosigned.len() >= KILLS / 5 && interrupted >= KILLS / 4,
        "the kills landed while it cosigned: {} cosignatures, {interrupted} requests cut off",
        cosigned.len()
    );
    // One history: past the shared entries, only one fork was ever cosigned.
    let forks: std::collections::BTreeSet<usize> = cosigned.iter().filter(|(_, size)| *size > SHARED).map(|(f, _)| *f).collect();
    assert!(forks.len() <= 1, "the witness cosigned both histories: {cosigned:?}");
    // Never backwards, and never forgetting across restarts.
    let mut largest = 0;
    for s in &seen {
        match s {
            Seen::Cosigned { size, .. } => {
                assert!(*size >= largest, "cosigned size {size} after {largest}");
                largest = *size;
            }
            Seen::Holds(n) => assert!(*n >= largest, "after a restart the witness said it holds {n}, but it had cosigned {largest}"),
            Seen::Interrupted => {}
        }
    }
    assert!(cosigned.iter().any(|(_, size)| *size > SHARED), "the run went past the point where the histories part");
    assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
}
