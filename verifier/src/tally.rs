//! Reconciling tallies (SPEC §3.8) with the log: a `tally` entry is a submitter's signed count
//! of one campaign's messages on one UTC day, per Member State. The walk counts the message
//! entries of every `(submitter, campaign, day, Member State)`; any difference between a tally
//! and those counts is an integrity finding, since either messages were delivered and not
//! logged or the tally is false. Only a complete log (or bundle) can be counted.

use std::collections::{BTreeMap, HashMap};

use crate::error::Error;

/// Messages per Member State, per day.
type Days = HashMap<String, BTreeMap<String, u64>>;

/// Messages per submitter, campaign, day and Member State.
#[derive(Debug, Default, Clone)]
pub struct Counts(HashMap<String, HashMap<String, Days>>);

impl Counts {
    /// Counts one message entry.
    pub fn add(&mut self, signer: &str, campaign: &str, day: &str, member_state: &str) {
        let campaigns = match self.0.get_mut(signer) {
            Some(c) => c,
            None => self.0.entry(signer.to_owned()).or_default(),
        };
        let days = match campaigns.get_mut(campaign) {
            Some(d) => d,
            None => campaigns.entry(campaign.to_owned()).or_default(),
        };
        let states = match days.get_mut(day) {
            Some(s) => s,
            None => days.entry(day.to_owned()).or_default(),
        };
        match states.get_mut(member_state) {
            Some(n) => *n += 1,
            None => {
                states.insert(member_state.to_owned(), 1);
            }
        }
    }

    /// The logged messages of one campaign and day, per Member State.
    pub fn day(&self, signer: &str, campaign: &str, day: &str) -> Option<&BTreeMap<String, u64>> {
        self.0.get(signer)?.get(campaign)?.get(day)
    }

    /// Every `(signer, campaign, day)` counted, with its counts per Member State.
    pub fn days(&self) -> impl Iterator<Item = (&str, &str, &str, &BTreeMap<String, u64>)> {
        self.0.iter().flat_map(|(s, cs)| {
            cs.iter().flat_map(move |(c, ds)| ds.iter().map(move |(d, states)| (s.as_str(), c.as_str(), d.as_str(), states)))
        })
    }
}

/// One logged tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub index: u64,
    pub signer: String,
    pub campaign: String,
    pub day: String,
    pub delivered: Vec<(String, u64)>,
}

/// A Member State of a day where a count and the log differ.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// The tally entry, if the count came from one.
    pub tally_index: Option<u64>,
    pub submitter: String,
    pub campaign: String,
    pub day: String,
    pub member_state: String,
    /// What the count says was delivered.
    pub claimed: u64,
    /// Message entries the log holds.
    pub logged: u64,
}

impl Difference {
    /// The finding as `verify` reports it.
    pub fn to_error(&self, more: usize) -> Error {
        let others = match more {
            0 => String::new(),
            1 => " (and 1 more difference)".to_string(),
            n => format!(" (and {n} more differences)"),
        };
        let entry = self.tally_index.map(|i| format!("tally entry {i}: ")).unwrap_or_default();
        Error::Tally {
            index: self.tally_index,
            detail: format!(
                "{entry}submitter {:?} says it delivered {} messages of campaign {:?} on {} in {}, but the log holds {}{others}. {}",
                self.submitter,
                self.claimed,
                self.campaign,
                self.day,
                self.member_state,
                self.logged,
                if self.claimed > self.logged {
                    "Messages were delivered and not logged, or the tally is false."
                } else {
                    "The tally under-counts what was logged."
                }
            ),
        }
    }
}

/// Compares one count per Member State with the log's counts for that campaign and day.
pub fn compare(
    tally_index: Option<u64>,
    (signer, campaign, day): (&str, &str, &str),
    claimed: &[(String, u64)],
    counts: &Counts,
) -> Vec<Difference> {
    let empty = BTreeMap::new();
    let logged = counts.day(signer, campaign, day).unwrap_or(&empty);
    let mut states: Vec<&str> = claimed.iter().map(|(s, _)| s.as_str()).chain(logged.keys().map(String::as_str)).collect();
    states.sort_unstable();
    states.dedup();
    states
        .into_iter()
        .filter_map(|state| {
            let c = claimed.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
            let l = logged.get(state).copied().unwrap_or(0);
            (c != l).then(|| Difference {
                tally_index,
                submitter: signer.to_owned(),
                campaign: campaign.to_owned(),
                day: day.to_owned(),
                member_state: state.to_owned(),
                claimed: c,
                logged: l,
            })
        })
        .collect()
}

/// Every difference between the logged tallies and the counted messages, in log order.
pub fn differences(claims: &[Claim], counts: &Counts) -> Vec<Difference> {
    claims.iter().flat_map(|t| compare(Some(t.index), (&t.signer, &t.campaign, &t.day), &t.delivered, counts)).collect()
}

/// After a walk: a complete one reconciles every tally with the counted messages (the first
/// difference fails the run); a filtered one cannot count, which the summary notes.
pub fn reconcile_walk(walker: &crate::chain::Walker, summary: &mut crate::report::Summary) -> Result<(), Error> {
    if walker.tallies.is_empty() {
        return Ok(());
    }
    if walker.mode() != crate::chain::Mode::Complete {
        summary.notes.push(format!(
            "{} tallies not reconciled: a filtered bundle cannot count the messages of their campaigns and days",
            walker.tallies.len()
        ));
        return Ok(());
    }
    let n = check(&walker.tallies, &walker.counts)?;
    summary.notes.push(format!("tallies: {n} reconciled with the message entries of their campaign and day (SPEC §3.8)"));
    Ok(())
}

/// The first difference as an error, naming how many more there are.
pub fn check(claims: &[Claim], counts: &Counts) -> Result<usize, Error> {
    let d = differences(claims, counts);
    match d.first() {
        Some(first) => Err(first.to_error(d.len() - 1)),
        None => Ok(claims.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts() -> Counts {
        let mut c = Counts::default();
        for _ in 0..9 {
            c.add("acme", "ocean", "2026-11-20", "DE");
        }
        c.add("acme", "ocean", "2026-11-20", "AT");
        c
    }

    fn claim(delivered: &[(&str, u64)]) -> Claim {
        Claim {
            index: 7,
            signer: "acme".into(),
            campaign: "ocean".into(),
            day: "2026-11-20".into(),
            delivered: delivered.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        }
    }

    #[test]
    fn a_tally_equal_to_the_log_is_no_finding() {
        assert_eq!(check(&[claim(&[("AT", 1), ("DE", 9), ("FR", 0)])], &counts()).unwrap(), 1);
    }

    #[test]
    fn a_tally_claiming_more_than_the_log_holds_names_campaign_day_and_state() {
        let e = check(&[claim(&[("AT", 1), ("DE", 12)])], &counts()).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("\"ocean\"") && m.contains("2026-11-20") && m.contains(" in DE") && m.contains("12") && m.contains("holds 9"),
            "{m}"
        );
        assert_eq!((e.exit_code(), e.index()), (1, Some(7)));
    }

    #[test]
    fn a_state_the_tally_leaves_out_counts_as_claimed_zero() {
        let d = differences(&[claim(&[("DE", 9)])], &counts());
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].member_state.as_str(), d[0].claimed, d[0].logged), ("AT", 0, 1));
    }
}
