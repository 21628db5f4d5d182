//! The recipient pages end to end: a real ledger in a temporary folder, real
//! signed submissions, and the real router driven with `oneshot`.

mod common;

use axum::http::StatusCode;
use common::{bare_personal, hidden_value, personal_for, political_message, shoe_email, Fixture, ORIGIN};
use sightline_ledger::note::NoteVerifier;
use sightline_ledger::receipt::Receipt;

/// What askama 0.14 makes of a text in HTML: `" & ' < >` as numeric references.
fn esc(s: &str) -> String {
    s.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

#[tokio::test]
async fn why_page_explains_every_criterion_source_and_the_proof() {
    let fx = Fixture::new();
    let ack = fx.submit(political_message(&fx.next_id(), "What is coming next"), &personal_for("alice@example.org"));
    let token = ack.why_token.clone().expect("a message has a why token");
    let (status, headers, body) = fx.get(&format!("/why/{token}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(headers["cache-control"], "no-store");

    // Who paid, on whose behalf, and who ultimately controls them.
    for s in [
        "Civic Future e.V.",
        "info@civic-future.example",
        "Germany (DE)",
        "Civic Holding AG",
        "Switzerland (CH)",
        "Top Trust Ltd",
        "Cayman Islands (KY)",
        "Acme Ads GmbH",
    ] {
        assert!(body.contains(&esc(s)), "missing party fact {s}");
    }
    // The TTPA label and notice.
    for s in ["Political advertisement", "Bundestag election 2029", "2029-09-23", "48000.00 EUR", "private donations from within the EU"] {
        assert!(body.contains(s), "missing political fact {s}");
    }
    assert!(body.contains(r#"<a href="https://civic-future.example/transparency/ocean-2026">"#));
    // Every criterion, include and exclude, with what the evaluation proves for this recipient
    // and the personal value used.
    assert!(body.contains("4 criteria: 3 to include people and 1 to exclude people"));
    for s in [
        "Personality score: high neuroticism (OCEAN model)",
        "People who follow the party's own page",
        "Low-income households list",
        "neuroticism score 0.82 (high)",
        "does not follow the party's page",
        "You were selected because criterion 1 (“Personality score: high neuroticism (OCEAN model)”) held for you.",
        "Criterion 2 (“Low-income households list”) was another way into this audience, and it did not apply to you.",
        "You were checked against exclusion criterion 3 (“People who follow the party's own page”) and were not in it.",
    ] {
        assert!(body.contains(&esc(s)), "missing criterion fact {s}");
    }
    assert!(body.contains("NOT to show this message"));
    // The lineage chain, through derived_from: the model, the quiz app it came from, the broker.
    for s in [
        "ThisIsYourDigitalLife quiz",
        "DataBroker Inc",
        "Bought from a data broker",
        "model “ocean-v2”, version 2.3.1",
        "Derived from: ThisIsYourDigitalLife quiz",
        "Derived from: DataBroker Inc",
        "A friend installed a personality quiz app that read their friends' page likes",
        "collected on 2026-10-01",
        "uses data from the last 365 days",
        "the controller's legitimate interests (GDPR Art. 6(1)(f))",
        "IAB TCF consent string: CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA",
        "not disclosed by the advertiser",
    ] {
        assert!(body.contains(&esc(s)), "missing lineage fact {s}");
    }
    // Flags: special category, known minor, inferred, AI.
    for s in [
        "Special category of personal data: political opinions",
        "A known minor was involved",
        "Inferred or modelled data",
        "Selected or optimised by an AI system",
        "An AI system optimised who was shown this message",
        "Data bought from a data broker was used",
        "Data obtained through another person's permission, not yours, was used",
    ] {
        assert!(body.contains(&esc(s)), "missing flag {s}");
    }
    // Controls: links only for https/mailto.
    assert!(body.contains(r#"<a href="https://social.example/settings/ads">"#));
    assert!(body.contains(r#"<a href="mailto:dpo@acme-ads.example">"#));
    // One plain POST form for the rights that need the address: the list, objecting, erasing.
    assert!(body.contains(&format!(r#"<form class="action" id="rights" method="post" action="/why/{token}/messages">"#)));
    assert!(body.contains(&format!(r#"formaction="/why/{token}/object""#)));
    assert!(body.contains(&format!(r#"formaction="/why/{token}/erase""#)));
    assert!(body.contains(r#"name="address" required"#));
    assert_eq!(hidden_value(&body, "csrf"), Some(fx.ledger.form_token(&token)), "the form carries the link's form token");
    assert!(!body.contains("alice@example.org"), "the page never shows the address");
    // The proof.
    let size = fx.ledger.size();
    assert!(body.contains(&format!("recorded as entry {} of the log, and is included in the signed checkpoint of size {size}", ack.index)));
    assert!(body.contains(&format!("/why/{token}/receipt")));
    assert!(body.contains(&esc(&format!(
        "sightline-verifier receipt entry-{}.sightline-receipt.json --vkey '{}'",
        ack.index,
        fx.ledger.vkey()
    ))));
    // No script, no external resource, and the footer names the origin.
    assert!(!body.to_lowercase().contains("<script"));
    assert!(!body.contains(" src="));
    assert!(body.contains(ORIGIN));
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let fx = Fixture::new();
    let token = fx.submit(political_message(&fx.next_id(), "Headers"), &personal_for("alice@example.org")).why_token.unwrap();
    for path in [format!("/why/{token}"), format!("/why/{token}/messages"), "/".to_string(), "/why/nope".to_string()] {
        let (_, h, _) = fx.get(&path).await;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("script-src"), "{path}: no script source may be allowed");
        assert!(csp.contains("style-src 'self'") && !csp.contains("unsafe-inline"), "{path}: no inline style: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}: a why link never reaches another site");
    }
}

#[tokio::test]
async fn html_in_text_fields_is_escaped() {
    let fx = Fixture::new();
    let evil = "<script>alert(1)</script>";
    let mut body = political_message(&fx.next_id(), evil);
    body["delivery"]["creative"]["brand"] = serde_json::json!("<b onmouseover=\"x()\">Brand</b>");
    body["targeting"]["criteria"][0]["description"] = serde_json::json!("<img src=x onerror=alert(2)>");
    let token = fx.submit(body, &personal_for("alice@example.org")).why_token.unwrap();
    for (path, (status, _, page)) in [
        (format!("/why/{token}"), fx.get(&format!("/why/{token}")).await),
        (format!("/why/{token}/messages"), fx.rights(&token, "messages", "address=alice%40example.org").await),
    ] {
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("<script"), "{path}");
        assert!(!page.contains("<img"), "{path}");
        assert!(!page.contains("<b onmouseover"), "{path}");
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{path}");
        assert!(page.contains(&esc("<b onmouseover=\"x()\">Brand</b>")), "{path}");
    }
    let (_, _, page) = fx.get(&format!("/why/{token}")).await;
    assert!(page.contains(&esc("<img src=x onerror=alert(2)>")));
}

#[tokio::test]
async fn wrong_tokens_are_the_same_plain_404() {
    let fx = Fixture::new();
    let token = fx.submit(political_message(&fx.next_id(), "Real"), &personal_for("alice@example.org")).why_token.unwrap();
    let mut garbled = token.clone().into_bytes();
    garbled[20] = if garbled[20] == b'A' { b'B' } else { b'A' };
    let garbled = String::from_utf8(garbled).unwrap();
    let bad = [
        garbled,
        "A".repeat(32),
        "nonsense".to_string(),
        fx.ledger.why_token(0),       // genuine, but entry 0 is the log key, not a message
        fx.ledger.why_token(999_999), // genuine MAC, beyond the log
        format!("{token}x"),
    ];
    let mut bodies = Vec::new();
    for t in &bad {
        for (method, path) in [
            ("GET", format!("/why/{t}")),
            ("GET", format!("/why/{t}/messages")),
            ("GET", format!("/why/{t}/receipt")),
            ("POST", format!("/why/{t}/messages")),
            ("POST", format!("/why/{t}/object")),
            ("POST", format!("/why/{t}/erase")),
        ] {
            let form = format!("csrf={}&address=alice%40example.org&confirm=yes", fx.ledger.form_token(t));
            let (status, _, body) = if method == "GET" { fx.get(&path).await } else { fx.post_form(&path, &form).await };
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
            assert!(!body.contains("token") && !body.contains("entry"), "a 404 gives no hint: {body}");
            bodies.push(body);
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every bad token gets the identical body");
    // Nothing was objected to or erased by the bad tokens.
    let (status, _, page) = fx.get(&format!("/why/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("neuroticism score 0.82 (high)"));
}

#[tokio::test]
async fn the_same_record_always_renders_the_same_page() {
    let fx = Fixture::new();
    let token = fx.submit(political_message(&fx.next_id(), "Twice"), &personal_for("alice@example.org")).why_token.unwrap();
    let (_, _, a) = fx.get(&format!("/why/{token}")).await;
    let (_, _, b) = fx.get(&format!("/why/{token}")).await;
    assert_eq!(a, b);
    // The criteria appear in record order.
    let pos = |s: &str| a.find(&esc(s)).unwrap_or_else(|| panic!("missing {s}"));
    assert!(pos("1. Inclusion: Personality score: high neuroticism") < pos("2. Inclusion: Low-income households list"));
    assert!(pos("2. Inclusion: Low-income households list") < pos("3. Exclusion: People who follow the party's own page"));
}

#[tokio::test]
async fn messages_lists_every_message_of_this_recipient_and_no_other() {
    let fx = Fixture::new();
    let a1 = fx.submit(political_message(&fx.next_id(), "First to Alice"), &personal_for("alice@example.org"));
    let a2 = fx.submit(shoe_email(&fx.next_id(), "Winter sale for Alice"), &bare_personal(" Alice@Example.org "));
    let b1 = fx.submit(political_message(&fx.next_id(), "Only for Bob"), &personal_for("bob@example.org"));
    let (t1, t2, tb) = (a1.why_token.unwrap(), a2.why_token.unwrap(), b1.why_token.unwrap());
    let (status, _, page) = fx.rights(&t2, "messages", "address=alice%40example.org").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("First to Alice") && page.contains("Winter sale for Alice"));
    assert!(page.contains(&format!(r#"href="/why/{t1}""#)) && page.contains(&format!(r#"href="/why/{t2}""#)));
    assert!(page.contains("Civic Future e.V.") && page.contains("Shoe Shop SE"));
    assert!(page.contains("Political advertisement"));
    assert!(!page.contains("Only for Bob") && !page.contains(&tb), "never another recipient's messages");
    assert!(page.find("First to Alice").unwrap() < page.find("Winter sale for Alice").unwrap(), "log order");
    let (_, _, bob) = fx.rights(&tb, "messages", "address=bob%40example.org").await;
    assert!(bob.contains("Only for Bob") && !bob.contains("Alice"));
    // The email's page shows its unsubscribe headers and says what was not disclosed.
    let (_, _, mail) = fx.get(&format!("/why/{t2}")).await;
    assert!(mail.contains("List-Unsubscribe"));
    assert!(mail.contains(&esc("<https://shoes.example/unsub?u=1>, <mailto:unsub@shoes.example>")));
    assert!(mail.contains(r#"<a href="https://shoes.example/unsub?u=1">"#));
    assert!(mail.contains("no targeting criteria"));
    assert!(mail.contains("who ultimately controls it is not disclosed by the advertiser"));
    assert!(!mail.contains("Political advertisement"));
}

#[tokio::test]
async fn a_long_message_list_comes_in_pages_of_a_hundred() {
    let fx = Fixture::new();
    let n = 2 * sightline_web::rights::MESSAGES_PER_PAGE + 30;
    let acks: Vec<_> = (0..n)
        .map(|i| fx.submit(shoe_email(&fx.next_id(), &format!("Offer number {i:03}")), &bare_personal("carol@example.org")))
        .collect();
    let t = acks[7].why_token.clone().unwrap();
    let rows = |page: &str| page.matches("Why did I get this?").count();
    let list = |page: &'static str| fx.rights(&t, "messages", page);
    let (status, _, p1) = list("address=carol%40example.org").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rows(&p1), 100);
    assert!(p1.contains("230 in total") && p1.contains("messages 1 to 100"), "{p1}");
    assert!(p1.contains("Offer number 000") && p1.contains("Offer number 099") && !p1.contains("Offer number 100"));
    // The page buttons are a form that carries the address: no script needed.
    assert!(p1.contains(r#"<button type="submit" name="page" value="2">later messages"#) && !p1.contains("earlier messages"));
    assert_eq!(hidden_value(&p1, "address").as_deref(), Some("carol@example.org"));
    assert_eq!(hidden_value(&p1, "csrf"), Some(fx.ledger.form_token(&t)));
    let (_, _, p2) = list("address=carol%40example.org&page=2").await;
    assert!(p2.contains("messages 101 to 200") && p2.contains("Offer number 100") && !p2.contains("Offer number 099"));
    assert!(p2.contains(r#"name="page" value="1">"#) && p2.contains(r#"name="page" value="3">"#));
    let (_, _, p3) = list("page=3&address=carol%40example.org").await;
    assert_eq!(rows(&p3), 30);
    assert!(p3.contains("messages 201 to 230") && p3.contains("Offer number 229") && !p3.contains("later messages"));
    assert_eq!(list("address=carol%40example.org&page=4").await.0, StatusCode::NOT_FOUND);
    for bad in ["page=0", "page=x", "page=1&page=2", "sort=new"] {
        let (status, _, page) = fx.rights(&t, "messages", &format!("address=carol%40example.org&{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(page.contains("Nothing was shown"), "{bad}: {page}");
    }
    // Without the form, the list asks for the address, keeping the page asked for.
    let (status, _, ask) = fx.get(&format!("/why/{t}/messages?page=2")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ask.contains(r#"name="address" required"#) && rows(&ask) == 0, "no message is listed without the address");
    assert_eq!(hidden_value(&ask, "page").as_deref(), Some("2"));
    for bad in ["page=0", "page=x", "page=1&x=2", "sort=new"] {
        assert_eq!(fx.get(&format!("/why/{t}/messages?{bad}")).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(fx.get("/why/nope/messages?page=x").await.0, StatusCode::NOT_FOUND, "the token is checked first");
}

#[tokio::test]
async fn the_receipt_downloads_and_verifies() {
    let fx = Fixture::new();
    let ack = fx.submit(political_message(&fx.next_id(), "Receipt"), &personal_for("alice@example.org"));
    let (status, headers, body) = fx.get(&format!("/why/{}/receipt", ack.why_token.unwrap())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"entry-{}.sightline-receipt.json\"", ack.index).as_str());
    let receipt: Receipt = serde_json::from_str(&body).unwrap();
    let (entry, checkpoint) = receipt.verify(&[NoteVerifier::from_vkey(&fx.ledger.vkey()).unwrap()]).expect("the receipt verifies");
    assert_eq!(entry.index, ack.index);
    assert_eq!(checkpoint.size, fx.ledger.size());
}

#[tokio::test]
async fn an_objection_is_recorded_and_flags_later_messages_from_that_advertiser() {
    let fx = Fixture::new();
    let first = fx.submit(political_message(&fx.next_id(), "Before objecting"), &personal_for("alice@example.org"));
    let (status, headers, page) = fx.rights(&first.why_token.clone().unwrap(), "object", "address=Alice%40example.org").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.contains("Your objection was recorded"));
    assert!(page.contains("Every later message from Civic Future e.V. that Acme Ads GmbH reports to this log for this address"));
    let objection_index = first.index + 1;
    assert!(page.contains(&format!("entry {objection_index}")));
    let later = fx.submit(political_message(&fx.next_id(), "After objecting"), &personal_for("alice@example.org"));
    let (_, _, why) = fx.get(&format!("/why/{}", later.why_token.unwrap())).await;
    assert!(why.contains("You objected to this advertiser before this message was sent"));
    assert!(why.contains(&format!("your objection is entry {objection_index}")));
    // Another advertiser, and the earlier message, are not flagged.
    let other = fx.submit(shoe_email(&fx.next_id(), "Shoes"), &bare_personal("alice@example.org"));
    let (_, _, shoes) = fx.get(&format!("/why/{}", other.why_token.unwrap())).await;
    assert!(!shoes.contains("You objected"));
    let (_, _, before) = fx.get(&format!("/why/{}", first.why_token.unwrap())).await;
    assert!(!before.contains("You objected"));
}

#[tokio::test]
async fn erasure_is_confirmed_on_a_page_of_its_own_and_keeps_the_public_record_and_proof() {
    let fx = Fixture::new();
    let ack = fx.submit(political_message(&fx.next_id(), "To be erased"), &personal_for("alice@example.org"));
    let token = ack.why_token.unwrap();
    let size = fx.ledger.size();
    for form in ["address=alice%40example.org", "address=alice%40example.org&confirm=no", "address=alice%40example.org&confirm=YES"] {
        let (status, _, page) = fx.rights(&token, "erase", form).await;
        assert_eq!(status, StatusCode::OK, "{form}");
        assert!(page.contains("Erase your personal data? This cannot be undone"), "{form}: {page}");
        assert!(page.contains("for 1 message that Acme Ads GmbH reported"), "it says what will be erased: {page}");
        assert_eq!(hidden_value(&page, "confirm").as_deref(), Some("yes"));
        assert_eq!(hidden_value(&page, "address").as_deref(), Some("alice@example.org"));
        assert_eq!(hidden_value(&page, "csrf"), Some(fx.ledger.form_token(&token)));
    }
    assert_eq!(fx.ledger.size(), size, "nothing was appended");
    let (_, _, still) = fx.get(&format!("/why/{token}")).await;
    assert!(still.contains("neuroticism score 0.82 (high)"), "unconfirmed forms erase nothing");

    let (status, _, page) = fx.rights(&token, "erase", "address=alice%40example.org&confirm=yes").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your personal data was erased"));
    assert!(page.contains("public record of each message and its proof remain"));

    let (status, _, why) = fx.get(&format!("/why/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(why.contains("Your personal data was erased"));
    assert!(why.contains("erased on request (GDPR Art. 17)"));
    assert!(!why.contains("neuroticism score 0.82 (high)") && !why.contains("CPXxRfAPXxRfAAfKABENB"), "the personal values are gone");
    assert!(why.contains("Personality score: high neuroticism (OCEAN model)"), "the public part remains");
    assert!(why.contains("DataBroker Inc"));
    assert!(why.contains(&format!("recorded as entry {} of the log", ack.index)), "the proof remains");
    assert!(!why.contains("/erase\""), "no erase button once erased");
    assert!(why.contains(&format!(r#"formaction="/why/{token}/object""#)), "objecting still works");

    let (status, _, list) = fx.rights(&token, "messages", "address=alice%40example.org").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("erased on request") && list.contains("To be erased"));
    let (status, _, _) = fx.get(&format!("/why/{token}/receipt")).await;
    assert_eq!(status, StatusCode::OK, "the receipt still downloads");
    let (status, _, again) = fx.rights(&token, "erase", "address=alice%40example.org&confirm=yes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(again.contains("already erased"));
    let (status, _, obj) = fx.rights(&token, "object", "address=alice%40example.org").await;
    assert_eq!(status, StatusCode::OK, "an objection after the erasure: {obj}");
    assert!(obj.contains("Your objection was recorded"));
}

#[tokio::test]
async fn home_explains_and_links_the_public_resources() {
    let fx = Fixture::new();
    let (status, _, page) = fx.get("/").await;
    assert_eq!(status, StatusCode::OK);
    for s in [r#"href="/library""#, r#"href="/checkpoint""#, r#"href="/openapi.yaml""#, ORIGIN, &fx.ledger.vkey()] {
        assert!(page.contains(s), "home is missing {s}");
    }
    assert!(!page.to_lowercase().contains("<script"));
}

#[tokio::test]
async fn pages_take_their_style_from_one_cached_stylesheet() {
    let fx = Fixture::new();
    let token = fx.submit(political_message(&fx.next_id(), "Style"), &personal_for("alice@example.org")).why_token.unwrap();
    for path in [format!("/why/{token}"), format!("/why/{token}/messages"), "/".to_string(), "/library".to_string()] {
        let (status, _, body) = fx.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains(r#"<link rel="stylesheet" href="/static/sightline.css">"#), "{path} links the stylesheet");
        assert!(!body.contains("<style") && !body.contains("style="), "{path} has inline style, which the CSP refuses");
    }
    let (status, h, css) = fx.get("/static/sightline.css").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "text/css; charset=utf-8");
    assert!(h["cache-control"].to_str().unwrap().starts_with("public, max-age="));
    for class in [".criterion.exclude", ".fields", ".field", ".tight", "ul.flags"] {
        assert!(css.contains(class), "the stylesheet styles {class}");
    }
}
