//! Ingestion (SPEC.md §12): `POST /api/v1/submissions`, a batch of
//! submitter-signed records, all or nothing, answered once durable. The request is
//! authenticated as one submitter before its body is read (`submitter_auth.rs`, run by
//! `admission.rs`), and a batch may hold only that submitter's records.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use sightline_ledger::{Ack, BatchAck, BatchText, Ledger, Submissions};

use crate::app::AppState;
use crate::error::{WebError, WebResult};
use crate::submitter_auth::AuthenticatedSubmitter;
use sightline_ledger::json_text;

/// Rejects a body that is not declared as JSON.
pub fn require_json(headers: &HeaderMap) -> WebResult<()> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim).is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        Ok(())
    } else {
        Err(WebError::UnsupportedMediaType)
    }
}

/// Reads a JSON body, mapping an over-limit body to 413.
pub fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> WebResult<Bytes> {
    body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            WebError::BodyTooLarge(limit)
        } else {
            // The framework's own words name its internals; say what happened instead.
            WebError::BadRequest(format!(
                "the request body could not be read completely (status {} while receiving it); send the request again",
                e.status().as_u16()
            ))
        }
    })
}

/// `POST /api/v1/submissions`. The request was authenticated from its headers before its body
/// was read (`admission.rs`); every record must be the authenticated submitter's.
pub async fn submit(
    State(state): State<AppState>,
    who: Option<Extension<AuthenticatedSubmitter>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    let Some(Extension(AuthenticatedSubmitter(submitter))) = who else { return Err(WebError::RequestAuthMissing) };
    require_json(&headers)?;
    let bytes = body_bytes(body, state.limits.max_body_bytes)?;
    let started = Instant::now();
    let (ledger, max_records) = (state.ledger.clone(), state.limits.max_records);
    // The batch is parsed on the blocking thread too: a large one takes milliseconds.
    let (n, ack) = tokio::task::spawn_blocking(move || submit_blocking(&ledger, &submitter, &bytes, max_records))
        .await
        .map_err(|e| WebError::Setup(format!("the ingestion task failed: {e}")))??;
    state.http.observe_submit(started.elapsed().as_secs_f64(), n);
    let warnings: usize = ack.acks.iter().map(|a| a.warnings.len()).sum();
    tracing::info!(records = n, first_index = ack.acks.first().map(|a| a.index), warnings, "batch acknowledged");
    batch_response(&state, &ack)
}

/// Parses and appends a batch; returns its record count and acknowledgement. A batch whose
/// bodies are all canonical is split in one pass ([`BatchText`]); any other is parsed into
/// [`Submissions`], which accepts the same batches and names what is wrong.
fn submit_blocking(ledger: &Ledger, submitter: &str, bytes: &[u8], max_records: usize) -> WebResult<(usize, BatchAck)> {
    // UTF-8 checked once, not again for every string by the decoder.
    let text = std::str::from_utf8(bytes)
        .map_err(|e| WebError::BadJson(format!("the body is not UTF-8 text: invalid byte at offset {}", e.valid_up_to())))?;
    let check_count = |n: usize| match n {
        0 => Err(WebError::BadRequest("the batch has no records; send at least one (SPEC.md §12)".into())),
        n if n > max_records => Err(WebError::TooManyRecords { got: n, limit: max_records }),
        n => Ok(n),
    };
    if let Some(batch) = BatchText::split(text) {
        let n = check_count(batch.len())?;
        return Ok((n, ledger.submit_batch_as(submitter, &batch)?));
    }
    let req = Submissions::parse(text)?;
    let n = check_count(req.records.len())?;
    Ok((n, ledger.submit_as(submitter, req.records)?))
}

/// The response to an acknowledged batch (SPEC.md §12), written straight from the
/// acknowledgement into one buffer sized up front: a batch's receipts are megabytes.
pub fn batch_response(state: &AppState, ack: &BatchAck) -> WebResult<Response> {
    let body = batch_body(&state.public_url, ack);
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

/// Writes the response by hand, members in sorted order: `serde_json` scans each of a batch's
/// megabytes of receipt text one byte at a time, [`json_text::push_str`] 16 at a time. The test
/// below holds the bytes to what `serde_json` writes for the same members.
fn batch_body(public_url: &str, ack: &BatchAck) -> Vec<u8> {
    let size: usize = ack.acks.iter().map(|a| a.receipt.entry.len() + a.receipt.tlog_proof.len() + public_url.len() + 256).sum();
    let mut out = Vec::with_capacity(ack.checkpoint.len() + size + 64);
    out.extend_from_slice(b"{\"checkpoint\":");
    json_text::push_str(&mut out, &ack.checkpoint);
    out.extend_from_slice(b",\"receipts\":[");
    for (i, a) in ack.acks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_acked(&mut out, public_url, a);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Appends one acknowledged record as the response lists it (SPEC.md §12), members in sorted
/// order; `sightline import` writes the same objects, one per line.
pub(crate) fn push_acked(out: &mut Vec<u8>, public_url: &str, a: &Ack) {
    use std::io::Write;
    out.extend_from_slice(if a.duplicate { b"{\"duplicate\":true,\"index\":" } else { b"{\"duplicate\":false,\"index\":" });
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{}", a.index);
    out.extend_from_slice(b",\"message_id\":");
    json_text::push_opt_str(out, a.message_id.as_deref());
    out.extend_from_slice(b",\"receipt\":{\"entry\":");
    json_text::push_str(out, &a.receipt.entry);
    out.extend_from_slice(b",\"format\":");
    json_text::push_str(out, &a.receipt.format);
    out.extend_from_slice(b",\"tlog_proof\":");
    json_text::push_str(out, &a.receipt.tlog_proof);
    // The exact header, attribute or link the platform puts into the message (SPEC.md §10.2).
    let why_url = a.why_token.as_ref().map(|t| format!("{public_url}/why/{t}"));
    out.extend_from_slice(b"},\"reference\":");
    json_text::push_opt_str(out, a.reference.as_ref().map(|r| r.carrier(why_url.as_deref())).as_deref());
    out.extend_from_slice(b",\"warnings\":[");
    for (j, w) in a.warnings.iter().enumerate() {
        if j > 0 {
            out.push(b',');
        }
        json_text::push_str(out, w);
    }
    out.extend_from_slice(b"],\"why_url\":");
    json_text::push_opt_str(out, why_url.as_deref());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sightline_ledger::receipt::Receipt;
    use sightline_ledger::record::Channel;
    use sightline_ledger::reference::{EntryRef, MessageRef};
    use sightline_ledger::{Ack, BatchAck};

    /// The response names exactly the members of SPEC.md §12, in sorted order,
    /// byte for byte what a `serde_json::Value` of them serializes to.
    #[test]
    fn batch_body_is_the_spec_members_in_sorted_order() {
        let receipt = |i: u64| Receipt {
            format: "sightline-receipt/v1".into(),
            entry: format!("ZW50cnk{i}"),
            tlog_proof: format!("c2sp.org/tlog-proof@v1\nindex {i}\n\"quoted\" <b>\n"),
        };
        let ack = BatchAck {
            checkpoint: "example.org/log\n7\nroot\n\n— sig\n".into(),
            acks: vec![
                Ack {
                    index: 5,
                    message_id: Some("m-\"1\"\\ ☃".into()),
                    duplicate: false,
                    why_token: Some("TOKEN5".into()),
                    warnings: vec![],
                    receipt: receipt(5),
                    reference: Some(MessageRef {
                        channel: Channel::Email,
                        entry: EntryRef { origin: "log.example/log".into(), index: 5, leaf: [7; 32] },
                    }),
                },
                Ack {
                    index: 3,
                    message_id: None,
                    duplicate: true,
                    why_token: None,
                    warnings: vec!["the recipient objected".into(), "control \u{1}\t<b>".into()],
                    receipt: receipt(3),
                    reference: None,
                },
            ],
        };
        let url = "https://log.example";
        let expected = json!({
            "checkpoint": ack.checkpoint,
            "receipts": ack.acks.iter().map(|a| json!({
                "message_id": a.message_id,
                "index": a.index,
                "duplicate": a.duplicate,
                "why_url": a.why_token.as_ref().map(|t| format!("{url}/why/{t}")),
                "receipt": a.receipt,
                "reference": a.reference.as_ref().map(|r| r.carrier(None)),
                "warnings": a.warnings,
            })).collect::<Vec<_>>(),
        });
        let got = super::batch_body(url, &ack);
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&expected).unwrap());
    }
}
