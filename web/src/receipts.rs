//! An entry's receipt as a file (SPEC.md §10): made at the newest checkpoint the log's witnesses
//! cosigned when that one includes the entry, and served for download. The regulator API and a
//! recipient's page both serve it.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sightline_ledger::receipt::Receipt;

use crate::error::WebResult;
use crate::state::AppState;

/// The receipt of entry `index` at the newest checkpoint whose cosignatures met the witness
/// policy, when that checkpoint includes the entry; else at the current checkpoint (SPEC.md §10).
pub fn witnessed_receipt(state: &AppState, index: u64) -> WebResult<Receipt> {
    if let Some(w) = state.cosigning.as_ref().and_then(|c| c.witnessed()).filter(|w| w.size > index) {
        match state.ledger.receipt_at(index, &w.note) {
            Ok(r) => return Ok(r),
            Err(e) => tracing::warn!(error = %e, "the witnessed checkpoint is not usable for a receipt; using the current one"),
        }
    }
    Ok(state.ledger.receipt(index)?)
}

/// A receipt as a downloadable file.
pub fn receipt_response(r: &Receipt, index: u64) -> Response {
    let body = serde_json::to_string_pretty(r).unwrap_or_default();
    let disposition = format!("attachment; filename=\"entry-{index}.sightline-receipt.json\"");
    ([(header::CONTENT_TYPE, "application/json".to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
}
