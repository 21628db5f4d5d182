//! The attack of issue 21, replayed against the real binary: a second submitter logs a
//! message "to" another submitter's recipient, spelled `"  ALICE@Example.org "`, and
//! tries to use the why link it gets back to list, read, object for and erase that
//! recipient's messages. Recipients are scoped to the submitter that reported them
//! (SPEC.md §7, §14.2), so its link reaches its own record only. And a link someone
//! forwarded is not enough to act for the recipient (§14.3).

use serde_json::{json, Value};
use sightline_e2e::*;

fn receipt(ack: &Value, i: usize) -> (u64, String) {
    let r = &ack["receipts"][i];
    (r["index"].as_u64().expect("index"), r["why_url"].as_str().expect("why_url").to_string())
}

#[test]
fn another_submitters_link_cannot_list_read_or_erase_a_recipients_messages() {
    let (server, acme) = operator_setup();
    let beta = Submitter::new("beta-mail");
    server.register_submitter(&beta);

    // Acme's recipient, alice, with two messages.
    let ack = server.submit(&[
        acme.record(political_message("acme-ads", "acme/alice-1", "Acme to Alice, one"), &political_personal("alice@example.org")),
        acme.record(plain_message("acme-ads", "acme/alice-2", "Acme to Alice, two"), &personal("alice@example.org", &[], &[])),
    ]);
    let ((_, a1_url), (_, a2_url)) = (receipt(&ack, 0), receipt(&ack, 1));
    // Beta's bait.
    let bait = server
        .submit(&[beta.record(plain_message("beta-mail", "beta/bait", "Bait from Beta"), &personal("  ALICE@Example.org ", &[], &[]))]);
    let (_, bait_url) = receipt(&bait, 0);
    let bait_path = why_path(&server, &bait_url).to_string();

    // List: only beta's own message, in every spelling of the address.
    for address in ["alice@example.org", "  ALICE@Example.org "] {
        let list = server.post_rights(&bait_path, "messages", &[("address", address)]);
        assert_eq!(list.status, 200, "{}", list.text());
        let list = list.text();
        assert!(list.contains("Bait from Beta") && list.contains("1 in total"), "{list}");
        assert!(!list.contains("Acme to Alice"), "beta's link lists acme's messages: {list}");
        for url in [&a1_url, &a2_url] {
            assert!(!list.contains(why_token(url)), "beta's link hands out acme's links");
        }
    }

    // Object, then erase, through beta's link: acme's recipient keeps her data, and acme's
    // later messages to her are not flagged.
    let objected = server.post_rights(&bait_path, "object", &[("address", "alice@example.org")]);
    assert_eq!(objected.status, 200, "{}", objected.text());
    let size = server.tree_size();
    let erased = server.post_rights(&bait_path, "erase", &[("address", "alice@example.org"), ("confirm", "yes")]);
    assert_eq!(erased.status, 200, "{}", erased.text());
    let erasure = server.get(&format!("/api/v1/entries?start={size}&end={}", size + 1)).json();
    let body = &erasure["entries"][0]["entry"]["body"];
    assert_eq!(
        (body["kind"].clone(), body["by"].clone(), body["records"].clone()),
        (json!("erasure"), json!("link_holder"), json!(1)),
        "{body}"
    );
    for url in [&a1_url, &a2_url] {
        let page = server.get(why_path(&server, url)).text();
        assert!(!page.contains("Your personal data was erased"), "beta's erasure reached acme's record: {url}");
    }
    assert!(server.get(why_path(&server, &a1_url)).text().contains("neuroticism score 0.82 (high)"), "acme's personal values stay");
    let later =
        server
            .submit(&[acme
                .record(political_message("acme-ads", "acme/alice-3", "Acme to Alice, three"), &political_personal("alice@example.org"))]);
    assert_eq!(later["receipts"][0]["warnings"], json!([]), "beta's objection flags acme's message: {later}");

    // Acme's own link still works for alice, with her address.
    let a1_path = why_path(&server, &a1_url).to_string();
    let own = server.post_rights(&a1_path, "messages", &[("address", "Alice@Example.org")]).text();
    assert!(own.contains("Acme to Alice, one") && own.contains("Acme to Alice, three") && !own.contains("Bait from Beta"), "{own}");

    // The log, erasures by link holders included, verifies with the independent verifier.
    let (code, out, err) = verifier(&["verify", &server.base, "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the live log does not verify: {out}{err}");
    assert!(out.contains("erasure 1"), "{out}");
}

#[test]
fn a_forwarded_link_alone_cannot_act_for_the_recipient() {
    let (server, acme) = operator_setup();
    let ack = server.submit(&[acme.record(political_message("acme-ads", "fwd/1", "Forwarded"), &political_personal("alice@example.org"))]);
    let (_, url) = receipt(&ack, 0);
    let path = why_path(&server, &url).to_string();
    assert_eq!(server.get(&path).status, 200, "the page itself is readable with the link alone");
    let size = server.tree_size();

    // Without the address, with a guessed one, without the page's form token, from another site.
    for (action, fields) in [
        ("messages", vec![]),
        ("object", vec![("address", "bob@example.org")]),
        ("erase", vec![("address", "alice@example.com"), ("confirm", "yes")]),
    ] {
        let r = server.post_rights(&path, action, &fields);
        assert_eq!(r.status, 403, "{action}: {}", r.text());
        assert!(r.text().contains("Nothing was shown, recorded or erased"));
    }
    let forged = http_post(
        &server.url(&format!("{path}/erase")),
        &[("content-type", "application/x-www-form-urlencoded"), ("origin", "https://evil.example")],
        b"address=alice%40example.org&confirm=yes",
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    let plain = http_post(&server.url(&format!("{path}/object")), &[("content-type", "text/plain")], b"address=alice%40example.org");
    assert_eq!(plain.status, 415);
    assert_eq!(server.tree_size(), size, "nothing was recorded");
    assert!(server.get(&path).text().contains("neuroticism score 0.82 (high)"), "nothing was erased");
}
