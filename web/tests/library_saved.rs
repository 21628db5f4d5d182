//! The ad library kept beside the log (`web/src/library/saved.rs`): start-up reads the saved
//! campaigns and indexes only the entries logged since, and gets the same library as indexing
//! every entry; rows that are damaged, of another version or of another log are rebuilt.

mod common;

use std::sync::RwLock;

use common::{bare_personal, personal_for, political_message, shoe_email, Fixture};
use serde_json::{json, Value};
use sightline_ledger::Ledger;
use sightline_web::library::saved::{load, save};
use sightline_web::library::{LibraryIndex, LibraryQuery, Surface};

/// Every campaign the library lists, as its JSON API would answer.
fn everything(lib: &LibraryIndex) -> Value {
    let q = LibraryQuery::parse(&[("per_page", "500")], Surface::Api).unwrap();
    json!({ "campaigns": lib.campaigns(), "messages": lib.messages(), "page": lib.search(&q) })
}

/// The library built from every entry of the log.
fn rebuilt(ledger: &Ledger) -> Value {
    let mut lib = LibraryIndex::default();
    lib.add_all(0, &ledger.entries(0, ledger.size()).unwrap());
    everything(&lib)
}

fn messages(f: &Fixture, n: usize) {
    for i in 0..n {
        let id = f.next_id();
        match i % 3 {
            0 => f.submit(political_message(&id, "Ocean cleanup"), &personal_for(&format!("r{i}@example.org"))),
            1 => f.submit(shoe_email(&id, "Spring shoes"), &bare_personal(&format!("r{i}@example.org"))),
            _ => f.submit_as_beta(political_message(&id, "Ocean cleanup"), &personal_for("alice@example.org")),
        };
    }
}

#[test]
fn start_up_reads_the_saved_campaigns_and_indexes_only_the_entries_since() {
    let f = Fixture::new();
    // The server saved its library when it started; what the fixture logged since is saved here.
    let first = load(&f.ledger).unwrap();
    assert!(first.from_saved, "read back from the rows saved at start-up");
    save(&RwLock::new(first.index), &f.ledger).unwrap();
    messages(&f, 12);
    let loaded = load(&f.ledger).unwrap();
    assert!(loaded.from_saved);
    assert_eq!(loaded.indexed, 12, "only the entries logged since the last save are read");
    assert_eq!(everything(&loaded.index), rebuilt(&f.ledger), "the same library as indexing every entry");
    assert!(loaded.index.campaigns() >= 2);

    // Saved again: the next start indexes nothing.
    let lib = RwLock::new(loaded.index);
    save(&lib, &f.ledger).unwrap();
    let again = load(&f.ledger).unwrap();
    assert_eq!((again.from_saved, again.indexed), (true, 0));
    assert_eq!(everything(&again.index), rebuilt(&f.ledger));

    // More messages into campaigns the save holds, and a new campaign: counted once each.
    messages(&f, 5);
    let third = load(&f.ledger).unwrap();
    assert_eq!((third.from_saved, third.indexed), (true, 5));
    assert_eq!(everything(&third.index), rebuilt(&f.ledger));
}

#[test]
fn rows_that_cannot_be_used_are_rebuilt_from_every_entry() {
    let f = Fixture::new();
    messages(&f, 6);
    let want = rebuilt(&f.ledger);
    let size = f.ledger.size();
    let meta = |v: Value| f.ledger.save_derived("library", vec![(b"meta".to_vec(), v.to_string().into_bytes())], vec![]).unwrap();
    for (why, row) in [
        ("damaged", None),
        ("another format", Some(json!({ "version": 99 }))),
        (
            "another log",
            Some(json!({ "version": 1, "through": 1, "leaf": "00".repeat(32), "campaigns": 0, "messages": 0,
                          "parties": {}, "submitters": {}, "pending_tallies": {} })),
        ),
    ] {
        match row {
            Some(v) => meta(v),
            None => f.ledger.save_derived("library", vec![(b"meta".to_vec(), b"{".to_vec())], vec![]).unwrap(),
        }
        let loaded = load(&f.ledger).unwrap();
        assert_eq!((loaded.from_saved, loaded.indexed), (false, size), "{why}: every entry indexed");
        assert_eq!(everything(&loaded.index), want, "{why}");
    }
}
