//! What a run found, printed for people (default) or as JSON (`--json`), and the progress bar.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::content::neutralise;
use crate::error::Error;

/// The outcome of a successful check.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// What was checked ("export bundle", "live log", "receipt", "consistency", "watch").
    pub checked: String,
    /// What was read (a file or a URL).
    pub source: String,
    /// The log's origin.
    pub origin: String,
    /// The checkpoint's size.
    pub size: u64,
    /// Root hash (hex).
    pub root: String,
    /// Entries checked.
    pub entries_checked: u64,
    /// Whether every entry of the checkpoint was checked.
    pub complete: bool,
    /// Record signatures verified.
    pub signatures_checked: u64,
    /// The keys that signed the checkpoint.
    pub checkpoint_signed_by: Vec<String>,
    /// Every log key the log announced.
    pub log_keys: Vec<String>,
    /// Entries checked, per kind.
    pub kinds: BTreeMap<String, u64>,
    /// Personal parts checked against their commitments.
    pub personal_parts_checked: u64,
    /// Personal parts found erased.
    pub personal_parts_erased: u64,
    /// What the trusted witnesses say about the checkpoint (with a witness policy).
    pub witnesses: Option<crate::witness_policy::WitnessReport>,
    /// Facts a reader should know (what was not checked, and why).
    pub notes: Vec<String>,
    /// What older entries hold that SPEC revision 3 refuses, each naming entry and field: the
    /// log still verifies (SPEC §1).
    pub warnings: Vec<String>,
}

/// Print a success.
pub fn print_ok(s: &Summary, json: bool) {
    if json {
        let v = serde_json::json!({ "ok": true, "summary": s });
        println!("{v}");
        return;
    }
    println!("OK: {} {} verified", s.checked, s.source);
    if !s.origin.is_empty() {
        println!("  log:        {}", s.origin);
        println!("  checkpoint: size {}, root {}", s.size, s.root);
    }
    if !s.checkpoint_signed_by.is_empty() {
        println!("  signed by:  {}", s.checkpoint_signed_by.join(", "));
    }
    if s.entries_checked > 0 {
        let scope = if s.complete { "every entry of the log" } else { "the entries in the bundle, each with an inclusion proof" };
        println!("  entries:    {} checked ({scope})", s.entries_checked);
    }
    if !s.kinds.is_empty() {
        let k: Vec<String> = s.kinds.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  kinds:      {}", k.join(", "));
    }
    if s.signatures_checked > 0 {
        println!("  signatures: {} record signatures verified", s.signatures_checked);
    }
    if !s.log_keys.is_empty() {
        println!("  log keys:   {}", s.log_keys.join(" -> "));
    }
    if let Some(w) = &s.witnesses {
        for (i, line) in crate::witness_policy::lines(w).iter().enumerate() {
            println!("  {:<12}{line}", if i == 0 { "witnesses:" } else { "" });
        }
    }
    if s.personal_parts_checked + s.personal_parts_erased > 0 {
        println!(
            "  personal:   {} parts match their commitments, {} erased (crypto-shredded; not tampering)",
            s.personal_parts_checked, s.personal_parts_erased
        );
    }
    for n in &s.notes {
        println!("  note:       {}", neutralise(n));
    }
    for w in &s.warnings {
        println!("  warning:    {}", neutralise(w));
    }
}

/// Print a failure (to stdout as JSON with `--json`, else to stderr) and return the exit code.
pub fn print_err(e: &Error, json: bool) -> i32 {
    let code = e.exit_code();
    if json {
        let mut v = serde_json::json!({
            "ok": false,
            "exit_code": code,
            "error": { "code": e.code(), "index": e.index(), "message": neutralise(&e.to_string()) },
        });
        if let Some(evidence) = e.evidence() {
            v["error"]["evidence"] = serde_json::json!(evidence);
        }
        if let Some(report) = e.witness_report() {
            v["error"]["witnesses"] = serde_json::json!(report);
        }
        println!("{v}");
    } else if code == 1 {
        eprintln!("FAILED: {}", neutralise(&e.to_string()));
        if let Some(ev) = e.evidence() {
            let by = |w: &[String]| if w.is_empty() { String::new() } else { format!(" (cosigned by {})", w.join(", ")) };
            eprintln!("evidence, the older checkpoint{}:\n{}", by(&ev.older_cosigned_by), neutralise(&ev.older));
            eprintln!("evidence, the newer checkpoint{}:\n{}", by(&ev.newer_cosigned_by), neutralise(&ev.newer));
        }
    } else {
        eprintln!("ERROR: {}", neutralise(&e.to_string()));
    }
    code
}

/// A progress bar over `total` items, hidden when stderr is not a terminal or when `quiet`.
pub fn progress(total: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    pb.set_style(style.progress_chars("=> "));
    pb.set_message(what.to_string());
    pb
}

/// Prints one `observe` answer: the verdict, why, and every comparison.
pub fn print_judgement(j: &crate::observe::Judgement, log: &crate::observe::index::LogIndex, json: bool) {
    if json {
        let v = serde_json::json!({
            "ok": j.verdict == crate::observe::Verdict::Logged,
            "exit_code": i32::from(j.verdict != crate::observe::Verdict::Logged),
            "judgement": j,
            "log": { "origin": log.origin(), "size": log.size() },
        });
        println!("{v}");
        return;
    }
    let o = &j.observation;
    println!("{}: {}", j.verdict.words(), j.reason);
    println!("  message:    {} ({})", o.source, o.channel);
    println!("  content:    sha256 {}", hex::encode(o.content_sha256));
    if let Some(m) = o.message_sha256 {
        println!("  file:       sha256 {}", hex::encode(m));
    }
    println!("  reference:  {}", o.reference.as_deref().unwrap_or("(none)"));
    for c in &j.comparisons {
        let how = match c.agrees {
            Some(true) => "agrees",
            Some(false) => "DIFFERS",
            None => "not shown",
        };
        println!("  compared:   {} — seen {:?}, logged {:?}: {how}", c.field, c.observed, c.logged);
    }
    for n in o.notes.iter().chain(&j.notes) {
        println!("  note:       {n}");
    }
    println!("  log:        {} at checkpoint size {}", log.origin(), log.size());
}
