//! The submitters' signed tallies (SPEC.md §3.8) beside what the log holds, per campaign: how
//! many messages a submitter says it delivered on the days it tallied, how many messages of
//! the campaign the log holds for those days, and where the two differ.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sightline_ledger::MEMBER_STATES;

use super::{Count, MAX_LISTED};

/// One day and Member State where a tally and the log disagree.
#[derive(Clone, Debug, Serialize)]
pub struct TallyDifference {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The Member State.
    pub member_state: String,
    /// What the submitter's tally says it delivered.
    pub delivered: Count,
    /// What the log holds.
    pub logged: Count,
}

/// A campaign's tallies as the library shows them.
#[derive(Clone, Debug, Serialize)]
pub struct TallyView {
    /// Days with a tally.
    pub days: u64,
    /// Messages delivered on those days, as the tallies say.
    pub delivered: Count,
    /// Messages of the campaign the log holds for those days.
    pub logged: Count,
    /// Where the two differ, by day and Member State (at most [`MAX_LISTED`]).
    pub differences: Vec<TallyDifference>,
    /// Further differences not listed.
    pub differences_more: u64,
}

/// Per day, per Member State (in [`MEMBER_STATES`] order).
type PerState = [u64; 27];

/// What the index keeps of one campaign's tallies and its messages per day.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct CampaignTallies {
    claimed: BTreeMap<String, PerState>,
    logged: HashMap<String, PerState>,
}

impl CampaignTallies {
    /// Counts one logged message of `day` in Member State `state` (an index of [`MEMBER_STATES`]).
    pub(super) fn count_message(&mut self, day: &str, state: usize) {
        if let Some(n) = self.logged.get_mut(day).and_then(|s| s.get_mut(state)) {
            *n += 1;
            return;
        }
        let mut counts = [0; 27];
        if let Some(n) = counts.get_mut(state) {
            *n = 1;
        }
        self.logged.insert(day.to_owned(), counts);
    }

    /// Records a logged tally (`delivered` is its JSON object of Member State to count). The log
    /// holds at most one per day; a second one for the same day, if any, adds nothing new.
    pub(super) fn record(&mut self, day: &str, delivered: &str) {
        let Ok(map) = serde_json::from_str::<BTreeMap<String, u64>>(delivered) else { return };
        let mut counts = [0; 27];
        for (state, n) in map {
            if let Some(i) = MEMBER_STATES.iter().position(|m| *m == state) {
                counts[i] = n;
            }
        }
        self.claimed.entry(day.to_owned()).or_insert(counts);
    }

    /// Moves the tallies of `other` (logged before the campaign's first message) in.
    pub(super) fn absorb(&mut self, other: CampaignTallies) {
        for (day, counts) in other.claimed {
            self.claimed.entry(day).or_insert(counts);
        }
    }

    pub(super) fn view(&self) -> Option<TallyView> {
        if self.claimed.is_empty() {
            return None;
        }
        let (mut delivered, mut logged, mut differences, mut more) = (0u64, 0u64, Vec::new(), 0u64);
        for (day, claimed) in &self.claimed {
            let held = self.logged.get(day).copied().unwrap_or([0; 27]);
            for ((state, &c), &h) in MEMBER_STATES.iter().zip(claimed).zip(&held) {
                delivered = delivered.saturating_add(c);
                logged += h;
                if c == h {
                    continue;
                }
                if differences.len() < MAX_LISTED {
                    let diff = TallyDifference {
                        day: day.clone(),
                        member_state: (*state).to_owned(),
                        delivered: Count::of(c),
                        logged: Count::of(h),
                    };
                    differences.push(diff);
                } else {
                    more += 1;
                }
            }
        }
        Some(TallyView {
            days: self.claimed.len() as u64,
            delivered: Count::of(delivered),
            logged: Count::of(logged),
            differences,
            differences_more: more,
        })
    }
}

impl TallyDifference {
    /// One line of the CSV cell: `2026-11-20 DE: tally 12, logged 11`.
    pub fn csv_line(&self) -> String {
        format!("{} {}: tally {}, logged {}", self.day, self.member_state, self.delivered, self.logged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> usize {
        MEMBER_STATES.iter().position(|m| *m == "DE").unwrap()
    }

    #[test]
    fn a_tally_is_compared_with_the_messages_of_its_day() {
        let mut t = CampaignTallies::default();
        assert!(t.view().is_none(), "no tally, nothing to show");
        for _ in 0..12 {
            t.count_message("2026-11-20", de());
        }
        t.count_message("2026-11-21", de());
        t.record("2026-11-20", r#"{"DE":12,"FR":0}"#);
        let v = t.view().unwrap();
        assert_eq!((v.days, v.delivered, v.logged), (1, Count::Exact(12), Count::Exact(12)));
        assert!(v.differences.is_empty(), "{:?}", v.differences);
        t.record("2026-11-21", r#"{"DE":40}"#);
        let v = t.view().unwrap();
        assert_eq!((v.days, v.delivered, v.logged), (2, Count::Exact(52), Count::Exact(13)));
        assert_eq!(v.differences.len(), 1);
        assert_eq!(v.differences[0].csv_line(), "2026-11-21 DE: tally 40, logged <10");
    }
}
