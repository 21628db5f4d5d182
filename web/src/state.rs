//! What every handler shares ([`AppState`]): the ledger, the server's address and credentials,
//! its limits, the library index, the counters, admission and cosigning. The routes that use it
//! are `router.rs`'s.

use std::sync::{Arc, RwLock};

use axum::extract::FromRef;
use axum::http::{header, HeaderMap};
use sightline_ledger::Ledger;

use crate::admission::Admission;
use crate::cosigning::Cosigning;
use crate::error::WebError;
use crate::library::LibraryIndex;
use crate::limits::Limits;
use crate::metrics::HttpMetrics;
use crate::setup::{Credentials, DataDir};

/// Everything a handler needs. Every request clones it (twice: the security-header layer and
/// the handler), so it holds only `Arc`s and plain values. A handler that needs only some of
/// it takes those parts (`State<Arc<Ledger>>`, `State<Limits>`, …: each field's type is its
/// own), so that the modules that define the parts do not depend on the whole.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The ledger.
    pub ledger: Arc<Ledger>,
    /// The URL recipients reach this server at, without a trailing slash.
    pub public_url: Arc<str>,
    /// The origin of `public_url` (`scheme://host[:port]`, as browsers send it in `Origin`);
    /// `None` if it has none, and then no form with an `Origin` header is accepted.
    pub public_origin: Option<Arc<str>>,
    /// The admin and compliance credentials.
    pub credentials: Arc<Credentials>,
    /// What one request and all requests together may hold.
    pub limits: Limits,
    /// The public ad library's index, kept current after every commit.
    pub library: Arc<RwLock<LibraryIndex>>,
    /// The HTTP counters for `/metrics`.
    pub http: Arc<HttpMetrics>,
    /// Rate limits and the in-flight body budget (`admission.rs`).
    pub admission: Arc<Admission>,
    /// The data folder, where a rotated log key is kept.
    pub data_dir: Option<Arc<DataDir>>,
    /// Gathering witnesses' cosignatures, when witnesses are configured (SPEC.md §8.1).
    pub cosigning: Option<Arc<Cosigning>>,
}

impl AppState {
    /// Builds the state and the library index (read back from where it was saved, and the
    /// entries since: `library/saved.rs`), and keeps the index current after every commit.
    pub fn new(ledger: Arc<Ledger>, public_url: String, credentials: Credentials, limits: Limits) -> Result<AppState, WebError> {
        let library = crate::library::saved::start(&ledger)?;
        let size = library.read().map_err(|_| WebError::Setup("library lock poisoned".into()))?.next_entry();
        let lib = Arc::clone(&library);
        // What another front end of a shared log appended during the scan is indexed first.
        ledger.set_listener_from(size, Box::new(move |base, entries| LibraryIndex::add_committed(&lib, base, entries)))?;
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
    /// The operator's admin credential.
    Admin,
    /// The compliance team's credential.
    Compliance,
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
