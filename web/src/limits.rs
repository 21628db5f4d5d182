//! What one request may carry and what all requests together may hold (SPEC.md §13), set by
//! `sightline serve`'s flags (`serve_flags.rs`) and enforced by admission (`admission.rs`).

use std::time::Duration;

use crate::rate_limit::RateLimits;

/// Limits on what one request may carry, and on what all requests together may hold
/// (SPEC.md §13). The connection-level limits (header and idle timeouts, connections per
/// address) are [`crate::serve::ConnectionLimits`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest ingestion body; other routes take at most `admission::SMALL_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// The most records one ingestion request may hold.
    pub max_records: usize,
    /// Request bodies held in memory at once, across all requests.
    pub max_in_flight_bytes: usize,
    /// How long a request body may take to arrive, once its headers have.
    pub body_timeout: Duration,
    /// Per-client rate limits.
    pub rates: RateLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 16 * 1024 * 1024,
            max_records: 10_000,
            max_in_flight_bytes: 64 * 1024 * 1024,
            body_timeout: Duration::from_secs(60),
            rates: RateLimits::default(),
        }
    }
}
