//! What a library search returns, as the HTML page shows it and the JSON API and the CSV
//! download write it: one view per campaign, counts suppressed (see [`Count`]).

use std::fmt;

use serde::{Serialize, Serializer};

use super::{Count, CreativeRef, PoliticalLabel, TallyView};

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
    /// The GDPR Art. 9(2) condition relied on (revision 3).
    pub art9_condition: Option<String>,
    /// What an uploaded list or lookalike was matched by (revision 3).
    pub match_keys: Vec<String>,
    /// The audience a lookalike was grown from (revision 3).
    pub seed_audience: Option<String>,
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
    pub(super) fn csv_line(&self) -> String {
        let keys = if self.match_keys.is_empty() { String::new() } else { format!("; match_keys={}", self.match_keys.join(" ")) };
        let seed = self.seed_audience.as_deref().map(|s| format!("; seed_audience={s}")).unwrap_or_default();
        format!(
            "{}; messages={}; special_category={}; art9_condition={}; ai_selected={}; minor={}{keys}{seed}; {}",
            self.kind,
            self.messages,
            self.special_category.as_deref().unwrap_or("none"),
            self.art9_condition.as_deref().unwrap_or("none"),
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
    /// The data-label fields of the sources (revision 3): how precise they are, what they are
    /// keyed on, and who onboarded them.
    pub data_precisions: Vec<String>,
    /// What the sources are keyed on.
    pub data_id_types: Vec<String>,
    /// Who onboarded the sources.
    pub data_onboarders: Listed<String>,
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
    /// Whether a creative of the campaign was shown only to its audience (a dark post).
    pub fn dark_post(&self) -> bool {
        self.creatives.values.iter().any(|k| k.visibility.as_deref() == Some("audience_only"))
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
