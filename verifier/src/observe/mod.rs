//! `observe`: is a message seen in the wild in the log? (SPEC §3.9, §10.2)
//!
//! An observation is an e-mail (`.eml`) or a JSON description of an ad (its channel, the asset
//! bytes or their hash, when and where it was seen, the advertiser's name as shown, the why
//! link and the reference its markup carried). It is judged against a log read and verified as
//! `verify` does:
//!
//! - **logged**: it names its entry, the entry is in the log under the signed checkpoint, and
//!   the entry's content hash, channel, time and sponsor agree with what was seen;
//! - **not logged**: it names no entry, or names one the log does not hold (the message itself
//!   is the evidence);
//! - **misreported**: the entry exists but records other content, another time, channel or
//!   sponsor than the message shows.
//!
//! Every answer lists what was compared. [`evidence`] writes the file a regulator can attach to
//! a complaint; [`batch`] audits thousands of observations at once.

pub mod batch;
pub mod email;
pub mod evidence;
pub mod index;
pub mod input;
pub mod reference;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::merkle::Hash;
use index::{LogIndex, Logged};
use reference::Reference;

/// The three answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The message names an entry of the log that records what the message shows.
    Logged,
    /// The message names no entry, or one the log does not hold.
    NotLogged,
    /// The message names an entry that records something else.
    Misreported,
}

impl Verdict {
    /// The answer in words.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Logged => "LOGGED",
            Verdict::NotLogged => "NOT LOGGED",
            Verdict::Misreported => "MISREPORTED",
        }
    }
}

/// One message as seen, ready to be judged.
#[derive(Debug, Clone, Serialize)]
pub struct Observation {
    /// Where it came from (a file, or a line of a batch).
    pub source: String,
    /// Its channel.
    pub channel: String,
    /// The content hash of SPEC §3.9, as the observer computed it (hex in JSON).
    #[serde(serialize_with = "ser_hex")]
    pub content_sha256: Hash,
    /// For an e-mail: SHA-256 of the whole message file.
    #[serde(serialize_with = "ser_opt_hex")]
    pub message_sha256: Option<Hash>,
    /// The reference it carried, as text.
    pub reference: Option<String>,
    #[serde(skip)]
    /// The reference, parsed.
    pub parsed_reference: Option<Reference>,
    /// When it was seen (an ad) or sent (an e-mail's Date:), as given.
    pub seen_at: Option<String>,
    #[serde(skip)]
    /// The same time, as Unix seconds.
    pub seen_unix: Option<i64>,
    /// Where it was seen (a Member State or a place), as given.
    pub seen_where: Option<String>,
    /// The Member State it was seen in.
    pub member_state: Option<String>,
    /// The advertiser's name as the message shows it (an e-mail's From: name).
    pub advertiser: Option<String>,
    /// The why link it carried.
    pub why_url: Option<String>,
    /// Who the observer believes served it (a submitter id), for reports on unlogged messages.
    pub platform: Option<String>,
    /// Facts about the message itself (e.g. its DKIM body hash).
    pub notes: Vec<String>,
}

/// One comparison between the message and its entry.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// What was compared.
    pub field: &'static str,
    /// What the message shows.
    pub observed: String,
    /// What the entry records.
    pub logged: String,
    /// `None` when the message does not show it (not compared).
    pub agrees: Option<bool>,
}

/// The answer for one observation.
#[derive(Debug, Clone, Serialize)]
pub struct Judgement {
    /// The answer.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// The entry the message names, when the log holds one at that index.
    pub index: Option<u64>,
    /// Everything compared.
    pub comparisons: Vec<Comparison>,
    /// The entry's submitter and sponsor (registered party name), for reports.
    pub submitter: Option<String>,
    /// The sponsor.
    pub sponsor: Option<String>,
    /// Facts a reader should know.
    pub notes: Vec<String>,
    /// What was judged.
    pub observation: Observation,
}

/// How strictly times are compared.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Largest accepted difference between the time seen (or an e-mail's Date:) and the
    /// entry's `served_at`, in seconds.
    pub tolerance_secs: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { tolerance_secs: 3600 }
    }
}

fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Judges one observation against the log. Fails (exit 2) only when the observation cannot be
/// judged against this log at all: its reference names another log, or the bundle given does
/// not hold the entry it names.
pub fn judge(obs: Observation, log: &LogIndex, rules: &Rules) -> Result<Judgement> {
    let not_logged = |reason: String, index: Option<u64>, notes: Vec<String>, obs: Observation| Judgement {
        verdict: Verdict::NotLogged,
        reason,
        index,
        comparisons: Vec::new(),
        submitter: None,
        sponsor: None,
        notes,
        observation: obs,
    };
    let Some(r) = obs.parsed_reference.clone() else {
        let mut notes = Vec::new();
        if log.complete {
            let naming = log.naming(&obs.content_sha256);
            if !naming.is_empty() {
                let list: Vec<String> = naming.iter().take(5).map(u64::to_string).collect();
                notes.push(format!(
                    "{} message entries record this content (entries {}{}), but the message does not name one of them",
                    naming.len(),
                    list.join(", "),
                    if naming.len() > 5 { ", …" } else { "" }
                ));
            }
        }
        let what = if obs.channel == "email" { "Sightline-Entry header" } else { "entry reference in its markup or link" };
        return Ok(not_logged(format!("the message carries no reference to a log entry (it has no {what})"), None, notes, obs));
    };
    if let Some(origin) = &r.origin {
        if origin != log.origin() {
            return Err(Error::unusable(
                format!("the reference in {}", obs.source),
                format!("it names the log {origin:?}, but the log given is {:?}; check the message against that log", log.origin()),
            ));
        }
    }
    let size = log.size();
    if r.index >= size {
        return Ok(not_logged(
            format!(
                "the reference names entry {}, but the log has {size} entries at its signed checkpoint: it points to nothing (a message minutes old may need a newer checkpoint)",
                r.index
            ),
            None,
            Vec::new(),
            obs,
        ));
    }
    let Some(leaf) = log.leaf(r.index) else {
        if let Some(kind) = log.other_kind(r.index) {
            return Ok(not_logged(
                format!("the reference names entry {}, which is a {kind} record, not a message", r.index),
                None,
                Vec::new(),
                obs,
            ));
        }
        return Err(Error::unusable(
            format!("the reference in {}", obs.source),
            format!("the filtered bundle given does not hold entry {}; check against the live log or a complete bundle", r.index),
        ));
    };
    if leaf != r.leaf {
        return Ok(not_logged(
            format!(
                "the reference names entry {} with leaf hash {}, but the log's entry {} has leaf hash {}: the reference points to nothing in this log",
                r.index,
                hex::encode(r.leaf),
                r.index,
                hex::encode(leaf)
            ),
            Some(r.index),
            Vec::new(),
            obs,
        ));
    }
    let Some(m) = log.message(r.index) else {
        let kind = log.other_kind(r.index).unwrap_or("non-message");
        return Ok(not_logged(
            format!("the reference names entry {}, which is a {kind} record, not a message", r.index),
            None,
            Vec::new(),
            obs,
        ));
    };
    Ok(compare(obs, m, log, rules))
}

/// Compares a message with the entry it names.
fn compare(obs: Observation, m: &Logged, log: &LogIndex, rules: &Rules) -> Judgement {
    let sponsor_id = log.name(m.sponsor);
    let sponsor_name = log.party_name(sponsor_id).to_string();
    let brand = log.name(m.brand).to_string();
    let served = crate::observe::input::format_unix(m.served_at);
    let mut c = vec![Comparison {
        field: "content hash (delivery.creative.sha256)",
        observed: hex::encode(obs.content_sha256),
        logged: hex::encode(m.creative),
        agrees: Some(obs.content_sha256 == m.creative),
    }];
    c.push(Comparison {
        field: "channel (delivery.channel)",
        observed: obs.channel.clone(),
        logged: log.name(m.channel).to_string(),
        agrees: Some(obs.channel == log.name(m.channel)),
    });
    c.push(Comparison {
        field: "time (delivery.served_at)",
        observed: obs.seen_at.clone().unwrap_or_else(|| "(not shown)".into()),
        logged: served,
        agrees: obs.seen_unix.map(|t| (t - m.served_at).abs() <= rules.tolerance_secs),
    });
    c.push(Comparison {
        field: "sponsor (delivery.creative.brand, sponsor.on_behalf_of)",
        observed: obs.advertiser.clone().unwrap_or_else(|| "(not shown)".into()),
        logged: format!("{brand} / {sponsor_name}"),
        agrees: obs.advertiser.as_deref().map(normalise).map(|a| a == normalise(&brand) || a == normalise(&sponsor_name)),
    });
    if let Some(ms) = &obs.member_state {
        c.push(Comparison {
            field: "Member State (delivery.member_state)",
            observed: ms.clone(),
            logged: log.name(m.member_state).to_string(),
            agrees: Some(ms == log.name(m.member_state)),
        });
    }
    let differing: Vec<&str> =
        c.iter().filter(|x| x.agrees == Some(false)).map(|x| x.field.split(" (").next().unwrap_or(x.field)).collect();
    let (verdict, reason) = if differing.is_empty() {
        (Verdict::Logged, format!("entry {} is in the log under its signed checkpoint and records what the message shows", m.index))
    } else {
        (
            Verdict::Misreported,
            format!("entry {} is in the log but records another {} than the message shows", m.index, differing.join(", ")),
        )
    };
    let mut notes = Vec::new();
    let unshown: Vec<&str> = c.iter().filter(|x| x.agrees.is_none()).map(|x| x.field.split(" (").next().unwrap_or(x.field)).collect();
    if !unshown.is_empty() {
        notes.push(format!("not compared (the observation does not show it): {}", unshown.join(", ")));
    }
    Judgement {
        verdict,
        reason,
        index: Some(m.index),
        comparisons: c,
        submitter: Some(log.name(m.signer).to_string()),
        sponsor: Some(sponsor_name),
        notes,
        observation: obs,
    }
}

fn ser_hex<S: serde::Serializer>(h: &Hash, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

fn ser_opt_hex<S: serde::Serializer>(h: &Option<Hash>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match h {
        Some(h) => s.serialize_str(&hex::encode(h)),
        None => s.serialize_none(),
    }
}
