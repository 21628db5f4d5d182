//! The `sightline serve` flags that bound what clients can make the server hold (SPEC.md §13):
//! request sizes, the in-flight body budget, timeouts, connections and rate limits per client.

use std::time::Duration;

use crate::error::WebError;
use crate::limits::Limits;
use crate::rate_limit::{RateLimits, RateSpec};
use crate::serve::ConnectionLimits;

/// Limits of `sightline serve`; every one also reads an environment variable.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Limits (SPEC.md §13)")]
pub struct ServeFlags {
    /// Most records per ingestion request.
    #[arg(long, env = "SIGHTLINE_MAX_RECORDS", default_value_t = 10_000)]
    pub max_records: usize,
    /// Largest ingestion request body, in bytes (other routes take at most 64 KiB).
    #[arg(long, env = "SIGHTLINE_MAX_BODY_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Request body bytes held in memory at once, across all requests. A request that would
    /// go over it is answered 503 with Retry-After before its body is read. At least
    /// --max-body-bytes.
    #[arg(long, env = "SIGHTLINE_MAX_IN_FLIGHT_BYTES", default_value_t = 64 * 1024 * 1024)]
    pub max_in_flight_bytes: usize,
    /// Seconds a request's head (request line and headers) may take to arrive; also how long a
    /// kept-alive connection may wait for its next request.
    #[arg(long, env = "SIGHTLINE_HEADER_TIMEOUT", default_value_t = 10, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Seconds a request's body may take to arrive once its head has (then 408).
    #[arg(long, env = "SIGHTLINE_BODY_TIMEOUT", default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub body_timeout: u64,
    /// Seconds a connection may go without a byte moving either way (a client that stops
    /// reading its response, or stalls) before it is closed.
    #[arg(long, env = "SIGHTLINE_IDLE_TIMEOUT", default_value_t = 60, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub idle_timeout: u64,
    /// Connections one client (an IPv4 address, or an IPv6 /64) may hold open at once; more
    /// are closed at once.
    #[arg(long, env = "SIGHTLINE_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_client: u64,
    /// Rate of ingestion requests per client: N/s, N/min or N/h, optionally ,BURST
    /// (e.g. 500/s,1000), or off. Over it: 429 with Retry-After.
    #[arg(long, env = "SIGHTLINE_RATE_SUBMISSIONS", default_value_t = RateLimits::default().submissions, value_name = "RATE")]
    pub rate_submissions: RateSpec,
    /// Rate of admin and compliance requests per client (the operator's endpoints and exports).
    #[arg(long, env = "SIGHTLINE_RATE_ADMIN", default_value_t = RateLimits::default().admin, value_name = "RATE")]
    pub rate_admin: RateSpec,
    /// Rate of recipients' form posts (object, erase) per client.
    #[arg(long, env = "SIGHTLINE_RATE_FORMS", default_value_t = RateLimits::default().forms, value_name = "RATE")]
    pub rate_forms: RateSpec,
    /// Rate of recipients' page reads (/why/…) per client.
    #[arg(long, env = "SIGHTLINE_RATE_WHY", default_value_t = RateLimits::default().why_reads, value_name = "RATE")]
    pub rate_why: RateSpec,
}

impl ServeFlags {
    /// The request and connection limits these flags set; an in-flight budget smaller than one
    /// largest body is refused (it could never admit one).
    pub fn limits(&self) -> Result<(Limits, ConnectionLimits), WebError> {
        if self.max_in_flight_bytes < self.max_body_bytes {
            return Err(WebError::BadRequest(format!(
                "--max-in-flight-bytes {} is smaller than --max-body-bytes {}: the server could never read a largest request; raise it",
                self.max_in_flight_bytes, self.max_body_bytes
            )));
        }
        let limits = Limits {
            max_body_bytes: self.max_body_bytes,
            max_records: self.max_records,
            max_in_flight_bytes: self.max_in_flight_bytes,
            body_timeout: Duration::from_secs(self.body_timeout),
            rates: RateLimits {
                submissions: self.rate_submissions,
                admin: self.rate_admin,
                forms: self.rate_forms,
                why_reads: self.rate_why,
            },
        };
        let connections = ConnectionLimits {
            header_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections_per_client: usize::try_from(self.max_connections_per_client).unwrap_or(usize::MAX),
        };
        Ok((limits, connections))
    }
}
