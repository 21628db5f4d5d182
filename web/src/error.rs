//! The web crate's one error type, and its mapping to RFC 9457 problem+json.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sightline_ledger::Error as LedgerError;
use thiserror::Error;

/// Everything the server and CLI can fail with.
#[derive(Debug, Error)]
pub enum WebError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The request body is not JSON of the expected shape.
    #[error("the request body is not valid JSON of the expected shape: {0}")]
    BadJson(String),
    /// A request parameter is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// Missing or wrong Bearer credential.
    #[error("this endpoint needs a valid Bearer credential ({0})")]
    Unauthorized(&'static str),
    /// The batch has more records than allowed.
    #[error("the batch has {got} records; the limit is {limit} per request, split it")]
    TooManyRecords { got: usize, limit: usize },
    /// The body is over the size limit.
    #[error("the request body is over the {0}-byte limit; send fewer records per request")]
    BodyTooLarge(usize),
    /// Wrong content type.
    #[error("send the request body as application/json")]
    UnsupportedMediaType,
    /// Nothing here (deliberately says nothing more).
    #[error("not found")]
    NotFound,
    /// Setting up the data folder or the listener failed.
    #[error("{0}")]
    Setup(String),
}

impl WebError {
    fn status_and_type(&self) -> (StatusCode, &'static str) {
        use LedgerError as L;
        match self {
            WebError::Ledger(L::InvalidRecord { .. }) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-record"),
            WebError::Ledger(L::UnknownSubmitter(_)) => (StatusCode::FORBIDDEN, "unknown-submitter"),
            WebError::Ledger(L::BadSignature(_)) => (StatusCode::FORBIDDEN, "bad-signature"),
            WebError::Ledger(L::MessageIdReused { .. }) => (StatusCode::CONFLICT, "message-id-reused"),
            WebError::Ledger(L::TallyRepeated { .. }) => (StatusCode::CONFLICT, "tally-repeated"),
            WebError::Ledger(L::OutOfRange(_)) => (StatusCode::NOT_FOUND, "not-found"),
            WebError::Ledger(L::Malformed { .. }) => (StatusCode::BAD_REQUEST, "malformed"),
            WebError::Ledger(L::BadProof(_)) => (StatusCode::BAD_REQUEST, "bad-proof"),
            WebError::Ledger(L::Erased) => (StatusCode::GONE, "erased"),
            WebError::Ledger(L::Storage(_) | L::ShuttingDown) => (StatusCode::SERVICE_UNAVAILABLE, "storage-unavailable"),
            WebError::Ledger(L::Corrupt(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "corrupt-log"),
            WebError::BadJson(_) => (StatusCode::BAD_REQUEST, "malformed-json"),
            WebError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            WebError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            WebError::TooManyRecords { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "batch-too-large"),
            WebError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            WebError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            WebError::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            WebError::Setup(_) => (StatusCode::INTERNAL_SERVER_ERROR, "setup"),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, kind) = self.status_and_type();
        let mut body = json!({
            "type": format!("https://sightline.dev/problems/{kind}"),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": if matches!(self, WebError::NotFound) { "not found".to_string() } else { self.to_string() },
        });
        match &self {
            WebError::Ledger(LedgerError::InvalidRecord { record, field, .. }) => {
                body["record"] = json!(record);
                body["field"] = json!(field);
            }
            WebError::Ledger(LedgerError::MessageIdReused { record, .. } | LedgerError::TallyRepeated { record, .. }) => {
                body["record"] = json!(record)
            }
            _ => {}
        }
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, body.to_string()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

pub type WebResult<T> = Result<T, WebError>;
