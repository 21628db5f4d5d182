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

use crate::error::{WebError, WebResult};
use crate::http::{blocking, number_param, query_rejection, required_number};
use crate::receipts::{receipt_response, witnessed_receipt};
use crate::state::AppState;

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
    let (bytes, full) = blocking(move || {
        Ok(match parsed {
            TilePath::Hashes(t) => (ledger.tile(t.level, t.index, t.width).map_err(|_| WebError::NotFound)?, t.width == 256),
            TilePath::Entries { index, width } => (ledger.entry_bundle(index, width).map_err(|_| WebError::NotFound)?, width == 256),
        })
    })
    .await?;
    let cache = if full { "public, max-age=31536000, immutable" } else { "no-store" };
    Ok(([(header::CONTENT_TYPE, "application/octet-stream"), (header::CACHE_CONTROL, cache)], bytes).into_response())
}

/// The query of the proof and entries endpoints: every parameter as text, so that a wrong one
/// is refused in words naming it ([`number_param`]).
#[derive(Deserialize)]
pub struct NumbersQuery {
    index: Option<String>,
    size: Option<String>,
    old: Option<String>,
    new: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

type QueryResult = Result<Query<NumbersQuery>, axum::extract::rejection::QueryRejection>;

/// `GET /api/v1/proof/inclusion?index=I&size=S`
pub async fn inclusion(State(state): State<AppState>, q: QueryResult) -> WebResult<Json<Value>> {
    const USAGE: &str = "?index=N&size=M";
    let Query(q) = q.map_err(|e| query_rejection(&e, USAGE))?;
    let index = required_number("index", q.index.as_deref(), USAGE)?;
    let size = number_param("size", q.size.as_deref(), USAGE)?.unwrap_or_else(|| state.ledger.size());
    let proof = state.ledger.inclusion_proof(index, size)?;
    let leaf = state.ledger.leaf_hash(index)?;
    Ok(Json(
        json!({ "index": index, "size": size, "leaf_hash": B64.encode(leaf), "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/v1/proof/consistency?old=A&new=B`
pub async fn consistency(State(state): State<AppState>, q: QueryResult) -> WebResult<Json<Value>> {
    const USAGE: &str = "?old=A&new=B";
    let Query(q) = q.map_err(|e| query_rejection(&e, USAGE))?;
    let old = required_number("old", q.old.as_deref(), USAGE)?;
    let new = number_param("new", q.new.as_deref(), USAGE)?.unwrap_or_else(|| state.ledger.size());
    if old > new {
        return Err(WebError::BadRequest(format!("old size {old} is larger than new size {new}")));
    }
    let proof = state.ledger.consistency_proof(old, new)?;
    Ok(Json(json!({ "old": old, "new": new, "proof": proof.iter().map(|h| B64.encode(h)).collect::<Vec<_>>() })))
}

/// Most entries one call of the entries API returns.
const MAX_ENTRIES: u64 = 1000;

/// `GET /api/v1/entries?start=A&end=B`: entries `A..B` (`end` exclusive, both required), at most
/// 1000; entries beyond the published size are not returned.
pub async fn entries(State(state): State<AppState>, q: QueryResult) -> WebResult<Json<Value>> {
    const USAGE: &str = "?start=A&end=B (entries A to B-1, at most 1000)";
    let Query(q) = q.map_err(|e| query_rejection(&e, USAGE))?;
    let start = required_number("start", q.start.as_deref(), USAGE)?;
    let end = required_number("end", q.end.as_deref(), USAGE)?;
    if end < start || end - start > MAX_ENTRIES {
        return Err(WebError::BadRequest(format!("ask for at most {MAX_ENTRIES} entries, with start <= end ({USAGE})")));
    }
    let ledger = state.ledger.clone();
    let list = blocking(move || Ok(ledger.entries(start, end)?)).await?;
    let entries: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, b)| json!({ "index": start + i as u64, "entry": serde_json::from_slice::<Value>(b).unwrap_or(Value::Null) }))
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

/// `GET /api/v1/registry`: who the log knows, as the log itself registered them (SPEC.md §12):
/// every log key with the entry that announced it, each submitter with its current key and the
/// entry that registered (or last re-keyed) it, each party with its entry. Sorted by entry.
pub async fn registry(State(state): State<AppState>) -> WebResult<Json<Value>> {
    let reg = state.ledger.registry()?;
    let log_keys: Vec<Value> = reg.log_keys.iter().map(|(index, key)| json!({ "index": index, "vkey": key.vkey() })).collect();
    let submitters = by_index(reg.submitters.values(), |s| {
        let b = &s.body;
        (
            s.index,
            json!({ "submitter": b.submitter, "name": b.name, "contact": b.contact, "public_key": b.public_key,
                          "registered_at": b.registered_at, "index": s.index }),
        )
    });
    let parties = by_index(reg.parties.values(), |p| {
        let b = &p.body;
        (
            p.index,
            json!({ "party": b.party, "name": b.name, "contact": b.contact, "established_in": b.established_in,
                          "ultimately_controlled_by": b.ultimately_controlled_by, "index": p.index }),
        )
    });
    Ok(Json(json!({ "log_keys": log_keys, "submitters": submitters, "parties": parties })))
}

/// Registry items as JSON, in the order of the entries that registered them.
fn by_index<'a, T: 'a>(items: impl Iterator<Item = &'a T>, item: impl Fn(&T) -> (u64, Value)) -> Vec<Value> {
    let mut all: Vec<(u64, Value)> = items.map(item).collect();
    all.sort_by_key(|(index, _)| *index);
    all.into_iter().map(|(_, v)| v).collect()
}

/// `GET /api/v1/receipt/<index>`
pub async fn receipt(State(state): State<AppState>, Path(index): Path<String>) -> WebResult<Response> {
    let index: u64 = index.parse().map_err(|_| WebError::NotFound)?;
    let r = witnessed_receipt(&state, index)?;
    Ok(receipt_response(&r, index))
}
