//! Durability under `kill -9`: a child process ingests batches and prints each
//! acknowledged message id; the parent kills it at random moments, reopens the
//! store, and checks that every acknowledged record is present and the log verifies.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{open, register, submission, Keys};

const CHILD_ENV: &str = "SIGHTLINE_CRASH_CHILD_DIR";

/// The child: appends batches for ever, printing `ack <message id>` after each durable batch.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let keys = Keys::fixed();
    let ledger = open(std::path::Path::new(&dir), &keys).unwrap();
    register(&ledger, &keys);
    let start = ledger.size();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for batch in 0u64.. {
        let subs: Vec<_> =
            (0..50).map(|i| submission(&keys, &format!("crash-{start}-{batch}-{i}"), &format!("r{i}@example.org"))).collect();
        let ack = ledger.submit(subs).unwrap();
        for a in ack.acks {
            writeln!(out, "ack {}", a.message_id.unwrap()).unwrap();
        }
        out.flush().unwrap();
    }
}

#[test]
fn no_acknowledged_record_is_lost_to_kill_9() {
    let rounds: u64 = std::env::var("SIGHTLINE_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<String> = Vec::new();
    for round in 0..rounds {
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the first acknowledged batch, so every round kills mid-ingestion, then
        // let it ingest for a pseudo-random while longer and kill it.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let line = rx.recv_timeout(Duration::from_secs(120)).expect("the child stopped before acknowledging anything");
            let first_ack = line.starts_with("ack ");
            if let Some(id) = line.strip_prefix("ack ") {
                acked.push(id.to_string());
            }
            if first_ack {
                break;
            }
            assert!(Instant::now() < deadline, "the child acknowledged nothing within 120 s");
        }
        std::thread::sleep(Duration::from_millis((round * 37) % 170));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        acked.extend(rx.try_iter().filter_map(|l| l.strip_prefix("ack ").map(str::to_string)));

        let ledger = open(dir.path(), &keys).expect("the store must reopen after kill -9");
        assert_eq!(ledger.fsck(&|_| {}).unwrap(), ledger.size());
        let present: std::collections::HashSet<String> = ledger
            .entries(0, ledger.size())
            .unwrap()
            .iter()
            .filter_map(|b| sightline_ledger::entry::Entry::parse(b).ok())
            .filter_map(|e| e.body.get("message_id").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        for id in &acked {
            assert!(present.contains(id), "round {round}: acknowledged message {id} was lost");
        }
    }
    assert!(acked.len() > 50, "the child acknowledged too little to prove anything ({})", acked.len());
}
