//! The application: shared state, the router, credentials and security headers.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sightline_ledger::Ledger;

use crate::admission::{self, Admission};
use crate::error::{Refusal, WebError};
use crate::library::LibraryIndex;
use crate::metrics::HttpMetrics;
use crate::rate_limit::RateLimits;
use crate::recipient_form::FORM_BYTES;
use crate::setup::Credentials;
use crate::{admin, export_http, ingest, library, metrics, regulator, rights, why};

/// Limits on what one request may carry, and on what all requests together may hold
/// (SPEC.md §13). The connection-level limits (header and idle timeouts, connections per
/// address) are [`crate::serve::ConnectionLimits`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// The largest ingestion body; other routes take at most [`crate::admission::SMALL_BODY_BYTES`].
    pub max_body_bytes: usize,
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

/// Everything a handler needs. Every request clones it (twice: the security-header layer and
/// the handler), so it holds only `Arc`s and plain values.
#[derive(Clone)]
pub struct AppState {
    pub ledger: Arc<Ledger>,
    /// The URL recipients reach this server at, without a trailing slash.
    pub public_url: Arc<str>,
    /// The origin of `public_url` (`scheme://host[:port]`, as browsers send it in `Origin`);
    /// `None` if it has none, and then no form with an `Origin` header is accepted.
    pub public_origin: Option<Arc<str>>,
    pub credentials: Arc<Credentials>,
    pub limits: Limits,
    pub library: Arc<RwLock<LibraryIndex>>,
    pub http: Arc<HttpMetrics>,
    /// Rate limits and the in-flight body budget (`admission.rs`).
    pub admission: Arc<Admission>,
    /// The data folder, where a rotated log key is kept.
    pub data_dir: Option<std::sync::Arc<crate::setup::DataDir>>,
    /// Gathering witnesses' cosignatures, when witnesses are configured (SPEC.md §8.1).
    pub cosigning: Option<Arc<crate::cosigning::Cosigning>>,
}

impl AppState {
    /// Builds the state and the library index (scanning the log once), and keeps
    /// the index current after every commit.
    pub fn new(ledger: Arc<Ledger>, public_url: String, credentials: Credentials, limits: Limits) -> Result<AppState, WebError> {
        let library = Arc::new(RwLock::new(LibraryIndex::default()));
        {
            let mut lib = library.write().map_err(|_| WebError::Setup("library lock poisoned".into()))?;
            // One thread reads and checks the next chunk while this one indexes the last.
            let size = ledger.size();
            std::thread::scope(|s| -> Result<(), WebError> {
                let (tx, rx) = std::sync::mpsc::sync_channel(2);
                let reader = &ledger;
                s.spawn(move || {
                    for start in (0..size).step_by(4096) {
                        let chunk = reader.entries(start, (start + 4096).min(size)).map(|e| (start, e));
                        if tx.send(chunk).is_err() {
                            break;
                        }
                    }
                });
                for chunk in rx {
                    let (start, entries) = chunk?;
                    lib.add_all(start, &entries);
                }
                Ok(())
            })?;
        }
        let lib = Arc::clone(&library);
        ledger.set_listener(Box::new(move |base, entries| LibraryIndex::add_committed(&lib, base, entries)));
        Ok(AppState {
            ledger,
            public_origin: origin_of(&public_url).map(Arc::from),
            public_url: Arc::from(public_url.trim_end_matches('/')),
            credentials: Arc::new(credentials),
            limits,
            library,
            http: Arc::new(HttpMetrics::default()),
            admission: Arc::new(Admission::new(&limits)),
            data_dir: None,
            cosigning: None,
        })
    }

    /// Checks a Bearer credential in constant time.
    pub fn require(&self, headers: &HeaderMap, which: Role) -> Result<(), WebError> {
        let expected = match which {
            Role::Admin => &self.credentials.admin,
            Role::Compliance => &self.credentials.compliance,
        };
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
        let same = given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same {
            Ok(())
        } else {
            Err(WebError::Unauthorized(match which {
                Role::Admin => "admin",
                Role::Compliance => "compliance",
            }))
        }
    }
}

/// The origin of a URL as a browser serialises it in an `Origin` header (lower-case scheme
/// and host, no default port), if it has one.
pub fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Who a credential belongs to.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    Admin,
    Compliance,
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(why::home))
        .route("/healthz", get(crate::cosigning::report::healthz))
        .route("/static/sightline.css", get(stylesheet))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.yaml", get(regulator::openapi))
        .route("/checkpoint", get(regulator::checkpoint))
        .route("/tile/{*path}", get(regulator::tile))
        .route("/api/v1/proof/inclusion", get(regulator::inclusion))
        .route("/api/v1/proof/consistency", get(regulator::consistency))
        .route("/api/v1/entries", get(regulator::entries))
        .route("/api/v1/receipt/{index}", get(regulator::receipt))
        .route("/api/v1/registry", get(regulator::registry))
        .route("/api/v1/submissions", post(ingest::submit))
        .route("/api/v1/admin/submitters", post(admin::register_submitter))
        .route("/api/v1/admin/parties", post(admin::register_party))
        .route("/api/v1/admin/rotate-key", post(admin::rotate_key))
        .route("/api/v1/compliance/erase", post(admin::erase))
        .route("/api/v1/export", get(export_http::export))
        .route("/api/v1/library", get(library::api))
        .route("/library", get(library::page))
        .route("/why/{token}", get(why::page))
        .route("/why/{token}/messages", get(rights::ask_address).post(rights::messages).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .route("/why/{token}/receipt", get(why::receipt))
        .route("/why/{token}/object", post(rights::object).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .route("/why/{token}/erase", post(rights::erase).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), admission::admit))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}

/// `GET /static/sightline.css`: the pages' one stylesheet. It is not inline, so
/// the CSP can refuse inline style, and browsers fetch it once, not with every page.
async fn stylesheet() -> Response {
    let headers = [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")];
    (headers, include_str!("../static/sightline.css")).into_response()
}

/// Security headers on every response, and request and refusal counting for `/metrics`.
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.http.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Never a page's address (a why link) to another site; and, unlike `no-referrer`, a form
    // posted from a page here carries this server's `Origin` instead of `null`.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Some(Refusal(reason)) = resp.extensions().get::<Refusal>() {
        state.http.refusals.count(reason);
    }
    if state.http.count_status(resp.status()) {
        tracing::debug!(status = %resp.status(), "response");
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn the_public_origin_is_what_a_browser_sends_in_origin() {
        assert_eq!(origin_of("https://sightline.test/").as_deref(), Some("https://sightline.test"));
        assert_eq!(origin_of("HTTPS://Sightline.Test:443/some/path").as_deref(), Some("https://sightline.test"), "default port dropped");
        assert_eq!(origin_of("http://127.0.0.1:8080").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(origin_of("not a url"), None);
        assert_eq!(origin_of("file:///tmp/x"), None, "an opaque origin matches no Origin header");
    }
}
