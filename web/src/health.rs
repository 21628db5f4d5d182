//! `GET /healthz[?witnessed]`: whether the server is up; on a log several front ends share,
//! this front end's role (`role: sequencer|follower|switching`, SPEC.md §12.2); and, with
//! witnesses configured, whether a recent checkpoint met the log's witness policy (SPEC.md
//! §12). `?witnessed` makes a policy not met a `503`, for a readiness probe.

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use sightline_ledger::FrontEndRole;

use crate::state::AppState;

/// `GET /healthz[?witnessed]`
pub async fn healthz(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    // On a log several front ends share: which one this is, and whether it sequences.
    let role = state.ledger.front_end().map(|(id, role)| {
        let what = match role {
            FrontEndRole::Sequencer => "sequencer",
            FrontEndRole::Follower => "follower",
            FrontEndRole::Switching => "switching",
        };
        format!("role: {what} (front end {id})\n")
    });
    let role = role.unwrap_or_default();
    let plain = move |status: StatusCode, body: String| {
        let body = match body.strip_prefix("ok\n") {
            Some(rest) => format!("ok\n{role}{rest}"),
            None => body,
        };
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
    };
    let wants_witnessed = query.as_deref().is_some_and(|q| q.split('&').any(|p| p == "witnessed"));
    let Some(cosigning) = &state.cosigning else {
        if wants_witnessed {
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "ok\nno witnesses are configured: no checkpoint of this log is witnessed\n".into(),
            );
        }
        return plain(StatusCode::OK, "ok\n".into());
    };
    let status = cosigning.status();
    let code = if wants_witnessed && !status.met { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    plain(code, format!("ok\n{}\n", status.health_line()))
}
