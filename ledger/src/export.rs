//! Compliance exports (SPEC.md §11): self-verifying bundles, plain JSONL and CSV,
//! streamed entry by entry so an export of millions of records runs in constant memory.

use std::io::Write;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::ledger::{Ledger, PersonalState};
use crate::model::entry::Entry;
use crate::model::record::{format_time, parse_time};

/// The `format` string of a v1 bundle manifest.
pub const BUNDLE_FORMAT: &str = "sightline-bundle/v1";

/// Which records an export selects. Empty filter = the whole log.
#[derive(Clone, Debug, Default)]
pub struct ExportFilter {
    /// Messages served at or after this time.
    pub from: Option<time::OffsetDateTime>,
    /// Messages served before this time.
    pub to: Option<time::OffsetDateTime>,
    /// Messages on behalf of this party.
    pub advertiser: Option<String>,
    /// Messages of this campaign id.
    pub campaign: Option<String>,
    /// Include decrypted personal parts (bundle and JSONL only).
    pub include_personal: bool,
}

impl ExportFilter {
    fn selects_everything(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.advertiser.is_none() && self.campaign.is_none()
    }

    /// Whether a message entry matches; non-message entries never do.
    pub fn matches(&self, e: &Entry) -> bool {
        if e.kind() != "message" {
            return false;
        }
        let s = |p: &str| e.body.pointer(p).and_then(Value::as_str);
        let served = s("/delivery/served_at").and_then(parse_time);
        self.from.is_none_or(|f| served.is_some_and(|t| t >= f))
            && self.to.is_none_or(|to| served.is_some_and(|t| t < to))
            && self.advertiser.as_deref().is_none_or(|a| s("/sponsor/on_behalf_of") == Some(a))
            && self.campaign.as_deref().is_none_or(|c| s("/delivery/creative/campaign_id") == Some(c))
    }

    fn to_json(&self) -> Value {
        json!({
            "from": self.from.map(format_time),
            "to": self.to.map(format_time),
            "advertiser": self.advertiser,
            "campaign": self.campaign,
        })
    }
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// SPEC.md §11 self-verifying bundle.
    Bundle,
    /// One entry object per line.
    Jsonl,
    /// One message per line, flattened.
    Csv,
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// The log's size at the checkpoint the export was made at.
    pub size: u64,
    /// How many entries the export holds.
    pub records: u64,
}

const CSV_HEADER: [&str; 18] = [
    "index",
    "logged_at",
    "submitter",
    "message_id",
    "channel",
    "served_at",
    "member_state",
    "brand",
    "subject",
    "campaign_id",
    "on_behalf_of",
    "payer",
    "political",
    "linked_to",
    "include_criteria",
    "exclude_criteria",
    "data_sources",
    "flags",
];

/// Streams an export of the log at its current checkpoint into `out`.
/// `progress(done, total)` is called as entries are read.
pub fn export(
    ledger: &Ledger,
    filter: &ExportFilter,
    format: ExportFormat,
    out: &mut dyn Write,
    progress: &dyn Fn(u64, u64),
) -> Result<ExportSummary> {
    export_at(ledger, filter, format, out, progress, None)
}

/// Like [`export`], at the checkpoint `at` instead of the current one when given: a checkpoint
/// of this log (checked with [`Ledger::check_checkpoint`]) that witnesses cosigned, so that a
/// bundle carries their cosignatures (SPEC.md §11).
pub fn export_at(
    ledger: &Ledger,
    filter: &ExportFilter,
    format: ExportFormat,
    out: &mut dyn Write,
    progress: &dyn Fn(u64, u64),
    at: Option<&str>,
) -> Result<ExportSummary> {
    let (size, checkpoint) = match at {
        Some(note) => (ledger.check_checkpoint(note)?.size, note.to_string()),
        None => ledger.head()?,
    };
    let complete = filter.selects_everything();
    let mut sink = Sink::new(format, out);
    match format {
        ExportFormat::Bundle => {
            let manifest = json!({
                "format": BUNDLE_FORMAT, "origin": ledger.origin(), "checkpoint": checkpoint, "complete": complete,
                "filter": filter.to_json(), "created_at": format_time(time::OffsetDateTime::now_utc()),
            });
            sink.line(&manifest)?;
        }
        ExportFormat::Csv => sink.row(CSV_HEADER.iter().map(|s| s.to_string()).collect())?,
        ExportFormat::Jsonl => {}
    }
    let mut summary = ExportSummary { size, records: 0 };
    let mut start = 0;
    while start < size {
        let end = (start + 4096).min(size);
        let chunk = ledger.entries(start, end)?;
        if chunk.len() as u64 != end - start {
            return Err(Error::Corrupt(format!("entry {} is missing from the store", start + chunk.len() as u64)));
        }
        for (i, bytes) in (start..end).zip(chunk) {
            let entry = Entry::parse_logged(&bytes).map_err(|e| Error::Corrupt(format!("entry {i}: {e}")))?;
            let selected = complete || filter.matches(&entry);
            let registry = matches!(entry.kind(), "log_key" | "submitter" | "party");
            match format {
                ExportFormat::Bundle if selected || registry => {
                    let mut line = json!({ "index": i, "entry": serde_json::to_value(&entry).map_err(|e| Error::Corrupt(e.to_string()))? });
                    if !complete {
                        let proof: Vec<String> = ledger.inclusion_proof(i, size)?.iter().map(|h| B64.encode(h)).collect();
                        line["proof"] = json!(proof);
                    }
                    if filter.include_personal && entry.kind() == "message" {
                        line["personal"] = personal_json(ledger, i)?;
                    }
                    sink.line(&line)?;
                    summary.records += u64::from(selected);
                }
                ExportFormat::Jsonl if selected => {
                    let mut v = serde_json::to_value(&entry).map_err(|e| Error::Corrupt(e.to_string()))?;
                    if filter.include_personal && entry.kind() == "message" {
                        v["personal"] = personal_json(ledger, i)?;
                    }
                    sink.line(&v)?;
                    summary.records += 1;
                }
                ExportFormat::Csv if selected && entry.kind() == "message" => {
                    sink.row(csv_row(i, &entry))?;
                    summary.records += 1;
                }
                _ => {}
            }
        }
        progress(end, size);
        start = end;
    }
    sink.finish()?;
    Ok(summary)
}

fn personal_json(ledger: &Ledger, index: u64) -> Result<Value> {
    Ok(match ledger.personal(index)? {
        Some(PersonalState::Present(p)) => serde_json::to_value(p).map_err(|e| Error::Corrupt(e.to_string()))?,
        Some(PersonalState::Erased) => json!("erased"),
        None => Value::Null,
    })
}

/// Where an export goes: JSON lines written as they are, or CSV rows through one writer.
enum Sink<'a> {
    Lines(&'a mut dyn Write),
    Csv(Box<csv::Writer<&'a mut dyn Write>>),
}

fn write_failed(e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("writing the export failed: {e}"))
}

impl<'a> Sink<'a> {
    fn new(format: ExportFormat, out: &'a mut dyn Write) -> Self {
        match format {
            ExportFormat::Csv => Sink::Csv(Box::new(csv::WriterBuilder::new().has_headers(false).from_writer(out))),
            ExportFormat::Bundle | ExportFormat::Jsonl => Sink::Lines(out),
        }
    }

    fn line(&mut self, v: &Value) -> Result<()> {
        match self {
            Sink::Lines(out) => writeln!(out, "{v}").map_err(write_failed),
            Sink::Csv(_) => Err(Error::Storage("a JSON line was written to a CSV export".into())),
        }
    }

    fn row(&mut self, row: Vec<String>) -> Result<()> {
        let Sink::Csv(w) = self else { return Err(Error::Storage("a CSV row was written to a JSON export".into())) };
        // Cells that a spreadsheet would run as a formula are prefixed with a quote.
        // A formatting character an entry logged before revision 3 may hold is shown as a marker.
        let safe = row.into_iter().map(|c| {
            let c = match crate::model::text::neutralise(&c) {
                std::borrow::Cow::Owned(shown) => shown,
                std::borrow::Cow::Borrowed(_) => c,
            };
            if c.starts_with(['=', '+', '-', '@']) {
                format!("'{c}")
            } else {
                c
            }
        });
        w.write_record(safe).map_err(write_failed)
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Lines(out) => out.flush().map_err(write_failed),
            Sink::Csv(mut w) => w.flush().map_err(write_failed),
        }
    }
}

fn csv_row(index: u64, e: &Entry) -> Vec<String> {
    let s = |p: &str| e.body.pointer(p).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
    let criteria = |effect: &str| {
        e.body
            .pointer("/targeting/criteria")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .filter(|c| c.get("effect").and_then(Value::as_str) == Some(effect))
                    .filter_map(|c| c.get("description").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    };
    let sources = e
        .body
        .get("lineage")
        .and_then(Value::as_array)
        .map(|ls| ls.iter().filter_map(|l| l.get("provider").and_then(Value::as_str)).collect::<Vec<_>>().join("; "))
        .unwrap_or_default();
    // An entry logged before revision 3 may leave the label out: it then says nothing either way.
    let label = e.body.pointer("/sponsor/political");
    let political = label.is_some_and(|p| !p.is_null());
    let political_cell = match label {
        None => "not stated".to_string(),
        Some(_) => political.to_string(),
    };
    vec![
        index.to_string(),
        e.logged_at.clone(),
        s("/signer"),
        s("/message_id"),
        s("/delivery/channel"),
        s("/delivery/served_at"),
        s("/delivery/member_state"),
        s("/delivery/creative/brand"),
        s("/delivery/creative/subject"),
        s("/delivery/creative/campaign_id"),
        s("/sponsor/on_behalf_of"),
        s("/sponsor/payer"),
        political_cell,
        if political { s("/sponsor/political/linked_to") } else { String::new() },
        criteria("include"),
        criteria("exclude"),
        sources,
        e.flags.join(" "),
    ]
}
