//! Admin and compliance endpoints (Bearer credentials): registering submitters
//! and parties, rotating the log key, erasure by compliance.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sightline_ledger::note::NoteSigner;
use sightline_ledger::BatchAck;

use crate::acks::batch_response;
use crate::error::{WebError, WebResult};
use crate::http::{blocking, body_bytes, require_json};
use crate::setup::{promote_next_key, stage_next_key};
use crate::state::{AppState, Role};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubmitter {
    submitter: String,
    name: String,
    contact: String,
    public_key: String,
}

/// A party to register (SPEC.md §3.3), as the admin API and the demo's data file write it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewParty {
    party: String,
    name: String,
    contact: String,
    established_in: String,
    ultimately_controlled_by: String,
}

impl NewParty {
    /// Appends its registration.
    pub fn register(&self, ledger: &sightline_ledger::Ledger) -> sightline_ledger::Result<BatchAck> {
        ledger.register_party(&self.party, &self.name, &self.contact, &self.established_in, &self.ultimately_controlled_by)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseRequest {
    recipient: String,
}

fn parse<T: DeserializeOwned>(state: &AppState, headers: &HeaderMap, role: Role, body: Result<Bytes, BytesRejection>) -> WebResult<T> {
    state.require(headers, role)?;
    require_json(headers)?;
    let bytes = body_bytes(body, state.limits.max_body_bytes)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        if !matches!(e.inner().classify(), serde_json::error::Category::Data) {
            return WebError::BadJson(e.inner().to_string());
        }
        let (field, why) = sightline_ledger::serde_words::field_and_reason(&e.path().to_string(), &e.inner().to_string());
        if field.is_empty() {
            WebError::BadJson(format!("the body {why}"))
        } else {
            WebError::BadJson(format!("field `{field}` {why}"))
        }
    })
}

/// `POST /api/v1/admin/submitters`
pub async fn register_submitter(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    let s: NewSubmitter = parse(&state, &headers, Role::Admin, body)?;
    let ledger = state.ledger.clone();
    let ack = blocking(move || Ok(ledger.register_submitter(&s.submitter, &s.name, &s.contact, &s.public_key)?)).await?;
    tracing::info!(index = ack.acks[0].index, "submitter registered");
    batch_response(&state.public_url, &ack)
}

/// `POST /api/v1/admin/parties`
pub async fn register_party(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> WebResult<Response> {
    let p: NewParty = parse(&state, &headers, Role::Admin, body)?;
    let ledger = state.ledger.clone();
    let ack = blocking(move || p.register(&ledger).map_err(WebError::from)).await?;
    batch_response(&state.public_url, &ack)
}

/// `POST /api/v1/admin/rotate-key`: the new key is written beside the old one
/// first, so a crash between the commit and the rename loses no key.
pub async fn rotate_key(State(state): State<AppState>, headers: HeaderMap) -> WebResult<Response> {
    state.require(&headers, Role::Admin)?;
    let dir = state.data_dir.clone().ok_or_else(|| WebError::BadRequest("this server has no data folder to keep a new key in".into()))?;
    let ledger = state.ledger.clone();
    let ack = blocking(move || -> WebResult<BatchAck> {
        let next = NoteSigner::generate(ledger.origin())?;
        stage_next_key(&dir, &next)?;
        let ack = ledger.rotate_log_key(next)?;
        promote_next_key(&dir)?;
        Ok(ack)
    })
    .await?;
    tracing::info!(vkey = %state.ledger.vkey(), "log key rotated");
    batch_response(&state.public_url, &ack)
}

/// `POST /api/v1/compliance/erase`: erases the person's personal data in the scope of every
/// submitter, in one `erasure` entry by `compliance` (`Ledger::erase_recipient`).
pub async fn erase(State(state): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> WebResult<Response> {
    let r: EraseRequest = parse(&state, &headers, Role::Compliance, body)?;
    let ledger = state.ledger.clone();
    let ack = blocking(move || Ok(ledger.erase_recipient(&r.recipient)?)).await?;
    batch_response(&state.public_url, &ack)
}
