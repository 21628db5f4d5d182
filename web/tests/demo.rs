//! The demo data set loads into a fresh ledger, is idempotent, covers the ten
//! seed scenarios and every recipient-page state, and leaves a log that passes fsck.

use std::collections::BTreeSet;
use std::time::Instant;

use sightline_ledger::entry::Entry;
use sightline_ledger::PersonalState;
use sightline_web::demo;
use sightline_web::setup::{open_ledger, DataDir};

const URL: &str = "http://127.0.0.1:8080";

#[test]
fn the_demo_loads_once_and_covers_every_page_state() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open_ledger(&DataDir::new(dir.path()), "demo.sightline.localhost/log").unwrap();

    let started = Instant::now();
    let links = demo::load(&ledger, URL).unwrap();
    eprintln!("demo loaded {} entries in {:?}", ledger.size(), started.elapsed());
    let size = ledger.size();
    assert!(size > 100, "the demo should hold well over 100 entries, has {size}");

    // A second load appends nothing and rebuilds the same links from the log.
    let again = demo::load(&ledger, &format!("{URL}/")).unwrap();
    assert_eq!(ledger.size(), size, "a second load must not append");
    assert_eq!(again.len(), links.len());
    assert_eq!(again, links);

    // Ten campaigns; exactly one message flagged after an objection.
    let mut campaigns = BTreeSet::new();
    let mut flagged = Vec::new();
    let mut kinds = BTreeSet::new();
    let mut erased = 0;
    for (i, bytes) in ledger.entries(0, size).unwrap().iter().enumerate() {
        let e = Entry::parse(bytes).unwrap();
        let kind = e.body["kind"].as_str().unwrap().to_string();
        if kind == "message" {
            campaigns.insert(e.body["delivery"]["creative"]["campaign_id"].as_str().unwrap().to_string());
            if matches!(ledger.personal(i as u64).unwrap(), Some(PersonalState::Erased)) {
                erased += 1;
            }
        }
        flagged.extend(e.flags.iter().filter(|f| f.starts_with("objected:")).cloned());
        kinds.insert(kind);
    }
    assert_eq!(campaigns.len(), 10, "campaigns: {campaigns:?}");
    assert_eq!(flagged.len(), 1, "flags: {flagged:?}");
    assert!(erased >= 2, "the erased recipient received several messages");
    for k in ["log_key", "submitter", "party", "message", "objection", "erasure"] {
        assert!(kinds.contains(k), "no {k} entry");
    }

    // Links: one per recipient each scenario shows (two for the scenarios that select two
    // recipients through different branches), alice's list, the flagged and erased pages, the
    // library.
    assert_eq!(links.len(), 13 + 4, "{links:#?}");
    for n in 1..=10 {
        assert!(links.iter().any(|(label, _)| label.starts_with(&format!("Campaign {n}: "))), "no link for campaign {n}");
    }
    assert!(links.iter().any(|(_, u)| u == &format!("{URL}/library")));
    assert!(links.iter().any(|(_, u)| u.ends_with("/messages")));
    for (label, url) in &links {
        if let Some(rest) = url.strip_prefix(&format!("{URL}/why/")) {
            let token = rest.trim_end_matches("/messages");
            assert!(ledger.check_why_token(token).is_some(), "{label}: {url} names no entry");
        }
    }

    assert_eq!(ledger.fsck(&|_| {}).unwrap(), size);
    ledger.shutdown();
}
