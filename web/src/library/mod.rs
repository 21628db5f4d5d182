//! The public ad library (DSA Art. 39 repository; SPEC.md §12 "Public ad library").
//!
//! No sign-up and no personal data: the library is built only from the public
//! log (never from personal parts), one row per campaign (`submitter` +
//! `delivery.creative.campaign_id`), kept current by [`LibraryIndex::add`],
//! which the app calls after every commit. `add` does a constant amount of work
//! per entry (bounded by the record's own size). The index is saved beside the
//! log (`saved.rs`), so start-up reads the campaigns and only the entries logged
//! since the last save, not every entry; memory grows with campaigns, not messages.
//!
//! Counts are counts of **messages**: recipient commitments are salted per
//! message, so the log cannot tell two messages to the same person apart and
//! "reach" is the number of messages served. Any count from 1 to 9 is shown
//! as `<10` (HTML, JSON and CSV); zero is shown as `0`.
//!
//! Routes: `GET /library` (HTML form and results, works without JavaScript)
//! and `GET /api/v1/library` (JSON, or CSV with `format=csv`).
//!
//! Here: suppressed counts, the HTML page and the two handlers. Beside it: `views.rs` (what a
//! search returns), `fields.rs` (the entry fields the index reads, decoded in one pass),
//! `index.rs` (the per-campaign aggregates), `query.rs` (search parameters and query strings),
//! `tallies.rs` (the submitters' tallies beside the logged counts), `csv.rs` (the bulk download),
//! `political.rs` (a campaign's TTPA label and notice), `creative.rs` (one creative and its content),
//! `saved.rs` (the index kept in the store, and start-up).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use sightline_ledger::{Ledger, MEMBER_STATES};

use crate::error::{WebError, WebResult};

mod creative;
mod csv;
mod fields;
mod index;
mod political;
mod query;
pub mod saved;
mod tallies;
mod views;

pub use creative::{AssetRef, CreativeRef};
pub use csv::*;
pub use index::*;
pub use political::PoliticalLabel;
pub use query::*;
pub use tallies::{TallyDifference, TallyView};
pub use views::*;

/// The library index as the server shares it: read by every search, added to after every
/// commit.
pub type Library = Arc<RwLock<LibraryIndex>>;

/// Distinct values kept per list (brands, subjects, creatives, ...).
pub const MAX_LISTED: usize = 20;
/// Distinct targeting criteria kept per campaign.
pub const MAX_CRITERIA: usize = 50;
/// Distinct values beyond the cap that are still told apart (by a 64-bit
/// hash) to count "how many more"; past this the count is a lower bound.
const MAX_OVERFLOW_TRACKED: usize = 100_000;
/// Counts below this are suppressed (shown as `<10`).
pub const SUPPRESS_BELOW: u64 = 10;
/// Default and largest page sizes.
pub const DEFAULT_PER_PAGE: u64 = 50;
/// The largest page size of the HTML page and the JSON API.
pub const MAX_PER_PAGE: u64 = 500;
/// The largest page size of the CSV download.
pub const MAX_PER_PAGE_CSV: u64 = 10_000;
/// Longest accepted text in a search parameter (characters).
const MAX_PARAM_CHARS: usize = 200;

// ---------------------------------------------------------------------------
// Suppressed counts
// ---------------------------------------------------------------------------

/// A message count as published: exact when 0 or at least 10, else `<10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// The exact count: 0, or 10 and over.
    Exact(u64),
    /// 1 to 9, shown as `<10`.
    Suppressed,
}

impl Count {
    /// `n` as published.
    pub fn of(n: u64) -> Count {
        if n > 0 && n < SUPPRESS_BELOW {
            Count::Suppressed
        } else {
            Count::Exact(n)
        }
    }

    /// Whether it is an exact 0.
    pub fn is_zero(&self) -> bool {
        *self == Count::Exact(0)
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Exact(n) => write!(f, "{n}"),
            Count::Suppressed => f.write_str("<10"),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(n) => s.serialize_u64(*n),
            Count::Suppressed => s.serialize_str("<10"),
        }
    }
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

/// An `<option>` of a select.
pub struct Opt {
    /// The value sent.
    pub value: &'static str,
    /// The label shown.
    pub label: &'static str,
    /// Whether it is the one chosen.
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "library.html")]
struct LibraryPage {
    /// The log origin (shown by `base.html`).
    origin: String,
    advertiser: String,
    payer: String,
    election: String,
    from: String,
    to: String,
    q: String,
    political: Vec<Opt>,
    member_states: Vec<Opt>,
    per_page: String,
    error: Option<String>,
    result: Option<SearchPage>,
    campaigns_total: usize,
    messages_total: u64,
    json_link: String,
    csv_link: String,
    prev_link: Option<String>,
    next_link: Option<String>,
    pages: u64,
}

fn raw_value<'a, K: AsRef<str>, V: AsRef<str>>(pairs: &'a [(K, V)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| v.as_ref().trim()).unwrap_or("")
}

/// Renders `/library` for decoded query parameters: the page and its status
/// (`400` with the error shown above the form when a parameter is invalid).
/// `origin` is the log origin, shown in the page footer.
pub fn render_page<K: AsRef<str>, V: AsRef<str>>(lib: &LibraryIndex, origin: &str, pairs: &[(K, V)]) -> WebResult<(StatusCode, String)> {
    render(lib, origin, pairs, LibraryQuery::parse(pairs, Surface::Html))
}

fn render<K: AsRef<str>, V: AsRef<str>>(
    lib: &LibraryIndex,
    origin: &str,
    pairs: &[(K, V)],
    parsed: Result<LibraryQuery, String>,
) -> WebResult<(StatusCode, String)> {
    let political = raw_value(pairs, "political");
    let member_state = raw_value(pairs, "member_state").to_ascii_uppercase();
    let mut page = LibraryPage {
        origin: origin.to_owned(),
        advertiser: raw_value(pairs, "advertiser").to_owned(),
        payer: raw_value(pairs, "payer").to_owned(),
        election: raw_value(pairs, "election").to_owned(),
        from: raw_value(pairs, "from").to_owned(),
        to: raw_value(pairs, "to").to_owned(),
        q: raw_value(pairs, "q").to_owned(),
        political: vec![
            Opt { value: "", label: "any", selected: political.is_empty() },
            Opt { value: "true", label: "political only", selected: political == "true" },
            Opt { value: "false", label: "non-political only", selected: political == "false" },
        ],
        member_states: std::iter::once(Opt { value: "", label: "any", selected: member_state.is_empty() })
            .chain(MEMBER_STATES.iter().map(|ms| Opt { value: ms, label: ms, selected: member_state == *ms }))
            .collect(),
        per_page: raw_value(pairs, "per_page").to_owned(),
        error: None,
        result: None,
        campaigns_total: lib.campaigns(),
        messages_total: lib.messages(),
        json_link: String::new(),
        csv_link: String::new(),
        prev_link: None,
        next_link: None,
        pages: 0,
    };
    let status = match parsed {
        Err(e) => {
            page.error = Some(e);
            StatusCode::BAD_REQUEST
        }
        Ok(q) => {
            let result = lib.search(&q);
            page.pages = result.total.div_ceil(q.per_page);
            page.json_link = q.link("/api/v1/library", &q.paging(q.page));
            page.csv_link = q.link("/api/v1/library", &[("format", "csv".into()), ("per_page", MAX_PER_PAGE_CSV.to_string())]);
            if q.page > 1 {
                page.prev_link = Some(q.link("/library", &q.paging(q.page - 1)));
            }
            if q.page < page.pages {
                page.next_link = Some(q.link("/library", &q.paging(q.page + 1)));
            }
            page.result = Some(result);
            StatusCode::OK
        }
    };
    let html = page.render().map_err(|e| WebError::Setup(format!("the library page failed to render: {e}")))?;
    Ok((status, html))
}

/// The API response for decoded query parameters: JSON or CSV, or a
/// `400` problem for an invalid parameter.
pub fn api_response<K: AsRef<str>, V: AsRef<str>>(lib: &LibraryIndex, pairs: &[(K, V)]) -> WebResult<Response> {
    let q = LibraryQuery::parse(pairs, Surface::Api).map_err(WebError::BadRequest)?;
    let result = lib.search(&q);
    Ok(match q.format {
        Format::Csv => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"sightline-library.csv\"".to_string()),
                (header::HeaderName::from_static("x-total-count"), result.total.to_string()),
            ],
            to_csv(&result),
        )
            .into_response(),
        _ => {
            let body = json!({
                "total": result.total,
                "page": result.page,
                "per_page": result.per_page,
                "campaigns": result.campaigns,
            });
            ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
    })
}

/// `GET /library`
pub async fn page(State(library): State<Library>, State(ledger): State<Arc<Ledger>>, RawQuery(raw): RawQuery) -> Response {
    let rendered = {
        let lib = library.read().unwrap_or_else(PoisonError::into_inner);
        match parse_query_string(raw.as_deref().unwrap_or("")) {
            Ok(pairs) => render_page(&lib, ledger.origin(), &pairs),
            Err(e) => render::<&str, &str>(&lib, ledger.origin(), &[], Err(e)),
        }
    };
    match rendered {
        Ok((status, html)) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/library`
pub async fn api(State(library): State<Library>, RawQuery(raw): RawQuery) -> Response {
    let pairs = match parse_query_string(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return WebError::BadRequest(e).into_response(),
    };
    let lib = library.read().unwrap_or_else(PoisonError::into_inner);
    match api_response(&lib, &pairs) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}
