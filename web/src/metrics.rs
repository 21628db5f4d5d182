//! Prometheus `/metrics`: appends, batch sizes, commit and submit latencies,
//! proof requests, HTTP status classes. No labels carry personal data.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use sightline_ledger::BATCH_SIZE_BUCKETS;

use crate::app::AppState;

/// Submit-to-receipt latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// HTTP-level counters.
#[derive(Default, Debug)]
pub struct HttpMetrics {
    pub requests: AtomicU64,
    pub status_2xx: AtomicU64,
    pub status_4xx: AtomicU64,
    pub status_5xx: AtomicU64,
    pub submit_latency_buckets: [AtomicU64; 10],
    pub submit_latency_count: AtomicU64,
    pub submit_latency_micros: AtomicU64,
    pub submit_records: AtomicU64,
    pub why_pages: AtomicU64,
}

impl HttpMetrics {
    /// Counts a response status; returns whether it was a server error.
    pub fn count_status(&self, s: StatusCode) -> bool {
        match s.as_u16() {
            200..=299 => self.status_2xx.fetch_add(1, Relaxed),
            400..=499 => self.status_4xx.fetch_add(1, Relaxed),
            500..=599 => self.status_5xx.fetch_add(1, Relaxed),
            _ => 0,
        };
        s.is_server_error()
    }

    /// Records one submit-to-receipt latency.
    pub fn observe_submit(&self, seconds: f64, records: usize) {
        for (b, c) in BUCKETS.iter().zip(&self.submit_latency_buckets) {
            if seconds <= *b {
                c.fetch_add(1, Relaxed);
            }
        }
        self.submit_latency_count.fetch_add(1, Relaxed);
        self.submit_latency_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        self.submit_records.fetch_add(records as u64, Relaxed);
    }
}

/// `GET /metrics`
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let l = state.ledger.metrics();
    let h = &state.http;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, v: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
    };
    counter("sightline_records_appended_total", "Entries durably appended.", l.records_appended.load(Relaxed));
    counter("sightline_batches_committed_total", "Group commits (one fsync each).", l.batches_committed.load(Relaxed));
    counter(
        "sightline_groups_sequenced_total",
        "Groups of messages the sequencer handed to the committer (each becomes one group commit, or fails).",
        l.groups_sequenced.load(Relaxed),
    );
    counter("sightline_proofs_served_total", "Inclusion and consistency proofs served.", l.proofs_served.load(Relaxed));
    counter("sightline_http_requests_total", "HTTP requests.", h.requests.load(Relaxed));
    counter("sightline_http_responses_2xx_total", "2xx responses.", h.status_2xx.load(Relaxed));
    counter("sightline_http_responses_4xx_total", "4xx responses.", h.status_4xx.load(Relaxed));
    counter("sightline_http_responses_5xx_total", "5xx responses.", h.status_5xx.load(Relaxed));
    counter("sightline_why_pages_total", "Recipient pages rendered.", h.why_pages.load(Relaxed));
    let _ = writeln!(
        out,
        "# HELP sightline_commit_seconds_total Time spent in group commits (hash, chain, tree, sign, fsync).\n# TYPE sightline_commit_seconds_total counter\nsightline_commit_seconds_total {}",
        l.commit_micros_total.load(Relaxed) as f64 / 1e6
    );
    let _ = writeln!(out, "# HELP sightline_batch_records Records per group commit.\n# TYPE sightline_batch_records histogram");
    for (b, c) in BATCH_SIZE_BUCKETS.iter().zip(&l.batch_size_buckets) {
        let _ = writeln!(out, "sightline_batch_records_bucket{{le=\"{b}\"}} {}", c.load(Relaxed));
    }
    let commits = l.batches_committed.load(Relaxed);
    let _ = writeln!(out, "sightline_batch_records_bucket{{le=\"+Inf\"}} {commits}");
    let _ = writeln!(out, "sightline_batch_records_sum {}", l.records_appended.load(Relaxed));
    let _ = writeln!(out, "sightline_batch_records_count {commits}");
    let _ = writeln!(out, "# HELP sightline_largest_batch_records Largest group commit so far.\n# TYPE sightline_largest_batch_records gauge\nsightline_largest_batch_records {}", l.largest_batch.load(Relaxed));
    let _ = writeln!(
        out,
        "# HELP sightline_tree_size Entries in the published checkpoint.\n# TYPE sightline_tree_size gauge\nsightline_tree_size {}",
        state.ledger.size()
    );
    let _ = writeln!(
        out,
        "# HELP sightline_submit_seconds Submit-to-receipt latency of ingestion requests.\n# TYPE sightline_submit_seconds histogram"
    );
    for (b, c) in BUCKETS.iter().zip(&h.submit_latency_buckets) {
        let _ = writeln!(out, "sightline_submit_seconds_bucket{{le=\"{b}\"}} {}", c.load(Relaxed));
    }
    let n = h.submit_latency_count.load(Relaxed);
    let _ = writeln!(out, "sightline_submit_seconds_bucket{{le=\"+Inf\"}} {n}");
    let _ = writeln!(out, "sightline_submit_seconds_sum {}", h.submit_latency_micros.load(Relaxed) as f64 / 1e6);
    let _ = writeln!(out, "sightline_submit_seconds_count {n}");
    let _ = writeln!(out, "# HELP sightline_submitted_records_total Records in accepted ingestion requests.\n# TYPE sightline_submitted_records_total counter\nsightline_submitted_records_total {}", h.submit_records.load(Relaxed));
    if let Some(c) = &state.cosigning {
        out.push_str(&c.status().metrics());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
