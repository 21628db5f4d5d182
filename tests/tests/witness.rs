//! Witnesses end to end, real binaries only: three `sightline witness` processes and a log with a
//! 2-of-3 policy; witnesses stopped and restarted; a second history of the log refused by an
//! honest witness and reported by the verifier with both checkpoints as evidence.

use std::path::Path;
use std::time::{Duration, Instant};

use sightline_e2e::witness::WitnessProcess;
use sightline_e2e::*;

/// Waits up to 60 s until `f` holds.
fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The served checkpoint: its size and which of `names` carry a cosignature line in it.
fn served(server: &Server, names: &[&str]) -> (u64, Vec<String>) {
    let note = server.get("/checkpoint").text();
    let cosigned = names.iter().filter(|n| note.contains(&format!("\n— {n} "))).map(|n| n.to_string()).collect();
    (checkpoint_size(&note), cosigned)
}

const NAMES: [&str; 3] = ["w1.e2e", "w2.e2e", "w3.e2e"];

/// Submits one plain message; returns the size of the checkpoint it is in and its index.
fn append(server: &Server, acme: &Submitter, n: usize) -> (u64, u64) {
    let r =
        server.submit(&[acme.record(plain_message(&acme.id, &format!("w/{n}"), "Winter sale"), &personal("eve@example.org", &[], &[]))]);
    (checkpoint_size(r["checkpoint"].as_str().expect("checkpoint")), r["receipts"][0]["index"].as_u64().expect("index"))
}

/// A data folder with a witness list.
fn data_with_witnesses(dir: &Path, witnesses: &[&WitnessProcess], quorum: usize) -> std::path::PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut list = String::from("# the log's witnesses\n");
    for w in witnesses {
        list.push_str(&format!("witness {} {}\n", w.vkey, w.url));
    }
    list.push_str(&format!("quorum {quorum}\n"));
    std::fs::write(data.join("witnesses.txt"), list).unwrap();
    data
}

fn metric(server: &Server, line_start: &str) -> Option<String> {
    server.get("/metrics").text().lines().find(|l| l.starts_with(line_start)).map(str::to_string)
}

fn verify_live(server: &Server, vkeys: &[String]) -> (i32, String, String) {
    let mut args = vec!["verify".to_string(), server.base.clone(), "--vkey".into(), server.vkey.clone(), "--quiet".into()];
    for v in vkeys {
        args.extend(["--witness".into(), v.clone()]);
    }
    args.extend(["--witness-threshold".into(), "2".into()]);
    verifier(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn two_of_three_witnesses_cosign_and_the_policy_is_enforced() {
    let mut ws: Vec<WitnessProcess> = NAMES.iter().map(|n| WitnessProcess::init(n)).collect();
    let vkeys: Vec<String> = ws.iter().map(|w| w.vkey.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_witnesses(dir.path(), &ws.iter().collect::<Vec<_>>(), 2);
    let (server, acme) = operator_setup_with(ServerOptions { data: Some(data), ..ServerOptions::default() });
    assert!(server.stdout.contains("Witnesses: 2 of 3 witnesses (w1.e2e, w2.e2e, w3.e2e)"), "{}", server.stdout);
    for w in &mut ws {
        w.start(&server.vkey);
    }

    // All three cosign.
    let (size, first) = append(&server, &acme, 1);
    until("three witnesses cosign", || served(&server, &NAMES) == (size, vec!["w1.e2e".into(), "w2.e2e".into(), "w3.e2e".into()]));
    let (code, out, err) = verify_live(&server, &vkeys);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("3 of 3 trusted witnesses cosigned (policy: at least 2)"), "{out}");
    let w3_saw = ws[2].held_size(ORIGIN).expect("w3 holds a size");
    assert_eq!(w3_saw, size);

    // One stopped: still witnessed.
    ws[2].kill9();
    let (size, _) = append(&server, &acme, 2);
    until("two witnesses cosign", || served(&server, &NAMES) == (size, vec!["w1.e2e".into(), "w2.e2e".into()]));
    let (code, out, err) = verify_live(&server, &vkeys);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 of 3 trusted witnesses cosigned") && out.contains("not cosigned by w3.e2e"), "{out}");

    // Two stopped: the policy is unmet, and everyone says so.
    ws[1].kill9();
    let (size, _) = append(&server, &acme, 3);
    until("the round settles unmet", || {
        served(&server, &NAMES).0 == size
            && metric(&server, "sightline_witness_policy_met").as_deref() == Some("sightline_witness_policy_met 0")
    });
    assert_eq!(served(&server, &NAMES).1, ["w1.e2e"]);
    let (code, out, err) = verify_live(&server, &vkeys);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains(
            "is cosigned by 1 of the 2 witnesses the policy requires, of 3 trusted (cosigned: w1.e2e; not cosigned: w2.e2e, w3.e2e"
        ),
        "{err}"
    );
    let health = server.get("/healthz");
    assert_eq!(health.status, 200, "liveness stays 200");
    assert!(health.text().contains("witness policy unmet: 1 of 2 required cosignatures"), "{}", health.text());
    assert_eq!(server.get("/healthz?witnessed").status, 503);

    // A receipt downloaded now carries the cosignatures of the last witnessed checkpoint.
    let receipt = server.get(&format!("/api/v1/receipt/{first}"));
    let file = dir.path().join("first.sightline-receipt.json");
    std::fs::write(&file, &receipt.body).unwrap();
    let (f, v1, v2, v3) = (file.to_str().unwrap(), &ws[0].vkey, &ws[1].vkey, &ws[2].vkey);
    let (code, out, err) =
        verifier(&["receipt", f, "--vkey", &server.vkey, "--witness", v1, "--witness", v2, "--witness", v3, "--witness-threshold", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cosigned by w1.e2e") && out.contains("cosigned by w2.e2e"), "{out}");

    // The stopped witness returns and is caught up from the size it last saw: no 409 needed.
    ws[2].start(&server.vkey);
    let (size, _) = append(&server, &acme, 4);
    until("w1 and w3 cosign again", || served(&server, &NAMES) == (size, vec!["w1.e2e".into(), "w3.e2e".into()]));
    assert_eq!(ws[2].held_size(ORIGIN), Some(size), "w3 moved from size {w3_saw} to {size}");
    assert_eq!(
        metric(&server, "sightline_witness_requests_total{witness=\"w3.e2e\",result=\"conflict\"}").as_deref(),
        Some("sightline_witness_requests_total{witness=\"w3.e2e\",result=\"conflict\"} 0")
    );
    until("the policy is met again", || {
        metric(&server, "sightline_witness_policy_met").as_deref() == Some("sightline_witness_policy_met 1")
    });
    let (code, out, err) = verify_live(&server, &vkeys);
    assert_eq!(code, 0, "{out}{err}");

    // A bundle exported from the stopped server's data folder carries the witnessed checkpoint.
    let mut server = server;
    assert!(server.stop().is_some_and(|s| s.success()));
    let bundle = dir.path().join("all.sightline-bundle.jsonl");
    let (data, out_file) = (server.data.to_str().unwrap().to_string(), bundle.to_str().unwrap());
    let (code, _, err) =
        run(&binaries().sightline, &["export", "--data", &data, "--origin", ORIGIN, "--format", "bundle", "--out", out_file, "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let (v1, v2, v3) = (&vkeys[0], &vkeys[1], &vkeys[2]);
    let (code, out, err) = verifier(&[
        "verify",
        out_file,
        "--vkey",
        &server.vkey,
        "--witness",
        v1,
        "--witness",
        v2,
        "--witness",
        v3,
        "--witness-threshold",
        "2",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cosigned by w1.e2e") && out.contains("cosigned by w3.e2e"), "{out}");
}

#[test]
fn a_second_history_is_refused_by_the_witness_and_reported_by_the_verifier() {
    let mut w = WitnessProcess::init("honest.e2e");
    let dir = tempfile::tempdir().unwrap();
    let data = data_with_witnesses(dir.path(), &[&w], 1);
    let (mut a, acme) = operator_setup_with(ServerOptions { data: Some(data.clone()), ..ServerOptions::default() });
    w.start(&a.vkey);
    let (size, _) = append(&a, &acme, 1);
    until("the witness cosigns", || served(&a, &["honest.e2e"]) == (size, vec!["honest.e2e".into()]));

    // The operator copies its log and lets the copy grow differently: one key, two histories.
    assert!(a.stop().is_some_and(|s| s.success()));
    let copy = dir.path().join("copy");
    copy_dir(&data, &copy);
    let a = Server::start_with(ServerOptions { data: Some(data), ..ServerOptions::default() });
    a.knows(&acme);
    let (next, _) = append(&a, &acme, 2);
    until("the witness cosigns the first history's next checkpoint", || served(&a, &["honest.e2e"]) == (next, vec!["honest.e2e".into()]));
    let b = Server::start_with(ServerOptions { data: Some(copy), ..ServerOptions::default() });
    assert_eq!(b.vkey, a.vkey, "the same log key");
    b.knows(&acme);
    let other = b.submit(&[acme.record(plain_message(&acme.id, "w/other", "Another sale"), &personal("mallory@example.org", &[], &[]))]);
    assert_eq!(checkpoint_size(other["checkpoint"].as_str().unwrap()), next, "a second tree of the same size");

    // The honest witness refuses it; the second log says so.
    until("the copy raises the split-view alarm", || {
        metric(&b, "sightline_witness_split_view").as_deref() == Some("sightline_witness_split_view{witness=\"honest.e2e\"} 1")
    });
    let health = b.get("/healthz").text();
    assert!(health.contains("witness policy unmet") && health.contains(&format!("holds a different tree of size {next}")), "{health}");
    let b_note = b.get("/checkpoint").text();
    assert_eq!(served(&b, &["honest.e2e"]).1, Vec::<String>::new(), "nothing cosigned the second history");
    let refused = http_post(&format!("{}/add-checkpoint", w.url), &[], format!("old {next}\n\n{b_note}").as_bytes());
    assert_eq!((refused.status, refused.header("content-type")), (409, Some("text/x.tlog.size")));
    assert_eq!(refused.text(), format!("{next}\n"));

    // The verifier, given both checkpoints, reports the split with both as evidence.
    let (fa, fb) = (dir.path().join("a.checkpoint"), dir.path().join("b.checkpoint"));
    std::fs::write(&fa, a.get("/checkpoint").text()).unwrap();
    std::fs::write(&fb, &b_note).unwrap();
    let (code, out, err) =
        verifier(&["consistency", fa.to_str().unwrap(), fb.to_str().unwrap(), "--vkey", &a.vkey, "--witness", &w.vkey, "--json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["error"]["code"], "split_view", "{v}");
    assert_eq!(v["error"]["evidence"]["older_cosigned_by"], serde_json::json!(["honest.e2e"]));
    assert_eq!(v["error"]["evidence"]["newer"].as_str(), Some(b_note.as_str()));
}
