//! Shared fixtures for the web crate's integration tests: a real ledger in a
//! temporary data folder, a registered submitter and parties, a message builder
//! (the SPEC.md §3.4 example, `tests/fixtures/message.json`), hand-made commitments and signatures,
//! and `oneshot` HTTP helpers over the real router.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sightline_ledger::canonical::{jcs, signed_message};
use sightline_ledger::privacy::{recipient_commitment, Personal};
use sightline_ledger::record::format_time;
use sightline_ledger::{Ack, Ledger, Submission};
use sightline_web::limits::Limits;
use sightline_web::router::router;
use sightline_web::setup::{open_ledger, random_token, Credentials, DataDir};
use sightline_web::state::AppState;
use tower::ServiceExt;

pub const ORIGIN: &str = "sightline.test/log";
pub const SUBMITTER: &str = "acme-ads";
/// A second submitter, with its own recipients.
pub const BETA: &str = "beta-mail";
/// The public URL the fixture's server answers at; its origin is what forms come from.
pub const PUBLIC_URL: &str = "https://sightline.test";

/// A ledger with a submitter and three parties, and the router over it.
pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub ledger: Arc<Ledger>,
    pub key: SigningKey,
    /// The key of [`BETA`].
    pub beta: SigningKey,
    pub app: Router,
    seq: std::sync::atomic::AtomicU64,
}

impl Fixture {
    /// A fresh ledger with nobody registered, and the router over it.
    pub fn bare() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = open_ledger(&DataDir::new(dir.path()), ORIGIN).expect("open ledger");
        let credentials = Credentials { admin: random_token(), compliance: random_token() };
        let state = AppState::new(Arc::clone(&ledger), PUBLIC_URL.into(), credentials, Limits::default()).expect("state");
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let beta = SigningKey::generate(&mut rand_core::OsRng);
        Fixture { _dir: dir, ledger, key, beta, app: router(state), seq: Default::default() }
    }

    /// A ledger with [`SUBMITTER`], [`BETA`] and the parties of the example message.
    pub fn new() -> Fixture {
        let f = Fixture::bare();
        let (ledger, key, beta) = (&f.ledger, &f.key, &f.beta);
        ledger
            .register_submitter(SUBMITTER, "Acme Ads GmbH", "transparency@acme-ads.example", &B64.encode(key.verifying_key().to_bytes()))
            .expect("register submitter");
        ledger
            .register_submitter(BETA, "Beta Mail SA", "dpo@beta.example", &B64.encode(beta.verifying_key().to_bytes()))
            .expect("register beta");
        ledger.register_party("p-top", "Top Trust Ltd", "trust@top.example", "KY", "self").expect("party");
        ledger.register_party("p-civic-holding", "Civic Holding AG", "info@civic-holding.example", "CH", "p-top").expect("party");
        ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic-future.example", "DE", "p-civic-holding").expect("party");
        ledger.register_party("p-shoes", "Shoe Shop SE", "hello@shoes.example", "FR", "not_disclosed").expect("party");
        f
    }

    /// Submits `body` (a message body without commitments) for `personal`; returns the ack.
    pub fn submit(&self, body: Value, personal: &Personal) -> Ack {
        self.submit_signed(&self.key, body, personal)
    }

    /// [`Fixture::submit`] as the second submitter, [`BETA`].
    pub fn submit_as_beta(&self, mut body: Value, personal: &Personal) -> Ack {
        body["signer"] = json!(BETA);
        self.submit_signed(&self.beta, body, personal)
    }

    fn submit_signed(&self, key: &SigningKey, mut body: Value, personal: &Personal) -> Ack {
        let salt = personal.salt_bytes().expect("salt");
        body["recipient"] = json!({ "commitment": recipient_commitment(&salt, &personal.recipient) });
        body["personal_commitment"] = Value::String(personal.commitment().expect("commitment"));
        let sig = key.sign(&signed_message(&jcs(&body).expect("jcs")));
        let body = serde_json::value::to_raw_value(&body).expect("body text");
        let sub = Submission {
            body,
            sig: B64.encode(sig.to_bytes()),
            personal: Some(serde_json::value::to_raw_value(personal).expect("personal")),
        };
        let mut ack = self.ledger.submit(vec![sub]).expect("submit");
        ack.acks.remove(0)
    }

    /// A fresh message id.
    pub fn next_id(&self) -> String {
        format!("test/{:06}", self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        self.request(Method::GET, path, None).await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> (StatusCode, HeaderMap, String) {
        self.request(Method::POST, path, Some(form.to_string())).await
    }

    pub async fn request(&self, method: Method, path: &str, form: Option<String>) -> (StatusCode, HeaderMap, String) {
        let headers: &[(&str, &str)] = if form.is_some() { &[("content-type", "application/x-www-form-urlencoded")] } else { &[] };
        self.request_with(method, path, headers, form).await
    }

    /// A recipient form as this server's page of `token` sends it: its form token, then
    /// `fields`, from this server's origin, posted to `/why/<token>/<action>`.
    pub async fn rights(&self, token: &str, action: &str, fields: &str) -> (StatusCode, HeaderMap, String) {
        let body = format!("csrf={}&{fields}", self.ledger.form_token(token));
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("origin", PUBLIC_URL)];
        self.request_with(Method::POST, &format!("/why/{token}/{action}"), &headers, Some(body)).await
    }

    /// A request with the given headers and body.
    pub async fn request_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(body.map(Body::from).unwrap_or_else(Body::empty)).expect("request");
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 * 1024 * 1024).await.expect("body");
        (status, headers, String::from_utf8(bytes.to_vec()).expect("utf-8 body"))
    }
}

/// A served time one hour ago (the ledger refuses times in the future).
pub fn an_hour_ago() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    // Whole seconds, as most submitters send them.
    format_time(t.replace_millisecond(0).expect("ms"))
}

/// The example message of SPEC.md §3.4 and its personal part: the one shared fixture file.
const FIXTURE_JSON: &str = include_str!("../../../tests/fixtures/message.json");

fn fixture(part: &str) -> Value {
    let all: Value = serde_json::from_str(FIXTURE_JSON).expect("tests/fixtures/message.json is JSON");
    all[part].clone()
}

/// The personal part of the example message (`tests/fixtures/message.json`) for `recipient`.
pub fn personal_for(recipient: &str) -> Personal {
    let p = fixture("personal");
    let evaluation = serde_json::from_value(p["evaluation"].clone()).expect("the fixture's evaluation");
    let consent = serde_json::from_value(p["consent"].clone()).expect("the fixture's consent evidence");
    Personal::new(recipient, evaluation, consent)
}

/// The SPEC.md §3.4 "dark post" (`tests/fixtures/message.json`) as [`SUBMITTER`]'s message
/// `message_id` with `subject`, served an hour ago; commitments are filled in by [`Fixture::submit`].
pub fn political_message(message_id: &str, subject: &str) -> Value {
    let mut m = fixture("body");
    m["signer"] = json!(SUBMITTER);
    m["message_id"] = json!(message_id);
    m["delivery"]["served_at"] = json!(an_hour_ago());
    m["delivery"]["creative"]["subject"] = json!(subject);
    m
}

/// A plain, non-political email from another advertiser, with no criteria.
pub fn shoe_email(message_id: &str, subject: &str) -> Value {
    json!({
        "kind": "message",
        "signer": SUBMITTER,
        "message_id": message_id,
        "delivery": {
            "channel": "email",
            "served_at": an_hour_ago(),
            "member_state": "FR",
            "creative": { "sha256": "ab".repeat(32), "brand": "Shoe Shop", "subject": subject, "language": "fr",
                "campaign_id": "winter-sale", "ad_id": "mail-1", "creative_id": "cr-1", "visibility": "audience_only",
                "content": { "text": "Winter sale: every boot at half price until Sunday.", "assets": [] } },
            "email_headers": { "list_unsubscribe": "<https://shoes.example/unsub?u=1>, <mailto:unsub@shoes.example>",
                "list_unsubscribe_post": "List-Unsubscribe=One-Click" },
            "address_lineage": ["s-customer"]
        },
        "sponsor": { "on_behalf_of": "p-shoes", "payer": "p-shoes", "political": null },
        "recipient": { "commitment": "0".repeat(64) },
        "personal_commitment": "0".repeat(64),
        "targeting": { "criteria": [], "audience": null, "delivery_optimisation": { "ai_system": false, "goal": "not_disclosed" } },
        "lineage": [
            { "id": "s-customer", "provider": "Shoe Shop SE", "contact": "hello@shoes.example", "kind": "provided_by_person",
              "model": null, "collection_method": "The address you gave when you ordered from the shop", "collected_at": "not_disclosed",
              "refresh": "once", "lookback_days": "not_disclosed", "legal_basis": "contract", "derived_from": [], "entry": null,
              "audience_size": null, "precision": null, "id_types": null, "onboarder": null }
        ],
        "controls": { "change_parameters_url": "not_disclosed", "object_url": "not_disclosed",
            "opt_out_url": "https://shoes.example/opt-out", "controller_contact": "not_disclosed" }
    })
}

/// A personal part with no matched values (for [`shoe_email`]).
pub fn bare_personal(recipient: &str) -> Personal {
    Personal::new(recipient, BTreeMap::new(), BTreeMap::new())
}

/// `application/x-www-form-urlencoded` text of one value.
pub fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => (b as char).to_string(),
            b' ' => "+".to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of the hidden input `name` of a page (the first one).
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!(r#"type="hidden" name="{name}" value=""#))?;
    let rest = &page[at..].split_once("value=\"")?.1;
    Some(rest.split('"').next()?.to_string())
}
