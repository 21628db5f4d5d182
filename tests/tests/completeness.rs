//! Completeness through the real binaries (issue 25): a platform serves ten DKIM-signed e-mails
//! and logs nine, one of those with a body changed after logging; a watchdog's `observe` finds
//! the unlogged one and the misreported one, and an ad nobody logged; a tally that claims more
//! than the log holds fails `verify` and `reconcile`; bad inputs to `observe` exit 2.

use serde_json::{json, Value};
use sightline_e2e::mail::{rfc5322, DkimKey, Mail};
use sightline_e2e::*;

const CAMPAIGN: &str = "spring-mail";

/// What the platform did: the ten e-mails as delivered, and which one it left unlogged.
struct Served {
    server: Server,
    acme: Submitter,
    dir: tempfile::TempDir,
    /// (file name, delivered bytes)
    mails: Vec<(String, Vec<u8>)>,
    served_unix: i64,
}

fn serve_ten_log_nine() -> Served {
    let (server, acme) = operator_setup();
    let key = DkimKey::generate();
    let served_unix = now_unix() - 3600;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut mails = Vec::new();
    for i in 0..10 {
        let subject = format!("Spring sale {i}");
        let mail = Mail::new(
            &key,
            "Shoe Shop",
            &format!("r{i}@example.org"),
            &subject,
            &rfc5322(served_unix),
            &format!("Hello r{i},\n\nSpring shoes for you.\n\n-- Shoe Shop\n"),
        );
        let reference = if i == 9 {
            None // served, never logged: it carries no reference
        } else {
            let body = mail.message_body("acme-ads", &format!("{CAMPAIGN}/{i}"), &rfc3339(served_unix), CAMPAIGN, &subject);
            let ack = server.submit(&[acme.record(body, &personal(&format!("r{i}@example.org"), &[], &[]))]);
            let r = ack["receipts"][0]["reference"].as_str().expect("the answer gives the reference to insert").to_string();
            assert!(r.starts_with(&format!("Sightline-Entry: {ORIGIN} ")), "{r}");
            Some(r)
        };
        let mut delivered = mail.delivered(reference.as_deref());
        if i == 4 {
            // Logged, then the body was changed before it went out.
            delivered = String::from_utf8(delivered).unwrap().replace("Spring shoes for you.", "Spring shoes, 90% off!").into_bytes();
        }
        let name = format!("mail-{i}.eml");
        std::fs::write(dir.path().join(&name), &delivered).expect("write mail");
        mails.push((name, delivered));
    }
    Served { server, acme, dir, mails, served_unix }
}

fn path(s: &Served, name: &str) -> String {
    s.dir.path().join(name).to_str().unwrap().to_string()
}

fn observe(s: &Served, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["observe", "--log", &s.server.base, "--vkey", &s.server.vkey, "--quiet"];
    all.extend_from_slice(args);
    verifier(&all)
}

#[test]
fn a_watchdog_finds_the_unlogged_and_the_misreported_email_and_an_unlogged_ad() {
    let s = serve_ten_log_nine();

    // One at a time: a faithful one is logged, the altered one misreported, the unlogged one not logged.
    let (code, out, err) = observe(&s, &[&path(&s, "mail-0.eml")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("LOGGED:"), "{out}");
    assert!(out.contains("content hash (delivery.creative.sha256)") && out.contains("agrees"), "{out}");

    let (code, out, err) = observe(&s, &[&path(&s, "mail-4.eml"), "--json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["judgement"]["verdict"], "misreported", "{v}");
    let content = v["judgement"]["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"].as_str().unwrap().starts_with("content hash"))
        .unwrap();
    assert_eq!(content["agrees"], false);
    assert!(v["judgement"]["observation"]["notes"].to_string().contains("changed after it was signed"), "{v}");

    let evidence = path(&s, "mail-9.evidence.json");
    let (code, out, err) = observe(&s, &[&path(&s, "mail-9.eml"), "--evidence", &evidence]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("NOT LOGGED: the message carries no reference"), "{out}");
    let ev: Value = serde_json::from_slice(&std::fs::read(&evidence).unwrap()).unwrap();
    assert_eq!(ev["format"], "sightline-evidence/v1");
    assert_eq!(ev["verdict"], "not_logged");
    assert!(ev["log"]["checkpoint"].as_str().unwrap().starts_with(ORIGIN));
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    assert_eq!(ev["observation"]["message_sha256"], sha(&s.mails[9].1), "the evidence names the message file");

    // An ad nobody logged: no reference, and a creative no entry names.
    let ad = path(&s, "ad.json");
    let asset = b"<html><body>Spring shoes banner</body></html>";
    let obs = json!({ "channel": "display", "asset_sha256": sha(asset), "seen_at": rfc3339(s.served_unix),
                      "seen_where": "https://news.example/ (Berlin)", "advertiser": "Shoe Shop", "platform": "acme-ads" });
    std::fs::write(&ad, obs.to_string()).unwrap();
    let (code, out, err) = observe(&s, &[&ad]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.starts_with("NOT LOGGED"), "{out}");

    // The whole panel at once: ten e-mails and the ad.
    let batch = path(&s, "panel.jsonl");
    let mut lines: Vec<String> = s.mails.iter().map(|(n, _)| json!({ "eml_file": n, "platform": "acme-ads" }).to_string()).collect();
    lines.push(obs.to_string());
    std::fs::write(&batch, lines.join("\n") + "\n").unwrap();
    let evidence = path(&s, "panel.evidence.jsonl");
    let (code, out, err) = observe(&s, &["--batch", &batch, "--json", "--evidence", &evidence]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let t = &v["audit"]["totals"];
    assert_eq!(
        (&t["observations"], &t["logged"], &t["not_logged"], &t["misreported"]),
        (&json!(11), &json!(8), &json!(2), &json!(1)),
        "{v}"
    );
    let cases = v["audit"]["cases"].as_array().unwrap();
    let lines_of =
        |verdict: &str| -> Vec<u64> { cases.iter().filter(|c| c["verdict"] == verdict).map(|c| c["line"].as_u64().unwrap()).collect() };
    assert_eq!(lines_of("not_logged"), vec![10, 11], "the unlogged e-mail (line 10) and the ad (line 11)");
    assert_eq!(lines_of("misreported"), vec![5]);
    let unlogged_mail = cases.iter().find(|c| c["line"] == 10).unwrap();
    assert_eq!(unlogged_mail["evidence"]["observation"]["message_sha256"], sha(&s.mails[9].1), "the case names the message");
    assert_eq!(v["audit"]["by_submitter"]["acme-ads"]["observations"], 11);
    assert_eq!(std::fs::read_to_string(&evidence).unwrap().lines().count(), 3, "one evidence line per case");
    let misreported = cases.iter().find(|c| c["line"] == 5).unwrap();
    assert!(misreported["evidence"]["entry"]["inclusion_proof"].is_array(), "a misreported case carries its entry and proof");
    let _ = &s.acme;
}

#[test]
fn a_tally_claiming_more_than_the_log_holds_fails_verify_and_reconcile() {
    let s = serve_ten_log_nine();
    let day = &rfc3339(s.served_unix)[..10];
    // Nine e-mails of the campaign were logged in DE; the platform's tally says eleven, and two in AT.
    let tally = json!({ "kind": "tally", "signer": "acme-ads", "campaign_id": CAMPAIGN, "day": day,
                        "delivered": { "DE": 11, "AT": 2 }, "reported_at": rfc3339(now_unix()) });
    let ack = s.server.submit(&[s.acme.signed(tally)]);
    assert!(ack["receipts"][0]["reference"].is_null(), "a tally carries no reference");
    let (code, out, err) = verifier(&["verify", &s.server.base, "--vkey", &s.server.vkey, "--quiet"]);
    assert_eq!(code, 1, "{out}{err}");
    for says in [CAMPAIGN, day, " in AT", "holds 0", "1 more difference"] {
        assert!(err.contains(says), "verify names {says:?}: {err}");
    }

    let counts = path(&s, "billed.csv");
    std::fs::write(&counts, format!("campaign_id,day,member_state,delivered\n{CAMPAIGN},{day},DE,11\n")).unwrap();
    let (code, out, err) = verifier(&["reconcile", &s.server.base, "--counts", &counts, "--vkey", &s.server.vkey, "--quiet", "--json"]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["reconciliation"]["rows"].as_array().unwrap();
    let de = rows.iter().find(|r| r["member_state"] == "DE").unwrap();
    assert_eq!((&de["billed"], &de["logged"], &de["tally"], &de["agrees"]), (&json!(11), &json!(9), &json!(11), &json!(false)), "{v}");
    let differing = v["reconciliation"]["tallies_differing"].as_array().unwrap();
    assert!(differing.iter().any(|d| d["campaign"] == CAMPAIGN
        && d["day"] == day
        && d["member_state"] == "DE"
        && d["claimed"] == 11
        && d["logged"] == 9));
}

#[test]
fn bad_inputs_to_observe_exit_2_with_a_clear_message() {
    let s = serve_ten_log_nine();
    let good = String::from_utf8(s.mails[0].1.clone()).unwrap();
    let reference_line = good.lines().next().unwrap().to_string();
    let value = reference_line.strip_prefix("Sightline-Entry: ").unwrap();
    let leaf = value.rsplit(' ').next().unwrap();
    let huge = {
        let mut m = good.clone().into_bytes();
        m.extend(std::iter::repeat_n(b'A', 33 << 20));
        m
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("malformed.eml", b"\x00\x01 this is not an e-mail".to_vec(), "not an e-mail message"),
        ("other-log.eml", good.replacen(ORIGIN, "other.example/log", 1).into_bytes(), "names the log \"other.example/log\""),
        ("wrong-leaf.eml", good.replacen(leaf, &leaf[..60], 1).into_bytes(), "60 characters"),
        ("truncated.eml", good.as_bytes()[..reference_line.len() - 10].to_vec(), "cut off"),
        ("huge.eml", huge, "MiB"),
    ];
    for (name, bytes, says) in cases {
        std::fs::write(s.dir.path().join(name), &bytes).unwrap();
        let (code, out, err) = observe(&s, &[&path(&s, name)]);
        assert_eq!(code, 2, "{name}: {out}{err}");
        assert!(err.starts_with("ERROR: ") && err.contains(says), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let (code, _, err) = observe(&s, &[]);
    assert_eq!(code, 2, "{err}");
}
