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

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::PoisonError;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};
use sightline_ledger::canonical::Entry;
use sightline_ledger::MEMBER_STATES;

use crate::app::AppState;
use crate::error::{WebError, WebResult};

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
pub const MAX_PER_PAGE: u64 = 500;
pub const MAX_PER_PAGE_CSV: u64 = 10_000;
/// Longest accepted text in a search parameter (characters).
const MAX_PARAM_CHARS: usize = 200;

// ---------------------------------------------------------------------------
// Suppressed counts
// ---------------------------------------------------------------------------

/// A message count as published: exact when 0 or at least 10, else `<10`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Exact(u64),
    Suppressed,
}

impl Count {
    pub fn of(n: u64) -> Count {
        if n > 0 && n < SUPPRESS_BELOW {
            Count::Suppressed
        } else {
            Count::Exact(n)
        }
    }

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
// The index
// ---------------------------------------------------------------------------

fn hash_of<K: Hash + ?Sized>(k: &K) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// Distinct values beyond a list's cap, told apart by hash.
#[derive(Clone, Debug, Default)]
struct Overflow {
    seen: HashSet<u64>,
    saturated: bool,
}

impl Overflow {
    fn note(&mut self, hash: u64) {
        if self.seen.len() < MAX_OVERFLOW_TRACKED {
            self.seen.insert(hash);
        } else if !self.seen.contains(&hash) {
            self.saturated = true;
        }
    }
    fn count(&self) -> u64 {
        self.seen.len() as u64
    }
}

/// Up to `cap` distinct values in first-seen order, and a count of the rest.
#[derive(Clone, Debug)]
struct Distinct<T> {
    items: Vec<T>,
    cap: usize,
    more: Overflow,
}

impl<T> Distinct<T> {
    fn new(cap: usize) -> Self {
        Distinct { items: Vec::new(), cap, more: Overflow::default() }
    }

    /// Adds a value unless an equal one is kept; `make` builds it, `hash`
    /// identifies it once the list is full (both called only when needed).
    fn insert(&mut self, eq: impl Fn(&T) -> bool, make: impl FnOnce() -> T, hash: impl FnOnce() -> u64) {
        if self.items.iter().any(eq) {
            return;
        }
        if self.items.len() < self.cap {
            self.items.push(make());
        } else {
            self.more.note(hash());
        }
    }

    fn listed<U>(&self, f: impl Fn(&T) -> U) -> Listed<U> {
        Listed { values: self.items.iter().map(f).collect(), more: self.more.count(), more_is_lower_bound: self.more.saturated }
    }
}

impl Distinct<String> {
    fn insert_str(&mut self, s: &str) {
        self.insert(|x| x == s, || s.to_owned(), || hash_of(s));
    }
}

/// One creative as served (no personal data: ids and a digest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreativeRef {
    pub creative_id: String,
    pub ad_id: String,
    pub sha256: String,
}

#[derive(Clone, Debug)]
struct CriterionAgg {
    effect: String,
    kind: String,
    description: String,
    special_category: Option<String>,
    minor: bool,
    ai_selected: bool,
    messages: u64,
    /// The last message counted, so that two criteria of one message with the
    /// same description count that message once.
    last_index: u64,
}

/// Everything kept about one campaign.
#[derive(Clone, Debug)]
struct Campaign {
    submitter: String,
    campaign_id: String,
    advertisers: Distinct<String>,
    payers: Distinct<String>,
    political_messages: u64,
    political_labels: Distinct<Value>,
    brands: Distinct<String>,
    subjects: Distinct<String>,
    creatives: Distinct<CreativeRef>,
    channels: Distinct<String>,
    languages: Distinct<String>,
    first_day: String,
    last_day: String,
    targeted_messages: u64,
    criteria: Vec<CriterionAgg>,
    criteria_by_hash: HashMap<u64, Vec<usize>>,
    criteria_more: Overflow,
    source_kinds: Distinct<String>,
    providers: Distinct<String>,
    special_categories: Distinct<String>,
    minor_messages: u64,
    ai_selected_messages: u64,
    ai_delivery_messages: u64,
    goals: Distinct<String>,
    messages: u64,
    by_state: [u64; 27],
    objected_messages: u64,
    first_index: u64,
    last_index: u64,
}

impl Campaign {
    fn new(submitter: &str, campaign_id: &str, index: u64, day: &str) -> Campaign {
        Campaign {
            submitter: submitter.to_owned(),
            campaign_id: campaign_id.to_owned(),
            advertisers: Distinct::new(MAX_LISTED),
            payers: Distinct::new(MAX_LISTED),
            political_messages: 0,
            political_labels: Distinct::new(MAX_LISTED),
            brands: Distinct::new(MAX_LISTED),
            subjects: Distinct::new(MAX_LISTED),
            creatives: Distinct::new(MAX_LISTED),
            channels: Distinct::new(MAX_LISTED),
            languages: Distinct::new(MAX_LISTED),
            first_day: day.to_owned(),
            last_day: day.to_owned(),
            targeted_messages: 0,
            criteria: Vec::new(),
            criteria_by_hash: HashMap::new(),
            criteria_more: Overflow::default(),
            source_kinds: Distinct::new(MAX_LISTED),
            providers: Distinct::new(MAX_LISTED),
            special_categories: Distinct::new(MAX_LISTED),
            minor_messages: 0,
            ai_selected_messages: 0,
            ai_delivery_messages: 0,
            goals: Distinct::new(MAX_LISTED),
            messages: 0,
            by_state: [0; 27],
            objected_messages: 0,
            first_index: index,
            last_index: index,
        }
    }

    fn add_criterion(&mut self, index: u64, c: &Value) {
        let effect = str_at(c, "effect");
        let kind = str_at(c, "type");
        let description = str_at(c, "description");
        let minor = c.get("minor").and_then(Value::as_bool).unwrap_or(false);
        let ai = c.get("ai_selected").and_then(Value::as_bool).unwrap_or(false);
        let same = |a: &CriterionAgg| a.effect == effect && a.kind == kind && a.description == description;
        let hash = || hash_of(&(effect, kind, description));
        // A few criteria: scan them; many: look them up by hash.
        let found = if self.criteria.len() <= 16 {
            self.criteria.iter().position(same)
        } else {
            let slots = self.criteria_by_hash.get(&hash());
            slots.and_then(|s| s.iter().copied().find(|&i| same(&self.criteria[i])))
        };
        if let Some(i) = found {
            let a = &mut self.criteria[i];
            if a.last_index != index {
                a.messages += 1;
                a.last_index = index;
            }
            a.minor |= minor;
            a.ai_selected |= ai;
            return;
        }
        if self.criteria.len() >= MAX_CRITERIA {
            self.criteria_more.note(hash());
            return;
        }
        self.criteria_by_hash.entry(hash()).or_default().push(self.criteria.len());
        self.criteria.push(CriterionAgg {
            effect: effect.to_owned(),
            kind: kind.to_owned(),
            description: description.to_owned(),
            special_category: c.get("special_category").and_then(Value::as_str).map(str::to_owned),
            minor,
            ai_selected: ai,
            messages: 1,
            last_index: index,
        });
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The in-memory library: one row per campaign, plus the names of parties and
/// submitters learned from their registration entries.
#[derive(Clone, Debug, Default)]
pub struct LibraryIndex {
    campaigns: Vec<Campaign>,
    by_key: HashMap<String, HashMap<String, usize>>,
    parties: HashMap<String, String>,
    submitters: HashMap<String, String>,
    messages: u64,
    last_added: Option<u64>,
}

impl LibraryIndex {
    /// Adds one entry of the log. Entries must come in log order; an entry at
    /// or below the last one added is ignored (so a re-scan never counts twice).
    /// Only `message` entries become rows; `party` and `submitter` entries
    /// give names. Malformed bodies are skipped (the log validated them).
    pub fn add(&mut self, index: u64, entry: &Entry) {
        if self.last_added.is_some_and(|last| index <= last) {
            return;
        }
        self.last_added = Some(index);
        let b = &entry.body;
        match entry.kind() {
            "party" => {
                if let (Some(id), Some(name)) = (b.get("party").and_then(Value::as_str), b.get("name").and_then(Value::as_str)) {
                    self.parties.insert(id.to_owned(), name.to_owned());
                }
            }
            "submitter" => {
                if let (Some(id), Some(name)) = (b.get("submitter").and_then(Value::as_str), b.get("name").and_then(Value::as_str)) {
                    self.submitters.insert(id.to_owned(), name.to_owned());
                }
            }
            "message" => {
                let _ = self.add_message(index, entry);
            }
            _ => {}
        }
    }

    fn add_message(&mut self, index: u64, entry: &Entry) -> Option<()> {
        let b = &entry.body;
        let signer = b.get("signer")?.as_str()?;
        let delivery = b.get("delivery")?;
        let creative = delivery.get("creative")?;
        let campaign_id = creative.get("campaign_id")?.as_str()?;
        let served_at = delivery.get("served_at")?.as_str()?;
        let day = served_at.get(..10)?;
        let sponsor = b.get("sponsor")?;
        let targeting = b.get("targeting")?;

        let slot = match self.by_key.get(signer).and_then(|m| m.get(campaign_id)) {
            Some(&i) => i,
            None => {
                let i = self.campaigns.len();
                self.campaigns.push(Campaign::new(signer, campaign_id, index, day));
                self.by_key.entry(signer.to_owned()).or_default().insert(campaign_id.to_owned(), i);
                i
            }
        };
        self.messages += 1;
        let c = &mut self.campaigns[slot];
        c.messages += 1;
        c.last_index = index;
        if *day < *c.first_day {
            c.first_day = day.to_owned();
        }
        if *day > *c.last_day {
            c.last_day = day.to_owned();
        }
        let member_state = str_at(delivery, "member_state");
        if let Some(i) = MEMBER_STATES.iter().position(|m| *m == member_state) {
            c.by_state[i] += 1;
        }
        c.channels.insert_str(str_at(delivery, "channel"));
        c.languages.insert_str(str_at(creative, "language"));
        c.brands.insert_str(str_at(creative, "brand"));
        c.subjects.insert_str(str_at(creative, "subject"));
        let (cid, aid, sha) = (str_at(creative, "creative_id"), str_at(creative, "ad_id"), str_at(creative, "sha256"));
        c.creatives.insert(
            |x| x.creative_id == cid && x.ad_id == aid && x.sha256 == sha,
            || CreativeRef { creative_id: cid.to_owned(), ad_id: aid.to_owned(), sha256: sha.to_owned() },
            || hash_of(&(cid, aid, sha)),
        );

        c.advertisers.insert_str(str_at(sponsor, "on_behalf_of"));
        c.payers.insert_str(str_at(sponsor, "payer"));
        if let Some(p) = sponsor.get("political").filter(|p| p.is_object()) {
            c.political_messages += 1;
            c.political_labels.insert(|x| x == p, || p.clone(), || hash_of(&p.to_string()));
        }

        let criteria = targeting.get("criteria").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
        if !criteria.is_empty() {
            c.targeted_messages += 1;
        }
        let (mut minor, mut ai) = (false, false);
        for cr in criteria {
            c.add_criterion(index, cr);
            minor |= cr.get("minor").and_then(Value::as_bool).unwrap_or(false);
            ai |= cr.get("ai_selected").and_then(Value::as_bool).unwrap_or(false);
            if let Some(sc) = cr.get("special_category").and_then(Value::as_str) {
                c.special_categories.insert_str(sc);
            }
        }
        c.minor_messages += u64::from(minor);
        c.ai_selected_messages += u64::from(ai);
        if let Some(opt) = targeting.get("delivery_optimisation") {
            if opt.get("ai_system").and_then(Value::as_bool).unwrap_or(false) {
                c.ai_delivery_messages += 1;
            }
            if let Some(goal) = opt.get("goal").and_then(Value::as_str) {
                c.goals.insert_str(goal);
            }
        }
        for l in b.get("lineage").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]) {
            c.source_kinds.insert_str(str_at(l, "kind"));
            c.providers.insert_str(str_at(l, "provider"));
        }
        if entry.flags.iter().any(|f| f.starts_with("objected:")) {
            c.objected_messages += 1;
        }
        Some(())
    }

    /// Campaigns in the library.
    pub fn campaigns(&self) -> usize {
        self.campaigns.len()
    }

    /// Messages in the library.
    pub fn messages(&self) -> u64 {
        self.messages
    }

    fn party(&self, id: &str) -> PartyRef {
        PartyRef { id: id.to_owned(), name: self.parties.get(id).cloned() }
    }

    fn party_matches(&self, ids: &Distinct<String>, needle: &str) -> bool {
        ids.items.iter().any(|id| contains_ci(id, needle) || self.parties.get(id).is_some_and(|n| contains_ci(n, needle)))
    }

    fn matches(&self, c: &Campaign, q: &LibraryQuery) -> bool {
        if let Some(p) = q.political {
            if (c.political_messages > 0) != p {
                return false;
            }
        }
        if let Some(ms) = &q.member_state {
            match MEMBER_STATES.iter().position(|m| m == ms) {
                Some(i) if c.by_state[i] > 0 => {}
                _ => return false,
            }
        }
        if q.from.as_ref().is_some_and(|from| c.last_day < *from) || q.to.as_ref().is_some_and(|to| c.first_day > *to) {
            return false;
        }
        if let Some(e) = &q.election {
            if !c.political_labels.items.iter().any(|l| contains_ci(str_at(l, "linked_to"), e)) {
                return false;
            }
        }
        if q.advertiser.as_ref().is_some_and(|a| !self.party_matches(&c.advertisers, a)) {
            return false;
        }
        if q.payer.as_ref().is_some_and(|a| !self.party_matches(&c.payers, a)) {
            return false;
        }
        if let Some(t) = &q.q {
            let hit = c.brands.items.iter().any(|s| contains_ci(s, t))
                || c.subjects.items.iter().any(|s| contains_ci(s, t))
                || c.criteria.iter().any(|k| contains_ci(&k.description, t));
            if !hit {
                return false;
            }
        }
        true
    }

    /// Runs a search: every given criterion must hold (AND). Results are
    /// ordered by last day shown (newest first), then submitter and campaign.
    pub fn search(&self, q: &LibraryQuery) -> SearchPage {
        let mut hits: Vec<&Campaign> = self.campaigns.iter().filter(|c| self.matches(c, q)).collect();
        hits.sort_by(|a, b| {
            b.last_day.cmp(&a.last_day).then_with(|| a.submitter.cmp(&b.submitter)).then_with(|| a.campaign_id.cmp(&b.campaign_id))
        });
        let total = hits.len() as u64;
        let skip = (q.page - 1).saturating_mul(q.per_page);
        let campaigns =
            hits.into_iter().skip(usize::try_from(skip).unwrap_or(usize::MAX)).take(q.per_page as usize).map(|c| self.view(c)).collect();
        SearchPage { total, page: q.page, per_page: q.per_page, campaigns }
    }

    fn view(&self, c: &Campaign) -> CampaignView {
        let reach_by_member_state = MEMBER_STATES
            .iter()
            .zip(c.by_state)
            .filter(|(_, n)| *n > 0)
            .map(|(ms, n)| StateReach { member_state: (*ms).to_owned(), reach: Count::of(n) })
            .collect();
        let targeting = c
            .criteria
            .iter()
            .map(|k| CriterionView {
                effect: k.effect.clone(),
                kind: k.kind.clone(),
                description: k.description.clone(),
                special_category: k.special_category.clone(),
                minor: k.minor,
                ai_selected: k.ai_selected,
                messages: Count::of(k.messages),
            })
            .collect();
        CampaignView {
            submitter: PartyRef { id: c.submitter.clone(), name: self.submitters.get(&c.submitter).cloned() },
            campaign_id: c.campaign_id.clone(),
            advertisers: c.advertisers.listed(|id| self.party(id)),
            payers: c.payers.listed(|id| self.party(id)),
            political: c.political_messages > 0,
            political_messages: Count::of(c.political_messages),
            political_labels: c.political_labels.listed(PoliticalLabel::from_value),
            brands: c.brands.listed(String::clone),
            subjects: c.subjects.listed(String::clone),
            creatives: c.creatives.listed(CreativeRef::clone),
            channels: c.channels.items.clone(),
            languages: c.languages.items.clone(),
            first_shown: c.first_day.clone(),
            last_shown: c.last_day.clone(),
            targeted: c.targeted_messages > 0,
            targeted_messages: Count::of(c.targeted_messages),
            targeting,
            targeting_more: c.criteria_more.count(),
            data_source_kinds: c.source_kinds.items.clone(),
            data_providers: c.providers.listed(String::clone),
            special_categories: c.special_categories.items.clone(),
            minor_messages: Count::of(c.minor_messages),
            ai_selected_messages: Count::of(c.ai_selected_messages),
            ai_delivery_messages: Count::of(c.ai_delivery_messages),
            optimisation_goals: c.goals.listed(String::clone),
            reach: Count::of(c.messages),
            reach_by_member_state,
            objected_messages: Count::of(c.objected_messages),
            first_entry: c.first_index,
            last_entry: c.last_index,
        }
    }
}

/// Case-insensitive substring test; `needle` is already lower-case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(needle)
}

// ---------------------------------------------------------------------------
// What a search returns (also the JSON of the API)
// ---------------------------------------------------------------------------

/// A registered party (or submitter) by id, with its registered name.
#[derive(Clone, Debug, Serialize)]
pub struct PartyRef {
    pub id: String,
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
    pub values: Vec<T>,
    pub more: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
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
    pub fn joined(&self) -> String {
        self.values.join(", ")
    }
}

/// The TTPA (Reg. 2024/900) label of a political message.
#[derive(Clone, Debug, Serialize)]
pub struct PoliticalLabel {
    pub kind: String,
    pub linked_to: String,
    /// A date or `not_disclosed`.
    pub date: String,
    /// `{value, currency}` or `"not_disclosed"`.
    pub amount: Value,
    /// Text or `not_disclosed`.
    pub funding_origin: String,
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
    pub kind: String,
    pub description: String,
    pub special_category: Option<String>,
    pub minor: bool,
    pub ai_selected: bool,
    pub messages: Count,
}

impl CriterionView {
    pub fn excluded(&self) -> bool {
        self.effect == "exclude"
    }
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
    pub member_state: String,
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
    pub campaign_id: String,
    /// On whose behalf the ads were shown (`sponsor.on_behalf_of`).
    pub advertisers: Listed<PartyRef>,
    /// Who paid (`sponsor.payer`).
    pub payers: Listed<PartyRef>,
    pub political: bool,
    pub political_messages: Count,
    pub political_labels: Listed<PoliticalLabel>,
    pub brands: Listed<String>,
    pub subjects: Listed<String>,
    pub creatives: Listed<CreativeRef>,
    pub channels: Vec<String>,
    pub languages: Vec<String>,
    /// First and last day shown (dates of `served_at`, UTC).
    pub first_shown: String,
    pub last_shown: String,
    pub targeted: bool,
    pub targeted_messages: Count,
    /// The main parameters, inclusions and exclusions.
    pub targeting: Vec<CriterionView>,
    pub targeting_more: u64,
    pub data_source_kinds: Vec<String>,
    pub data_providers: Listed<String>,
    pub special_categories: Vec<String>,
    pub minor_messages: Count,
    pub ai_selected_messages: Count,
    pub ai_delivery_messages: Count,
    pub optimisation_goals: Listed<String>,
    /// Total reach: the number of messages.
    pub reach: Count,
    #[serde(serialize_with = "ser_states")]
    pub reach_by_member_state: Vec<StateReach>,
    pub objected_messages: Count,
    /// Index of the first and last message entry in the log.
    pub first_entry: u64,
    pub last_entry: u64,
}

impl CampaignView {
    pub fn included(&self) -> Vec<&CriterionView> {
        self.targeting.iter().filter(|c| !c.excluded()).collect()
    }
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
    pub fn advertisers_text(&self) -> String {
        Self::parties_text(&self.advertisers)
    }
    pub fn payers_text(&self) -> String {
        Self::parties_text(&self.payers)
    }
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
    pub page: u64,
    pub per_page: u64,
    pub campaigns: Vec<CampaignView>,
}

// ---------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------

/// Where a query comes from: the HTML page or the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    Html,
    Api,
}

/// Output format of the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Json,
    Csv,
    Html,
}

/// A validated library search.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibraryQuery {
    /// Lower-cased substring of an advertiser's party id or name.
    pub advertiser: Option<String>,
    pub payer: Option<String>,
    pub political: Option<bool>,
    /// Lower-cased substring of a political label's `linked_to`.
    pub election: Option<String>,
    pub member_state: Option<String>,
    /// `YYYY-MM-DD`: campaigns shown on at least one day of `from..=to`.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Lower-cased text in a brand, subject or criterion description.
    pub q: Option<String>,
    pub page: u64,
    pub per_page: u64,
    pub format: Format,
    /// The search parameters as given (trimmed), to rebuild links and the form.
    given: Vec<(&'static str, String)>,
    per_page_given: bool,
}

impl Default for LibraryQuery {
    fn default() -> Self {
        LibraryQuery {
            advertiser: None,
            payer: None,
            political: None,
            election: None,
            member_state: None,
            from: None,
            to: None,
            q: None,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            format: Format::Json,
            given: Vec::new(),
            per_page_given: false,
        }
    }
}

const SEARCH_PARAMS: [&str; 8] = ["advertiser", "payer", "political", "election", "member_state", "from", "to", "q"];

fn text_param(name: &str, v: &str) -> Result<String, String> {
    if v.chars().count() > MAX_PARAM_CHARS {
        return Err(format!("`{name}` is longer than {MAX_PARAM_CHARS} characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(format!("`{name}` must not contain control characters"));
    }
    Ok(v.to_lowercase())
}

fn date_param(name: &str, v: &str) -> Result<String, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(v, &fmt) {
        Ok(d) if v.len() == 10 => Ok(d.to_string()),
        _ => Err(format!("`{name}` must be a date YYYY-MM-DD, e.g. 2026-11-20 (got `{v}`)")),
    }
}

fn number_param(name: &str, v: &str, max: u64) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("`{name}` must be a whole number from 1 to {max} (got `{v}`)")),
    }
}

impl LibraryQuery {
    /// Validates decoded query parameters. Empty values count as absent (an
    /// HTML form sends every field); unknown or repeated parameters are errors.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], surface: Surface) -> Result<LibraryQuery, String> {
        let mut q = LibraryQuery { format: if surface == Surface::Html { Format::Html } else { Format::Json }, ..LibraryQuery::default() };
        let mut seen: Vec<&str> = Vec::new();
        let (mut page, mut per_page) = (None, None);
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref().trim());
            if seen.contains(&k) {
                return Err(format!("`{k}` is given more than once"));
            }
            seen.push(k);
            let known = SEARCH_PARAMS.contains(&k) || ["page", "per_page", "format"].contains(&k);
            if !known {
                return Err(format!(
                    "unknown parameter `{k}`; use advertiser, payer, political, election, member_state, from, to, q, page, per_page{}",
                    if surface == Surface::Api { ", format" } else { "" }
                ));
            }
            if v.is_empty() {
                continue;
            }
            if let Some(name) = SEARCH_PARAMS.iter().find(|p| **p == k) {
                q.given.push((name, v.to_owned()));
            }
            match k {
                "advertiser" => q.advertiser = Some(text_param(k, v)?),
                "payer" => q.payer = Some(text_param(k, v)?),
                "election" => q.election = Some(text_param(k, v)?),
                "q" => q.q = Some(text_param(k, v)?),
                "political" => {
                    q.political = Some(match v {
                        "true" => true,
                        "false" => false,
                        _ => return Err(format!("`political` must be true or false (got `{v}`)")),
                    })
                }
                "member_state" => {
                    let ms = v.to_ascii_uppercase();
                    if ms == "GR" {
                        return Err("`member_state`: use EL for Greece (EU usage), not GR".into());
                    }
                    if !MEMBER_STATES.contains(&ms.as_str()) {
                        return Err(format!(
                            "`member_state` must be the code of an EU Member State, one of {} (got `{v}`)",
                            MEMBER_STATES.join(" ")
                        ));
                    }
                    q.member_state = Some(ms);
                }
                "from" => q.from = Some(date_param(k, v)?),
                "to" => q.to = Some(date_param(k, v)?),
                "page" => page = Some(v),
                "per_page" => per_page = Some(v),
                "format" if surface == Surface::Api => {
                    q.format = match v {
                        "json" => Format::Json,
                        "csv" => Format::Csv,
                        _ => return Err(format!("`format` must be json or csv (got `{v}`)")),
                    }
                }
                "format" => return Err("`format` is for /api/v1/library (json or csv); this page is HTML".into()),
                _ => {} // unknown names were refused above
            }
        }
        if let (Some(from), Some(to)) = (&q.from, &q.to) {
            if from > to {
                return Err(format!("`from` ({from}) is after `to` ({to})"));
            }
        }
        let max = if q.format == Format::Csv { MAX_PER_PAGE_CSV } else { MAX_PER_PAGE };
        if let Some(v) = per_page {
            q.per_page = number_param("per_page", v, max)?;
            q.per_page_given = true;
        }
        if let Some(v) = page {
            q.page = number_param("page", v, u64::MAX)?;
        }
        Ok(q)
    }

    /// The value given for a search parameter (as typed, trimmed).
    pub fn given(&self, name: &str) -> &str {
        self.given.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// The search parameters as a query string (no paging, no format).
    pub fn search_query_string(&self) -> String {
        encode_pairs(self.given.iter().map(|(k, v)| (*k, v.as_str())))
    }

    fn link(&self, path: &str, extra: &[(&str, String)]) -> String {
        let mut s = self.search_query_string();
        let rest = encode_pairs(extra.iter().map(|(k, v)| (*k, v.as_str())));
        if !rest.is_empty() {
            if !s.is_empty() {
                s.push('&');
            }
            s.push_str(&rest);
        }
        if s.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{s}")
        }
    }

    fn paging(&self, page: u64) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        if page != 1 {
            v.push(("page", page.to_string()));
        }
        if self.per_page_given {
            v.push(("per_page", self.per_page.to_string()));
        }
        v
    }
}

// ---------------------------------------------------------------------------
// URL query strings (application/x-www-form-urlencoded)
// ---------------------------------------------------------------------------

/// Decodes a query string into pairs (`+` is a space, `%XX` a byte; the
/// result must be UTF-8).
pub fn parse_query_string(raw: &str) -> Result<Vec<(String, String)>, String> {
    fn decode(s: &str) -> Result<String, String> {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
                    out.push(hex.ok_or("the query string has a malformed %-escape")?);
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "the query string is not UTF-8".to_string())
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Encodes pairs as a query string.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    fn enc(s: &str, out: &mut String) {
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        enc(k, &mut out);
        out.push('=');
        enc(v, &mut out);
    }
    out
}

// ---------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------

/// One CSV cell: RFC 4180 quoting, and a leading `'` before a cell that a
/// spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, CR).
pub fn csv_cell(s: &str) -> String {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The columns of the CSV export, in order (documented in `web/openapi.yaml`).
pub fn csv_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "submitter",
        "submitter_name",
        "campaign_id",
        "advertiser_ids",
        "advertiser_names",
        "payer_ids",
        "payer_names",
        "political",
        "political_messages",
        "political_kind",
        "political_linked_to",
        "political_date",
        "political_amount",
        "political_currency",
        "political_funding_origin",
        "political_notice_url",
        "brands",
        "subjects",
        "subjects_more",
        "creatives",
        "creatives_more",
        "channels",
        "languages",
        "first_shown",
        "last_shown",
        "targeted",
        "targeted_messages",
        "targeting_included",
        "targeting_excluded",
        "targeting_more",
        "data_source_kinds",
        "data_providers",
        "special_categories",
        "minor_messages",
        "ai_selected_messages",
        "ai_delivery_messages",
        "optimisation_goals",
        "reach",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    cols.extend(MEMBER_STATES.iter().map(|ms| format!("reach_{ms}")));
    cols.extend(["objected_messages", "first_entry", "last_entry"].iter().map(|s| (*s).to_owned()));
    cols
}

fn lines<T>(v: &[T], f: impl Fn(&T) -> String) -> String {
    v.iter().map(f).collect::<Vec<_>>().join("\n")
}

fn csv_row(c: &CampaignView) -> Vec<String> {
    let labels = &c.political_labels.values;
    let mut row = vec![
        c.submitter.id.clone(),
        c.submitter.name.clone().unwrap_or_default(),
        c.campaign_id.clone(),
        lines(&c.advertisers.values, |p| p.id.clone()),
        lines(&c.advertisers.values, |p| p.name.clone().unwrap_or_default()),
        lines(&c.payers.values, |p| p.id.clone()),
        lines(&c.payers.values, |p| p.name.clone().unwrap_or_default()),
        c.political.to_string(),
        c.political_messages.to_string(),
        lines(labels, |l| l.kind.clone()),
        lines(labels, |l| l.linked_to.clone()),
        lines(labels, |l| l.date.clone()),
        lines(labels, |l| l.amount.get("value").and_then(Value::as_str).unwrap_or("not_disclosed").to_owned()),
        lines(labels, |l| l.amount.get("currency").and_then(Value::as_str).unwrap_or("not_disclosed").to_owned()),
        lines(labels, |l| l.funding_origin.clone()),
        lines(labels, |l| l.notice_url.clone()),
        lines(&c.brands.values, String::clone),
        lines(&c.subjects.values, String::clone),
        c.subjects.more.to_string(),
        lines(&c.creatives.values, |k| format!("{} {} {}", k.creative_id, k.ad_id, k.sha256)),
        c.creatives.more.to_string(),
        c.channels.join("\n"),
        c.languages.join("\n"),
        c.first_shown.clone(),
        c.last_shown.clone(),
        c.targeted.to_string(),
        c.targeted_messages.to_string(),
        lines(&c.included(), |k| k.csv_line()),
        lines(&c.excluded(), |k| k.csv_line()),
        c.targeting_more.to_string(),
        c.data_source_kinds.join("\n"),
        lines(&c.data_providers.values, String::clone),
        c.special_categories.join("\n"),
        c.minor_messages.to_string(),
        c.ai_selected_messages.to_string(),
        c.ai_delivery_messages.to_string(),
        lines(&c.optimisation_goals.values, String::clone),
        c.reach.to_string(),
    ];
    for ms in MEMBER_STATES {
        row.push(c.reach_by_member_state.iter().find(|r| r.member_state == ms).map(|r| r.reach).unwrap_or(Count::Exact(0)).to_string());
    }
    row.extend([c.objected_messages.to_string(), c.first_entry.to_string(), c.last_entry.to_string()]);
    row
}

/// The CSV of a page of results: a header line, then one line per campaign
/// (list cells hold one value per line), CRLF line ends.
pub fn to_csv(page: &SearchPage) -> String {
    let mut out = String::new();
    let mut push = |cells: Vec<String>| {
        out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    };
    push(csv_columns());
    for c in &page.campaigns {
        push(csv_row(c));
    }
    out
}

// ---------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------

/// An `<option>` of a select.
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
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
pub async fn page(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let rendered = {
        let lib = state.library.read().unwrap_or_else(PoisonError::into_inner);
        match parse_query_string(raw.as_deref().unwrap_or("")) {
            Ok(pairs) => render_page(&lib, state.ledger.origin(), &pairs),
            Err(e) => render::<&str, &str>(&lib, state.ledger.origin(), &[], Err(e)),
        }
    };
    match rendered {
        Ok((status, html)) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/library`
pub async fn api(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let pairs = match parse_query_string(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return WebError::BadRequest(e).into_response(),
    };
    let lib = state.library.read().unwrap_or_else(PoisonError::into_inner);
    match api_response(&lib, &pairs) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}
