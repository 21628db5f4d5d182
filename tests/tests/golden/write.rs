//! Writes a golden log, once per format version. It is `#[ignore]`d, so the suite never runs
//! it: a version's folder is written once and then only read (`tests/golden/README.md`). Run it
//! for a new format, into a new folder, from a committed checkout (the manifest names the
//! commit):
//!
//! ```sh
//! SIGHTLINE_GOLDEN_WRITE=tests/golden/v4 cargo test -p sightline-e2e --test golden -- --ignored --exact write::write_the_golden_log
//! ```
//!
//! It drives the real server as an operator, two platforms and recipients would, through the
//! public routes only. Fixed: the first log key, the server secret, the credentials, the
//! submitters' keys, every salt and every time a submitter states. Not fixed, because the
//! server chooses them: `logged_at` and the times of the log's own records, the rotated log
//! key, the per-recipient keys (so the sealed personal parts) and the DKIM key (only the body
//! hash, which does not depend on it, is logged).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sightline_e2e::mail::{rfc5322, DkimKey, Mail};
use sightline_e2e::*;

use crate::folder::*;

/// The Member States the SMS campaign is served in, in turn.
const SMS_STATES: [&str; 3] = ["FR", "DE", "BE"];
/// Messages of the SMS campaign, half under each key of `acme-ads`.
const SMS_MESSAGES: u64 = 240;
/// When the SMS campaign starts (2026-11-21T08:00:00Z); a message every two minutes, all that day.
const SMS_START: i64 = 1_795_248_000;

/// A 32-byte value fixed by its label: keys, secrets and salts the writer chooses.
fn fixed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("sightline golden log v3\n{label}")).into()
}

/// A submitter whose `n`th key is fixed.
fn submitter(id: &str, n: u32) -> Submitter {
    Submitter { id: id.into(), name: format!("{id} GmbH"), key: SigningKey::from_bytes(&fixed(&format!("{id} key {n}"))) }
}

/// A C2SP signed-note private key (`PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>`, as
/// `log.key` holds it) with a fixed seed, so that the log's first key is fixed.
fn log_skey(name: &str, seed: &[u8; 32]) -> String {
    let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
    let id = Sha256::digest([name.as_bytes(), b"\n\x01", &public].concat());
    format!("PRIVATE+KEY+{name}+{}+{}", hex::encode(&id[..4]), B64.encode([&[1u8][..], seed].concat()))
}

/// A personal part with the salt fixed by its message id.
fn salted(mut personal: Value, message_id: &str) -> Value {
    personal["salt"] = json!(B64.encode(fixed(&format!("salt {message_id}"))));
    personal
}

/// The golden log as it is written, and the manifest of what was written.
struct Writer {
    server: Server,
    messages: Vec<Value>,
    tallies: Vec<Value>,
    objections: Vec<Value>,
    erasures: Vec<Value>,
}

impl Writer {
    /// Submits a batch of records, all of one signer; notes each message and tally.
    fn submit(&mut self, records: &[Value]) -> Vec<Value> {
        let ack = self.server.submit(records);
        let receipts = ack["receipts"].as_array().expect("receipts").clone();
        for (record, receipt) in records.iter().zip(&receipts) {
            let b = &record["body"];
            assert_eq!(receipt["duplicate"], json!(false), "{receipt}");
            if b["kind"] == "tally" {
                self.tallies.push(json!({ "index": receipt["index"], "signer": b["signer"], "campaign_id": b["campaign_id"],
                    "day": b["day"], "delivered": b["delivered"] }));
                continue;
            }
            let why = why_path(&self.server, receipt["why_url"].as_str().expect("why_url")).to_string();
            self.messages.push(json!({ "index": receipt["index"], "message_id": b["message_id"], "signer": b["signer"],
                "channel": b["delivery"]["channel"], "advertiser": b["sponsor"]["on_behalf_of"],
                "campaign": b["delivery"]["creative"]["campaign_id"], "recipient": record["personal"]["recipient"],
                "why": why, "personal": "present", "flags": [] }));
        }
        receipts
    }

    /// The why path of the message with this id.
    fn why(&self, message_id: &str) -> String {
        let m = self.messages.iter().find(|m| m["message_id"] == message_id).expect("a message written earlier");
        m["why"].as_str().expect("why").to_string()
    }

    /// The index of the entry just appended.
    fn last(&self) -> u64 {
        self.server.tree_size() - 1
    }

    /// Marks as erased the messages so far to `recipient` (of `signer`, or of every signer).
    fn erased(&mut self, recipient: &str, signer: Option<&str>) -> u64 {
        let mut n = 0;
        for m in self.messages.iter_mut().filter(|m| m["recipient"] == recipient && signer.is_none_or(|s| m["signer"] == s)) {
            m["personal"] = json!("erased");
            n += 1;
        }
        n
    }
}

/// A display ad of the `winter-sale` campaign (on behalf of `p-shoes`).
fn display(s: &Submitter, message_id: &str, to: &str, served_at: &str) -> Value {
    let mut body = plain_message(&s.id, message_id, "Winter boots at half price");
    body["delivery"]["served_at"] = json!(served_at);
    s.record(body, &salted(personal(to, &[], &[]), message_id))
}

/// Text message `i` of the `winter-sale-sms` campaign, to one of 40 telephone numbers.
fn sms(s: &Submitter, i: u64) -> Value {
    let id = format!("winter-sale-sms/{i:04}");
    let text = "Soldes d'hiver : toutes les bottes à moitié prix jusqu'à dimanche. STOP au 36180";
    let mut body = plain_message(&s.id, &id, "Soldes d'hiver");
    let d = &mut body["delivery"];
    d["channel"] = json!("sms");
    d["served_at"] = json!(rfc3339(SMS_START + 120 * i as i64));
    d["member_state"] = json!(SMS_STATES[(i % 3) as usize]);
    d["creative"]["campaign_id"] = json!("winter-sale-sms");
    d["creative"]["sha256"] = json!(hex::encode(Sha256::digest(text)));
    d["creative"]["content"] = json!({ "text": text, "assets": [] });
    s.record(body, &salted(personal(&format!("+3361234{:04}", i % 40), &[], &[]), &id))
}

/// A DKIM-signed newsletter e-mail, logged by its body hash (SPEC.md §3.9).
fn email(s: &Submitter, n: i64, to: &str) -> Value {
    let sent = 1_795_420_800 + 3600 * n; // 2026-11-23T08:00:00Z and the hours after
    let subject = "Die Winterkollektion ist da";
    let mail = Mail::new(&DkimKey::generate(), "Shoe Shop", to, subject, &rfc5322(sent), "Neue Stiefel, warm gefuettert.\n");
    let id = format!("shoes-newsletter/{n:03}");
    s.record(mail.message_body(&s.id, &id, &rfc3339(sent), "shoes-newsletter", subject), &salted(personal(to, &[], &[]), &id))
}

/// The SPEC.md §3.4 dark post (the shared fixture), as `message_id` to alice, served at `served_at`.
fn dark_post(s: &Submitter, message_id: &str, served_at: &str, subject: &str) -> Value {
    let mut body = political_message(&s.id, message_id, subject);
    body["delivery"]["served_at"] = json!(served_at);
    s.record(body, &salted(political_personal("alice@example.org"), message_id))
}

/// The automatic follow-up to alice after she clicked the dark post (entry `earlier`): the same
/// criteria, plus her click, whose source is that earlier message (SPEC.md §3.4).
fn follow_up(s: &Submitter, earlier: u64) -> Value {
    let id = "ocean-2026/alice-2";
    let mut body = political_message(&s.id, id, "You felt it too. Act now.");
    body["delivery"]["served_at"] = json!("2026-11-22T10:00:00Z");
    body["targeting"]["criteria"].as_array_mut().expect("criteria").push(json!({ "id": "c5", "effect": "include",
        "type": "retargeting", "description": "Clicked the earlier post of this campaign", "special_category": null,
        "art9_condition": null, "minor": false, "ai_selected": false, "match_keys": null, "seed_audience": null,
        "lineage": ["s-response"] }));
    body["targeting"]["audience"] = json!({ "all_of": ["c5", { "any_of": ["c1", "c2"] }, "c4", { "none_of": ["c3"] }] });
    body["lineage"].as_array_mut().expect("lineage").push(json!({ "id": "s-response", "provider": "Acme Ads GmbH",
        "contact": "dpo@acme-ads.example", "kind": "earlier_message", "model": null,
        "collection_method": "The recipient's click on the earlier post, recorded by the platform",
        "collected_at": "not_disclosed", "refresh": "once", "lookback_days": 30, "legal_basis": "legitimate_interests",
        "derived_from": [], "entry": earlier, "audience_size": null, "precision": null, "id_types": null, "onboarder": null }));
    let mut p = political_personal("alice@example.org");
    p["evaluation"]["c5"] = json!({ "result": "matched", "value": "clicked the post on 2026-11-20" });
    s.record(body, &salted(p, id))
}

/// Where to write: `SIGHTLINE_GOLDEN_WRITE`, relative to the repository's root; a new folder.
fn target() -> PathBuf {
    let Ok(to) = std::env::var("SIGHTLINE_GOLDEN_WRITE") else {
        panic!("set SIGHTLINE_GOLDEN_WRITE to a new folder, e.g. tests/golden/v4: a version's golden log is written once, never again");
    };
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(to);
    assert!(!out.exists(), "{} exists: a golden log is never written again; a new format gets a new folder", out.display());
    out
}

#[test]
#[ignore = "writes a new golden log; run by hand for a new format version (tests/golden/README.md)"]
fn write_the_golden_log() {
    let out = target();
    let data = out.join(DATA);
    std::fs::create_dir_all(&data).expect("create the data folder");
    std::fs::write(data.join("log.key"), log_skey(GOLDEN_ORIGIN, &fixed("log key"))).expect("log.key");
    std::fs::write(data.join("server.secret"), hex::encode(fixed("server secret"))).expect("server.secret");
    std::fs::write(data.join("admin.token"), ADMIN_TOKEN).expect("admin.token");
    std::fs::write(data.join("compliance.token"), COMPLIANCE_TOKEN).expect("compliance.token");
    let opts = ServerOptions { data: Some(data.clone()), origin: Some(GOLDEN_ORIGIN.into()), ..ServerOptions::default() };
    let server = Server::start_with(opts);
    let genesis_vkey = server.vkey.clone();
    let mut w = Writer { server, messages: Vec::new(), tallies: Vec::new(), objections: Vec::new(), erasures: Vec::new() };
    let (acme, acme_rekeyed, post) = (submitter("acme-ads", 1), submitter("acme-ads", 2), submitter("post-eu", 1));
    w.server.register_submitter(&acme);
    w.server.register_submitter(&post);
    w.server.register_standard_parties();

    // acme-ads under its first key: the dark post, two display ads, half the SMS campaign.
    let mut batch = vec![
        dark_post(&acme, "ocean-2026/alice-1", "2026-11-20T18:04:05Z", "They don't want you to know what's coming"),
        display(&acme, "winter-sale/bob-1", "bob@example.org", "2026-11-20T09:00:00Z"),
        display(&acme, "winter-sale/carol-1", "carol@example.org", "2026-11-20T09:30:00Z"),
    ];
    batch.extend((0..SMS_MESSAGES / 2).map(|i| sms(&acme, i)));
    let dark = w.submit(&batch)[0]["index"].as_u64().expect("index");
    w.submit(&[email(&post, 0, "alice@example.org"), email(&post, 1, "carol@example.org"), email(&post, 2, "erin@example.org")]);
    w.submit(&[follow_up(&acme, dark)]);

    // The log key is rotated, and acme-ads re-keyed; the rest is signed with the new keys.
    let rotated = w.server.post_json_auth("/api/v1/admin/rotate-key", ADMIN_TOKEN, &json!({}));
    assert_eq!(rotated.status, 200, "rotate the log key: {}", rotated.text());
    w.server.register_submitter(&acme_rekeyed);
    let mut batch: Vec<Value> = (SMS_MESSAGES / 2..SMS_MESSAGES).map(|i| sms(&acme_rekeyed, i)).collect();
    batch.push(display(&acme_rekeyed, "winter-sale/bob-2", "bob@example.org", "2026-11-22T09:00:00Z"));
    w.submit(&batch);

    // alice objects to Civic Future through the dark post's link; its next message is flagged.
    let objected = w.server.post_rights(&w.why("ocean-2026/alice-1"), "object", &[("address", "alice@example.org")]);
    assert_eq!(objected.status, 200, "object: {}", objected.text());
    let objection = w.last();
    w.objections.push(json!({ "index": objection, "advertiser": "p-civic-future", "recipient": "alice@example.org", "through": dark }));
    let flagged = w.submit(&[dark_post(&acme_rekeyed, "ocean-2026/alice-3", "2026-11-23T18:00:00Z", "Who protects your family?")]);
    assert_eq!(flagged[0]["warnings"].as_array().map(Vec::len), Some(1), "the objection flags: {}", flagged[0]);

    // bob erases through his first ad's link; compliance erases carol in every platform's scope.
    let form = [("address", "bob@example.org"), ("confirm", "yes")];
    let erased = w.server.post_rights(&w.why("winter-sale/bob-1"), "erase", &form);
    assert_eq!(erased.status, 200, "erase: {}", erased.text());
    let records = w.erased("bob@example.org", Some("acme-ads"));
    w.erasures.push(json!({ "index": w.last(), "by": "link_holder", "records": records, "recipient": "bob@example.org" }));
    let erased = w.server.post_json_auth("/api/v1/compliance/erase", COMPLIANCE_TOKEN, &json!({ "recipient": "carol@example.org" }));
    assert_eq!(erased.status, 200, "compliance erasure: {}", erased.text());
    let records = w.erased("carol@example.org", None);
    w.erasures.push(json!({ "index": w.last(), "by": "compliance", "records": records, "recipient": "carol@example.org" }));

    // After the erasure bob gets another ad (present again), and acme-ads tallies the SMS day.
    w.submit(&[display(&acme_rekeyed, "winter-sale/bob-3", "bob@example.org", "2026-11-24T09:00:00Z")]);
    let mut delivered = serde_json::Map::new();
    for (n, state) in SMS_STATES.iter().enumerate() {
        delivered.insert(state.to_string(), json!((0..SMS_MESSAGES).filter(|i| *i as usize % 3 == n).count()));
    }
    let tally = json!({ "kind": "tally", "signer": "acme-ads", "campaign_id": "winter-sale-sms", "day": "2026-11-21",
        "delivered": delivered, "reported_at": "2026-11-22T02:00:00Z" });
    w.submit(&[acme_rekeyed.signed(tally)]);

    let manifest = w.publish(&out, &genesis_vkey);
    let mut server = w.server;
    assert!(server.stop().is_some_and(|s| s.success()), "the server stops cleanly");
    export(&data, &out.join(COMPLETE_BUNDLE), &[]);
    export(&data, &out.join(PERSONAL_BUNDLE), &["--campaign", PERSONAL_BUNDLE_CAMPAIGN, "--include-personal"]);
    std::fs::write(out.join(MANIFEST), manifest_text(&manifest)).expect("write manifest.json");
}

/// The manifest as JSON text with one line per member and one per element of a list, so that
/// a reader (and a diff) sees one message per line.
fn manifest_text(manifest: &Value) -> String {
    let members: Vec<String> = manifest
        .as_object()
        .expect("the manifest is an object")
        .iter()
        .map(|(name, v)| {
            let value = match v.as_array() {
                Some(items) if !items.is_empty() => {
                    format!("[\n{}\n  ]", items.iter().map(|i| format!("    {i}")).collect::<Vec<_>>().join(",\n"))
                }
                _ => v.to_string(),
            };
            format!("  {}: {value}", Value::from(name.as_str()))
        })
        .collect();
    format!("{{\n{}\n}}\n", members.join(",\n"))
}

impl Writer {
    /// Saves what the running server publishes (checkpoint, every tile and entry bundle, a
    /// receipt, the log keys) and returns the manifest, read back from the log's entries.
    fn publish(&mut self, out: &Path, genesis_vkey: &str) -> Value {
        let size = self.server.tree_size();
        let save = |name: &str, bytes: &[u8]| {
            let path = out.join(name);
            std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create a folder");
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        };
        for path in std::iter::once("checkpoint".to_string()).chain(tile_paths(size)) {
            let r = self.server.get(&format!("/{path}"));
            assert_eq!(r.status, 200, "GET /{path}");
            save(&format!("{READ_API}/{path}"), &r.body);
        }
        let receipt = self.server.get(&format!("{}/receipt", self.why("ocean-2026/alice-1")));
        assert_eq!(receipt.status, 200, "the dark post's receipt");
        save(RECEIPT, &receipt.body);
        let registry = self.server.get("/api/v1/registry").json();
        let rotated_vkey = registry["log_keys"][1]["vkey"].as_str().expect("the rotated key").to_string();
        save(GENESIS_VKEY, format!("{genesis_vkey}\n").as_bytes());
        save(ROTATED_VKEY, format!("{rotated_vkey}\n").as_bytes());

        let entries = self.server.get(&format!("/api/v1/entries?start=0&end={size}")).json();
        let entries = entries["entries"].as_array().expect("entries");
        assert_eq!(entries.len() as u64, size, "the whole log in one page");
        let mut kinds = std::collections::BTreeMap::<String, u64>::new();
        for e in entries {
            *kinds.entry(e["entry"]["body"]["kind"].as_str().expect("kind").to_string()).or_default() += 1;
        }
        for m in &mut self.messages {
            m["flags"] = entries[m["index"].as_u64().expect("index") as usize]["entry"]["flags"].clone();
        }
        let seed = |id: &str, n: u32| hex::encode(fixed(&format!("{id} key {n}")));
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git").args(args).output().expect("run git");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        json!({
            "format": "sightline-golden/v1",
            "spec": "sightline/v1 revision 3",
            "written_by_commit": git(&["rev-parse", "HEAD"]),
            // The folder being written is not a change of the checkout that writes it.
            "uncommitted_changes_when_written": !git(&["status", "--porcelain", "--", ":/", &format!(":(exclude){}", out.display())]).is_empty(),
            "written_at": rfc3339(now_unix()),
            "origin": GOLDEN_ORIGIN,
            "size": size,
            "kinds": kinds,
            "log_keys": { "genesis": genesis_vkey, "rotated": rotated_vkey },
            "submitter_key_seeds": { "acme-ads": [seed("acme-ads", 1), seed("acme-ads", 2)], "post-eu": [seed("post-eu", 1)] },
            "messages": self.messages,
            "objections": self.objections,
            "erasures": self.erasures,
            "tallies": self.tallies,
        })
    }
}

/// `sightline export` of the stopped server's data folder into `out`, as a bundle.
fn export(data: &Path, out: &Path, flags: &[&str]) {
    let (data, out) = (data.to_str().expect("UTF-8 path"), out.to_str().expect("UTF-8 path"));
    std::fs::create_dir_all(Path::new(out).parent().expect("a parent folder")).expect("create the export folder");
    let mut args = vec!["export", "--data", data, "--origin", GOLDEN_ORIGIN, "--format", "bundle", "--out", out, "--quiet"];
    args.extend_from_slice(flags);
    let (code, stdout, stderr) = run(&binaries().sightline, &args);
    assert_eq!(code, 0, "export: {stdout}{stderr}");
}
