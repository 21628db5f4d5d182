//! The public ad library (DSA Art. 39 repository; SPEC.md §12 "Public ad library").
//!
//! No sign-up and no personal data: the library is built only from the public
//! log (never from personal parts), one row per campaign (`submitter` +
//! `delivery.creative.campaign_id`), kept current by [`LibraryIndex::add`],
//! which the app calls for every entry at start-up and after every commit.
//! `add` does a constant amount of work per entry (bounded by the record's own
//! size), so indexing a million messages takes seconds.
//!
//! Counts are counts of **messages**: recipient commitments are salted per
//! message, so the log cannot tell two messages to the same person apart and
//! "reach" is the number of messages served. Any count from 1 to 9 is shown
//! as `<10` (HTML, JSON and CSV); zero is shown as `0`.
//!
//! Routes: `GET /library` (HTML form and results, works without JavaScript)
//! and `GET /api/v1/library` (JSON, or CSV with `format=csv`).
//!
//! Here: suppressed counts, the views a search returns, the HTML page and the
//! two handlers. Beside it: `fields.rs` (the entry fields the index reads, decoded in
//! one pass), `index.rs` (the per-campaign aggregates),
//! `query.rs` (search parameters and query strings), `csv.rs` (the bulk download).

use std::collections::{HashMap, HashSet};
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

mod csv;
mod fields;
mod index;
mod query;
mod tallies;

pub use csv::*;
pub use index::*;
pub use query::*;
pub use tallies::{TallyDifference, TallyView};

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
// What a search returns (also the JSON of the API)
// ---------------------------------------------------------------------------

/// A registered party (or submitter) by id, with its registered name.
#[derive(Clone, Debug, Serialize)]
pub struct PartyRef {
    /// Its id.
    pub id: String,
    /// Its registered name, if the log registered it.
    pub name: Option<String>,
}

impl fmt::Display for PartyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} ({})", self.id),
            None => f.write_str(&self.id),
        }
    }
}

/// A capped list of distinct values and how many more distinct values exist.
#[derive(Clone, Debug, Serialize)]
pub struct Listed<T> {
    /// The first distinct values, up to the cap.
    pub values: Vec<T>,
    /// How many more distinct values there are.
    pub more: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    /// `more` counts only the values told apart; there may be more.
    pub more_is_lower_bound: bool,
}

impl<T> Listed<T> {
    /// "and 3 more" (empty when none).
    pub fn more_text(&self) -> String {
        match (self.more, self.more_is_lower_bound) {
            (0, _) => String::new(),
            (n, false) => format!("and {n} more"),
            (n, true) => format!("and at least {n} more"),
        }
    }
}

impl Listed<String> {
    /// The values, joined by commas.
    pub fn joined(&self) -> String {
        self.values.join(", ")
    }
}

/// The TTPA (Reg. 2024/900) label of a political message.
#[derive(Clone, Debug, Serialize)]
pub struct PoliticalLabel {
    /// `election`, `referendum`, `legislative_process` or `regulatory_process`.
    pub kind: String,
    /// The election, referendum or process it is linked to.
    pub linked_to: String,
    /// A date or `not_disclosed`.
    pub date: String,
    /// `{value, currency}` or `"not_disclosed"`.
    pub amount: Value,
    /// Text or `not_disclosed`.
    pub funding_origin: String,
    /// The transparency notice.
    pub notice_url: String,
}

impl PoliticalLabel {
    fn from_value(v: &Value) -> PoliticalLabel {
        PoliticalLabel {
            kind: str_at(v, "kind").to_owned(),
            linked_to: str_at(v, "linked_to").to_owned(),
            date: str_at(v, "date").to_owned(),
            amount: v.get("amount").cloned().unwrap_or(Value::Null),
            funding_origin: str_at(v, "funding_origin").to_owned(),
            notice_url: str_at(v, "notice_url").to_owned(),
        }
    }

    /// `48000.00 EUR`, or `not disclosed`.
    pub fn amount_text(&self) -> String {
        match (self.amount.get("value").and_then(Value::as_str), self.amount.get("currency").and_then(Value::as_str)) {
            (Some(v), Some(c)) => format!("{v} {c}"),
            _ => "not disclosed".into(),
        }
    }

    /// `election`, `legislative process`, ...
    pub fn kind_text(&self) -> String {
        self.kind.replace('_', " ")
    }

    /// Whether the notice URL may be shown as a link (it is always https).
    pub fn notice_is_link(&self) -> bool {
        self.notice_url.starts_with("https://")
    }
}

/// A targeting criterion of the campaign, with the number of messages it applied to.
#[derive(Clone, Debug, Serialize)]
pub struct CriterionView {
    /// `include` or `exclude`.
    pub effect: String,
    #[serde(rename = "type")]
    /// Its type (`type` in JSON), such as `modelled`.
    pub kind: String,
    /// What it selects, in words.
    pub description: String,
    /// The GDPR Art. 9 special category it touches, if any.
    pub special_category: Option<String>,
    /// A known minor was involved.
    pub minor: bool,
    /// An AI system chose or optimised it.
    pub ai_selected: bool,
    /// The messages it applied to.
    pub messages: Count,
}

impl CriterionView {
    /// Whether it excludes.
    pub fn excluded(&self) -> bool {
        self.effect == "exclude"
    }
    /// Its type in words.
    pub fn kind_text(&self) -> String {
        self.kind.replace('_', " ")
    }
    fn csv_line(&self) -> String {
        format!(
            "{}; messages={}; special_category={}; ai_selected={}; minor={}; {}",
            self.kind,
            self.messages,
            self.special_category.as_deref().unwrap_or("none"),
            self.ai_selected,
            self.minor,
            self.description
        )
    }
}

/// Messages served in one Member State.
#[derive(Clone, Debug)]
pub struct StateReach {
    /// The Member State.
    pub member_state: String,
    /// The messages served there.
    pub reach: Count,
}

fn ser_states<S: Serializer>(v: &[StateReach], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(v.len()))?;
    for r in v {
        m.serialize_entry(&r.member_state, &r.reach)?;
    }
    m.end()
}

/// One campaign as published: what DSA Art. 39(2) lists, counts suppressed.
#[derive(Clone, Debug, Serialize)]
pub struct CampaignView {
    /// Who reported the messages (the registered submitter).
    pub submitter: PartyRef,
    /// The submitter's campaign id.
    pub campaign_id: String,
    /// On whose behalf the ads were shown (`sponsor.on_behalf_of`).
    pub advertisers: Listed<PartyRef>,
    /// Who paid (`sponsor.payer`).
    pub payers: Listed<PartyRef>,
    /// Whether any of its messages is political.
    pub political: bool,
    /// Its political messages.
    pub political_messages: Count,
    /// Their political labels.
    pub political_labels: Listed<PoliticalLabel>,
    /// The brands shown.
    pub brands: Listed<String>,
    /// The subjects or headlines.
    pub subjects: Listed<String>,
    /// The creatives served.
    pub creatives: Listed<CreativeRef>,
    /// The channels it was served on.
    pub channels: Vec<String>,
    /// The languages of its creatives.
    pub languages: Vec<String>,
    /// First and last day shown (dates of `served_at`, UTC).
    pub first_shown: String,
    /// The last day shown.
    pub last_shown: String,
    /// Whether any of its messages had a targeting criterion.
    pub targeted: bool,
    /// Its targeted messages.
    pub targeted_messages: Count,
    /// The main parameters, inclusions and exclusions.
    pub targeting: Vec<CriterionView>,
    /// How many more criteria there are beyond those listed.
    pub targeting_more: u64,
    /// The kinds of data source its messages used.
    pub data_source_kinds: Vec<String>,
    /// The data providers.
    pub data_providers: Listed<String>,
    /// The GDPR Art. 9 special categories its criteria touched.
    pub special_categories: Vec<String>,
    /// Messages whose targeting involved a known minor.
    pub minor_messages: Count,
    /// Messages with a criterion an AI system chose.
    pub ai_selected_messages: Count,
    /// Messages whose delivery an AI system optimised.
    pub ai_delivery_messages: Count,
    /// What delivery was optimised for.
    pub optimisation_goals: Listed<String>,
    /// Total reach: the number of messages.
    pub reach: Count,
    #[serde(serialize_with = "ser_states")]
    /// The messages served in each Member State.
    pub reach_by_member_state: Vec<StateReach>,
    /// Messages sent after their recipient objected to the advertiser.
    pub objected_messages: Count,
    /// Index of the first and last message entry in the log.
    pub first_entry: u64,
    /// The last.
    pub last_entry: u64,
    /// The submitter's signed tallies beside the logged count (SPEC.md §3.8); `null` when
    /// the submitter logged none for this campaign.
    pub tally: Option<TallyView>,
}

impl CampaignView {
    /// The criteria that include.
    pub fn included(&self) -> Vec<&CriterionView> {
        self.targeting.iter().filter(|c| !c.excluded()).collect()
    }
    /// The criteria that exclude.
    pub fn excluded(&self) -> Vec<&CriterionView> {
        self.targeting.iter().filter(|c| c.excluded()).collect()
    }
    fn parties_text(l: &Listed<PartyRef>) -> String {
        let mut s = l.values.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let more = l.more_text();
        if !more.is_empty() {
            s.push(' ');
            s.push_str(&more);
        }
        s
    }
    /// The advertisers, in words.
    pub fn advertisers_text(&self) -> String {
        Self::parties_text(&self.advertisers)
    }
    /// The payers, in words.
    pub fn payers_text(&self) -> String {
        Self::parties_text(&self.payers)
    }
    /// The campaign's title: its brands, or its id.
    pub fn title(&self) -> String {
        if self.brands.values.is_empty() {
            self.campaign_id.clone()
        } else {
            self.brands.joined()
        }
    }
}

/// One page of search results.
#[derive(Clone, Debug, Serialize)]
pub struct SearchPage {
    /// Campaigns matching the search (all pages).
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Campaigns per page.
    pub per_page: u64,
    /// This page's campaigns.
    pub campaigns: Vec<CampaignView>,
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
