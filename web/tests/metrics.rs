//! `/metrics`: Prometheus text whose counters move with real appends.

mod common;

use axum::http::StatusCode;
use common::{personal_for, political_message, Fixture};

/// The value of an unlabelled or labelled sample line, e.g. `sightline_batch_records_bucket{le="10"}`.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no sample {name} in\n{text}"))
        .parse()
        .expect("a number")
}

#[tokio::test]
async fn metrics_count_appends_batch_sizes_commit_time_and_why_pages() {
    let fx = Fixture::new();
    let (_, _, before) = fx.get("/metrics").await;
    let commits_before = sample(&before, "sightline_batch_records_count");
    let groups_before = sample(&before, "sightline_groups_sequenced_total");
    let ack = fx.submit(political_message(&fx.next_id(), "Metrics"), &personal_for("m@example.org"));
    let token = ack.why_token.expect("token");
    let (status, _, _) = fx.get(&format!("/why/{token}")).await;
    assert_eq!(status, StatusCode::OK);

    let (status, headers, text) = fx.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(sample(&text, "sightline_batch_records_count"), commits_before + 1.0);
    assert_eq!(
        sample(&text, "sightline_batch_records_bucket{le=\"1\"}"),
        sample(&before, "sightline_batch_records_bucket{le=\"1\"}") + 1.0
    );
    assert_eq!(sample(&text, "sightline_batch_records_count"), sample(&text, "sightline_batches_committed_total"));
    assert_eq!(sample(&text, "sightline_groups_sequenced_total"), groups_before + 1.0, "the message's group was sequenced once");
    assert_eq!(sample(&text, "sightline_batch_records_sum"), sample(&text, "sightline_records_appended_total"));
    assert!(sample(&text, "sightline_commit_seconds_total") > 0.0, "commit time is reported in fractional seconds");
    assert_eq!(sample(&text, "sightline_why_pages_total"), 1.0);
    assert_eq!(sample(&text, "sightline_tree_size"), fx.ledger.size() as f64);
    assert!(!text.contains("m@example.org"), "no personal data in metrics");
}
