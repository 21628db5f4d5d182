//! Prometheus `/metrics`: appends, batch sizes, commit and submit latencies,
//! proof requests, HTTP status classes, and refusals by reason (rate limits, capacity,
//! authentication, timeouts). No labels carry personal data.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;

use sightline_ledger::{Ledger, BATCH_SIZE_BUCKETS};

use crate::admission::Admission;
use crate::cosigning::Cosigning;

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
    pub refusals: Refusals,
}

/// Requests and connections refused before or instead of their work, by reason.
#[derive(Debug, Default)]
pub struct Refusals {
    counts: [AtomicU64; REFUSAL_REASONS.len()],
}

/// Every reason `sightline_refusals_total` counts, with its help text.
pub const REFUSAL_REASONS: [(&str, &str); 16] = [
    ("rate_limited_submissions", "429: submissions over the client's rate"),
    ("rate_limited_admin", "429: admin and compliance requests over the client's rate"),
    ("rate_limited_forms", "429: recipient form posts over the client's rate"),
    ("rate_limited_why_reads", "429: recipient pages over the client's rate"),
    ("over_capacity", "503: the in-flight body budget was spent"),
    ("body_too_large", "413: a body over the route's limit"),
    ("unauthenticated", "401: a submission without a readable Authorization header"),
    ("unknown_submitter", "403: the Authorization header names no registered submitter"),
    ("request_time_skew", "403: the Authorization header's time is outside the window"),
    ("request_signature", "403: the Authorization header's signature does not verify"),
    ("foreign_record", "403: a batch held another submitter's record"),
    ("body_timeout", "408: a body did not arrive within the body timeout"),
    ("header_timeout", "connections closed: a request head did not arrive within the header timeout"),
    ("idle_timeout", "connections closed: no byte moved within the idle timeout"),
    ("connection_limit", "connections refused: the client already had the most connections allowed"),
    ("connection_error", "connections that ended with another protocol or I/O error"),
];

impl Refusals {
    /// Counts one refusal; `reason` is one of [`REFUSAL_REASONS`] (others are not counted).
    pub fn count(&self, reason: &str) {
        if let Some(i) = REFUSAL_REASONS.iter().position(|(r, _)| *r == reason) {
            self.counts[i].fetch_add(1, Relaxed);
        }
    }

    /// How many refusals of `reason` so far.
    pub fn get(&self, reason: &str) -> u64 {
        REFUSAL_REASONS.iter().position(|(r, _)| *r == reason).map_or(0, |i| self.counts[i].load(Relaxed))
    }
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

/// `GET /metrics`. It takes only the parts of the server's state it reports on.
pub async fn metrics(
    State(ledger): State<Arc<Ledger>>,
    State(http): State<Arc<HttpMetrics>>,
    State(admission): State<Arc<Admission>>,
    State(cosigning): State<Option<Arc<Cosigning>>>,
) -> impl IntoResponse {
    let l = ledger.metrics();
    let h = &http;
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
        ledger.size()
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
    let _ = writeln!(out, "# HELP sightline_refusals_total Requests and connections refused before or instead of their work, by reason (SPEC.md §13).\n# TYPE sightline_refusals_total counter");
    for (reason, _) in REFUSAL_REASONS {
        let _ = writeln!(out, "sightline_refusals_total{{reason=\"{reason}\"}} {}", h.refusals.get(reason));
    }
    let _ = writeln!(
        out,
        "# HELP sightline_in_flight_body_bytes Request body bytes reserved in memory now (of the --max-in-flight-bytes budget).\n# TYPE sightline_in_flight_body_bytes gauge\nsightline_in_flight_body_bytes {}",
        admission.in_flight_bytes()
    );
    if let Some((_, role)) = ledger.front_end() {
        let _ = writeln!(
            out,
            "# HELP sightline_sequencing Whether this front end sequences the shared log (holds its lease).\n# TYPE sightline_sequencing gauge\nsightline_sequencing {}",
            u8::from(role == sightline_ledger::FrontEndRole::Sequencer)
        );
    }
    if let Some(c) = &cosigning {
        out.push_str(&c.status().metrics());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
