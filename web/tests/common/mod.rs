//! Shared fixtures for the web crate's integration tests: a real ledger in a
//! temporary data folder, a registered submitter and parties, a message builder
//! (the SPEC.md §3.4 example, extended), hand-made commitments and signatures,
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
use sightline_ledger::privacy::{recipient_commitment, ConsentEvidence, Personal};
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
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let ledger = open_ledger(&DataDir::new(dir.path()), ORIGIN).expect("open ledger");
        let key = SigningKey::generate(&mut rand_core::OsRng);
        ledger
            .register_submitter(SUBMITTER, "Acme Ads GmbH", "transparency@acme-ads.example", &B64.encode(key.verifying_key().to_bytes()))
            .expect("register submitter");
        let beta = SigningKey::generate(&mut rand_core::OsRng);
        ledger
            .register_submitter(BETA, "Beta Mail SA", "dpo@beta.example", &B64.encode(beta.verifying_key().to_bytes()))
            .expect("register beta");
        ledger.register_party("p-top", "Top Trust Ltd", "trust@top.example", "KY", "self").expect("party");
        ledger.register_party("p-civic-holding", "Civic Holding AG", "info@civic-holding.example", "CH", "p-top").expect("party");
        ledger.register_party("p-civic-future", "Civic Future e.V.", "info@civic-future.example", "DE", "p-civic-holding").expect("party");
        ledger.register_party("p-shoes", "Shoe Shop SE", "hello@shoes.example", "FR", "not_disclosed").expect("party");
        let credentials = Credentials { admin: random_token(), compliance: random_token() };
        let state = AppState::new(Arc::clone(&ledger), PUBLIC_URL.into(), credentials, Limits::default()).expect("state");
        Fixture { _dir: dir, ledger, key, beta, app: router(state), seq: Default::default() }
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

/// The personal part of the example message.
pub fn personal_for(recipient: &str) -> Personal {
    let matched = BTreeMap::from([
        ("c1".to_string(), "neuroticism score 0.82 (high)".to_string()),
        ("c2".to_string(), "does not follow the party page".to_string()),
        ("c3".to_string(), "household income band E (lowest)".to_string()),
    ]);
    let consent = BTreeMap::from([(
        "s-broker".to_string(),
        ConsentEvidence { format: "tcf".into(), value: "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA".into() },
    )]);
    Personal::new(recipient, matched, consent)
}

/// The SPEC.md §3.4 "dark post", extended with a data broker feeding the model
/// and a third criterion; commitments are filled in by [`Fixture::submit`].
pub fn political_message(message_id: &str, subject: &str) -> Value {
    json!({
        "kind": "message",
        "signer": SUBMITTER,
        "message_id": message_id,
        "delivery": {
            "channel": "social",
            "served_at": an_hour_ago(),
            "member_state": "DE",
            "creative": {
                "sha256": "9f2c".repeat(16),
                "brand": "Civic Future",
                "subject": subject,
                "language": "de",
                "campaign_id": "ocean-2026",
                "ad_id": "ad-17",
                "creative_id": "cr-fear-3"
            },
            "email_headers": null
        },
        "sponsor": {
            "on_behalf_of": "p-civic-future",
            "payer": "p-civic-holding",
            "political": {
                "kind": "election",
                "linked_to": "Bundestag election 2029",
                "date": "2029-09-23",
                "amount": { "value": "48000.00", "currency": "EUR" },
                "funding_origin": "private donations from within the EU",
                "notice_url": "https://civic-future.example/transparency/ocean-2026"
            }
        },
        "recipient": { "commitment": "0".repeat(64) },
        "personal_commitment": "0".repeat(64),
        "targeting": {
            "criteria": [
                { "id": "c1", "effect": "include", "type": "modelled",
                  "description": "Personality score: high neuroticism (OCEAN model)",
                  "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-quiz-model"] },
                { "id": "c2", "effect": "exclude", "type": "declared",
                  "description": "People who follow the party's own page",
                  "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-page-follows"] },
                { "id": "c3", "effect": "include", "type": "uploaded_list",
                  "description": "Low-income households list",
                  "special_category": "not_disclosed", "minor": true, "ai_selected": false, "lineage": ["s-broker"] }
            ],
            "delivery_optimisation": { "ai_system": true, "goal": "engagement" }
        },
        "lineage": [
            { "id": "s-quiz-app", "provider": "ThisIsYourDigitalLife quiz", "contact": "dpo@quiz.example",
              "kind": "via_other_person_permission", "model": null,
              "collection_method": "A friend installed a personality quiz app that read their friends' page likes",
              "collected_at": "2026-03-01", "refresh": "once", "lookback_days": "not_disclosed",
              "legal_basis": "not_disclosed", "derived_from": [] },
            { "id": "s-broker", "provider": "DataBroker Inc", "contact": "privacy@databroker.example",
              "kind": "bought_from_broker", "model": null,
              "collection_method": "Purchased household segments",
              "collected_at": "2026-10-01", "refresh": "monthly", "lookback_days": 90,
              "legal_basis": "consent", "derived_from": [] },
            { "id": "s-quiz-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme-ads.example",
              "kind": "inferred", "model": { "name": "ocean-v2", "version": "2.3.1" },
              "collection_method": "Model inferring OCEAN traits from page likes",
              "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365,
              "legal_basis": "legitimate_interests", "derived_from": ["s-quiz-app", "s-broker"] },
            { "id": "s-page-follows", "provider": "Acme Social", "contact": "dpo@social.example",
              "kind": "observed", "model": null, "collection_method": "Page follows on the platform",
              "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 30,
              "legal_basis": "contract", "derived_from": [] }
        ],
        "controls": {
            "change_parameters_url": "https://social.example/settings/ads",
            "object_url": "https://social.example/settings/ads/object",
            "opt_out_url": "not_disclosed",
            "controller_contact": "mailto:dpo@acme-ads.example"
        }
    })
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
                "campaign_id": "winter-sale", "ad_id": "mail-1", "creative_id": "cr-1" },
            "email_headers": { "list_unsubscribe": "<https://shoes.example/unsub?u=1>, <mailto:unsub@shoes.example>",
                "list_unsubscribe_post": "List-Unsubscribe=One-Click" }
        },
        "sponsor": { "on_behalf_of": "p-shoes", "payer": "p-shoes", "political": null },
        "recipient": { "commitment": "0".repeat(64) },
        "personal_commitment": "0".repeat(64),
        "targeting": { "criteria": [], "delivery_optimisation": { "ai_system": false, "goal": "not_disclosed" } },
        "lineage": [],
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
