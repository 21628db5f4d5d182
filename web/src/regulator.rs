//! The public read API for verifiers, monitors and any C2SP tlog-tiles client
//! (SPEC.md §9, §12): checkpoint, tiles, entry bundles, proofs, entries, receipts.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sightline_ledger::tiles::{parse_tile_path, TilePath};

use crate::app::AppState;
use crate::error::{WebError, WebResult};

const OPENAPI: &str = include_str!("../openapi.yaml");

/// `GET /openapi.yaml`
pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI)
}

/// `GET /checkpoint`
pub async fn checkpoint(State(state): State<AppState>) -> WebResult<Response> {
    let mut cp = state.ledger.checkpoint()?;
    if let Some(c) = &state.cosigning {
        cp = c.served_checkpoint(&cp);
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], cp).into_response())
}

/// `GET /tile/<L>/<N>[.p/<W>]` and `GET /tile/entries/<N>[.p/<W>]`
pub async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> WebResult<Response> {
    let parsed = parse_tile_path(&format!("tile/{path}")).map_err(|_| WebError::NotFound)?;
    let ledger = state.ledger.clone();
    let (bytes, full) = tokio::task::spawn_blocking(move || -> WebResult<(Vec<u8>, bool)> {
        Ok(match parsed {
            TilePath::Hashes(t) => (ledger.tile(t.level, t.index, t.width).map_err(|_| WebError::NotFound)?, t.width == 256),
            TilePath::Entries { index, width } => (ledger.entry_bundle(index, width).map_err(|_| WebError::NotFound)?, width == 256),
        })
    })
    .await
    .map_err(|e| WebError::Setup(e.to_string()))??;
    let cache = if full { "public, max-age=31536000, immutable" } else { "no-store" };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], bytes).into_response())
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

/// `GET /api/v1/proof/inclusion?index=I&size=S`
pub async fn inclusion(
    State(state): State<AppState>,
    q: Result<Query<InclusionQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult<Json<Value>> {
    let Query(q) = q.map_err(|e| WebError::BadRequest(format!("{}; use ?index=N&size=M", e.body_text())))?;
    let size = q.size.unwrap_or_else(|| state.ledger.size());
    let proof = state.ledger.inclusion_proof(q.index, size)?;
    let leaf = state.ledger.leaf_hash(q.index)?;
    Ok(Json(
        json!({ "index": q.index, "size": size, "leaf_hash": B64.encode(leaf), "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    old: u64,
    new: Option<u64>,
}

/// `GET /api/v1/proof/consistency?old=A&new=B`
pub async fn consistency(
    State(state): State<AppState>,
    q: Result<Query<ConsistencyQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult<Json<Value>> {
    let Query(q) = q.map_err(|e| WebError::BadRequest(format!("{}; use ?old=A&new=B", e.body_text())))?;
    let new = q.new.unwrap_or_else(|| state.ledger.size());
    if q.old > new {
        return Err(WebError::BadRequest(format!("old size {} is larger than new size {new}", q.old)));
    }
    let proof = state.ledger.consistency_proof(q.old, new)?;
    Ok(Json(json!({ "old": q.old, "new": new, "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
pub struct RangeQuery {
    start: u64,
    end: u64,
}

/// `GET /api/v1/entries?start=A&end=B` (at most 1000)
pub async fn entries(
    State(state): State<AppState>,
    q: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult<Json<Value>> {
    let Query(q) = q.map_err(|e| WebError::BadRequest(format!("{}; use ?start=A&end=B", e.body_text())))?;
    if q.end < q.start || q.end - q.start > 1000 {
        return Err(WebError::BadRequest("ask for at most 1000 entries, with start <= end".into()));
    }
    let ledger = state.ledger.clone();
    let list = tokio::task::spawn_blocking(move || ledger.entries(q.start, q.end)).await.map_err(|e| WebError::Setup(e.to_string()))??;
    let entries: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, b)| json!({ "index": q.start + i as u64, "entry": serde_json::from_slice::<Value>(b).unwrap_or(Value::Null) }))
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

/// `GET /api/v1/receipt/<index>`
pub async fn receipt(State(state): State<AppState>, Path(index): Path<String>) -> WebResult<Response> {
    let index: u64 = index.parse().map_err(|_| WebError::NotFound)?;
    let r = witnessed_receipt(&state, index)?;
    Ok(receipt_response(&r, index))
}

/// The receipt of entry `index` at the newest checkpoint whose cosignatures met the witness
/// policy, when that checkpoint includes the entry; else at the current checkpoint (SPEC.md §10).
pub fn witnessed_receipt(state: &AppState, index: u64) -> WebResult<sightline_ledger::receipt::Receipt> {
    if let Some(w) = state.cosigning.as_ref().and_then(|c| c.witnessed()).filter(|w| w.size > index) {
        match state.ledger.receipt_at(index, &w.note) {
            Ok(r) => return Ok(r),
            Err(e) => tracing::warn!(error = %e, "the witnessed checkpoint is not usable for a receipt; using the current one"),
        }
    }
    Ok(state.ledger.receipt(index)?)
}

/// A receipt as a downloadable file.
pub fn receipt_response(r: &sightline_ledger::receipt::Receipt, index: u64) -> Response {
    let body = serde_json::to_string_pretty(r).unwrap_or_default();
    let disposition = format!("attachment; filename=\"entry-{index}.sightline-receipt.json\"");
    ([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}
