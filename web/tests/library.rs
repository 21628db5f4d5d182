//! The public ad library: index, search, suppression, CSV, HTML escaping, and
//! the OpenAPI document against the router.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use sightline_ledger::entry::Entry;
use sightline_web::library::{
    api_response, csv_cell, csv_columns, parse_query_string, render_page, to_csv, Count, LibraryIndex, LibraryQuery, Surface,
};

const HEX: &str = "9f2c000000000000000000000000000000000000000000000000000000000001";

/// The logged (canonical JSON) bytes of an entry, as the ledger hands them to the index.
fn entry(index: u64, body: Value, flags: &[&str]) -> Vec<u8> {
    let e = Entry {
        v: 1,
        index,
        prev: "0".repeat(64),
        logged_at: "2026-11-24T10:00:00.000Z".into(),
        flags: flags.iter().map(|f| f.to_string()).collect(),
        body,
        sig: "AAAA".into(),
    };
    serde_jcs::to_vec(&e).expect("canonical JSON")
}

fn party(id: &str, name: &str) -> Value {
    json!({ "kind": "party", "signer": "log", "party": id, "name": name, "contact": "info@example.org",
            "established_in": "DE", "ultimately_controlled_by": "self" })
}

fn submitter() -> Value {
    json!({ "kind": "submitter", "signer": "log", "submitter": "acme-ads", "name": "Acme Ads GmbH",
            "contact": "transparency@acme-ads.example", "public_key": "AAAA", "registered_at": "2026-11-24T09:00:01Z" })
}

/// The dark-post message of SPEC.md §3.4, with a few knobs.
struct Msg<'a> {
    id: String,
    campaign: &'a str,
    brand: &'a str,
    subject: &'a str,
    served_at: &'a str,
    member_state: &'a str,
    sponsor: &'a str,
    payer: &'a str,
    political: bool,
    criteria: Value,
}

impl Msg<'_> {
    fn body(&self) -> Value {
        let political = if self.political {
            json!({ "kind": "election", "linked_to": "Bundestag election 2029", "date": "2029-09-23",
                    "amount": { "value": "48000.00", "currency": "EUR" },
                    "funding_origin": "private donations from within the EU",
                    "notice_url": "https://civic-future.example/transparency/ocean-2026" })
        } else {
            Value::Null
        };
        json!({
            "kind": "message",
            "signer": "acme-ads",
            "message_id": self.id,
            "delivery": {
                "channel": "social",
                "served_at": self.served_at,
                "member_state": self.member_state,
                "creative": { "sha256": HEX, "brand": self.brand, "subject": self.subject, "language": "de",
                              "campaign_id": self.campaign, "ad_id": "ad-17", "creative_id": "cr-fear-3",
                              "visibility": "audience_only",
                              "content": { "text": format!("{}: {}", self.brand, self.subject),
                                           "assets": [{ "sha256": HEX, "url": "https://cdn.social.example/cr-fear-3.jpg" }] } },
                "email_headers": null,
                "address_lineage": null
            },
            "sponsor": { "on_behalf_of": self.sponsor, "payer": self.payer, "political": political },
            "recipient": { "commitment": HEX },
            "personal_commitment": HEX,
            "targeting": { "criteria": self.criteria, "delivery_optimisation": { "ai_system": true, "goal": "engagement" } },
            "lineage": [
                { "id": "s-quiz-model", "provider": "Acme Ads GmbH", "contact": "dpo@acme-ads.example",
                  "kind": "inferred", "model": { "name": "ocean-v2", "version": "2.3.1" },
                  "collection_method": "Model inferring OCEAN traits from page likes",
                  "collected_at": "2026-11-01", "refresh": "weekly", "lookback_days": 365,
                  "legal_basis": "legitimate_interests", "derived_from": [], "entry": null,
                  "audience_size": 38000, "precision": "individual", "id_types": ["platform_id"],
                  "onboarder": { "name": "MatchCo Onboarding", "match_method": "hashed e-mail addresses" } },
                { "id": "s-page-follows", "provider": "Acme Social", "contact": "dpo@social.example",
                  "kind": "observed", "model": null, "collection_method": "Page follows on the platform",
                  "collected_at": "not_disclosed", "refresh": "daily", "lookback_days": 30,
                  "legal_basis": "contract", "derived_from": [], "entry": null,
                  "audience_size": null, "precision": null, "id_types": null, "onboarder": null }
            ],
            "controls": { "change_parameters_url": "https://social.example/settings/ads",
                          "object_url": "https://social.example/settings/ads/object",
                          "opt_out_url": "not_disclosed", "controller_contact": "dpo@acme-ads.example" }
        })
    }
}

fn dark_post_criteria() -> Value {
    json!([
        { "id": "c1", "effect": "include", "type": "modelled",
          "description": "Personality score: high neuroticism (OCEAN model)",
          "special_category": null, "minor": false, "ai_selected": true, "lineage": ["s-quiz-model"] },
        { "id": "c2", "effect": "exclude", "type": "declared",
          "description": "People who follow the party's own page",
          "special_category": "political_opinion", "minor": false, "ai_selected": false, "lineage": ["s-page-follows"] }
    ])
}

/// A log: registrations, then
/// * `ocean-2026` (political, Civic Future, paid by Civic Holding): 25 messages in DE,
///   3 in AT (one flagged objected), the exclusion only on the first 12;
/// * `shoes-q4` (commercial, Shoe Co): 12 messages in FR, untargeted;
/// * `evil` (commercial): 1 message with hostile brand text.
fn library() -> LibraryIndex {
    let mut lib = LibraryIndex::default();
    for (i, bytes) in (0..).zip(log_entries()) {
        lib.add(i, &bytes);
    }
    lib
}

/// The logged bytes of the entries of [`library`], in log order.
fn log_entries() -> Vec<Vec<u8>> {
    let mut log = Vec::new();
    let add = |log: &mut Vec<Vec<u8>>, body: Value, flags: &[&str]| {
        log.push(entry(log.len() as u64, body, flags));
    };
    add(&mut log, submitter(), &[]);
    add(&mut log, party("p-civic-future", "Civic Future e.V."), &[]);
    add(&mut log, party("p-civic-holding", "Civic Holding AG"), &[]);
    add(&mut log, party("p-shoe", "Shoe Co SARL"), &[]);
    let only_include = json!([dark_post_criteria()[0].clone()]);
    for n in 0..28 {
        let m = Msg {
            id: format!("ocean-2026/{n:06}"),
            campaign: "ocean-2026",
            brand: "Civic Future",
            subject: "They don't want you to know what's coming",
            served_at: if n < 5 { "2026-11-20T18:04:05Z" } else { "2026-11-22T08:00:00Z" },
            member_state: if n < 25 { "DE" } else { "AT" },
            sponsor: "p-civic-future",
            payer: "p-civic-holding",
            political: true,
            criteria: if n < 12 { dark_post_criteria() } else { only_include.clone() },
        };
        add(&mut log, m.body(), if n == 27 { &["objected:3"] } else { &[] });
    }
    for n in 0..12 {
        let m = Msg {
            id: format!("shoes/{n}"),
            campaign: "shoes-q4",
            brand: "Shoe Co",
            subject: "Winter boots -30%",
            served_at: "2026-10-01T12:00:00Z",
            member_state: "FR",
            sponsor: "p-shoe",
            payer: "p-shoe",
            political: false,
            criteria: json!([]),
        };
        add(&mut log, m.body(), &[]);
    }
    let evil = Msg {
        id: "evil/1".into(),
        campaign: "evil",
        brand: "<script>alert('x')</script>",
        subject: "=HYPERLINK(\"http://evil.example\",\"click\")",
        served_at: "2026-11-01T00:00:00Z",
        member_state: "NL",
        sponsor: "p-shoe",
        payer: "p-shoe",
        political: false,
        criteria: json!([{ "id": "c1", "effect": "include", "type": "contextual", "description": "-2+3, \"quoted\"",
                           "special_category": null, "minor": false, "ai_selected": false, "lineage": ["s-page-follows"] }]),
    };
    add(&mut log, evil.body(), &[]);
    log
}

#[test]
fn the_start_up_scan_builds_the_same_index_as_adding_one_entry_at_a_time() {
    let one_by_one = library();
    let log = log_entries();
    let mut scanned = LibraryIndex::default();
    for (k, chunk) in log.chunks(7).enumerate() {
        scanned.add_all(7 * k as u64, chunk);
    }
    scanned.add_all(0, &log[..10]); // a re-scan never counts twice
    assert_eq!((scanned.campaigns(), scanned.messages()), (one_by_one.campaigns(), one_by_one.messages()));
    for pairs in [&[][..], &[("political", "true")], &[("q", "boots")], &[("member_state", "AT")]] {
        assert_eq!(search_json(&scanned, pairs), search_json(&one_by_one, pairs), "{pairs:?}");
    }
}

fn query(pairs: &[(&str, &str)], surface: Surface) -> LibraryQuery {
    LibraryQuery::parse(pairs, surface).unwrap()
}

fn search_json(lib: &LibraryIndex, pairs: &[(&str, &str)]) -> Value {
    serde_json::to_value(lib.search(&query(pairs, Surface::Api))).unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v["campaigns"].as_array().unwrap().iter().map(|c| c["campaign_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn one_row_per_campaign_and_only_messages_are_rows() {
    let lib = library();
    assert_eq!(lib.campaigns(), 3);
    assert_eq!(lib.messages(), 41);
    let all = search_json(&lib, &[]);
    assert_eq!(all["total"], 3);
    // newest last day first
    assert_eq!(ids(&all), ["ocean-2026", "evil", "shoes-q4"]);
}

#[test]
fn adding_the_same_entry_twice_counts_it_once() {
    let mut lib = library();
    let again = Msg {
        id: "shoes/0".into(),
        campaign: "shoes-q4",
        brand: "Shoe Co",
        subject: "Winter boots -30%",
        served_at: "2026-10-01T12:00:00Z",
        member_state: "FR",
        sponsor: "p-shoe",
        payer: "p-shoe",
        political: false,
        criteria: json!([]),
    };
    lib.add(10, &entry(10, again.body(), &[]));
    assert_eq!(lib.messages(), 41);
}

#[test]
fn search_combines_several_criteria() {
    let lib = library();
    let all_criteria = [
        ("advertiser", "civic FUTURE"),
        ("payer", "holding"),
        ("political", "true"),
        ("election", "bundestag"),
        ("member_state", "at"),
        ("from", "2026-11-21"),
        ("to", "2026-12-31"),
        ("q", "NEUROTICISM"),
    ];
    assert_eq!(ids(&search_json(&lib, &all_criteria)), ["ocean-2026"]);

    // changing any one criterion alone excludes it (AND)
    for (key, other) in [
        ("advertiser", "shoe"),
        ("payer", "p-civic-future"),
        ("political", "false"),
        ("election", "European Parliament"),
        ("member_state", "FR"),
        ("from", "2026-11-23"),
        ("to", "2026-11-19"),
        ("q", "boots"),
    ] {
        let pairs: Vec<(&str, &str)> = all_criteria.iter().map(|&(k, v)| if k == key { (k, other) } else { (k, v) }).collect();
        let from_after_to = key == "to";
        let pairs: Vec<(&str, &str)> = if from_after_to { pairs.into_iter().filter(|(k, _)| *k != "from").collect() } else { pairs };
        assert_eq!(search_json(&lib, &pairs)["total"], 0, "{key}={other}");
    }

    // advertiser by party id; q matches an exclusion's description too
    assert_eq!(ids(&search_json(&lib, &[("advertiser", "p-shoe"), ("political", "false")])), ["evil", "shoes-q4"]);
    assert_eq!(ids(&search_json(&lib, &[("q", "own page")])), ["ocean-2026"]);
    // date range overlapping the campaign
    assert_eq!(ids(&search_json(&lib, &[("from", "2026-09-01"), ("to", "2026-10-01")])), ["shoes-q4"]);
    // empty values are ignored (an HTML form sends every field)
    assert_eq!(search_json(&lib, &[("advertiser", ""), ("political", ""), ("member_state", "")])["total"], 3);
}

#[test]
fn paging() {
    let lib = library();
    let p = search_json(&lib, &[("per_page", "2"), ("page", "2")]);
    assert_eq!(p["total"], 3);
    assert_eq!(ids(&p), ["shoes-q4"]);
    assert_eq!(ids(&search_json(&lib, &[("per_page", "2"), ("page", "9")])).len(), 0);
}

#[test]
fn bad_parameters_are_rejected() {
    for bad in [
        ("political", "yes"),
        ("member_state", "GR"),
        ("member_state", "US"),
        ("from", "2026-13-01"),
        ("from", "20261101"),
        ("to", "yesterday"),
        ("page", "0"),
        ("per_page", "501"),
        ("per_page", "-1"),
        ("format", "xml"),
        ("advertizer", "x"),
        ("advertizer", ""),
    ] {
        assert!(LibraryQuery::parse(&[bad], Surface::Api).is_err(), "{bad:?} accepted");
    }
    assert!(LibraryQuery::parse(&[("from", "2026-12-01"), ("to", "2026-11-01")], Surface::Api).is_err());
    assert!(LibraryQuery::parse(&[("q", "a"), ("q", "b")], Surface::Api).is_err());
    assert!(LibraryQuery::parse(&[("q", "x".repeat(201).as_str())], Surface::Api).is_err());
    // CSV allows bulk pages; the HTML page takes no format
    assert!(LibraryQuery::parse(&[("format", "csv"), ("per_page", "10000")], Surface::Api).is_ok());
    assert!(LibraryQuery::parse(&[("format", "csv"), ("per_page", "10001")], Surface::Api).is_err());
    assert!(LibraryQuery::parse(&[("format", "csv")], Surface::Html).is_err());

    // the API answers 400 problem+json; the page answers 400 HTML naming the problem
    let lib = library();
    let err = api_response(&lib, &[("political", "maybe")]).unwrap_err();
    let resp = axum::response::IntoResponse::into_response(err);
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let (status, html) = render_page(&lib, "sightline.example/log", &[("member_state", "GR")]).unwrap();
    assert_eq!(status, 400);
    assert!(html.contains("use EL for Greece"), "{html}");
    assert!(html.contains("role=\"alert\""));
}

#[test]
fn exclusions_are_listed_with_their_counts() {
    let lib = library();
    let v = search_json(&lib, &[("advertiser", "civic")]);
    let c = &v["campaigns"][0];
    assert_eq!(c["targeted"], true);
    let targeting = c["targeting"].as_array().unwrap();
    assert_eq!(targeting.len(), 2);
    let inc = targeting.iter().find(|t| t["effect"] == "include").unwrap();
    let exc = targeting.iter().find(|t| t["effect"] == "exclude").unwrap();
    assert_eq!(inc["type"], "modelled");
    assert_eq!(inc["ai_selected"], true);
    assert_eq!(inc["messages"], 28);
    assert_eq!(exc["description"], "People who follow the party's own page");
    assert_eq!(exc["type"], "declared");
    assert_eq!(exc["special_category"], "political_opinion");
    assert_eq!(exc["messages"], 12);
    assert_eq!(c["special_categories"], json!(["political_opinion"]));
    assert_eq!(c["ai_selected_messages"], 28);
    assert_eq!(c["ai_delivery_messages"], 28);
    assert_eq!(c["data_source_kinds"], json!(["inferred", "observed"]));
    assert_eq!(c["data_providers"]["values"], json!(["Acme Ads GmbH", "Acme Social"]));

    // the page marks the exclusion clearly
    let (_, html) = render_page(&lib, "sightline.example/log", &[("advertiser", "civic")]).unwrap();
    assert!(html.contains("<strong>excluded:</strong> People who follow the party&#39;s own page"), "{html}");
    assert!(html.contains("included: Personality score: high neuroticism (OCEAN model)"));
    // the creative's content is in the library, and a dark post says it was shown to its audience only
    assert!(html.contains("Dark post"), "{html}");
    assert!(html.contains("shown only to the people targeted (a dark post)"));
    assert!(
        html.contains(r#"<blockquote class="creative">Civic Future: They don&#39;t want you to know what&#39;s coming</blockquote>"#),
        "{html}"
    );
    assert!(html.contains(r#"<a href="https://cdn.social.example/cr-fear-3.jpg""#));
    assert!(html.contains("Onboarded by: MatchCo Onboarding"));

    // an untargeted campaign says so
    let shoes = search_json(&lib, &[("q", "boots")]);
    assert_eq!(shoes["campaigns"][0]["targeted"], false);
    assert_eq!(shoes["campaigns"][0]["targeting"], json!([]));
}

#[test]
fn political_label_parties_and_dates() {
    let lib = library();
    let c = &search_json(&lib, &[("political", "true")])["campaigns"][0];
    assert_eq!(c["advertisers"]["values"], json!([{ "id": "p-civic-future", "name": "Civic Future e.V." }]));
    assert_eq!(c["payers"]["values"][0]["name"], "Civic Holding AG");
    assert_eq!(c["submitter"]["name"], "Acme Ads GmbH");
    let label = &c["political_labels"]["values"][0];
    assert_eq!(label["kind"], "election");
    assert_eq!(label["linked_to"], "Bundestag election 2029");
    assert_eq!(label["amount"], json!({ "value": "48000.00", "currency": "EUR" }));
    assert_eq!(c["first_shown"], "2026-11-20");
    assert_eq!(c["last_shown"], "2026-11-22");
    assert_eq!(c["brands"]["values"], json!(["Civic Future"]));
    assert_eq!(
        c["creatives"]["values"][0],
        json!({ "creative_id": "cr-fear-3", "ad_id": "ad-17", "sha256": HEX, "visibility": "audience_only",
                "text": "Civic Future: They don't want you to know what's coming",
                "assets": [{ "sha256": HEX, "url": "https://cdn.social.example/cr-fear-3.jpg" }] })
    );
    assert_eq!(c["data_id_types"], json!(["platform_id"]));
    assert_eq!(c["data_onboarders"]["values"], json!(["MatchCo Onboarding"]));
    assert_eq!(c["first_entry"], 4);
    assert_eq!(c["last_entry"], 31);
}

#[test]
fn counts_under_ten_are_suppressed_everywhere() {
    assert_eq!(Count::of(0), Count::Exact(0));
    assert_eq!(Count::of(9), Count::Suppressed);
    assert_eq!(Count::of(10), Count::Exact(10));
    assert_eq!(Count::of(9).to_string(), "<10");

    let lib = library();
    let v = search_json(&lib, &[]);
    let ocean = &v["campaigns"][0];
    assert_eq!(ocean["reach"], 28);
    assert_eq!(ocean["reach_by_member_state"], json!({ "AT": "<10", "DE": 25 }));
    assert_eq!(ocean["objected_messages"], "<10");
    let evil = &v["campaigns"][1];
    assert_eq!(evil["reach"], "<10");
    assert_eq!(evil["reach_by_member_state"], json!({ "NL": "<10" }));
    assert_eq!(evil["targeting"][0]["messages"], "<10");
    let shoes = &v["campaigns"][2];
    assert_eq!(shoes["reach"], 12);
    assert_eq!(shoes["objected_messages"], 0);

    // JSON text never carries the raw small numbers for these fields
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("\"AT\":3"));
    assert!(!text.contains("\"reach\":1,"));

    // CSV: per-state columns and the same suppression
    let csv = to_csv(&lib.search(&query(&[("format", "csv")], Surface::Api)));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header, csv_columns());
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let ocean_line = csv.split("\r\n").find(|l| l.starts_with("acme-ads,Acme Ads GmbH,ocean-2026,")).unwrap();
    let cells = split_csv_line(ocean_line);
    assert_eq!(cells[col("reach")], "28");
    assert_eq!(cells[col("reach_DE")], "25");
    assert_eq!(cells[col("reach_AT")], "<10");
    assert_eq!(cells[col("reach_FR")], "0");
    assert_eq!(cells[col("objected_messages")], "<10");

    // HTML
    let (_, html) = render_page(&lib, "sightline.example/log", &[("q", "neuroticism")]).unwrap();
    assert!(html.contains("<td>AT</td><td>&#60;10</td>"), "{html}");
    assert!(html.contains("<td>DE</td><td>25</td>"));
    assert!(html.contains("28 messages"));
}

/// Splits one CSV record (RFC 4180) into cells.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => cells.push(String::new()),
            (c, _) => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

/// Splits a whole CSV document into records (quoted cells may hold line breaks).
fn split_csv(doc: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut current = String::new();
    let mut quotes = 0usize;
    for part in doc.split("\r\n") {
        if !current.is_empty() || quotes % 2 == 1 {
            current.push_str("\r\n");
        }
        current.push_str(part);
        quotes += part.matches('"').count();
        if quotes % 2 == 0 {
            if !current.is_empty() {
                records.push(split_csv_line(&current));
            }
            current.clear();
            quotes = 0;
        }
    }
    records
}

#[test]
fn csv_quoting_and_formula_injection() {
    assert_eq!(csv_cell("plain"), "plain");
    assert_eq!(csv_cell("a,b"), "\"a,b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_cell("=1+1"), "'=1+1");
    assert_eq!(csv_cell("+49 30"), "'+49 30");
    assert_eq!(csv_cell("-2"), "'-2");
    assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_cell("\tx"), "'\tx");
    assert_eq!(csv_cell("=HYPERLINK(\"u\",\"c\")"), "\"'=HYPERLINK(\"\"u\"\",\"\"c\"\")\"");
    assert_eq!(csv_cell("<10"), "<10");

    let lib = library();
    let csv = to_csv(&lib.search(&query(&[("format", "csv"), ("q", "hyperlink")], Surface::Api)));
    assert!(csv.ends_with("\r\n"));
    let records = split_csv(&csv);
    assert_eq!(records.len(), 2, "{csv}");
    let header = &records[0];
    let row = &records[1];
    assert_eq!(row.len(), header.len());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(row[col("campaign_id")], "evil");
    assert_eq!(row[col("brands")], "<script>alert('x')</script>");
    assert_eq!(row[col("subjects")], "'=HYPERLINK(\"http://evil.example\",\"click\")");
    assert_eq!(
        row[col("targeting_included")],
        "contextual; messages=<10; special_category=none; art9_condition=none; ai_selected=false; minor=false; -2+3, \"quoted\""
    );
    assert_eq!(row[col("reach")], "<10");
    assert_eq!(row[col("reach_NL")], "<10");

    // a multi-valued cell holds one value per line, inside one quoted cell
    let all = to_csv(&lib.search(&query(&[("format", "csv"), ("q", "neuroticism")], Surface::Api)));
    let records = split_csv(&all);
    let row = &records[1];
    assert_eq!(row[col("channels")], "social");
    assert_eq!(row[col("data_source_kinds")], "inferred\nobserved");
    assert!(row[col("targeting_excluded")].starts_with("declared; messages=12; special_category=political_opinion;"));

    // the HTTP response
    let resp = api_response(&lib, &[("format", "csv")]).unwrap();
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(resp.headers()["x-total-count"], "3");
}

#[test]
fn html_escapes_everything() {
    let lib = library();
    let (status, html) = render_page(&lib, "sightline.example/log", &[("q", "<script>")]).unwrap();
    assert_eq!(status, 200);
    assert!(!html.contains("<script>"), "raw script tag in page");
    assert!(html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"), "{html}");
    // the search value is echoed escaped into the form
    assert!(html.contains("value=\"&#60;script&#62;\""));
    // the JSON and CSV links carry the same search, URL-encoded and HTML-escaped
    assert!(html.contains("href=\"/api/v1/library?q=%3Cscript%3E\""), "{html}");
    assert!(html.contains("href=\"/api/v1/library?q=%3Cscript%3E&#38;format=csv&#38;per_page=10000\""));
    // extends the site layout
    assert!(html.contains("sightline.example/log"));
    assert!(html.contains("<form"));
    assert!(html.contains("method=\"get\""));
}

#[test]
fn page_without_query_lists_everything_and_links() {
    let lib = library();
    let (status, html) = render_page::<&str, &str>(&lib, "sightline.example/log", &[]).unwrap();
    assert_eq!(status, 200);
    assert!(html.contains("3 matching campaigns"));
    assert!(html.contains("href=\"/api/v1/library\""));
    assert!(html.contains("Political advertisement"));
    assert!(html.contains("Civic Future e.V. (p-civic-future)"));
    assert!(html.contains("Civic Holding AG (p-civic-holding)"));
    assert!(html.contains("https://civic-future.example/transparency/ocean-2026"));
    assert!(html.contains("first 2026-11-20, last 2026-11-22"));
}

#[test]
fn query_strings_round_trip() {
    let pairs = parse_query_string("advertiser=Civic+Future&q=%3Cb%3E&political=").unwrap();
    assert_eq!(
        pairs,
        [("advertiser".to_string(), "Civic Future".to_string()), ("q".into(), "<b>".into()), ("political".into(), "".into())]
    );
    assert!(parse_query_string("q=%zz").is_err());
    assert!(parse_query_string("q=%ff").is_err());
    let q = LibraryQuery::parse(&pairs, Surface::Html).unwrap();
    assert_eq!(q.search_query_string(), "advertiser=Civic+Future&q=%3Cb%3E");
}

#[test]
fn long_lists_are_capped_with_a_count_of_more() {
    let mut lib = LibraryIndex::default();
    for n in 0..30u64 {
        let subject = format!("subject {n}");
        let m = Msg {
            id: format!("m{n}"),
            campaign: "many",
            brand: "B",
            subject: &subject,
            served_at: "2026-11-20T18:04:05Z",
            member_state: "DE",
            sponsor: "p",
            payer: "p",
            political: false,
            criteria: json!([]),
        };
        lib.add(n, &entry(n, m.body(), &[]));
    }
    let v = serde_json::to_value(lib.search(&LibraryQuery::default())).unwrap();
    let subjects = &v["campaigns"][0]["subjects"];
    assert_eq!(subjects["values"].as_array().unwrap().len(), 20);
    assert_eq!(subjects["more"], 10);
    assert_eq!(v["campaigns"][0]["reach"], 30);
}

/// Every route of the router is described in `web/openapi.yaml`, and every
/// path there is a route.
#[test]
fn every_route_is_in_openapi() {
    let app = include_str!("../src/router.rs");
    let yaml = include_str!("../openapi.yaml");
    let mut routes = BTreeSet::new();
    for piece in app.split(".route(\"").skip(1) {
        let path = &piece[..piece.find('"').unwrap()];
        // axum's `{*path}` (rest of the path) is `{path}` in OpenAPI
        routes.insert(path.replace("{*", "{"));
    }
    assert!(routes.len() >= 20, "{routes:?}");
    let mut in_paths = false;
    let mut documented = BTreeSet::new();
    for line in yaml.lines() {
        if line.starts_with("paths:") {
            in_paths = true;
            continue;
        }
        if in_paths && !line.is_empty() && !line.starts_with(' ') {
            break;
        }
        if in_paths && line.starts_with("  /") && !line.starts_with("   ") {
            documented.insert(line.trim().trim_end_matches(':').trim_matches('\'').trim_matches('"').to_string());
        }
    }
    let missing: Vec<_> = routes.difference(&documented).collect();
    assert!(missing.is_empty(), "routes missing from openapi.yaml: {missing:?}");
    let extra: Vec<_> = documented.difference(&routes).collect();
    assert!(extra.is_empty(), "openapi.yaml paths that are not routes: {extra:?}");
    assert!(yaml.starts_with("openapi: 3.1"));
    // each documented method matches the router's method for that path
    for piece in app.split(".route(\"").skip(1) {
        let path = piece[..piece.find('"').unwrap()].replace("{*", "{");
        let method = if piece[..piece.find(')').unwrap()].contains("post(") { "post:" } else { "get:" };
        let start = yaml.find(&format!("\n  {path}:\n")).unwrap();
        let rest = &yaml[start + 1..];
        let end = rest[1..].find("\n  /").map(|e| e + 1).unwrap_or(rest.len());
        assert!(rest[..end].contains(&format!("\n    {method}")), "{path} should document {method}");
    }
}
