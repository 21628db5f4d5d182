//! Ingestion (SPEC.md §12): `POST /api/v1/submissions`, a batch of
//! submitter-signed records, all or nothing, answered once durable. The request is
//! authenticated as one submitter before its body is read (`submitter_auth.rs`, run by
//! `admission.rs`), and a batch may hold only that submitter's records.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use sightline_ledger::{BatchAck, BatchText, Ledger, Submissions};

use crate::acks::batch_response;
use crate::error::{WebError, WebResult};
use crate::http::{blocking, body_bytes, require_json};
use crate::state::AppState;
use crate::submitter_auth::AuthenticatedSubmitter;

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
    let (n, ack) = blocking(move || submit_blocking(&ledger, &submitter, &bytes, max_records)).await?;
    state.http.observe_submit(started.elapsed().as_secs_f64(), n);
    let warnings: usize = ack.acks.iter().map(|a| a.warnings.len()).sum();
    tracing::info!(records = n, first_index = ack.acks.first().map(|a| a.index), warnings, "batch acknowledged");
    batch_response(&state.public_url, &ack)
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
