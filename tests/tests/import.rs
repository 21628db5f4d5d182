//! `sightline import` through the real binary: a platform backfills a JSONL file of signed
//! records into a stopped server's log, gets their receipts and why-links, resumes by running
//! it again, and a bad line is named with what is wrong while the batches before it stay
//! appended and nothing of its own batch is.

use serde_json::{json, Value};
use sightline_e2e::*;

fn import(server: &Server, file: &std::path::Path, extra: &[&str]) -> (i32, String, String) {
    let (data, file) = (server.data.to_str().expect("UTF-8"), file.to_str().expect("UTF-8"));
    let mut args = vec!["import", "--data", data, "--origin", ORIGIN, "--public-url", &server.base, "--quiet"];
    args.extend_from_slice(extra);
    args.push(file);
    run(&binaries().sightline, &args)
}

fn jsonl(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

fn size_of(server: &Server) -> u64 {
    let (code, out, err) = fsck(&server.data);
    assert_eq!(code, 0, "fsck: {err}");
    out.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("fsck output: {out}"))
}

#[test]
fn a_backfill_is_appended_in_batches_resumable_and_its_bad_lines_are_named() {
    let (mut server, acme) = operator_setup();
    let rec = |id: &str, who: &str| acme.record(plain_message("acme-ads", id, &format!("Offer {id}")), &personal(who, &[], &[]));
    let online = rec("spool/0", "zoe@example.org");
    let acked = server.submit(std::slice::from_ref(&online));
    let online_index = acked["receipts"][0]["index"].as_u64().expect("index");
    server.stop();
    let size0 = size_of(&server);

    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("served.jsonl");
    let receipts = dir.path().join("receipts.jsonl");
    let mut records = vec![online.clone()];
    records.extend((1..=5).map(|i| rec(&format!("spool/{i}"), &format!("r{i}@example.org"))));
    std::fs::write(&file, jsonl(&records[..3]) + "\n   \n" + &jsonl(&records[3..])).expect("write");

    let (code, out, err) = import(&server, &file, &["--batch", "2", "--json", "--receipts", receipts.to_str().expect("UTF-8")]);
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(out.trim()).expect("a JSON summary");
    assert_eq!(summary, json!({ "records": 6, "appended": 5, "duplicates": 1, "size": size0 + 5 }));
    let lines: Vec<Value> =
        std::fs::read_to_string(&receipts).expect("receipts").lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(lines.len(), 6);
    assert_eq!((lines[0]["duplicate"].clone(), lines[0]["index"].as_u64()), (json!(true), Some(online_index)));
    for (k, l) in lines.iter().enumerate().skip(1) {
        assert_eq!((l["duplicate"].clone(), l["index"].as_u64()), (json!(false), Some(size0 + k as u64 - 1)), "{l}");
        assert_eq!(l["message_id"], json!(format!("spool/{k}")));
        assert!(l["why_url"].as_str().expect("why_url").starts_with(&format!("{}/why/", server.base)));
        assert_eq!(l["receipt"]["format"], json!("sightline-receipt/v1"));
    }
    assert_eq!(size_of(&server), size0 + 5);

    // Running it again appends nothing: every record is recognised.
    let (code, out, err) = import(&server, &file, &["--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<Value>(out.trim()).expect("JSON"),
        json!({ "records": 6, "appended": 0, "duplicates": 6, "size": size0 + 5 })
    );

    // A bad signature on line 3 of batches of 2: lines 1-2 are appended, nothing from line 3 on.
    let mut forged = rec("spool/8", "r8@example.org");
    forged["sig"] = rec("spool/9", "r9@example.org")["sig"].clone();
    let bad = [rec("spool/6", "r6@example.org"), rec("spool/7", "r7@example.org"), forged, rec("spool/10", "r10@example.org")];
    std::fs::write(&file, jsonl(&bad)).expect("write");
    let (code, _, err) = import(&server, &file, &["--batch", "2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line 3: field `sig`: the signature does not verify"), "{err}");
    assert!(err.contains("nothing of lines 3–4 was appended") && err.contains("the 2 records read before are in the log"), "{err}");
    assert_eq!(size_of(&server), size0 + 7);

    // A line that is not a record, and a record that breaks a rule: named by line, nothing appended.
    let mut future = plain_message("acme-ads", "spool/11", "From the future");
    future["delivery"]["served_at"] = json!(rfc3339(now_unix() + 86_400));
    let cases = [
        (
            jsonl(&[rec("spool/12", "a@example.org")]) + "{\"body\": {}, \"sig\": 1}\n",
            ["line 2 is not a record of SPEC.md §12", "nothing was appended"],
        ),
        (
            jsonl(&[rec("spool/13", "b@example.org"), acme.record(future, &personal("c@example.org", &[], &[]))]),
            ["line 2: field `delivery.served_at`", "nothing of lines 1–2 was appended"],
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&file, text).expect("write");
        let (code, _, err) = import(&server, &file, &[]);
        assert_eq!(code, 2, "{err}");
        assert!(want.iter().all(|w| err.contains(w)), "want {want:?}: {err}");
        assert_eq!(size_of(&server), size0 + 7);
    }
    let (code, _, err) = import(&server, &dir.path().join("missing.jsonl"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot open"), "{err}");
    let elsewhere = dir.path().join("no-log-here");
    let (code, _, err) = run(
        &binaries().sightline,
        &["import", "--data", elsewhere.to_str().expect("UTF-8"), "--origin", ORIGIN, file.to_str().expect("UTF-8")],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds no log"), "{err}");
    assert!(!elsewhere.exists(), "a mistyped --data creates nothing");

    // The imported records are served like any other (the restarted server has another port).
    let server = Server::start_with(ServerOptions { data: Some(server.data.clone()), ..ServerOptions::default() });
    let page = server.get(&format!("/why/{}", why_token(lines[3]["why_url"].as_str().expect("why_url"))));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Offer spool/3"), "the why page of an imported record");
}

#[test]
fn an_import_killed_mid_way_is_resumed_by_running_it_again_with_every_record_once() {
    let (mut server, acme) = operator_setup();
    server.stop();
    let size0 = size_of(&server);

    let dir = tempfile::tempdir().expect("tempdir");
    let (file, receipts) = (dir.path().join("spool.jsonl"), dir.path().join("receipts.jsonl"));
    let n = 3_000u64;
    let records: Vec<Value> = (0..n)
        .map(|i| {
            acme.record(
                plain_message("acme-ads", &format!("spool/{i}"), "Spooled"),
                &personal(&format!("r{}@example.org", i % 97), &[], &[]),
            )
        })
        .collect();
    std::fs::write(&file, jsonl(&records)).expect("write");

    // kill -9 once the first batches are durable (their receipts are on disk), mid-import.
    let data = server.data.to_str().expect("UTF-8");
    let mut child = std::process::Command::new(&binaries().sightline)
        .args(["import", "--data", data, "--origin", ORIGIN, "--quiet", "--batch", "50", "--receipts"])
        .args([&receipts, &file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sightline import");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::fs::read_to_string(&receipts).map_or(0, |r| r.lines().count()) < 100 {
        assert!(std::time::Instant::now() < deadline, "no receipts within 2 minutes");
        assert!(child.try_wait().expect("wait").is_none(), "the import finished before it could be killed; use more records");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");
    let after_kill = size_of(&server) - size0;
    assert!((100..n).contains(&after_kill), "killed mid-way: {after_kill} of {n} appended");

    let (code, out, err) = import(&server, &file, &["--json"]);
    assert_eq!(code, 0, "{err}");
    let summary: Value = serde_json::from_str(out.trim()).expect("JSON");
    assert_eq!(summary, json!({ "records": n, "appended": n - after_kill, "duplicates": after_kill, "size": size0 + n }));
    assert_eq!(size_of(&server), size0 + n, "every record exactly once, and fsck passes");

    // The offline export of the whole imported log is a bundle the independent verifier accepts.
    let bundle = dir.path().join("all.sightline-bundle.jsonl");
    let bundle = bundle.to_str().expect("UTF-8");
    let args = ["export", "--data", data, "--origin", ORIGIN, "--format", "bundle", "--out", bundle, "--quiet", "--json"];
    let (code, out, err) = run(&binaries().sightline, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(out.trim()).expect("JSON"), json!({ "records": size0 + n, "size": size0 + n, "out": bundle }));
    let (code, out, err) = verifier(&["verify", bundle, "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the bundle did not verify: {out}{err}");
    let (code, _, err) = run(&binaries().sightline, &["export", "--data", data, "--origin", ORIGIN, "--out", "-", "--json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give --out FILE"), "{err}");
}
