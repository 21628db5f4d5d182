//! Compliance export over HTTP (SPEC.md §11, §12): streamed as it is read,
//! so a large export starts at once and runs in constant memory.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sightline_ledger::export::{export_at, ExportFilter, ExportFormat};
use sightline_ledger::record::parse_time;

use crate::error::{WebError, WebResult};
use crate::http::{query_rejection, streamed_body};
use crate::state::{AppState, Role};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// The query of `GET /api/v1/export`, every parameter as text (checked by [`filter_from`]).
pub struct ExportQuery {
    format: Option<String>,
    from: Option<String>,
    to: Option<String>,
    advertiser: Option<String>,
    campaign: Option<String>,
    include_personal: Option<String>,
}

/// Parses a date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 UTC time.
pub fn parse_bound(field: &str, s: &str) -> WebResult<time::OffsetDateTime> {
    if let Some(t) = parse_time(s) {
        return Ok(t);
    }
    time::Date::parse(s, &time::macros::format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| WebError::BadRequest(format!("`{field}` must be a date YYYY-MM-DD or a time like 2026-11-20T18:04:05Z")))
}

/// Builds an export filter and format from query parameters.
pub fn filter_from(
    format: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    advertiser: Option<String>,
    campaign: Option<String>,
    include_personal: bool,
) -> WebResult<(ExportFilter, ExportFormat)> {
    let format = match format.unwrap_or("bundle") {
        "bundle" => ExportFormat::Bundle,
        "jsonl" => ExportFormat::Jsonl,
        "csv" => ExportFormat::Csv,
        other => return Err(WebError::BadRequest(format!("unknown export format `{other}`; use bundle, jsonl or csv"))),
    };
    let filter = ExportFilter {
        from: from.map(|s| parse_bound("from", s)).transpose()?,
        to: to.map(|s| parse_bound("to", s)).transpose()?,
        advertiser,
        campaign,
        include_personal,
    };
    Ok((filter, format))
}

/// `GET /api/v1/export?format=bundle|jsonl|csv&from&to&advertiser&campaign&include_personal`
pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> WebResult<Response> {
    state.require(&headers, Role::Compliance)?;
    const USAGE: &str = "?format=bundle|jsonl|csv&from=&to=&advertiser=&campaign=&include_personal=true|false";
    let Query(q) = q.map_err(|e| query_rejection(&e, USAGE))?;
    let include_personal = match q.include_personal.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(WebError::BadRequest(format!("the query parameter `include_personal` must be true or false (got `{other}`)")))
        }
    };
    let (filter, format) =
        filter_from(q.format.as_deref(), q.from.as_deref(), q.to.as_deref(), q.advertiser, q.campaign, include_personal)?;
    let ledger = state.ledger.clone();
    // A bundle is made at the newest checkpoint witnesses cosigned, so that it carries their
    // cosignatures (SPEC.md §11); entries appended since are in the next witnessed bundle.
    let witnessed = match format {
        ExportFormat::Bundle => state.cosigning.as_ref().and_then(|c| c.witnessed()).map(|w| w.note),
        ExportFormat::Jsonl | ExportFormat::Csv => None,
    };
    let body = streamed_body(move |w| match export_at(&ledger, &filter, format, w, &|_, _| {}, witnessed.as_deref()) {
        Ok(s) => {
            tracing::info!(records = s.records, size = s.size, "export streamed");
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, "export failed mid-stream");
            Err(e.to_string())
        }
    });
    let (ctype, name) = match format {
        ExportFormat::Bundle => ("application/x-ndjson", "export.sightline-bundle.jsonl"),
        ExportFormat::Jsonl => ("application/x-ndjson", "export.jsonl"),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "export.csv"),
    };
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok(([(header::CONTENT_TYPE, ctype.to_string()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}
