//! Ingestion (SPEC.md §12): `POST /api/v1/submissions`, a batch of
//! submitter-signed records, all or nothing, answered once durable.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sightline_ledger::{Ack, BatchAck, Submission};

use crate::app::AppState;
use crate::error::{WebError, WebResult};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitRequest {
    records: Vec<Submission>,
}

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
            WebError::BadJson(e.body_text())
        }
    })
}

/// `POST /api/v1/submissions`
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> WebResult<Response> {
    require_json(&headers)?;
    let bytes = body_bytes(body, state.limits.max_body_bytes)?;
    // UTF-8 checked once, not again for every string by the decoder.
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| WebError::BadJson(format!("the body is not UTF-8 text: invalid byte at offset {}", e.valid_up_to())))?;
    let req: SubmitRequest = serde_json::from_str(text).map_err(|e| WebError::BadJson(e.to_string()))?;
    let n = req.records.len();
    if n == 0 {
        return Err(WebError::BadRequest("the batch has no records".into()));
    }
    if n > state.limits.max_records {
        return Err(WebError::TooManyRecords { got: n, limit: state.limits.max_records });
    }
    let started = Instant::now();
    let ledger = state.ledger.clone();
    let ack = tokio::task::spawn_blocking(move || ledger.submit(req.records))
        .await
        .map_err(|e| WebError::Setup(format!("the ingestion task failed: {e}")))??;
    state.http.observe_submit(started.elapsed().as_secs_f64(), n);
    let warnings: usize = ack.acks.iter().map(|a| a.warnings.len()).sum();
    tracing::info!(records = n, first_index = ack.acks.first().map(|a| a.index), warnings, "batch acknowledged");
    batch_response(&state, &ack)
}

/// The response to an acknowledged batch (SPEC.md §12), serialized straight
/// from the acknowledgement. Members are declared in sorted order, the order
/// the response has always had, and the buffer is sized up front: a batch's
/// receipts are megabytes, and building a `serde_json::Value` first copied
/// every receipt before writing it.
pub fn batch_response(state: &AppState, ack: &BatchAck) -> WebResult<Response> {
    let body = batch_body(&state.public_url, ack).map_err(|e| WebError::Setup(format!("writing the receipts failed: {e}")))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response())
}

/// One acknowledged record as the response lists it (SPEC.md §12), borrowed
/// from the acknowledgement; `sightline import` writes the same objects.
#[derive(Serialize)]
pub(crate) struct Acked<'a> {
    duplicate: bool,
    index: u64,
    message_id: Option<&'a str>,
    receipt: ReceiptFile<'a>,
    warnings: &'a [String],
    why_url: Option<String>,
}

#[derive(Serialize)]
struct ReceiptFile<'a> {
    entry: &'a str,
    format: &'a str,
    tlog_proof: &'a str,
}

impl<'a> Acked<'a> {
    pub(crate) fn of(public_url: &str, a: &'a Ack) -> Self {
        Acked {
            duplicate: a.duplicate,
            index: a.index,
            message_id: a.message_id.as_deref(),
            receipt: ReceiptFile { entry: &a.receipt.entry, format: &a.receipt.format, tlog_proof: &a.receipt.tlog_proof },
            warnings: &a.warnings,
            why_url: a.why_token.as_ref().map(|t| format!("{public_url}/why/{t}")),
        }
    }
}

fn batch_body(public_url: &str, ack: &BatchAck) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct Batch<'a> {
        checkpoint: &'a str,
        receipts: Vec<Acked<'a>>,
    }
    let receipts = ack.acks.iter().map(|a| Acked::of(public_url, a)).collect();
    let size: usize = ack.acks.iter().map(|a| a.receipt.entry.len() + a.receipt.tlog_proof.len() + 256).sum();
    let mut body = Vec::with_capacity(ack.checkpoint.len() + size + 64);
    serde_json::to_writer(&mut body, &Batch { checkpoint: &ack.checkpoint, receipts })?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sightline_ledger::receipt::Receipt;
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
                    message_id: Some("m-1".into()),
                    duplicate: false,
                    why_token: Some("TOKEN5".into()),
                    warnings: vec![],
                    receipt: receipt(5),
                },
                Ack {
                    index: 3,
                    message_id: None,
                    duplicate: true,
                    why_token: None,
                    warnings: vec!["the recipient objected".into()],
                    receipt: receipt(3),
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
                "warnings": a.warnings,
            })).collect::<Vec<_>>(),
        });
        let got = super::batch_body(url, &ack).unwrap();
        assert_eq!(String::from_utf8(got).unwrap(), serde_json::to_string(&expected).unwrap());
    }
}
