//! The whole journey through the real binaries: an operator registers a
//! submitter and parties, a platform submits signed batches, recipients follow
//! their why-links, object and erase, a regulator exports a bundle and checks it
//! (and a recipient's receipt) with the independent verifier; and acknowledged
//! entries survive `kill -9`.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sightline_e2e::*;

fn receipts(ack: &Value) -> &Vec<Value> {
    ack["receipts"].as_array().expect("receipts array")
}

fn tmp_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_str().expect("UTF-8 path").to_string()
}

#[test]
fn recipients_see_why_object_erase_and_regulators_verify_the_export() {
    let (server, acme) = operator_setup();
    let size_before = server.tree_size();

    // Two batches, three recipients; every subject is unique so pages can be told apart.
    let batch1 = vec![
        acme.record(political_message("acme-ads", "ocean/alice-1", "Alice political one"), &political_personal("alice@example.org")),
        acme.record(political_message("acme-ads", "ocean/bob-1", "Bob political one"), &political_personal("bob@example.org")),
        acme.record(plain_message("acme-ads", "shoes/alice-1", "Alice shoe offer"), &personal("Alice@Example.org ", &[], &[])),
    ];
    let ack1 = server.submit(&batch1);
    let batch2 =
        vec![acme.record(plain_message("acme-ads", "shoes/carol-1", "Carol shoe offer"), &personal("carol@example.org", &[], &[]))];
    let ack2 = server.submit(&batch2);

    let mut all: Vec<Value> = receipts(&ack1).clone();
    all.extend(receipts(&ack2).iter().cloned());
    assert_eq!(all.len(), 4);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r["index"], json!(size_before + i as u64), "indexes are consecutive: {r}");
        assert_eq!(r["duplicate"], json!(false));
        assert_eq!(r["warnings"], json!([]));
        assert!(r["why_url"].as_str().expect("why_url").starts_with(&format!("{}/why/", server.base)), "{r}");
    }
    assert_eq!(server.tree_size(), size_before + 4);
    let url = |i: usize| all[i]["why_url"].as_str().expect("why_url").to_string();

    // Every why-link explains its message completely: sponsor, payer, every criterion
    // (exclusions included) and the lineage behind them.
    let page = server.get(why_path(&server, &url(0)));
    assert_eq!(page.status, 200);
    let html = page.text();
    for needle in [
        "Alice political one",
        "Civic Future e.V.",
        "Civic Holding AG",
        "Top Trust Ltd",
        "Inclusion: Personality score: high neuroticism (OCEAN model)",
        "Exclusion: People who follow the party's own page",
        "You were selected because criterion 1 (“Personality score: high neuroticism (OCEAN model)”) held for you.",
        "DataBroker Inc",
        "Acme Ads GmbH",
        "Acme Social",
        "Purchased household segments",
        "Model inferring OCEAN traits from page likes",
        "neuroticism score 0.82 (high)",
        "Bundestag election 2029",
    ] {
        assert!(html.contains(&html_escape(needle)), "the why page lacks {needle:?}");
    }
    assert!(!html.contains("Bob political one"), "alice's page shows bob's message");
    for i in 1..4 {
        let page = server.get(why_path(&server, &url(i)));
        assert_eq!(page.status, 200);
        let subject = ["", "Bob political one", "Alice shoe offer", "Carol shoe offer"][i];
        assert!(page.text().contains(subject), "page {i} lacks its subject");
    }
    assert!(server.get(why_path(&server, &url(2))).text().contains("Shoe Shop SE"));

    // /messages lists this recipient's messages (identifiers are normalised) and nobody else's,
    // once the address is given: a forwarded link alone does not list them.
    let alice_token = why_token(&url(0)).to_string();
    let alice_path = format!("/why/{alice_token}");
    let refused = server.post_rights(&alice_path, "messages", &[("address", "bob@example.org")]);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(!refused.text().contains("Alice shoe offer"));
    let list = server.post_rights(&alice_path, "messages", &[("address", "alice@example.org")]);
    assert_eq!(list.status, 200);
    let list = list.text();
    assert!(list.contains("Alice political one") && list.contains("Alice shoe offer"), "{list}");
    assert!(!list.contains("Bob political one") && !list.contains("Carol shoe offer"), "{list}");
    assert!(list.contains(&format!("/why/{}", why_token(&url(2)))), "the list links the other message");

    // Object, then the same advertiser messages alice again: flagged and warned. Bob: not.
    let objected = server.post_rights(&alice_path, "object", &[("address", " ALICE@example.org")]);
    assert_eq!(objected.status, 200, "{}", objected.text());
    assert!(objected.text().contains("Your objection to targeting by Civic Future e.V. was recorded"));
    let objection_index = server.tree_size() - 1;
    let after = server.submit(&[
        acme.record(political_message("acme-ads", "ocean/alice-2", "Alice political two"), &political_personal("alice@example.org")),
        acme.record(political_message("acme-ads", "ocean/bob-2", "Bob political two"), &political_personal("bob@example.org")),
    ]);
    let (alice2, bob2) = (&receipts(&after)[0], &receipts(&after)[1]);
    let warnings = alice2["warnings"].as_array().expect("warnings");
    assert_eq!(warnings.len(), 1, "a message after an objection carries a warning: {alice2}");
    assert_eq!(bob2["warnings"], json!([]), "bob did not object: {bob2}");
    let entries = server.get(&format!("/api/v1/entries?start={}&end={}", alice2["index"], bob2["index"].as_u64().expect("index") + 1));
    let entries = entries.json();
    assert_eq!(entries["entries"][0]["entry"]["flags"], json!([format!("objected:{objection_index}")]));
    assert_eq!(entries["entries"][1]["entry"]["flags"], json!([]));
    let flagged = server.get(why_path(&server, alice2["why_url"].as_str().expect("why_url"))).text();
    assert!(flagged.contains("Flagged by the log") && flagged.contains("You objected to this advertiser"), "{flagged}");
    let unflagged = server.get(why_path(&server, bob2["why_url"].as_str().expect("why_url"))).text();
    assert!(!unflagged.contains("Flagged by the log"));

    // The recipient's receipt verifies offline with the log's vkey.
    let dir = tempfile::tempdir().expect("tempdir");
    let receipt = server.get(&format!("/why/{alice_token}/receipt"));
    assert_eq!(receipt.status, 200);
    let receipt_file = tmp_file(&dir, "alice.sightline-receipt.json", &receipt.body);
    let (code, out, err) = verifier(&["receipt", &receipt_file, "--vkey", &server.vkey]);
    assert_eq!(code, 0, "receipt did not verify: {out}{err}");
    // The receipt holds exactly alice's entry.
    let entry_bytes = B64.decode(receipt.json()["entry"].as_str().expect("entry")).expect("base64");
    let entry: Value = serde_json::from_slice(&entry_bytes).expect("entry JSON");
    assert_eq!(entry["body"]["message_id"], json!("ocean/alice-1"));
    // ... and fails against another log's key.
    let other = Server::start();
    let (code, _, _) = verifier(&["receipt", &receipt_file, "--vkey", &other.vkey]);
    assert_eq!(code, 1, "a receipt must not verify under another log's key");
    drop(other);

    // Erasure asks first, on a page of its own; then the page says the data is erased.
    let size = server.tree_size();
    let unconfirmed = server.post_rights(&alice_path, "erase", &[("address", "alice@example.org")]);
    assert_eq!(unconfirmed.status, 200);
    assert!(unconfirmed.text().contains("This cannot be undone"), "{}", unconfirmed.text());
    assert!(server.get(&alice_path).text().contains("neuroticism score 0.82 (high)"));
    assert_eq!(server.tree_size(), size, "the confirmation page erases nothing");
    let erased = server.post_rights(&alice_path, "erase", &[("address", "alice@example.org"), ("confirm", "yes")]);
    assert_eq!(erased.status, 200, "{}", erased.text());
    assert!(erased.text().contains("Your personal data was erased"));
    assert_eq!(server.tree_size(), size + 1, "the erasure is one public entry");
    let entry = server.get(&format!("/api/v1/entries?start={size}&end={}", size + 1)).json();
    assert_eq!(entry["entries"][0]["entry"]["body"]["by"], json!("link_holder"), "the entry says who asked, truthfully");
    let after_erasure = server.get(&format!("/why/{alice_token}")).text();
    assert!(after_erasure.contains("Your personal data was erased"));
    assert!(!after_erasure.contains("neuroticism score 0.82 (high)"), "erased values are still shown");
    assert!(after_erasure.contains(&html_escape("Exclusion: People who follow the party's own page")), "the public part stays");
    // Bob is untouched.
    let bob_page = server.get(why_path(&server, &url(1))).text();
    assert!(bob_page.contains("neuroticism score 0.82 (high)") && !bob_page.contains("Your personal data was erased"));

    // The regulator's export verifies; one changed byte does not.
    let no_auth = server.get("/api/v1/export?format=bundle");
    no_auth.problem(401);
    let bundle = server.get_auth("/api/v1/export?format=bundle", COMPLIANCE_TOKEN);
    assert_eq!(bundle.status, 200);
    let text = bundle.text();
    let manifest: Value = serde_json::from_str(text.lines().next().expect("manifest")).expect("manifest JSON");
    assert_eq!(manifest["format"], json!("sightline-bundle/v1"));
    assert_eq!(manifest["complete"], json!(true));
    assert_eq!(text.lines().count() as u64, 1 + server.tree_size(), "a complete bundle holds every entry");
    let bundle_file = tmp_file(&dir, "all.sightline-bundle.jsonl", &bundle.body);
    let (code, out, err) = verifier(&["verify", &bundle_file, "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the bundle did not verify: {out}{err}");

    let pos = text.find("Bob political two").expect("subject in bundle");
    let mut tampered = bundle.body.clone();
    tampered[pos] = b'X';
    let tampered_file = tmp_file(&dir, "tampered.sightline-bundle.jsonl", &tampered);
    let (code, out, err) = verifier(&["verify", &tampered_file, "--vkey", &server.vkey]);
    assert_eq!(code, 1, "a one-byte change must be an integrity failure: {out}{err}");

    // A filtered export with personal parts: commitments are checked, erased parts say so.
    let filtered = server.get_auth("/api/v1/export?format=bundle&advertiser=p-civic-future&include_personal=true", COMPLIANCE_TOKEN);
    assert_eq!(filtered.status, 200);
    let ftext = filtered.text();
    assert!(ftext.contains("\"personal\":\"erased\""), "alice's erased parts are marked");
    assert!(ftext.contains("bob@example.org"), "bob's personal part is included");
    assert!(!ftext.contains("Carol shoe offer"), "the filter keeps other advertisers out");
    let filtered_file = tmp_file(&dir, "civic.sightline-bundle.jsonl", &filtered.body);
    let (code, out, err) = verifier(&["verify", &filtered_file, "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the filtered bundle did not verify: {out}{err}");
}

#[test]
fn acknowledged_entries_survive_kill_9_and_fsck_passes() {
    let (mut server, acme) = operator_setup();
    let data = server.data.clone();

    // Several acknowledged batches; remember every acknowledged entry's exact bytes.
    let mut acked: BTreeMap<u64, (Vec<u8>, String)> = BTreeMap::new();
    for b in 0..6 {
        let records: Vec<Value> = (0..5)
            .map(|i| {
                let id = format!("crash/{b}-{i}");
                acme.record(
                    political_message("acme-ads", &id, &format!("Crash test {b}-{i}")),
                    &political_personal(&format!("r{i}@example.org")),
                )
            })
            .collect();
        let ack = server.submit(&records);
        for r in receipts(&ack) {
            let bytes = B64.decode(r["receipt"]["entry"].as_str().expect("receipt entry")).expect("base64");
            acked.insert(r["index"].as_u64().expect("index"), (bytes, r["why_url"].as_str().expect("why_url").to_string()));
        }
    }
    let acked_size = server.tree_size();
    assert_eq!(acked.len(), 30);

    // kill -9 right after the last acknowledgement: no graceful shutdown, no flush.
    server.kill9();
    let (code, out, err) = fsck(&data);
    assert_eq!(code, 0, "fsck after kill -9 failed: {out}{err}");
    assert!(out.contains("ok:"), "{out}");

    let restarted = Server::start_with(ServerOptions { data: Some(data.clone()), ..Default::default() });
    assert_eq!(restarted.vkey, server.vkey, "the log key survives");
    assert_eq!(restarted.tree_size(), acked_size, "the signed checkpoint after the crash is the last acknowledged one");
    let first = *acked.keys().next().expect("some");
    let last = *acked.keys().last().expect("some");
    let served = restarted.get(&format!("/api/v1/entries?start={first}&end={}", last + 1)).json();
    let served = served["entries"].as_array().expect("entries");
    assert_eq!(served.len() as u64, last + 1 - first);
    for e in served {
        let index = e["index"].as_u64().expect("index");
        let (bytes, why_url) = &acked[&index];
        assert_eq!(&jcs(&e["entry"]), bytes, "entry {index} changed across the crash");
        // Why-links keep working (the server secret survived too).
        let path = why_url.strip_prefix(&server.base).expect("why path");
        assert_eq!(restarted.get(path).status, 200, "why page of entry {index} after the restart");
    }

    // The restarted server still accepts and then a graceful stop leaves a clean store.
    restarted.knows(&acme);
    let more = restarted
        .submit(&[acme.record(political_message("acme-ads", "crash/after", "After the crash"), &political_personal("z@example.org"))]);
    assert_eq!(receipts(&more)[0]["index"], json!(restarted.tree_size() - 1));
    let mut restarted = restarted;
    let status = restarted.stop().expect("was running");
    assert!(status.success(), "graceful stop: {status}");
    let (code, out, err) = fsck(&data);
    assert_eq!(code, 0, "fsck after restart failed: {out}{err}");
}
