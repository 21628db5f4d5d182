//! The `tally` record (SPEC.md §3.8): a submitter's signed count of the messages of one
//! campaign it delivered on one day, per Member State.
//!
//! A tally is what advertisers are billed from and what a platform already knows; logging it
//! signed lets anyone reconcile it with the message entries of that campaign and day (the
//! verifier does, in `verify` and `reconcile`). It has no personal part. At most one tally per
//! `(submitter, campaign, day)` is logged: the same tally again is acknowledged as a duplicate,
//! a different one is refused, as a reused message id is.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::codes::MEMBER_STATES;
use crate::model::record::{check_id, check_time, invalid, Kind};

/// Largest count a tally can claim (JSON integers are at most 2^53 - 1, SPEC.md §1).
pub const MAX_COUNT: u64 = crate::model::canonical::MAX_SAFE_INTEGER;

/// §3.8
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyBody {
    /// `"tally"`.
    pub kind: Kind,
    /// The submitter that delivered the messages, and signed the tally.
    pub signer: String,
    /// The campaign counted.
    pub campaign_id: String,
    /// The UTC day counted, `YYYY-MM-DD`.
    pub day: String,
    /// Messages delivered that day, per Member State.
    pub delivered: BTreeMap<String, u64>,
    /// When the tally was reported.
    pub reported_at: String,
}

impl TallyBody {
    /// The field rules of SPEC.md §3.8 that need no log state. `r` is the record's position
    /// in its batch, for error messages.
    pub(crate) fn validate(&self, r: usize) -> Result<()> {
        check_id(r, "signer", &self.signer)?;
        if self.signer == "log" {
            return Err(invalid(r, "signer", "a tally is signed by the submitter that delivered the messages, not by the log"));
        }
        check_id(r, "campaign_id", &self.campaign_id)?;
        let day = parse_day(&self.day).ok_or_else(|| invalid(r, "day", "must be a date YYYY-MM-DD (the UTC day counted)"))?;
        let reported = check_time(r, "reported_at", &self.reported_at)?;
        if day.year() < 2000 {
            return Err(invalid(r, "day", "is before 2000-01-01, which is not a plausible day for a served message"));
        }
        if day > reported.date() {
            return Err(invalid(r, "day", format!("`{}` is after reported_at; a tally counts a day that has begun", self.day)));
        }
        if self.delivered.is_empty() {
            return Err(invalid(r, "delivered", "must name at least one Member State with its count"));
        }
        for (state, &count) in &self.delivered {
            if !MEMBER_STATES.contains(&state.as_str()) {
                return Err(invalid(r, &format!("delivered.{state}"), "is not an EU Member State code (use EL for Greece)"));
            }
            if count > MAX_COUNT {
                return Err(invalid(r, &format!("delivered.{state}"), "must be an integer from 0 to 2^53-1"));
            }
        }
        Ok(())
    }

    /// What makes a tally unique in the log: its campaign and day, joined by a space (which no
    /// id may hold, so that no message id can collide with it in the message-id index).
    pub(crate) fn unique_id(&self) -> String {
        format!("tally {} {}", self.campaign_id, self.day)
    }
}

/// A `YYYY-MM-DD` date.
pub fn parse_day(s: &str) -> Option<time::Date> {
    time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Whether a body's JSON text may be a tally: it names the kind. A cheap test that message
/// bodies (which cannot hold the word in this position) pass in one scan; the body is then
/// parsed properly.
pub(crate) fn may_be_tally(body: &str) -> bool {
    body.contains("\"tally\"")
}

/// Whether a body's JSON text is a tally (`kind` is `"tally"`); `false` for text that is not
/// JSON, which the message path then reports.
pub(crate) fn is_tally(body: &str) -> bool {
    #[derive(Deserialize)]
    struct KindOnly<'a> {
        #[serde(borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    may_be_tally(body) && serde_json::from_str::<KindOnly<'_>>(body).is_ok_and(|k| k.kind == "tally")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(day: &str, delivered: &[(&str, u64)]) -> TallyBody {
        TallyBody {
            kind: Kind::Tally,
            signer: "acme-ads".into(),
            campaign_id: "ocean-2026".into(),
            day: day.into(),
            delivered: delivered.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            reported_at: "2026-11-21T02:00:00Z".into(),
        }
    }

    fn field_of(t: &TallyBody) -> Option<String> {
        match t.validate(0) {
            Ok(()) => None,
            Err(crate::Error::InvalidRecord { field, .. }) => Some(field),
            Err(e) => panic!("unexpected error {e}"),
        }
    }

    #[test]
    fn a_tally_names_member_states_with_counts() {
        assert_eq!(field_of(&tally("2026-11-20", &[("DE", 1200), ("EL", 0)])), None);
        assert_eq!(field_of(&tally("2026-11-20", &[])), Some("delivered".into()));
        assert_eq!(field_of(&tally("2026-11-20", &[("GR", 3)])), Some("delivered.GR".into()));
        assert_eq!(field_of(&tally("2026-11-20", &[("DE", MAX_COUNT + 1)])), Some("delivered.DE".into()));
    }

    #[test]
    fn a_tally_counts_a_day_that_has_begun() {
        assert_eq!(field_of(&tally("2026-11-21", &[("DE", 1)])), None, "the day it is reported on");
        assert_eq!(field_of(&tally("2026-11-22", &[("DE", 1)])), Some("day".into()));
        assert_eq!(field_of(&tally("2026-13-01", &[("DE", 1)])), Some("day".into()));
        assert_eq!(field_of(&tally("1999-12-31", &[("DE", 1)])), Some("day".into()));
    }

    #[test]
    fn the_log_cannot_sign_a_tally() {
        let mut t = tally("2026-11-20", &[("DE", 1)]);
        t.signer = "log".into();
        assert_eq!(field_of(&t), Some("signer".into()));
    }

    #[test]
    fn the_unique_id_cannot_be_a_message_id() {
        let id = tally("2026-11-20", &[]).unique_id();
        assert!(crate::model::record::check_id(0, "message_id", &id).is_err(), "{id}");
    }

    #[test]
    fn only_bodies_naming_the_kind_take_the_tally_path() {
        assert!(may_be_tally(r#"{"kind":"tally"}"#));
        assert!(may_be_tally(r#"{ "kind" : "tally" }"#));
        assert!(!may_be_tally(r#"{"kind":"message","subject":"tallyho"}"#));
        assert!(!is_tally(r#"{"kind":"message","subject":"tally"}"#), "a message whose subject is the word");
        assert!(is_tally(r#"{"subject":"x","kind":"tally"}"#));
        assert!(!is_tally("not json \"tally\""));
    }
}
