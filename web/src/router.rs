//! The server's routes ([`router`]): every path and method, the body limits, the admission
//! middleware (`admission.rs`), and the security headers every response carries.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::Refusal;
use crate::recipient_form::FORM_BYTES;
use crate::state::AppState;
use crate::{admin, admission, export_http, health, ingest, library, metrics, regulator, rights, why};

/// The whole router.
pub fn router(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .route("/", get(why::home))
        .route("/healthz", get(health::healthz))
        .route("/static/sightline.css", get(stylesheet))
        .route("/metrics", get(metrics::metrics))
        .route("/openapi.yaml", get(regulator::openapi))
        .route("/checkpoint", get(regulator::checkpoint))
        .route("/tile/{*path}", get(regulator::tile))
        .route("/api/v1/proof/inclusion", get(regulator::inclusion))
        .route("/api/v1/proof/consistency", get(regulator::consistency))
        .route("/api/v1/entries", get(regulator::entries))
        .route("/api/v1/receipt/{index}", get(regulator::receipt))
        .route("/api/v1/registry", get(regulator::registry))
        .route("/api/v1/submissions", post(ingest::submit))
        .route("/api/v1/admin/submitters", post(admin::register_submitter))
        .route("/api/v1/admin/parties", post(admin::register_party))
        .route("/api/v1/admin/rotate-key", post(admin::rotate_key))
        .route("/api/v1/compliance/erase", post(admin::erase))
        .route("/api/v1/export", get(export_http::export))
        .route("/api/v1/library", get(library::api))
        .route("/library", get(library::page))
        .route("/why/{token}", get(why::page))
        .route("/why/{token}/messages", get(rights::ask_address).post(rights::messages).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .route("/why/{token}/receipt", get(why::receipt))
        .route("/why/{token}/object", post(rights::object).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .route("/why/{token}/erase", post(rights::erase).layer(DefaultBodyLimit::max(FORM_BYTES)))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(state.clone(), admission::admit))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        .with_state(state)
}

/// `GET /static/sightline.css`: the pages' one stylesheet. It is not inline, so
/// the CSP can refuse inline style, and browsers fetch it once, not with every page.
async fn stylesheet() -> Response {
    let headers = [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")];
    (headers, include_str!("../static/sightline.css")).into_response()
}

/// Security headers on every response, and request and refusal counting for `/metrics`.
async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    state.http.requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Never a page's address (a why link) to another site; and, unlike `no-referrer`, a form
    // posted from a page here carries this server's `Origin` instead of `null`.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Some(Refusal(reason)) = resp.extensions().get::<Refusal>() {
        state.http.refusals.count(reason);
    }
    if state.http.count_status(resp.status()) {
        tracing::debug!(status = %resp.status(), "response");
    }
    resp
}
