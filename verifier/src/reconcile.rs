//! `reconcile`: an advertiser's delivery counts (from the report it was billed for) against the
//! log, and the log's own tallies (SPEC §3.8) against its message entries.
//!
//! The counts file is CSV with a header row, or JSON (an array of objects, or `{"counts": [...]}`),
//! one row per campaign, UTC day and Member State:
//!
//! ```text
//! campaign_id,day,member_state,delivered[,submitter]
//! ocean-2026,2026-11-20,DE,1200,acme-ads
//! ```
//!
//! Without `submitter`, a row counts the campaign's messages of every submitter. For each
//! campaign and day the file names, every Member State the file or the log names is compared:
//! billed, logged, and the submitter's tally where one is logged.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::observe::index::LogIndex;
use crate::tally::{self, Difference};

/// One row of the counts file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Billed {
    /// The campaign.
    pub campaign_id: String,
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// The Member State.
    pub member_state: String,
    /// Messages billed as delivered.
    pub delivered: u64,
    #[serde(default)]
    /// The submitter that delivered them, when the file names one.
    pub submitter: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonCounts {
    Rows(Vec<Billed>),
    Wrapped { counts: Vec<Billed> },
}

/// Reads a counts file (CSV, or JSON when it starts with `[` or `{`).
pub fn read_counts(path: &Path) -> Result<Vec<Billed>> {
    let name = path.display().to_string();
    let bytes = crate::observe::input::read_capped(path)?;
    let bad = |d: String| Error::unusable(format!("the counts file {name}"), d);
    let rows = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[' | b'{') => match serde_json::from_slice::<JsonCounts>(&bytes) {
            Ok(JsonCounts::Rows(r) | JsonCounts::Wrapped { counts: r }) => r,
            Err(e) => {
                return Err(bad(format!("it is not a JSON list of counts {{campaign_id, day, member_state, delivered[, submitter]}}: {e}")))
            }
        },
        _ => {
            let mut rows = Vec::new();
            for (i, row) in csv::Reader::from_reader(bytes.as_slice()).deserialize::<Billed>().enumerate() {
                rows.push(
                    row.map_err(|e| {
                        bad(format!("row {}: {e}; the columns are campaign_id,day,member_state,delivered[,submitter]", i + 1))
                    })?,
                );
            }
            rows
        }
    };
    for (i, r) in rows.iter().enumerate() {
        if !crate::record::is_day(&r.day) {
            return Err(bad(format!("row {}: day {:?} is not a date YYYY-MM-DD", i + 1, r.day)));
        }
    }
    if rows.is_empty() {
        return Err(bad("it holds no counts".into()));
    }
    Ok(rows)
}

/// One compared Member State of a campaign and day.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The submitter.
    pub submitter: String,
    /// The campaign.
    pub campaign_id: String,
    /// The day.
    pub day: String,
    /// The Member State.
    pub member_state: String,
    /// What the advertiser was billed for.
    pub billed: u64,
    /// Message entries in the log.
    pub logged: u64,
    /// The submitter's logged tally, if any.
    pub tally: Option<u64>,
    /// Whether billed, logged and tallied counts agree.
    pub agrees: bool,
}

/// What `reconcile` found.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    /// The log's origin.
    pub log: String,
    /// The size of the checkpoint compared against.
    pub checkpoint_size: u64,
    /// Every compared row.
    pub rows: Vec<Row>,
    /// Every tally of the log that differs from its message entries.
    pub tallies_differing: Vec<Difference>,
}

impl Reconciliation {
    /// 0 when everything agrees, else 1.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.rows.iter().any(|r| !r.agrees) || !self.tallies_differing.is_empty())
    }
}

/// Compares the counts with the log (which must be complete: a filtered bundle cannot count).
pub fn reconcile(billed: &[Billed], log: &LogIndex) -> Result<Reconciliation> {
    if !log.complete {
        return Err(Error::unusable(
            "the log given",
            "it is a filtered bundle, which cannot count messages; use the live log or a complete bundle",
        ));
    }
    let w = &log.walker;
    // (submitter or "*", campaign, day) -> Member State -> billed
    let mut groups: BTreeMap<(String, String, String), BTreeMap<String, u64>> = BTreeMap::new();
    for b in billed {
        let key = (b.submitter.clone().unwrap_or_else(|| "*".into()), b.campaign_id.clone(), b.day.clone());
        *groups.entry(key).or_default().entry(b.member_state.clone()).or_default() += b.delivered;
    }
    let mut rows = Vec::new();
    for ((submitter, campaign, day), states) in groups {
        let mut logged: BTreeMap<String, u64> = BTreeMap::new();
        let mut tallies: BTreeMap<String, u64> = BTreeMap::new();
        for (s, c, d, counts) in w.counts.days() {
            if c == campaign && d == day && (submitter == "*" || s == submitter) {
                for (ms, n) in counts {
                    *logged.entry(ms.clone()).or_default() += n;
                }
            }
        }
        let mut tallied = false;
        for t in w.tallies.iter().filter(|t| t.campaign == campaign && t.day == day && (submitter == "*" || t.signer == submitter)) {
            tallied = true;
            for (ms, n) in &t.delivered {
                *tallies.entry(ms.clone()).or_default() += n;
            }
        }
        let mut all: Vec<&String> = states.keys().chain(logged.keys()).chain(tallies.keys()).collect();
        all.sort();
        all.dedup();
        for ms in all {
            let (b, l) = (states.get(ms).copied().unwrap_or(0), logged.get(ms).copied().unwrap_or(0));
            let t = tallied.then(|| tallies.get(ms).copied().unwrap_or(0));
            rows.push(Row {
                submitter: submitter.clone(),
                campaign_id: campaign.clone(),
                day: day.clone(),
                member_state: ms.clone(),
                billed: b,
                logged: l,
                tally: t,
                agrees: b == l && t.is_none_or(|t| t == l),
            });
        }
    }
    Ok(Reconciliation {
        log: log.origin().to_string(),
        checkpoint_size: log.size(),
        rows,
        tallies_differing: tally::differences(&w.tallies, &w.counts),
    })
}

/// Prints a reconciliation for people.
pub fn print(r: &Reconciliation) {
    let bad = r.rows.iter().filter(|x| !x.agrees).count();
    let verdict = if r.exit_code() == 0 { "OK" } else { "DIFFERENCES" };
    println!("{verdict}: delivery counts reconciled with {} (checkpoint size {})", r.log, r.checkpoint_size);
    println!("  rows: {} compared, {bad} differ", r.rows.len());
    for x in &r.rows {
        let tally = x.tally.map_or_else(|| "no tally".to_string(), |t| format!("tally {t}"));
        let mark = if x.agrees { "ok  " } else { "DIFF" };
        println!(
            "  {mark} {} {} {} ({}): billed {}, logged {}, {tally}",
            x.campaign_id, x.day, x.member_state, x.submitter, x.billed, x.logged
        );
    }
    for d in &r.tallies_differing {
        println!("  TALLY {}", d.to_error(0));
    }
}
