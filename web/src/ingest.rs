//! Ingestion (SPEC.md §12): `POST /api/v1/submissions`, a batch of
//! submitter-signed records, all or nothing, answered once durable.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sightline_ledger::{BatchAck, Submission};

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
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> WebResult<Json<Value>> {
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
    Ok(Json(batch_json(&state, &ack)))
}

/// The response body of an acknowledged batch.
pub fn batch_json(state: &AppState, ack: &BatchAck) -> Value {
    let receipts: Vec<Value> = ack
        .acks
        .iter()
        .map(|a| {
            json!({
                "message_id": a.message_id,
                "index": a.index,
                "duplicate": a.duplicate,
                "why_url": a.why_token.as_ref().map(|t| format!("{}/why/{t}", state.public_url)),
                "receipt": a.receipt,
                "warnings": a.warnings,
            })
        })
        .collect();
    json!({ "checkpoint": ack.checkpoint, "receipts": receipts })
}
