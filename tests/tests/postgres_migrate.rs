//! `sightline migrate`: a populated sled data folder copied into PostgreSQL, then served from
//! there (README "Running on PostgreSQL"): the verifier passes, the why links handed out before
//! still open, `fsck` passes, and the log goes on from where it was. A database that holds a log
//! is refused. Skipped, saying why, where PostgreSQL is not installed (under `CI` it fails).

use sightline_e2e::postgres::PgCluster;
use sightline_e2e::*;

#[test]
fn a_sled_folder_migrated_to_postgres_serves_the_same_log() {
    let Some(pg) = PgCluster::start("a_sled_folder_migrated_to_postgres_serves_the_same_log") else { return };
    let url = pg.database("migrated");
    let (mut server, acme) = operator_setup();
    let ack = server.submit(&[
        acme.record(political_message("acme-ads", "mig/1", "Before the move, one"), &political_personal("alice@example.org")),
        acme.record(plain_message("acme-ads", "mig/2", "Before the move, two"), &personal("bob@example.org", &[], &[])),
    ]);
    let why = ack["receipts"][0]["why_url"].as_str().expect("why_url").to_string();
    let objected = server.post_rights(why_path(&server, &why), "object", &[("address", "alice@example.org")]);
    assert_eq!(objected.status, 200, "{}", objected.text());
    let (size, checkpoint, vkey, data) = (server.tree_size(), server.get("/checkpoint").text(), server.vkey.clone(), server.data.clone());
    server.stop();

    let data_arg = data.to_str().expect("UTF-8 path");
    let migrate = |extra: &[&str]| {
        let mut args = vec!["migrate", "--data", data_arg, "--origin", ORIGIN, "--store", &url];
        args.extend_from_slice(extra);
        run(&binaries().sightline, &args)
    };
    let (code, out, err) = migrate(&["--json", "--quiet"]);
    assert_eq!(code, 0, "sightline migrate failed: {out}{err}");
    let summary: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(summary["entries"], serde_json::json!(size), "{summary}");
    assert!(summary["database"].as_str().is_some_and(|d| d.contains("migrated") && !d.contains("postgres://")), "{summary}");
    // A database that holds a log is refused, in words, and keeps its log.
    let (code, out, err) = migrate(&[]);
    assert_eq!(code, 1, "a second migration into the same database: {out}{err}");
    assert!(err.contains("holds a log already") && err.contains("empty database"), "{err}");

    let (code, out, err) = run(&binaries().sightline, &["fsck", "--data", data_arg, "--origin", ORIGIN, "--store", &url, "--quiet"]);
    assert_eq!(code, 0, "fsck of the copy: {out}{err}");
    assert!(out.contains(&format!("ok: {size} entries")), "{out}");

    let moved = Server::start_with(ServerOptions {
        data: Some(data.clone()),
        args: vec!["--store".into(), url.clone()],
        ..ServerOptions::default()
    });
    moved.knows(&acme);
    assert_eq!((moved.tree_size(), moved.vkey.as_str()), (size, vkey.as_str()), "the same log, signed by the same key");
    assert_eq!(moved.get("/checkpoint").text(), checkpoint, "the same signed checkpoint");
    let (code, out, err) = verifier(&["verify", &moved.base, "--vkey", &moved.vkey, "--quiet"]);
    assert_eq!(code, 0, "the verifier fails the migrated log: {out}{err}");
    let token = why_token(&why);
    let page = moved.get(&format!("/why/{token}"));
    assert_eq!(page.status, 200, "a why link handed out before the move: {}", page.text());
    assert!(page.text().contains(&html_escape("Before the move, one")), "{}", page.text());

    // The log goes on where it stopped, and the objection made before the move still flags.
    let after =
        moved.submit(&[acme.record(political_message("acme-ads", "mig/3", "After the move"), &political_personal("alice@example.org"))]);
    assert_eq!(after["receipts"][0]["index"], serde_json::json!(size));
    assert_eq!(after["receipts"][0]["warnings"].as_array().map(Vec::len), Some(1), "the objection flags: {after}");
    let (code, out, err) = verifier(&["verify", &moved.base, "--vkey", &moved.vkey, "--quiet"]);
    assert_eq!(code, 0, "the verifier fails the log appended to after the move: {out}{err}");
}
