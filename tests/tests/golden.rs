//! The golden log (`tests/golden/v3/`; its README says what each file is): a frozen Sightline
//! log of every record kind, written once by `golden/write.rs` and never again, so that a
//! change that breaks a log an older version wrote fails here. Each test works on a copy of its
//! data folder (opening may convert an older store layout in place) and holds the current code
//! to it: the ledger opens it and `fsck` passes; a server on it publishes the very bytes that
//! were published; the verifier verifies what was exported from it and the live log; and its
//! records still mean what they meant: every personal part opens or stays erased, each
//! recipient's list is whole, the objection still flags, a message id still deduplicates.

#[path = "golden/folder.rs"]
mod folder;
#[path = "golden/write.rs"]
mod write;

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use folder::*;
use serde_json::{json, Value};
use sightline_e2e::*;

/// A server on a copy of the golden data folder; the copy goes when the server has stopped.
struct Golden {
    server: Server,
    _copy: tempfile::TempDir,
}

/// A copy of the golden data folder, in a temporary folder.
fn data_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    copy_dir(&folder().join(DATA), &data);
    (tmp, data)
}

fn serve_golden() -> Golden {
    let (copy, data) = data_copy();
    let server = Server::start_with(ServerOptions { data: Some(data), origin: Some(GOLDEN_ORIGIN.into()), ..ServerOptions::default() });
    Golden { server, _copy: copy }
}

/// Runs the verifier with `--json --quiet`; asserts it verified and returns its summary.
fn verified(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--json", "--quiet"]);
    let (code, out, err) = verifier(&all);
    assert_eq!(code, 0, "sightline-verifier {}: {out}{err}", args.join(" "));
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("the verifier's --json is JSON ({e}): {out}"));
    v["summary"].clone()
}

/// Every file under `dir`, as paths relative to `base` with `/` between folders.
fn files_under(dir: &Path, base: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = e.expect("folder entry").path();
        if path.is_dir() {
            files_under(&path, base, out);
        } else {
            let rel = path.strip_prefix(base).expect("under base");
            out.push(rel.components().map(|c| c.as_os_str().to_str().expect("UTF-8 name")).collect::<Vec<_>>().join("/"));
        }
    }
}

/// The `/why/<token>` links of a page.
fn why_links(html: &str) -> std::collections::BTreeSet<String> {
    html.split("href=\"/why/").skip(1).filter_map(|rest| rest.split('"').next()).map(|t| format!("/why/{t}")).collect()
}

#[test]
fn the_ledger_opens_the_golden_data_folder_and_fsck_passes_every_time() {
    let m = Manifest::read();
    let checkpoint = std::fs::read_to_string(folder().join(READ_API).join("checkpoint")).expect("the golden checkpoint");
    let (_copy, data) = data_copy();
    // The first open converts whatever layout changed since; the second finds nothing to convert.
    for run in ["first", "second"] {
        let (code, out, err) = fsck_log(&data, GOLDEN_ORIGIN, &["--json"]);
        assert_eq!(code, 0, "the {run} fsck of the golden data folder failed: {out}{err}");
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("fsck --json is JSON ({e}): {out}"));
        assert_eq!(v["entries"], json!(m.size()), "the {run} fsck checked every entry: {v}");
        assert_eq!(v["checkpoint"], json!(checkpoint), "the {run} open kept the signed checkpoint");
    }
}

#[test]
fn a_server_on_the_golden_data_folder_publishes_the_same_checkpoint_tiles_and_entry_bundles() {
    let m = Manifest::read();
    let published = folder().join(READ_API);
    let mut files = Vec::new();
    files_under(&published, &published, &mut files);
    files.sort();
    let mut expected: Vec<String> = std::iter::once("checkpoint".to_string()).chain(tile_paths(m.size())).collect();
    expected.sort();
    assert_eq!(files, expected, "the golden read API holds the checkpoint and every tile and entry bundle of its size");
    assert!(expected.iter().any(|p| p.starts_with("tile/entries/") && !p.contains(".p/")), "a full entry bundle");
    assert!(expected.iter().any(|p| p.starts_with("tile/0/") && p.contains(".p/")), "a partial hash tile");

    let g = serve_golden();
    for path in &expected {
        let served = g.server.get(&format!("/{path}"));
        assert_eq!(served.status, 200, "GET /{path}: {}", String::from_utf8_lossy(&served.body));
        let golden = std::fs::read(published.join(path)).expect("a golden file");
        // The checkpoint too: the stored note is served as it was signed (deterministic Ed25519
        // over the same text would give the same bytes even if it were signed again).
        assert!(served.body == golden, "GET /{path} serves other bytes than {READ_API}/{path}");
    }
    assert_eq!(g.server.get("/tile/0/001").status, 404, "no full tile where the golden log has a partial one");

    // The live log verifies from its first key, learning the rotated one from the log.
    let s = verified(&["verify", &g.server.base, "--vkey-file", &file(GENESIS_VKEY)]);
    assert_eq!((&s["size"], &s["complete"], &s["kinds"]), (&json!(m.size()), &json!(true), &m.0["kinds"]), "{s}");
    assert_eq!(s["log_keys"].as_array().map(Vec::len), Some(2), "the genesis key and the rotated one: {s}");
}

#[test]
fn the_verifier_verifies_the_golden_bundles_and_receipt() {
    let m = Manifest::read();
    let s = verified(&["verify", &file(COMPLETE_BUNDLE), "--vkey-file", &file(GENESIS_VKEY)]);
    assert_eq!((&s["size"], &s["complete"], &s["kinds"]), (&json!(m.size()), &json!(true), &m.0["kinds"]), "{s}");

    // The filtered bundle's personal parts: each present one opens both commitments, and the
    // erased ones are reported as erased.
    let campaign: Vec<&Value> = m.messages().iter().filter(|x| x["campaign"] == PERSONAL_BUNDLE_CAMPAIGN).collect();
    let erased = campaign.iter().filter(|x| x["personal"] == "erased").count();
    assert!(erased > 0 && erased < campaign.len(), "the campaign has present and erased personal parts");
    let s = verified(&["verify", &file(PERSONAL_BUNDLE), "--vkey-file", &file(GENESIS_VKEY)]);
    assert_eq!(s["complete"], json!(false), "{s}");
    assert_eq!((&s["personal_parts_checked"], &s["personal_parts_erased"]), (&json!(campaign.len() - erased), &json!(erased)), "{s}");

    // The receipt names no log key: it verifies with the key that signed its checkpoint.
    let s = verified(&["receipt", &file(RECEIPT), "--vkey-file", &file(ROTATED_VKEY)]);
    assert_eq!(s["size"], json!(m.size()), "{s}");
}

#[test]
fn every_golden_personal_part_still_opens_or_stays_erased_and_each_list_is_whole() {
    let m = Manifest::read();
    let g = serve_golden();
    let export = g.server.get_auth("/api/v1/export?format=bundle&include_personal=true", COMPLIANCE_TOKEN);
    assert_eq!(export.status, 200, "{}", export.text());
    let lines: Vec<Value> = export.text().lines().skip(1).map(|l| serde_json::from_str(l).expect("a bundle line")).collect();
    assert_eq!(lines.len() as u64, m.size(), "a complete bundle");
    for msg in m.messages() {
        let line = &lines[msg["index"].as_u64().expect("index") as usize];
        if msg["personal"] == "erased" {
            assert_eq!(line["personal"], json!("erased"), "entry {} stays erased", msg["index"]);
        } else {
            assert_eq!(line["personal"]["recipient"], msg["recipient"], "entry {}'s personal part opens", msg["index"]);
        }
    }

    let dark = g.server.get(m.message("ocean-2026/alice-1")["why"].as_str().expect("why"));
    assert_eq!(dark.status, 200);
    assert!(dark.text().contains(&html_escape("neuroticism score 0.82 (high)")), "the page shows the value that selected alice");
    let carol = g.server.get(m.message("winter-sale/carol-1")["why"].as_str().expect("why"));
    assert_eq!(carol.status, 200);
    assert!(carol.text().contains("Your personal data was erased"), "carol's page says her data was erased");

    // Each recipient's list, in its platform's scope, holds exactly their messages not erased.
    for (signer, address) in [("acme-ads", "alice@example.org"), ("acme-ads", "bob@example.org"), ("acme-ads", "+33612340007")] {
        let present: Vec<&Value> = m.messages_to(signer, address).into_iter().filter(|x| x["personal"] == "present").collect();
        let through = present.last().expect("a message not erased")["why"].as_str().expect("why");
        let list = g.server.post_rights(through, "messages", &[("address", address)]);
        assert_eq!(list.status, 200, "{}", list.text());
        let expected = present.iter().map(|x| x["why"].as_str().expect("why").to_string()).collect();
        assert_eq!(why_links(&list.text()), expected, "the messages {signer} sent {address}");
    }
}

/// A golden submitter with its current key (the last of its seeds in the manifest).
fn golden_submitter(m: &Manifest, id: &str) -> Submitter {
    let seed = m.0["submitter_key_seeds"][id].as_array().and_then(|s| s.last()).and_then(Value::as_str).expect("a seed");
    let seed: [u8; 32] = hex::decode(seed).ok().and_then(|s| s.try_into().ok()).expect("a 32-byte seed");
    Submitter { id: id.into(), name: format!("{id} GmbH"), key: SigningKey::from_bytes(&seed) }
}

#[test]
fn every_golden_message_id_and_tally_day_still_names_its_entry() {
    let m = Manifest::read();
    let g = serve_golden();
    let (acme, post) = (golden_submitter(&m, "acme-ads"), golden_submitter(&m, "post-eu"));
    g.server.knows(&acme);
    g.server.knows(&post);

    // A golden message sent again, as the filtered bundle holds it, is its original entry.
    let bob = m.message("winter-sale/bob-3");
    let bundle = std::fs::read_to_string(folder().join(PERSONAL_BUNDLE)).expect("the personal bundle");
    let line = bundle.lines().skip(1).map(|l| serde_json::from_str::<Value>(l).expect("a line")).find(|l| l["index"] == bob["index"]);
    let line = line.expect("bob's last message is in the personal bundle");
    let again = g.server.submit(&[json!({ "body": line["entry"]["body"], "sig": line["entry"]["sig"], "personal": line["personal"] })]);
    assert_eq!((&again["receipts"][0]["duplicate"], &again["receipts"][0]["index"]), (&json!(true), &bob["index"]), "{again}");

    // Every message id, used again for another message, is refused naming its golden entry.
    for msg in m.messages() {
        let signer = if msg["signer"] == "post-eu" { &post } else { &acme };
        let id = msg["message_id"].as_str().expect("message_id");
        let other = signer.record(plain_message(&signer.id, id, "Another message"), &personal("someone@example.org", &[], &[]));
        let refused = g.server.post_submission_json(&json!({ "records": [other] }));
        let p = refused.problem(409);
        let says = format!("(entry {})", msg["index"]);
        assert!(p["detail"].as_str().is_some_and(|d| d.contains(&says)), "message id {id} names {says}: {p}");
    }
    // So is another tally of the day the golden tally counts.
    let t = &m.list("tallies")[0];
    let other = json!({ "kind": "tally", "signer": "acme-ads", "campaign_id": t["campaign_id"], "day": t["day"],
        "delivered": { "FR": 1 }, "reported_at": "2026-11-22T03:00:00Z" });
    let p = g.server.post_submission_json(&json!({ "records": [acme.signed(other)] })).problem(409);
    let says = format!("(entry {})", t["index"]);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains(&says)), "the tally's day names {says}: {p}");
    assert_eq!(g.server.tree_size(), m.size(), "nothing was appended");
}

#[test]
fn the_golden_objection_still_flags_and_an_erased_address_can_still_object() {
    let m = Manifest::read();
    let g = serve_golden();
    let acme = golden_submitter(&m, "acme-ads");
    g.server.knows(&acme);

    // alice objected to Civic Future: its next message to her is flagged with that objection.
    let objection = m.list("objections")[0]["index"].as_u64().expect("index");
    let new = acme
        .record(political_message("acme-ads", "ocean-2026/after-upgrade", "After the upgrade"), &political_personal("alice@example.org"));
    let ack = g.server.submit(&[new]);
    let index = ack["receipts"][0]["index"].as_u64().expect("index");
    let warnings = &ack["receipts"][0]["warnings"];
    assert_eq!(warnings.as_array().map(Vec::len), Some(1), "a warning about the objection: {warnings}");
    let entry = g.server.get(&format!("/api/v1/entries?start={index}&end={}", index + 1)).json();
    assert_eq!(entry["entries"][0]["entry"]["flags"], json!([format!("objected:{objection}")]));
    // Objecting again through the same link appends nothing: the first objection is on file.
    let size = g.server.tree_size();
    let dark = m.message("ocean-2026/alice-1")["why"].as_str().expect("why");
    assert_eq!(g.server.post_rights(dark, "object", &[("address", "alice@example.org")]).status, 200);
    assert_eq!(g.server.tree_size(), size, "alice's objection was already recorded");

    // carol's data was erased, yet her address still opens her right to object (the erasure's
    // suppression tag), and no other address does.
    let carol = m.message("winter-sale/carol-1")["why"].as_str().expect("why");
    assert_eq!(g.server.post_rights(carol, "object", &[("address", "mallory@example.org")]).status, 403);
    let objected = g.server.post_rights(carol, "object", &[("address", "carol@example.org")]);
    assert_eq!(objected.status, 200, "{}", objected.text());
    assert_eq!(g.server.tree_size(), size + 1, "carol's objection is one new entry");
}
