//! The library index: one aggregate per campaign, built entry by entry from the public log.
//!
//! Over 400 lines because one campaign's aggregate and the code that folds each entry into it
//! read best side by side; the tally comparison lives apart, in `tallies.rs`.

use rayon::prelude::*;
use serde::Deserialize;

use super::tallies::CampaignTallies;
use super::*;

fn hash_of<K: Hash + ?Sized>(k: &K) -> u64 {
    let mut h = DefaultHasher::new();
    k.hash(&mut h);
    h.finish()
}

/// Distinct values beyond a list's cap, told apart by hash.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Serialize, Deserialize)]
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

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CriterionAgg {
    effect: String,
    kind: String,
    description: String,
    special_category: Option<String>,
    art9_condition: Option<String>,
    match_keys: Vec<String>,
    seed_audience: Option<String>,
    minor: bool,
    ai_selected: bool,
    messages: u64,
    /// The last message counted, so that two criteria of one message with the
    /// same description count that message once.
    last_index: u64,
}

/// Everything kept about one campaign.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct Campaign {
    pub(super) submitter: String,
    pub(super) campaign_id: String,
    advertisers: Distinct<String>,
    payers: Distinct<String>,
    political_messages: u64,
    /// Each label's canonical text and its value.
    political_labels: Distinct<(String, Value)>,
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
    precisions: Distinct<String>,
    id_types: Distinct<String>,
    onboarders: Distinct<String>,
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
    tallies: CampaignTallies,
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
            precisions: Distinct::new(MAX_LISTED),
            id_types: Distinct::new(MAX_LISTED),
            onboarders: Distinct::new(MAX_LISTED),
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
            tallies: CampaignTallies::default(),
        }
    }

    fn add_criterion(&mut self, index: u64, c: &fields::Criterion<'_>) {
        let (effect, kind, description) = (c.effect.as_str(), c.kind.as_str(), c.description.as_str());
        let (minor, ai) = (c.minor.0, c.ai_selected.0);
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
            special_category: c.special_category.0.as_deref().map(str::to_owned),
            art9_condition: c.art9_condition.0.as_deref().map(str::to_owned),
            match_keys: c.match_keys.0.iter().map(|k| k.as_str().to_owned()).collect(),
            seed_audience: c.seed_audience.0.as_ref().map(|s| s.description.as_str().to_owned()),
            minor,
            ai_selected: ai,
            messages: 1,
            last_index: index,
        });
    }
}

pub(super) fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The in-memory library: one row per campaign, plus the names of parties and
/// submitters learned from their registration entries.
#[derive(Clone, Debug, Default)]
pub struct LibraryIndex {
    pub(super) campaigns: Vec<Campaign>,
    pub(super) by_key: HashMap<String, HashMap<String, usize>>,
    pub(super) parties: HashMap<String, String>,
    pub(super) submitters: HashMap<String, String>,
    pub(super) messages: u64,
    pub(super) last_added: Option<u64>,
    /// Tallies of campaigns with no message yet, by submitter and campaign.
    pub(super) pending_tallies: HashMap<String, HashMap<String, CampaignTallies>>,
    /// Campaigns changed since the index was last saved (`saved.rs`).
    pub(super) unsaved: BTreeSet<usize>,
    /// The last entry the saved rows cover.
    pub(super) saved_through: Option<u64>,
}

/// The index's fields of each entry, decoded on all cores.
fn parse_all(entries: &[Vec<u8>]) -> Vec<Option<fields::Entry<'_>>> {
    entries.par_iter().map(|b| fields::Entry::parse(b)).collect()
}

impl LibraryIndex {
    /// The first entry of the log the index has not seen: where a listener of new entries
    /// takes over from the start-up scan.
    pub fn next_entry(&self) -> u64 {
        self.last_added.map_or(0, |last| last + 1)
    }

    /// Adds one entry of the log, given as its logged bytes (read through the
    /// ledger, which checked them against the tree). Entries must come in log
    /// order; an entry at or below the last one added is ignored (so a re-scan
    /// never counts twice). Only `message` entries become rows; `party` and
    /// `submitter` entries give names. Bytes that are not a JSON entry are
    /// skipped (the log validated them when they were appended).
    pub fn add(&mut self, index: u64, bytes: &[u8]) {
        if self.last_added.is_some_and(|last| index <= last) {
            return;
        }
        self.add_parsed(index, fields::Entry::parse(bytes));
    }

    /// Adds entries `start..` as [`LibraryIndex::add`] does, parsing them on
    /// all cores first (the start-up scan).
    pub fn add_all(&mut self, start: u64, entries: &[Vec<u8>]) {
        self.add_all_parsed(start, parse_all(entries));
    }

    /// Adds a group commit's entries `start..` to the shared index. They are parsed on
    /// all cores before the lock is taken: the ledger calls this from the thread that made
    /// the commit durable (the committer's), and library readers then wait only for the
    /// aggregation.
    pub fn add_committed(library: &std::sync::RwLock<LibraryIndex>, start: u64, entries: &[Vec<u8>]) {
        let parsed = parse_all(entries);
        if let Ok(mut lib) = library.write() {
            lib.add_all_parsed(start, parsed);
        }
    }

    fn add_all_parsed(&mut self, start: u64, parsed: Vec<Option<fields::Entry<'_>>>) {
        for (index, entry) in (start..).zip(parsed) {
            if self.last_added.is_none_or(|last| index > last) {
                self.add_parsed(index, entry);
            }
        }
    }

    fn add_parsed(&mut self, index: u64, entry: Option<fields::Entry<'_>>) {
        self.last_added = Some(index);
        let Some(entry) = entry else { return };
        let b = &entry.body;
        match b.kind.as_str() {
            "party" => {
                if let (Some(id), Some(name)) = (&b.party.0, &b.name.0) {
                    self.parties.insert(id.to_string(), name.to_string());
                }
            }
            "submitter" => {
                if let (Some(id), Some(name)) = (&b.submitter.0, &b.name.0) {
                    self.submitters.insert(id.to_string(), name.to_string());
                }
            }
            "message" => {
                let _ = self.add_message(index, &entry);
            }
            "tally" => {
                let (signer, campaign, day) = (b.signer.as_str(), b.campaign_id.as_str(), b.day.as_str());
                let delivered = b.delivered.map_or("", |d| d.get());
                match self.by_key.get(signer).and_then(|m| m.get(campaign)) {
                    Some(&i) => {
                        self.campaigns[i].tallies.record(day, delivered);
                        self.unsaved.insert(i);
                    }
                    None => self
                        .pending_tallies
                        .entry(signer.to_owned())
                        .or_default()
                        .entry(campaign.to_owned())
                        .or_default()
                        .record(day, delivered),
                }
            }
            _ => {}
        }
    }

    fn add_message(&mut self, index: u64, entry: &fields::Entry<'_>) -> Option<()> {
        let b = &entry.body;
        let signer = b.signer.0.as_deref()?;
        let delivery = b.delivery.0.as_ref()?;
        let creative = delivery.creative.0.as_ref()?;
        let campaign_id = creative.campaign_id.0.as_deref()?;
        let served_at = delivery.served_at.0.as_deref()?;
        let day = served_at.get(..10)?;
        let sponsor = b.sponsor.0.as_ref()?;
        let targeting = b.targeting.0.as_ref()?;

        let slot = match self.by_key.get(signer).and_then(|m| m.get(campaign_id)) {
            Some(&i) => i,
            None => {
                let i = self.campaigns.len();
                let mut campaign = Campaign::new(signer, campaign_id, index, day);
                if let Some(t) = self.pending_tallies.get_mut(signer).and_then(|m| m.remove(campaign_id)) {
                    campaign.tallies.absorb(t);
                }
                self.campaigns.push(campaign);
                self.by_key.entry(signer.to_owned()).or_default().insert(campaign_id.to_owned(), i);
                i
            }
        };
        self.messages += 1;
        self.unsaved.insert(slot);
        let c = &mut self.campaigns[slot];
        c.messages += 1;
        c.last_index = index;
        if *day < *c.first_day {
            c.first_day = day.to_owned();
        }
        if *day > *c.last_day {
            c.last_day = day.to_owned();
        }
        let member_state = delivery.member_state.as_str();
        if let Some(i) = MEMBER_STATES.iter().position(|m| *m == member_state) {
            c.by_state[i] += 1;
            c.tallies.count_message(day, i);
        }
        c.channels.insert_str(delivery.channel.as_str());
        c.languages.insert_str(creative.language.as_str());
        c.brands.insert_str(creative.brand.as_str());
        c.subjects.insert_str(creative.subject.as_str());
        let (cid, aid, sha) = (creative.creative_id.as_str(), creative.ad_id.as_str(), creative.sha256.as_str());
        c.creatives.insert(
            |x| x.creative_id == cid && x.ad_id == aid && x.sha256 == sha,
            || CreativeRef {
                creative_id: cid.to_owned(),
                ad_id: aid.to_owned(),
                sha256: sha.to_owned(),
                visibility: creative.visibility.0.as_deref().map(str::to_owned),
                text: creative.content.0.as_ref().and_then(|k| k.text.0.as_deref()).map(str::to_owned),
                assets: creative
                    .content
                    .0
                    .iter()
                    .flat_map(|k| k.assets.0.iter().filter_map(|a| a.0.as_ref()))
                    .map(|a| AssetRef { sha256: a.sha256.as_str().to_owned(), url: a.url.0.as_deref().map(str::to_owned) })
                    .collect(),
            },
            || hash_of(&(cid, aid, sha)),
        );

        c.advertisers.insert_str(sponsor.on_behalf_of.as_str());
        c.payers.insert_str(sponsor.payer.as_str());
        if let Some(raw) = sponsor.political.map(|p| p.get()).filter(|p| p.starts_with('{')) {
            c.political_messages += 1;
            // Logged entries are canonical JSON: equal labels have equal text.
            c.political_labels.insert(
                |x| x.0 == raw,
                || (raw.to_owned(), serde_json::from_str(raw).unwrap_or(Value::Null)),
                || hash_of(raw),
            );
        }

        let criteria = &targeting.criteria.0;
        if !criteria.is_empty() {
            c.targeted_messages += 1;
        }
        let (mut minor, mut ai) = (false, false);
        let blank = fields::Criterion::default();
        for cr in criteria {
            let cr = cr.0.as_ref().unwrap_or(&blank);
            c.add_criterion(index, cr);
            minor |= cr.minor.0;
            ai |= cr.ai_selected.0;
            if let Some(sc) = &cr.special_category.0 {
                c.special_categories.insert_str(sc);
            }
        }
        c.minor_messages += u64::from(minor);
        c.ai_selected_messages += u64::from(ai);
        if let Some(opt) = &targeting.delivery_optimisation.0 {
            if opt.ai_system.0 {
                c.ai_delivery_messages += 1;
            }
            if let Some(goal) = &opt.goal.0 {
                c.goals.insert_str(goal);
            }
        }
        let blank = fields::Source::default();
        for l in &b.lineage.0 {
            let l = l.0.as_ref().unwrap_or(&blank);
            c.source_kinds.insert_str(l.kind.as_str());
            c.providers.insert_str(l.provider.as_str());
            if let Some(p) = &l.precision.0 {
                c.precisions.insert_str(p);
            }
            for t in &l.id_types.0 {
                c.id_types.insert_str(t.as_str());
            }
            if let Some(o) = &l.onboarder.0 {
                c.onboarders.insert_str(o.name.as_str());
            }
        }
        if entry.flags.0.iter().any(|f| f.as_str().starts_with("objected:")) {
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
            if !c.political_labels.items.iter().any(|(_, l)| contains_ci(str_at(l, "linked_to"), e)) {
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
                art9_condition: k.art9_condition.clone(),
                match_keys: k.match_keys.clone(),
                seed_audience: k.seed_audience.clone(),
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
            political_labels: c.political_labels.listed(|(_, v)| PoliticalLabel::from_value(v)),
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
            data_precisions: c.precisions.items.clone(),
            data_id_types: c.id_types.items.clone(),
            data_onboarders: c.onboarders.listed(String::clone),
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
            tally: c.tallies.view(),
        }
    }
}

/// Case-insensitive substring test; `needle` is already lower-case.
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(needle)
}
