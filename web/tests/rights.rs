//! What a why link alone cannot do (SPEC.md §12 "Recipients", §14.3), through the
//! real router: every form needs the address the message was sent to, its link's
//! form token, this server's origin and a form body; an erasure asks first and then
//! records truthfully who asked; objections are recorded once; and the message list
//! holds only the messages of the submitter that reported the link's message.

mod common;

use axum::http::{Method, StatusCode};
use common::{bare_personal, form_encoded, personal_for, political_message, shoe_email, Fixture, PUBLIC_URL};
use sightline_ledger::entry::Entry;
use sightline_ledger::PersonalState;

const ALICE: &str = "address=alice%40example.org";

fn present(fx: &Fixture, index: u64) -> bool {
    matches!(fx.ledger.personal(index).unwrap(), Some(PersonalState::Present(_)))
}

/// A message to alice from acme, and its token.
fn alice(fx: &Fixture) -> (u64, String) {
    let ack = fx.submit(political_message(&fx.next_id(), "For Alice"), &personal_for("alice@example.org"));
    (ack.index, ack.why_token.unwrap())
}

#[tokio::test]
async fn a_wrong_or_missing_address_is_refused_and_writes_nothing() {
    let fx = Fixture::new();
    let (index, token) = alice(&fx);
    let size = fx.ledger.size();
    for action in ["messages", "object", "erase"] {
        for fields in ["address=bob%40example.org&confirm=yes", "confirm=yes", "address=&confirm=yes", "address=+++&confirm=yes"] {
            let fields = if action == "erase" { fields.to_string() } else { fields.replace("&confirm=yes", "").replace("confirm=yes", "") };
            let (status, headers, page) = fx.rights(&token, action, &fields).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{action} {fields}: {page}");
            assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "a page, not an error document");
            assert!(page.contains("Nothing was shown, recorded or erased"), "{action} {fields}: {page}");
            assert!(!page.contains("For Alice") && !page.contains("Why did I get this?"), "nothing of the recipient is shown");
        }
    }
    let (_, _, page) = fx.rights(&token, "object", "address=bob%40example.org").await;
    assert!(page.contains("That address does not match this message"));
    assert_eq!(fx.ledger.size(), size, "the tree did not grow");
    assert!(present(&fx, index), "nothing was erased");
}

#[tokio::test]
async fn a_form_without_its_links_form_token_is_refused() {
    let fx = Fixture::new();
    let (index, token) = alice(&fx);
    let (_, other) = alice(&fx);
    let size = fx.ledger.size();
    let bad =
        ["".to_string(), "csrf=".to_string(), format!("csrf={}", fx.ledger.form_token(&other)), "csrf=AAAAAAAAAAAAAAAAAAAAAA".to_string()];
    for action in ["messages", "object", "erase"] {
        for csrf in &bad {
            let form = format!("{csrf}&{ALICE}&confirm=yes").trim_start_matches('&').to_string();
            let form = if action == "erase" { form } else { form.replace("&confirm=yes", "") };
            let headers = [("content-type", "application/x-www-form-urlencoded")];
            let (status, _, page) = fx.request_with(Method::POST, &format!("/why/{token}/{action}"), &headers, Some(form.clone())).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{action} {form}");
            assert!(page.contains("This form was not sent from this message"), "{page}");
        }
    }
    assert_eq!(fx.ledger.size(), size);
    assert!(present(&fx, index));
}

#[tokio::test]
async fn a_form_from_another_origin_is_refused_and_one_without_origin_is_not() {
    let fx = Fixture::new();
    let (index, token) = alice(&fx);
    let size = fx.ledger.size();
    let body = format!("csrf={}&{ALICE}&confirm=yes", fx.ledger.form_token(&token));
    for origin in
        ["https://evil.example", "null", "http://sightline.test", "https://sightline.test:8443", "https://sightline.test.evil.example"]
    {
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("origin", origin)];
        let (status, _, page) = fx.request_with(Method::POST, &format!("/why/{token}/erase"), &headers, Some(body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Origin {origin}");
        assert!(page.contains("This form was not sent from this message"));
    }
    assert_eq!(fx.ledger.size(), size);
    assert!(present(&fx, index));
    // A browser that sends no Origin (older ones, on a same-origin POST): the form token covers it.
    for (origin, name) in [(None, "no Origin"), (Some(PUBLIC_URL), "this server's origin"), (Some("HTTPS://SIGHTLINE.TEST"), "upper case")]
    {
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        headers.extend(origin.map(|o| ("origin", o)));
        let (status, _, page) =
            fx.request_with(Method::POST, &format!("/why/{token}/messages"), &headers, Some(body.replace("&confirm=yes", ""))).await;
        assert_eq!(status, StatusCode::OK, "{name}: {page}");
        assert!(page.contains("For Alice"));
    }
}

#[tokio::test]
async fn only_a_form_body_is_accepted() {
    let fx = Fixture::new();
    let (index, token) = alice(&fx);
    let size = fx.ledger.size();
    let body = format!("csrf={}&{ALICE}&confirm=yes", fx.ledger.form_token(&token));
    for media in [Some("text/plain"), Some("multipart/form-data; boundary=x"), Some("application/json"), None] {
        let mut headers = vec![("origin", PUBLIC_URL)];
        headers.extend(media.map(|m| ("content-type", m)));
        for action in ["messages", "object", "erase"] {
            let (status, _, page) = fx.request_with(Method::POST, &format!("/why/{token}/{action}"), &headers, Some(body.clone())).await;
            assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{action} {media:?}");
            assert!(page.contains("Nothing was shown, recorded or erased"));
        }
    }
    let headers = [("content-type", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"), ("origin", PUBLIC_URL)];
    let (status, _, _) =
        fx.request_with(Method::POST, &format!("/why/{token}/object"), &headers, Some(body.replace("&confirm=yes", ""))).await;
    assert_eq!(status, StatusCode::OK, "the media type is compared without case and parameters");
    assert_eq!(fx.ledger.size(), size + 1, "only that objection was recorded");
    assert!(present(&fx, index));
    // A body far larger than any form, and fields the forms do not have.
    let (status, _, _) = fx.rights(&token, "object", &format!("{ALICE}&x={}", "a".repeat(20_000))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    for fields in [format!("{ALICE}&confirm=yes"), format!("{ALICE}&{ALICE}"), format!("{ALICE}&page=2")] {
        let (status, _, page) = fx.rights(&token, "object", &fields).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields}");
        assert!(page.contains("Nothing was shown"), "{page}");
    }
}

#[tokio::test]
async fn erasure_asks_first_then_erases_and_says_a_link_holder_asked() {
    let fx = Fixture::new();
    let (index, token) = alice(&fx);
    let second = fx.submit(shoe_email(&fx.next_id(), "Shoes for Alice"), &bare_personal(" ALICE@example.org")).index;
    let size = fx.ledger.size();
    let (status, _, confirm) = fx.rights(&token, "erase", ALICE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("This cannot be undone") && confirm.contains("for 2 messages"), "{confirm}");
    assert!(confirm.contains(&format!(r#"<form class="action" method="post" action="/why/{token}/erase">"#)));
    assert_eq!(fx.ledger.size(), size, "the confirmation page erases nothing");
    assert!(present(&fx, index) && present(&fx, second));

    let (status, _, done) = fx.rights(&token, "erase", &format!("{ALICE}&confirm=yes")).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done.contains("Your personal data was erased") && done.contains(&format!("entry {size}")));
    assert!(done.contains("from someone who gave the address it was sent to"), "the page says what the entry says");
    assert!(!present(&fx, index) && !present(&fx, second));
    let erasure = Entry::parse(&fx.ledger.entry(size).unwrap().unwrap()).unwrap();
    assert_eq!(erasure.body["kind"], "erasure");
    assert_eq!(erasure.body["by"], "link_holder", "not `recipient`: the log cannot know it was the recipient");
    assert_eq!(erasure.body["records"], 2);
}

#[tokio::test]
async fn four_hundred_identical_objections_append_one_entry() {
    let fx = Fixture::new();
    let (_, token) = alice(&fx);
    let size = fx.ledger.size();
    let (status, _, first) = fx.rights(&token, "object", ALICE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("Your objection was recorded") && first.contains(&format!("entry {size}")));
    for i in 1..400 {
        let address = if i % 2 == 0 { ALICE.to_string() } else { format!("address={}", form_encoded(" Alice@Example.ORG ")) };
        let (status, _, page) = fx.rights(&token, "object", &address).await;
        assert_eq!(status, StatusCode::OK, "objection {i}");
        assert!(page.contains(&format!("already recorded as entry {size}")), "objection {i}: {page}");
    }
    assert_eq!(fx.ledger.size(), size + 1, "one objection entry");
}

#[tokio::test]
async fn the_message_list_needs_the_address_and_holds_one_submitters_messages() {
    let fx = Fixture::new();
    let (_, acme_token) = alice(&fx);
    let acme_shoes = fx.submit(shoe_email(&fx.next_id(), "Acme shoes for Alice"), &bare_personal("alice@example.org"));
    // The issue's attack: another submitter logs a message "to" acme's recipient.
    let beta = fx.submit_as_beta(shoe_email(&fx.next_id(), "Bait from Beta"), &bare_personal("  ALICE@Example.org "));
    let beta_token = beta.why_token.unwrap();
    let (status, _, ask) = fx.get(&format!("/why/{beta_token}/messages")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!ask.contains("For Alice") && !ask.contains("Bait from Beta"), "no list without the address");
    let (status, _, list) = fx.rights(&beta_token, "messages", ALICE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Bait from Beta") && list.contains("1 in total") && list.contains("Beta Mail SA"), "{list}");
    assert!(!list.contains("For Alice") && !list.contains("Acme shoes"), "acme's messages are not beta's to list");
    assert!(!list.contains(&acme_token) && !list.contains(acme_shoes.why_token.as_deref().unwrap()), "nor their links");
    let (_, _, own) = fx.rights(&acme_token, "messages", ALICE).await;
    assert!(own.contains("For Alice") && own.contains("Acme shoes") && !own.contains("Bait from Beta") && own.contains("2 in total"));
    // Erasing and objecting through beta's link stay in beta's scope too.
    let (status, _, _) = fx.rights(&beta_token, "erase", &format!("{ALICE}&confirm=yes")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(present(&fx, acme_shoes.index), "acme's recipient keeps her data");
    let (_, _, acme_page) = fx.get(&format!("/why/{acme_token}")).await;
    assert!(acme_page.contains("neuroticism score 0.82 (high)"));
}

#[tokio::test]
async fn an_objection_after_an_erasure_is_recorded_through_the_erased_link() {
    let fx = Fixture::new();
    let (_, token) = alice(&fx);
    let (status, _, _) = fx.rights(&token, "erase", &format!("{ALICE}&confirm=yes")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, wrong) = fx.rights(&token, "object", "address=bob%40example.org").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the erased message still checks the address: {wrong}");
    let size = fx.ledger.size();
    let (status, _, page) = fx.rights(&token, "object", ALICE).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("recorded in the public log as entry {size}")));
    let later = fx.submit(political_message(&fx.next_id(), "After all that"), &personal_for("alice@example.org"));
    let (_, _, why) = fx.get(&format!("/why/{}", later.why_token.unwrap())).await;
    assert!(why.contains(&format!("your objection is entry {size}")), "later messages are still flagged");
}
