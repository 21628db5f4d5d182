//! Completeness (SPEC.md §3.8, §10.2) as the server shows it: the ingestion answer gives each
//! message the exact reference to carry, the why page repeats it, and the library puts a
//! campaign's signed tallies beside what the log holds.

mod common;

use axum::http::StatusCode;
use common::{an_hour_ago, bare_personal, personal_for, political_message, shoe_email, Fixture};
use serde_json::{json, Value};
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::submitter::sign_tally;

/// The HTML-escaped form of `s`, as askama writes it.
fn escaped(s: &str) -> String {
    s.replace('&', "&#38;").replace('"', "&#34;").replace('<', "&#60;").replace('>', "&#62;").replace('\'', "&#39;")
}

#[tokio::test]
async fn the_why_page_shows_the_exact_reference_the_message_carries() {
    let fx = Fixture::new();
    for (body, personal, carrier_start) in [
        (political_message(&fx.next_id(), "Social"), personal_for("alice@example.org"), "data-sightline-entry=\""),
        (shoe_email(&fx.next_id(), "Mail"), bare_personal("alice@example.org"), "Sightline-Entry: "),
    ] {
        let ack = fx.submit(body, &personal);
        let bytes = fx.ledger.entry(ack.index).unwrap().unwrap();
        let reference = ack.reference.as_ref().expect("a message has a reference");
        assert_eq!(reference.entry.leaf, leaf_hash(&bytes), "the reference names the entry's leaf hash");
        let carrier = reference.carrier(None);
        assert!(carrier.starts_with(carrier_start), "{carrier}");
        assert!(carrier.contains(&format!("{} {} {}", common::ORIGIN, ack.index, hex::encode(leaf_hash(&bytes)))), "{carrier}");
        let (status, _, page) = fx.get(&format!("/why/{}", ack.why_token.unwrap())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&escaped(&carrier)), "the why page shows {carrier}");
    }
}

fn tally(day: &str, delivered: Value) -> Value {
    json!({ "kind": "tally", "signer": common::SUBMITTER, "campaign_id": "ocean-2026", "day": day,
            "delivered": delivered, "reported_at": an_hour_ago() })
}

#[tokio::test]
async fn the_library_puts_each_campaigns_tally_beside_the_logged_count() {
    let fx = Fixture::new();
    for _ in 0..12 {
        fx.submit(political_message(&fx.next_id(), "Counted"), &personal_for("bob@example.org"));
    }
    let day = &an_hour_ago()[..10];
    // The platform claims 15 messages in DE (the log holds 12) and 10 in AT (it holds none).
    let ack = fx.ledger.submit(vec![sign_tally(&fx.key, &tally(day, json!({ "DE": 15, "AT": 10 }))).unwrap()]).unwrap();
    assert!(ack.acks[0].reference.is_none());

    let (status, _, text) = fx.get("/api/v1/library?advertiser=civic").await;
    assert_eq!(status, StatusCode::OK);
    let v: Value = serde_json::from_str(&text).unwrap();
    let c = &v["campaigns"][0];
    assert_eq!(c["campaign_id"], "ocean-2026");
    assert_eq!(c["reach"], 12);
    let t = &c["tally"];
    assert_eq!((&t["days"], &t["delivered"], &t["logged"]), (&json!(1), &json!(25), &json!(12)), "{t}");
    assert_eq!(
        t["differences"],
        json!([
            { "day": day, "member_state": "AT", "delivered": 10, "logged": 0 },
            { "day": day, "member_state": "DE", "delivered": 15, "logged": 12 }
        ])
    );

    let (_, _, csv) = fx.get("/api/v1/library?advertiser=civic&format=csv").await;
    let header = csv.lines().next().unwrap();
    assert!(header.ends_with(",tally_days,tally_delivered,tally_logged,tally_differences"), "{header}");
    assert!(csv.contains(&format!("1,25,12,\"{day} AT: tally 10, logged 0\n{day} DE: tally 15, logged 12\"")), "{csv}");

    let (_, _, html) = fx.get("/library?advertiser=civic").await;
    assert!(html.contains("the log holds 12 messages of this campaign for those days"), "{html}");
    assert!(html.contains("<td>AT</td><td>10</td><td>0</td>"), "{html}");
}

#[tokio::test]
async fn a_campaign_without_a_tally_shows_none() {
    let fx = Fixture::new();
    fx.submit(shoe_email(&fx.next_id(), "Sale"), &bare_personal("carol@example.org"));
    let (_, _, text) = fx.get("/api/v1/library").await;
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["campaigns"][0]["tally"], Value::Null);
}
