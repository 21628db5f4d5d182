//! Batch audits (`observe --batch FILE.jsonl`): thousands of observations, one per line, judged
//! against one log on all cores, with a report of the share logged, not logged and misreported
//! by advertiser and by submitter, and every unlogged or misreported case with its evidence.
//!
//! A line that cannot be read is listed as unusable (with its line number and why) and the
//! audit goes on; the run then exits 2, after the report, so no bad input passes silently.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use super::index::LogIndex;
use super::input::read_observation;
use super::{judge, Judgement, Rules, Verdict};
use crate::error::{Error, Result};
use crate::report::progress;

/// Longest line read (an e-mail inlined as base64, with room to spare).
pub const MAX_LINE: usize = 48 << 20;
/// Lines judged per step (and per progress update).
const STEP: usize = 4096;

/// Counts of the three answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Shares {
    /// Observations judged.
    pub observations: u64,
    /// Judged logged.
    pub logged: u64,
    /// Judged not logged.
    pub not_logged: u64,
    /// Judged misreported.
    pub misreported: u64,
}

impl Shares {
    fn add(&mut self, v: Verdict) {
        self.observations += 1;
        match v {
            Verdict::Logged => self.logged += 1,
            Verdict::NotLogged => self.not_logged += 1,
            Verdict::Misreported => self.misreported += 1,
        }
    }

    /// `logged 97.0%, not logged 2.0%, misreported 1.0%`.
    pub fn percentages(&self) -> String {
        let pct = |n: u64| if self.observations == 0 { 0.0 } else { 100.0 * n as f64 / self.observations as f64 };
        format!("logged {:.1}%, not logged {:.1}%, misreported {:.1}%", pct(self.logged), pct(self.not_logged), pct(self.misreported))
    }
}

/// A line that could not be judged.
#[derive(Debug, Clone, Serialize)]
pub struct Unusable {
    /// The line of the batch file.
    pub line: u64,
    /// Why it could not be judged.
    pub error: String,
}

/// One unlogged or misreported observation.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    /// The line of the batch file.
    pub line: u64,
    /// The answer.
    pub verdict: Verdict,
    /// Why, in one sentence.
    pub reason: String,
    /// The advertiser, as the message or its entry names it.
    pub advertiser: String,
    /// The submitter, as the entry or the observer names it.
    pub submitter: String,
    /// The evidence record of the case.
    pub evidence: Value,
}

/// What a batch audit found.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// The batch file.
    pub source: String,
    /// The log's origin.
    pub log: String,
    /// The size of the checkpoint judged against.
    pub checkpoint_size: u64,
    /// Every observation.
    pub totals: Shares,
    /// Observations per advertiser.
    pub by_advertiser: BTreeMap<String, Shares>,
    /// Observations per submitter.
    pub by_submitter: BTreeMap<String, Shares>,
    /// Every observation not logged or misreported.
    pub cases: Vec<Case>,
    /// Every line that could not be judged.
    pub unusable: Vec<Unusable>,
}

impl Audit {
    /// 0 when everything was logged, 1 when a case was found, 2 when a line was unusable.
    pub fn exit_code(&self) -> i32 {
        if !self.unusable.is_empty() {
            2
        } else if self.cases.is_empty() {
            0
        } else {
            1
        }
    }
}

/// Who an observation is reported under: the entry's sponsor and submitter, or, for a message
/// the log does not hold, what the message showed and who the observer says served it.
fn keys(j: &Judgement) -> (String, String) {
    let advertiser = j.sponsor.clone().or_else(|| j.observation.advertiser.clone()).unwrap_or_else(|| "(not shown)".into());
    let submitter = j.submitter.clone().or_else(|| j.observation.platform.clone()).unwrap_or_else(|| "(unknown)".into());
    (advertiser, submitter)
}

/// Audits the observations in `path` against `log`.
pub fn audit(path: &Path, log: &LogIndex, rules: &Rules, quiet: bool) -> Result<Audit> {
    let name = path.display().to_string();
    let io = |e| Error::Io { path: name.clone(), source: e };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let total = std::fs::metadata(path).map_err(io)?.len();
    let mut reader = BufReader::new(std::fs::File::open(path).map_err(io)?);
    let pb = progress(total, quiet, "auditing");
    let mut audit = Audit {
        source: name.clone(),
        log: log.origin().to_string(),
        checkpoint_size: log.size(),
        totals: Shares::default(),
        by_advertiser: BTreeMap::new(),
        by_submitter: BTreeMap::new(),
        cases: Vec::new(),
        unusable: Vec::new(),
    };
    let (mut line_no, mut read) = (0u64, 0u64);
    let created = super::evidence::now();
    let mut found: Vec<(u64, Judgement, String, String)> = Vec::new();
    loop {
        let mut lines: Vec<(u64, Vec<u8>)> = Vec::with_capacity(STEP);
        while lines.len() < STEP {
            let mut buf = Vec::new();
            let n = (&mut reader).take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            read += n as u64;
            line_no += 1;
            if buf.len() > MAX_LINE && !buf.ends_with(b"\n") {
                audit.unusable.push(Unusable { line: line_no, error: format!("the line is longer than {} MiB", MAX_LINE >> 20) });
                skip_rest_of_line(&mut reader).map_err(io)?;
                continue;
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines.push((line_no, buf));
        }
        if lines.is_empty() {
            break;
        }
        let judged: Vec<(u64, Result<Judgement>)> = lines
            .par_iter()
            .map(|(n, l)| {
                let what = format!("{name} line {n}");
                (*n, read_observation(l, &what, &base).and_then(|o| judge(o, log, rules)))
            })
            .collect();
        for (n, j) in judged {
            match j {
                Err(e) => audit.unusable.push(Unusable { line: n, error: e.to_string() }),
                Ok(j) => {
                    let (advertiser, submitter) = keys(&j);
                    audit.totals.add(j.verdict);
                    audit.by_advertiser.entry(advertiser.clone()).or_default().add(j.verdict);
                    audit.by_submitter.entry(submitter.clone()).or_default().add(j.verdict);
                    if j.verdict != Verdict::Logged {
                        found.push((n, j, advertiser, submitter));
                    }
                }
            }
        }
        pb.set_position(read);
    }
    pb.finish_and_clear();
    // The entries the cases name are read again once, for all of them.
    let material = super::evidence::material(&found.iter().map(|(_, j, ..)| j).collect::<Vec<_>>(), log)?;
    for (line, j, advertiser, submitter) in found {
        let evidence = super::evidence::evidence(&j, log, &material, &created);
        audit.cases.push(Case { line, verdict: j.verdict, reason: j.reason, advertiser, submitter, evidence });
    }
    Ok(audit)
}

fn skip_rest_of_line(r: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match memchr::memchr(b'\n', buf) {
            Some(i) => {
                r.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

use std::io::Read as _;

/// Prints the audit for people.
pub fn print(a: &Audit) {
    let t = &a.totals;
    println!("Audit of {} against {} (checkpoint size {})", a.source, a.log, a.checkpoint_size);
    println!("  observations: {} — {}", t.observations, t.percentages());
    println!("  by advertiser:");
    for (k, s) in &a.by_advertiser {
        println!("    {k}: {} observations — {}", s.observations, s.percentages());
    }
    println!("  by submitter:");
    for (k, s) in &a.by_submitter {
        println!("    {k}: {} observations — {}", s.observations, s.percentages());
    }
    for c in &a.cases {
        println!("  {} line {}: {} ({}, {})", c.verdict.words(), c.line, c.reason, c.advertiser, c.submitter);
        if let Some(h) = c.evidence.pointer("/observation/content_sha256").and_then(Value::as_str) {
            println!("      content sha256 {h}");
        }
    }
    for u in &a.unusable {
        println!("  UNUSABLE line {}: {}", u.line, u.error);
    }
}
