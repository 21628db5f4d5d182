//! `sightline import`: appends a file of submitter-signed records to a log
//! whose server is stopped, for a platform that backfills what it served
//! before it adopted Sightline, or replays a spool kept while the server was
//! down.
//!
//! The input is JSONL: one record per line, each exactly an element of a
//! submissions request's `records` (SPEC.md §12); blank lines are skipped.
//! Records go to [`Ledger::submit`] in batches, each all or nothing and durable
//! before the next is read, exactly as over HTTP. A record already in the log
//! (same submitter and message id, same body) is acknowledged as a duplicate
//! and not appended again, so an interrupted or failed import is resumed by
//! running it again.

use std::io::{BufRead, Read, Write};

use sightline_ledger::{Error as LedgerError, Ledger, Submission};

use crate::acks::push_acked;
use crate::error::WebError;

/// The longest line read: a record over it could not be appended anyway.
pub const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    /// Records read (non-blank lines).
    pub records: u64,
    /// Records appended as new entries.
    pub appended: u64,
    /// Records that were already in the log.
    pub duplicates: u64,
    /// Entries in the log afterwards.
    pub size: u64,
}

/// Reads records from `input` and appends them in batches of `batch`.
///
/// `receipts`, if given, gets one JSON line per record once its batch is
/// durable: the object the ingestion API returns for it, with its why-link
/// under `public_url`. `progress` is called with the input bytes consumed.
/// On an error, every batch before the failing one is appended (and its
/// receipts written); nothing of the failing batch is. Running the import
/// again returns every already appended record's original receipt.
pub fn import(
    ledger: &Ledger,
    mut input: impl BufRead,
    batch: usize,
    public_url: &str,
    mut receipts: Option<&mut dyn Write>,
    progress: &dyn Fn(u64),
) -> Result<ImportSummary, WebError> {
    let batch = batch.max(1);
    let mut summary = ImportSummary::default();
    let (mut line_no, mut consumed) = (0u64, 0u64);
    let mut line = String::new();
    let mut records: Vec<Submission> = Vec::with_capacity(batch);
    let mut lines: Vec<u64> = Vec::with_capacity(batch);
    loop {
        line.clear();
        let n = (&mut input)
            .take(MAX_LINE_BYTES + 1)
            .read_line(&mut line)
            .map_err(|e| WebError::BadRequest(format!("cannot read line {}: {e}{}", line_no + 1, done_so_far(&summary))))?;
        let end = n == 0;
        if !end {
            line_no += 1;
            consumed += n as u64;
            if n as u64 > MAX_LINE_BYTES {
                return Err(WebError::BadRequest(format!(
                    "line {line_no} is over {MAX_LINE_BYTES} bytes; a record is one line of at most that{}",
                    done_so_far(&summary)
                )));
            }
            let text = line.trim();
            if !text.is_empty() {
                let record = Submission::parse(text).map_err(|e| {
                    WebError::BadRequest(format!(
                        "line {line_no} is not a record of SPEC.md §12 (`{{\"body\": …, \"sig\": …, \"personal\": …}}`): {e}{}",
                        done_so_far(&summary)
                    ))
                })?;
                records.push(record);
                lines.push(line_no);
            }
        }
        if records.len() == batch || (end && !records.is_empty()) {
            let ack = ledger.submit(std::mem::take(&mut records)).map_err(|e| at_lines(e, &lines, &summary))?;
            for a in &ack.acks {
                if a.duplicate {
                    summary.duplicates += 1;
                } else {
                    summary.appended += 1;
                }
                if let Some(w) = receipts.as_deref_mut() {
                    let mut line = Vec::with_capacity(a.receipt.entry.len() + a.receipt.tlog_proof.len() + 256);
                    push_acked(&mut line, public_url, a);
                    line.push(b'\n');
                    w.write_all(&line).map_err(|e| {
                        WebError::Setup(format!(
                            "cannot write the receipts: {e}; the records up to line {} are appended",
                            lines.last().unwrap_or(&0)
                        ))
                    })?;
                }
            }
            if let Some(w) = receipts.as_deref_mut() {
                // Each durable batch's receipts leave the process before the next batch starts.
                w.flush().map_err(|e| {
                    WebError::Setup(format!("cannot write the receipts: {e}; the records up to line {line_no} are appended"))
                })?;
            }
            summary.records += lines.len() as u64;
            lines.clear();
            progress(consumed);
        }
        if end {
            break;
        }
    }
    summary.size = ledger.size();
    Ok(summary)
}

/// What the failed import leaves in the log.
fn done_so_far(s: &ImportSummary) -> String {
    match s.records {
        0 => "; nothing was appended".into(),
        n => format!("; the {n} records read before are in the log (running the import again skips them)"),
    }
}

/// A batch's error, told by input line instead of position in the batch.
fn at_lines(e: LedgerError, lines: &[u64], s: &ImportSummary) -> WebError {
    let line = |r: usize| lines.get(r).copied().unwrap_or(0);
    let (first, last) = (lines.first().copied().unwrap_or(0), lines.last().copied().unwrap_or(0));
    let detail = match &e {
        LedgerError::InvalidRecord { record, field, why } => format!("line {}: field `{field}`: {why}", line(*record)),
        LedgerError::MessageIdReused { record, submitter, message_id, index } => format!(
            "line {}: message id `{message_id}` was already used by submitter `{submitter}` for a different record (entry {index}); message ids are never reused",
            line(*record)
        ),
        LedgerError::RecordSignature { record, signer } => format!(
            "line {}: field `sig`: the signature does not verify with the registered key of submitter `{signer}`",
            line(*record)
        ),
        LedgerError::Storage(_) | LedgerError::Unavailable(_) | LedgerError::Corrupt(_) | LedgerError::ShuttingDown => return WebError::Ledger(e),
        other => format!("the batch of lines {first}–{last}: {other}"),
    };
    let before = if s.records > 0 { done_so_far(s) } else { String::new() };
    WebError::BadRequest(format!("{detail}; nothing of lines {first}–{last} was appended{before}"))
}
