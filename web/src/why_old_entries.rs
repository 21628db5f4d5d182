//! Tests: how the recipient page and the CSV files show an entry logged before SPEC.md revision 3
//! made the schema strict. Such an entry may hold a bidirectional or zero-width character in its
//! free text, or leave out a nullable field; the page must show the character as a visible
//! marker and say what the record does not state, never read the silence as "no".

use askama::Template;
use sightline_ledger::record::Body;
use sightline_ledger::registry::Registry;

use super::WhyPage;
use crate::explain::{self, Logged, PersonalRef, ProofInput};

/// An old message: a right-to-left override (`<RLO>`) in its brand and a zero-width space
/// (`<ZWSP>`) in a criterion, no `sponsor.political` and no `model` on its one lineage label.
const OLD_ENTRY_BODY: &str = r#"{"controls":{"change_parameters_url":"not_disclosed","controller_contact":"not_disclosed","object_url":"not_disclosed","opt_out_url":"not_disclosed"},"delivery":{"channel":"social","creative":{"ad_id":"ad-1","brand":"Civic<RLO>erutuF","campaign_id":"old-2026","creative_id":"cr-1","language":"de","sha256":"9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c9f2c","subject":"An old message"},"email_headers":null,"member_state":"DE","served_at":"2026-11-20T18:04:05Z"},"kind":"message","lineage":[{"collected_at":"not_disclosed","collection_method":"Page follows","contact":"dpo@social.example","derived_from":[],"id":"s-1","kind":"observed","legal_basis":"contract","lookback_days":30,"provider":"Acme Social","refresh":"daily"}],"message_id":"old/1","personal_commitment":"1111111111111111111111111111111111111111111111111111111111111111","recipient":{"commitment":"0000000000000000000000000000000000000000000000000000000000000000"},"signer":"acme-ads","sponsor":{"on_behalf_of":"p-civic","payer":"p-civic"},"targeting":{"criteria":[{"ai_selected":false,"description":"Follows<ZWSP>the page","effect":"include","id":"c1","lineage":["s-1"],"minor":false,"special_category":null,"type":"observed"}],"delivery_optimisation":{"ai_system":false,"goal":"not_disclosed"}}}"#;

#[test]
fn an_old_entry_is_shown_with_markers_and_what_it_does_not_state() {
    // The characters are written as escapes here, never raw in the source.
    let text = OLD_ENTRY_BODY.replace("<RLO>", "\u{202E}").replace("<ZWSP>", "\u{200B}");
    let (body, omitted) = Body::parse_logged_noting(&text).expect("an old entry still reads");
    // Revision 2's nullable fields it leaves out, and what revision 3 added where `null` would
    // say something (a social ad needs no address lineage, so that one is not listed).
    assert_eq!(
        omitted,
        [
            "delivery.creative.visibility",
            "delivery.creative.content",
            "sponsor.political",
            "targeting.audience",
            "lineage[0].model",
            "lineage[0].audience_size",
            "lineage[0].precision",
            "lineage[0].id_types",
            "lineage[0].onboarder"
        ]
    );
    let Body::Message(m) = body else { panic!("a message") };
    assert!(m.sponsor.political.is_none());
    let why_token = |i: u64| format!("TOKEN{i}");
    let proof = ProofInput { size: 9, vkey: "sightline.localhost/log+01020304+AQ==", token: "TOKEN", why_token: &why_token };
    let logged = Logged { logged_at: "2026-11-20T18:04:06.000Z", flags: &[], omitted: &omitted };
    let v = explain::explain(3, logged, &m, &Registry::default(), PersonalRef::Absent, &proof);
    let html = WhyPage {
        origin: "sightline.localhost/log".into(),
        token: "TOKEN".into(),
        csrf: "CSRF".into(),
        v,
        witnesses: None,
        reference: "REF".into(),
        reference_where: "where",
    }
    .render()
    .expect("renders");
    assert!(html.contains("Civic[U+202E]erutuF") && html.contains("Follows[U+200B]the page"), "no markers");
    assert!(!html.contains('\u{202E}') && !html.contains('\u{200B}'), "a raw formatting character reached the page");
    assert!(html.contains("What this record does not state"));
    assert!(html.contains("The record does not state whether this is a political advertisement"), "the omission reads as an answer");
    assert!(html.contains("which model inferred this data (field lineage[0].model"));
    assert!(html.contains("how the criteria combine, or which of them applied to you"));
    assert_eq!(html.matches("audience size, precision, ID types and onboarder").count(), 1, "the four data-label fields are one line");
    assert!(html.contains("The record does not state how these criteria combine"));
    assert!(!html.contains("part of why you were selected"), "an old entry claims no match");
    assert!(!html.contains("Political advertisement"));
}

#[test]
fn csv_cells_show_formatting_characters_as_markers() {
    assert_eq!(crate::library::csv_cell("Civic\u{202E}erutuF"), "Civic[U+202E]erutuF");
    assert_eq!(crate::library::csv_cell("=\u{2066}1+1"), "'=[U+2066]1+1");
    assert_eq!(crate::library::csv_cell("plain, text"), "\"plain, text\"");
}
