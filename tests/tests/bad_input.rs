//! A catalogue of bad input over real HTTP against the real server: every case
//! gets its documented status (SPEC.md §12), an RFC 9457 problem where the API
//! answers with one, and writes nothing (the signed checkpoint does not grow).
//!
//! Over 400 lines on purpose: it is one catalogue, and a reader checking what the server refuses
//! should find every refusal in one file, one test per family of bad input.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::{json, Value};
use sightline_e2e::*;

const MAX_BODY: usize = 64 * 1024;
const MAX_RECORDS: usize = 3;

fn limited_server() -> (Server, Submitter) {
    let server = Server::start_with(ServerOptions { max_body_bytes: Some(MAX_BODY), max_records: Some(MAX_RECORDS), ..Default::default() });
    let acme = Submitter::new("acme-ads");
    server.register_submitter(&acme);
    server.register_standard_parties();
    (server, acme)
}

/// A submission authenticated as the server's submitter (`Server::post_submission`).
fn post_raw(server: &Server, content_type: Option<&str>, body: &[u8]) -> Resp {
    server.post_submission(content_type, body)
}

fn submit_raw(server: &Server, records: Vec<Value>) -> Resp {
    server.post_submission_json(&json!({ "records": records }))
}

/// A political message to `recipient` with `served_at` replaced.
fn served_at(acme: &Submitter, id: &str, when: &str) -> Value {
    let mut body = political_message("acme-ads", id, "Timing");
    body["delivery"]["served_at"] = json!(when);
    acme.record(body, &political_personal("t@example.org"))
}

#[test]
fn rejected_submissions_write_nothing() {
    let (server, acme) = limited_server();
    let size = server.tree_size();
    let unchanged = |what: &str| assert_eq!(server.tree_size(), size, "{what} wrote to the log");
    let good = || acme.record(political_message("acme-ads", "bad/ok", "Fine"), &political_personal("ok@example.org"));

    // 400: malformed JSON and wrong types.
    for body in [&b"{\"records\": ["[..], b"not json at all", b"", b"{\"records\": [] ,}", b"\xff\xfe{}"] {
        post_raw(&server, Some("application/json"), body).problem(400);
        unchanged("malformed JSON");
    }
    // Malformed JSON around records that are otherwise valid and canonical (the form the server
    // splits in one pass): a key with no value, a repeated key, a raw newline in a signature, a
    // trailing comma, text after the batch.
    let valid = json!({ "records": [good()] }).to_string();
    assert!(valid.contains(",\"sig\":\"") && valid.starts_with("{\"records\":[{\"body\":"), "{valid}");
    let body_text = {
        let v: Value = serde_json::from_str(&valid).unwrap();
        v["records"][0]["body"].to_string()
    };
    for broken in [
        valid.replacen(",\"sig\":", ",\"body\"\"sig\":", 1),
        valid.replacen(",\"sig\":\"", &format!(",\"body\":{body_text},\"sig\":\""), 1),
        valid.replacen(",\"sig\":\"", ",\"sig\":\"\n", 1),
        valid.replacen("}]}", "},]}", 1),
        format!("{valid} {{}}"),
    ] {
        post_raw(&server, Some("application/json"), broken.as_bytes()).problem(400);
        unchanged("malformed JSON around valid records");
    }
    for body in [
        json!({ "records": "nope" }),
        json!({ "records": [{ "body": {}, "sig": 5, "personal": null }] }),
        json!({ "records": [1, 2] }),
        json!([good()]),
        json!({ "records": [good()], "extra": true }),
        json!({ "records": [] }),
    ] {
        let p = server.post_submission_json(&body).problem(400);
        assert!(p["type"].as_str().is_some_and(|t| t.starts_with("https://")), "{p}");
        unchanged("wrong types");
    }

    // 413: a body over --max-body-bytes, and a batch over --max-records.
    let mut big = good();
    big["body"]["delivery"]["creative"]["subject"] = json!("x".repeat(MAX_BODY));
    submit_raw(&server, vec![big]).problem(413);
    unchanged("an oversize body");
    let batch: Vec<Value> = (0..=MAX_RECORDS)
        .map(|i| acme.record(political_message("acme-ads", &format!("bad/batch-{i}"), "Batch"), &political_personal("b@example.org")))
        .collect();
    let p = submit_raw(&server, batch).problem(413);
    assert!(p["detail"].as_str().is_some_and(|d| d.contains(&MAX_RECORDS.to_string())), "{p}");
    unchanged("an oversize batch");

    // 415: not declared as JSON.
    let body = json!({ "records": [good()] }).to_string();
    for ct in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
        post_raw(&server, ct, body.as_bytes()).problem(415);
        unchanged("a wrong content type");
    }

    // 403: a record of a submitter the log does not know (sent by acme, so it is another
    // signer's record), and a record signature by the wrong key.
    let ghost = Submitter::new("ghost-ads");
    let r =
        submit_raw(&server, vec![ghost.record(political_message("ghost-ads", "bad/ghost", "Ghost"), &political_personal("g@example.org"))]);
    assert_eq!(r.problem(403)["type"], "https://sightline.dev/problems/foreign-record");
    unchanged("an unknown submitter");
    let impostor = Submitter::new("acme-ads");
    let r = submit_raw(
        &server,
        vec![impostor.record(political_message("acme-ads", "bad/impostor", "Impostor"), &political_personal("i@example.org"))],
    );
    assert_eq!(r.problem(403)["type"], "https://sightline.dev/problems/bad-signature");
    unchanged("a bad signature");
    // A valid signature over a body that was changed afterwards.
    let mut altered = good();
    altered["body"]["sponsor"]["political"]["amount"]["value"] = json!("1.00");
    submit_raw(&server, vec![altered]).problem(403);
    unchanged("an altered body");
    // All or nothing: one bad record sinks the whole batch, and the problem names it.
    let p = submit_raw(
        &server,
        vec![good(), impostor.record(political_message("acme-ads", "bad/imp2", "x"), &political_personal("i@example.org"))],
    )
    .problem(403);
    assert!(p["detail"].is_string());
    unchanged("a batch with one bad record");

    // 422: rules of §3, naming the record and the field.
    let hour = 3600;
    for (when, what) in [
        (rfc3339(now_unix() + hour), "an hour in the future"),
        (rfc3339(now_unix() + 24 * hour * 400), "next year"),
        ("1999-12-31T23:59:59Z".to_string(), "before 2000"),
        ("0001-01-01T00:00:00Z".to_string(), "year 1"),
        ("9999-12-31T23:59:59Z".to_string(), "year 9999"),
        ("2026-11-20T18:04:05+01:00".to_string(), "not UTC"),
        ("2026-11-20T18:04:05.1234Z".to_string(), "sub-millisecond"),
        ("yesterday".to_string(), "not a time"),
    ] {
        let r = submit_raw(&server, vec![good(), served_at(&acme, &format!("bad/time-{}", what.len()), &when)]);
        let p = r.problem(422);
        assert_eq!(p["field"], json!("delivery.served_at"), "{what}: {p}");
        assert_eq!(p["record"], json!(1), "{what}: {p}");
        unchanged(what);
    }
    // A wrong type inside a signed body is a schema violation of that record: 422 naming
    // the field (the envelope's wrong types above are 400).
    let mut typed = political_message("acme-ads", "bad/typed", "Typed");
    typed["targeting"]["criteria"][0]["minor"] = json!("yes");
    let p = submit_raw(&server, vec![acme.record(typed, &political_personal("p@example.org"))]).problem(422);
    assert_eq!(p["field"], json!("targeting.criteria[0].minor"), "{p}");
    let mut no_personal = good();
    no_personal["personal"] = Value::Null;
    assert_eq!(submit_raw(&server, vec![no_personal]).problem(400)["field"], json!("personal"));
    let mut unregistered = political_message("acme-ads", "bad/party", "Party");
    unregistered["sponsor"]["payer"] = json!("p-nobody");
    let p = submit_raw(&server, vec![acme.record(unregistered, &political_personal("p@example.org"))]).problem(422);
    assert_eq!(p["field"], json!("sponsor.payer"), "{p}");
    let mut gr = political_message("acme-ads", "bad/gr", "Greece");
    gr["delivery"]["member_state"] = json!("GR");
    submit_raw(&server, vec![acme.record(gr, &political_personal("p@example.org"))]).problem(422);
    // A personal part that does not open the commitments.
    let mut wrong_personal = good();
    wrong_personal["personal"]["recipient"] = json!("someone-else@example.org");
    submit_raw(&server, vec![wrong_personal]).problem(422);
    unchanged("rule violations");

    // Replays: the same body is a duplicate (nothing appended), a different body is 409.
    let original = good();
    let first = server.submit(std::slice::from_ref(&original));
    let first = &first["receipts"][0];
    let size = server.tree_size();
    let again = server.submit(&[original]);
    let again = &again["receipts"][0];
    assert_eq!(again["duplicate"], json!(true), "{again}");
    assert_eq!(again["index"], first["index"]);
    assert_eq!(again["why_url"], first["why_url"], "re-submitting returns the same token");
    assert_eq!(server.tree_size(), size, "a duplicate appended something");
    let mut changed = political_message("acme-ads", "bad/ok", "Fine, but different");
    changed["delivery"]["member_state"] = json!("FR");
    let p = submit_raw(&server, vec![acme.record(changed, &political_personal("ok@example.org"))]).problem(409);
    assert_eq!(p["record"], json!(0), "{p}");
    assert_eq!(server.tree_size(), size, "a conflicting replay appended something");
}

#[test]
fn wrong_tokens_are_plain_404s_and_credentials_are_required() {
    let (server, acme) = limited_server();
    let ack = server.submit(&[acme.record(political_message("acme-ads", "tok/1", "Token"), &political_personal("tok@example.org"))]);
    let why_url = ack["receipts"][0]["why_url"].as_str().expect("why_url").to_string();
    let token = why_token(&why_url).to_string();
    let index = ack["receipts"][0]["index"].as_u64().expect("index");
    assert_eq!(server.get(&format!("/why/{token}")).status, 200);
    let size = server.tree_size();

    // Wrong tokens: garbage, a well-formed token with a guessed MAC, a real token with one
    // character changed, a real MAC with another index. All the same plain 404.
    let mut raw = B64URL.decode(&token).expect("token is base64url");
    assert_eq!(raw.len(), 24, "8-byte index and 16-byte MAC");
    let guessed = B64URL.encode([&index.to_be_bytes()[..], &[0u8; 16]].concat());
    let mut flipped = token.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    raw[7] ^= 1;
    let other_index = B64URL.encode(&raw);
    let wrong =
        ["AAAA".to_string(), "not-a-token".to_string(), guessed, String::from_utf8(flipped).expect("ascii"), other_index, "x".repeat(300)];
    let mut bodies = std::collections::BTreeSet::new();
    for t in &wrong {
        for path in [format!("/why/{t}"), format!("/why/{t}/messages"), format!("/why/{t}/receipt")] {
            let r = server.get(&path);
            assert_eq!(r.status, 404, "{path}");
            bodies.insert(r.body.clone());
        }
        for action in ["messages", "object", "erase"] {
            let r = server.post_form(&format!("/why/{t}/{action}"), "address=tok%40example.org&confirm=yes");
            assert_eq!(r.status, 404, "{action} with {t}");
            bodies.insert(r.body.clone());
        }
    }
    assert_eq!(bodies.len(), 1, "wrong tokens must be indistinguishable: {bodies:?}");
    let body = String::from_utf8(bodies.into_iter().next().expect("one")).expect("utf-8");
    assert!(!body.contains(&token[..8]) && !body.to_lowercase().contains("mac"), "the 404 gives a hint: {body}");
    assert_eq!(server.tree_size(), size, "a wrong token wrote something");

    // Admin and compliance endpoints: no credential, a wrong one, the other role's one.
    let party =
        json!({ "party": "p-x", "name": "X", "contact": "x@x.example", "established_in": "DE", "ultimately_controlled_by": "self" });
    let submitter =
        json!({ "submitter": "evil", "name": "Evil", "contact": "e@e.example", "public_key": Submitter::new("evil").public_key() });
    let erase = json!({ "recipient": "tok@example.org" });
    let posts: [(&str, &Value, &str); 4] = [
        ("/api/v1/admin/submitters", &submitter, COMPLIANCE_TOKEN),
        ("/api/v1/admin/parties", &party, COMPLIANCE_TOKEN),
        ("/api/v1/admin/rotate-key", &json!({}), COMPLIANCE_TOKEN),
        ("/api/v1/compliance/erase", &erase, ADMIN_TOKEN),
    ];
    for (path, body, other_role) in posts {
        let wrong_len = format!("{ADMIN_TOKEN}x");
        let cases: [Vec<(&str, String)>; 5] = [
            vec![],
            vec![("authorization", "Bearer wrong-credential-0123456789".into())],
            vec![("authorization", format!("Bearer {wrong_len}"))],
            vec![("authorization", format!("Bearer {other_role}"))],
            vec![("authorization", format!("Basic {ADMIN_TOKEN}"))],
        ];
        for auth in cases {
            let mut headers: Vec<(&str, &str)> = vec![("content-type", "application/json")];
            headers.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
            let r = http_post(&server.url(path), &headers, body.to_string().as_bytes());
            r.problem(401);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{path}");
        }
    }
    for auth in [None, Some("wrong-credential-0123456789"), Some(ADMIN_TOKEN)] {
        let headers: Vec<(&str, String)> = auth.map(|a| vec![("authorization", format!("Bearer {a}"))]).unwrap_or_default();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = http_get(&server.url("/api/v1/export?format=jsonl&include_personal=true"), &headers);
        r.problem(401);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        assert!(!r.text().contains("tok@example.org"));
    }
    assert_eq!(server.tree_size(), size, "an unauthorised request wrote something");
    // The right credentials do work (so the 401s above were about the credential).
    let r = server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &party);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(server.tree_size(), size + 1);
}

#[test]
fn markup_in_every_free_text_field_is_escaped() {
    let server = Server::start();
    let x = |tag: &str| format!("<script>alert('{tag}')</script><img src=x onerror=alert(1)>\"'&");
    let acme = Submitter { name: x("submitter"), ..Submitter::new("acme-ads") };
    server.register_submitter(&acme);
    for (id, controlled) in [("p-top", "self"), ("p-evil", "p-top")] {
        let body =
            json!({ "party": id, "name": x(id), "contact": x("contact"), "established_in": "DE", "ultimately_controlled_by": controlled });
        assert_eq!(server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &body).status, 200);
    }

    let mut m = political_message("acme-ads", "xss/1", &x("subject"));
    m["delivery"]["channel"] = json!("email");
    m["delivery"]["email_headers"] = json!({ "list_unsubscribe": x("unsub"), "list_unsubscribe_post": x("post") });
    m["delivery"]["address_lineage"] = json!(["s-broker"]);
    m["delivery"]["creative"]["brand"] = json!(x("brand"));
    m["delivery"]["creative"]["content"]["text"] = json!(x("content"));
    m["sponsor"]["on_behalf_of"] = json!("p-evil");
    m["sponsor"]["payer"] = json!("p-top");
    let pol = &mut m["sponsor"]["political"];
    pol["linked_to"] = json!(x("linked"));
    pol["funding_origin"] = json!(x("funding"));
    pol["other_benefits"] = json!(x("benefits"));
    pol["suspension"] = json!(x("suspension"));
    for c in m["targeting"]["criteria"].as_array_mut().expect("criteria") {
        c["description"] = json!(x("criterion"));
    }
    m["targeting"]["delivery_optimisation"]["goal"] = json!(x("goal"));
    for l in m["lineage"].as_array_mut().expect("lineage") {
        for f in ["provider", "contact", "collection_method", "refresh"] {
            l[f] = json!(x(f));
        }
        if l["model"].is_object() {
            l["model"] = json!({ "name": x("model"), "version": x("version") });
        }
        if l["onboarder"].is_object() {
            l["onboarder"] = json!({ "name": x("onboarder"), "match_method": x("match_method") });
        }
    }
    let p = personal(
        &x("recipient"),
        &[
            ("c1", "matched", Some(&x("matched"))),
            ("c2", "not_matched", None),
            ("c3", "not_matched", Some(&x("matched2"))),
            ("c4", "not_evaluated", None),
        ],
        &[("s-broker", "other", &x("consent"))],
    );
    let ack = server.submit(&[acme.record(m, &p)]);
    let why_url = ack["receipts"][0]["why_url"].as_str().expect("why_url").to_string();
    let token = why_token(&why_url).to_string();

    let pages = [
        format!("/why/{token}"),
        format!("/why/{token}/messages"),
        "/library".to_string(),
        "/library?q=script".to_string(),
        format!("/library?q={}", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
        "/".to_string(),
    ];
    for path in &pages {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/html")), "{path}");
        let csp = r.header("content-security-policy").expect("CSP");
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src"), "pages need no script: {csp}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
        let html = r.text();
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script"), "{path} carries a raw <script>");
        assert!(!lower.contains("<img"), "{path} carries a raw <img>");
    }
    let why = server.get(&format!("/why/{token}")).text();
    for tag in [
        "subject",
        "brand",
        "submitter",
        "p-evil",
        "p-top",
        "contact",
        "linked",
        "funding",
        "criterion",
        "goal",
        "provider",
        "collection_method",
        "refresh",
        "model",
        "matched",
        "consent",
        "unsub",
        "post",
        "content",
        "benefits",
        "suspension",
        "onboarder",
        "match_method",
    ] {
        assert!(why.contains(&html_escape(&x(tag))), "the why page does not show the escaped {tag} field");
    }
    let library = server.get("/library").text();
    for tag in ["subject", "brand", "p-evil", "criterion", "content", "onboarder"] {
        assert!(library.contains(&html_escape(&x(tag))), "the library does not show the escaped {tag} field");
    }
    let messages = server.post_rights(&format!("/why/{token}"), "messages", &[("address", &x("recipient"))]);
    assert_eq!(messages.status, 200, "{}", messages.text());
    let messages = messages.text();
    assert!(messages.contains(&html_escape(&x("subject"))));
    assert!(!messages.to_lowercase().contains("<script"), "the list carries a raw <script>");
    // The receipt is JSON, never HTML.
    let receipt = server.get(&format!("/why/{token}/receipt"));
    assert!(receipt.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(receipt.header("x-content-type-options"), Some("nosniff"));
}

/// A change made to a message body before it is signed.
type Change<'a> = dyn Fn(&mut Value) + 'a;

/// SPEC.md revision 3: the schema holes an outside implementer found. Each is refused over real
/// HTTP with its own message naming the record and the field, and writes nothing.
#[test]
fn schema_holes_are_refused_and_write_nothing() {
    let (server, acme) = limited_server();
    let size = server.tree_size();
    let unchanged = |what: &str| assert_eq!(server.tree_size(), size, "{what} wrote to the log");
    // The record is always second in its batch, so `record` is checked to be 1, not a default 0.
    let good = |id: &str| acme.record(political_message("acme-ads", id, "Fine"), &political_personal("ok@example.org"));
    let refused = |records: Vec<Value>, status: u16, field: &str, words: &str, what: &str| {
        let p = submit_raw(&server, records).problem(status);
        assert_eq!(p["record"], json!(1), "{what}: {p}");
        assert_eq!(p["field"], json!(field), "{what}: {p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(words), "{what}: {detail}");
        for jargon in ["Option", "u32", "struct", "Failed to", " at line "] {
            assert!(!detail.contains(jargon), "{what}: {detail}");
        }
        unchanged(what);
    };
    let changed = |id: &str, change: &Change<'_>| {
        let mut body = political_message("acme-ads", id, "Changed");
        change(&mut body);
        acme.record(body, &political_personal("h@example.org"))
    };

    // Every nullable field left out, one at a time: the omission is not "null".
    let omissions: [(&str, &Change<'static>); 4] = [
        ("delivery.email_headers", &|b| drop(b["delivery"].as_object_mut().map(|o| o.remove("email_headers")))),
        ("sponsor.political", &|b| drop(b["sponsor"].as_object_mut().map(|o| o.remove("political")))),
        ("targeting.criteria[0].special_category", &|b| {
            drop(b["targeting"]["criteria"][0].as_object_mut().map(|o| o.remove("special_category")))
        }),
        ("lineage[0].model", &|b| drop(b["lineage"][0].as_object_mut().map(|o| o.remove("model")))),
    ];
    for (i, (field, remove)) in omissions.into_iter().enumerate() {
        refused(vec![good("h/ok"), changed(&format!("h/missing-{i}"), remove)], 422, field, "is missing", field);
    }

    // Codes that have the right shape but name nothing.
    let fakes: [(&str, &Change<'static>); 3] = [
        ("delivery.creative.language", &|b| b["delivery"]["creative"]["language"] = json!("xx")),
        ("sponsor.political.amount.currency", &|b| b["sponsor"]["political"]["amount"]["currency"] = json!("XYZ")),
        ("delivery.member_state", &|b| b["delivery"]["member_state"] = json!("XX")),
    ];
    for (i, (field, fake)) in fakes.into_iter().enumerate() {
        refused(vec![good("h/ok"), changed(&format!("h/code-{i}"), fake)], 422, field, "is not", field);
    }
    let party = json!({ "party": "p-nowhere", "name": "Nowhere", "contact": "x@x.example", "established_in": "XX", "ultimately_controlled_by": "self" });
    let p = server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &party).problem(422);
    assert_eq!(p["field"], json!("established_in"), "{p}");
    unchanged("a party established in XX");

    // A brand that would display differently from what is logged.
    for (i, brand) in ["Civic\u{202E}erutuF", "Civic\u{200B}Future"].into_iter().enumerate() {
        let code = if i == 0 { "U+202E" } else { "U+200B" };
        refused(
            vec![good("h/ok"), changed(&format!("h/bidi-{i}"), &|b| b["delivery"]["creative"]["brand"] = json!(brand))],
            422,
            "delivery.creative.brand",
            code,
            code,
        );
    }

    // A repeated key in a body, signed as a last-wins parser would log it: in a body that is
    // otherwise canonical (the one-pass path) and in one that is not.
    let text = json!({ "records": [good("h/ok"), good("h/repeat")] }).to_string();
    let repeated = text.replacen("\"brand\":\"Civic Future\"", "\"brand\":\"Someone Else\",\"brand\":\"Civic Future\"", 2).replacen(
        "\"brand\":\"Someone Else\",\"brand\":\"Civic Future\"",
        "\"brand\":\"Civic Future\"",
        1,
    );
    let spaced = repeated.replacen("{\"body\":{", "{\"body\": {", 2);
    for (what, body) in [("a repeated key in a canonical body", repeated), ("a repeated key in a spaced body", spaced)] {
        assert_ne!(body, text);
        let p = post_raw(&server, Some("application/json"), body.as_bytes()).problem(422);
        assert_eq!((p["record"].clone(), p["field"].clone()), (json!(1), json!("delivery.creative.brand")), "{what}: {p}");
        assert!(p["detail"].as_str().is_some_and(|d| d.contains("repeat")), "{what}: {p}");
        unchanged(what);
    }
    // A repeated member of the envelope: 400, naming record and member.
    let twice = text.replacen(",\"sig\":", ",\"sig\":\"AAAA\",\"sig\":", 2).replacen(",\"sig\":\"AAAA\",\"sig\":", ",\"sig\":", 1);
    let p = post_raw(&server, Some("application/json"), twice.as_bytes()).problem(400);
    assert_eq!((p["record"].clone(), p["field"].clone()), (json!(1), json!("sig")), "{p}");
    unchanged("a repeated sig");

    // The personal part: missing (an envelope error, 400), and with its empty `evaluation` left out.
    let mut no_personal = good("h/no-personal");
    no_personal.as_object_mut().map(|o| o.remove("personal"));
    refused(vec![good("h/ok"), no_personal], 400, "personal", "is missing", "personal missing");
    let mut bare = personal("m@example.org", &[], &[]);
    let mut no_evaluation = acme.record(plain_message("acme-ads", "h/no-evaluation", "Plain"), &bare);
    bare.as_object_mut().map(|o| o.remove("evaluation"));
    no_evaluation["personal"] = bare;
    refused(vec![good("h/ok"), no_evaluation], 422, "personal.evaluation", "is missing", "empty evaluation omitted");

    // An integer written with a fraction.
    let text = json!({ "records": [good("h/ok"), changed("h/fraction", &|b| b["lineage"][1]["lookback_days"] = json!(91))] }).to_string();
    let fraction = text.replacen("\"lookback_days\":91", "\"lookback_days\":91.0", 1);
    assert_ne!(fraction, text);
    let p = post_raw(&server, Some("application/json"), fraction.as_bytes()).problem(422);
    assert_eq!((p["record"].clone(), p["field"].clone()), (json!(1), json!("lineage[1].lookback_days")), "{p}");
    unchanged("90.0");

    // A bad signature and a reused message id name their record and field too.
    let impostor = Submitter::new("acme-ads");
    let forged = impostor.record(political_message("acme-ads", "h/forged", "Forged"), &political_personal("f@example.org"));
    refused(vec![good("h/ok"), forged], 403, "sig", "does not verify", "a bad signature");
    server.submit(&[good("h/first")]);
    let size = server.tree_size();
    let mut reuse = political_message("acme-ads", "h/first", "Another body");
    reuse["delivery"]["member_state"] = json!("FR");
    let p = submit_raw(&server, vec![good("h/ok2"), acme.record(reuse, &political_personal("ok@example.org"))]).problem(409);
    assert_eq!((p["record"].clone(), p["field"].clone()), (json!(1), json!("message_id")), "{p}");
    // A party registered again: 409 naming the earlier entry.
    let again = json!({ "party": "p-civic-future", "name": "Civic Future e.V.", "contact": "x@x.example", "established_in": "DE", "ultimately_controlled_by": "self" });
    let p = server.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &again).problem(409);
    assert!(p["type"].as_str().is_some_and(|t| t.ends_with("/party-exists")), "{p}");
    assert!(p["detail"].as_str().is_some_and(|d| d.contains("already registered (entry ")), "{p}");
    assert_eq!(server.tree_size(), size, "a refused request wrote to the log");
}
