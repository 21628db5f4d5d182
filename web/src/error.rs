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
    /// The ledger refused or failed (its error says which).
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
    TooManyRecords {
        /// Records in the batch.
        got: usize,
        /// The most a batch may hold.
        limit: usize,
    },
    /// The body is over the size limit.
    #[error("the request body is over the {0}-byte limit; send fewer records per request")]
    BodyTooLarge(usize),
    /// Wrong content type.
    #[error("send the request body as application/json")]
    UnsupportedMediaType,
    /// A submission without the `Authorization: Sightline …` header (SPEC.md §12).
    #[error("this request needs an `Authorization: Sightline v1 <submitter-id> <unix-seconds> <signature>` header, signed with the submitter's registered key (SPEC.md §12)")]
    RequestAuthMissing,
    /// The `Authorization` header of a submission cannot be read.
    #[error("the Authorization header is malformed: {0} (SPEC.md §12)")]
    RequestAuthMalformed(String),
    /// The submitter a request authenticates as is not registered.
    #[error("submitter `{0}` named in the Authorization header is not registered in this log; ask the log operator to register its key")]
    RequestUnknownSubmitter(String),
    /// The request's time is too far from the server's clock.
    #[error("the Authorization header's time {sent} is {skew} seconds from the server's clock ({now}); it must be within {window} seconds: sign a fresh header for each request, and check the submitter's clock")]
    RequestTimeSkew {
        /// The time the header carries (POSIX seconds).
        sent: u64,
        /// The server's time.
        now: u64,
        /// How far apart they are, in seconds.
        skew: u64,
        /// How far apart they may be.
        window: u64,
    },
    /// The request's signature does not verify.
    #[error("{0}")]
    RequestSignature(String),
    /// Too many requests from this client (SPEC.md §13).
    #[error("too many {} requests from this address; retry after {retry_after} seconds", class.describe())]
    RateLimited {
        /// The class of requests limited.
        class: crate::rate_limit::RateClass,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The server holds as many request bodies in memory as it may (SPEC.md §13).
    #[error(
        "the server is reading as many request bodies as it holds at once; nothing was read or written: retry after {retry_after} seconds"
    )]
    OverCapacity {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The body did not arrive in time (SPEC.md §13).
    #[error("the request body did not arrive within {0} seconds; send it without pauses, or send smaller batches")]
    BodyTimeout(u64),
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
            WebError::Ledger(L::BadSignature(_) | L::RecordSignature { .. }) => (StatusCode::FORBIDDEN, "bad-signature"),
            WebError::Ledger(L::BadBatch { .. }) => (StatusCode::BAD_REQUEST, "malformed-json"),
            WebError::Ledger(L::PartyExists { .. }) => (StatusCode::CONFLICT, "party-exists"),
            WebError::Ledger(L::ForeignRecord { .. }) => (StatusCode::FORBIDDEN, "foreign-record"),
            WebError::Ledger(L::MessageIdReused { .. }) => (StatusCode::CONFLICT, "message-id-reused"),
            WebError::Ledger(L::TallyRepeated { .. }) => (StatusCode::CONFLICT, "tally-repeated"),
            WebError::Ledger(L::OutOfRange(_)) => (StatusCode::NOT_FOUND, "not-found"),
            WebError::Ledger(L::Malformed { .. }) => (StatusCode::BAD_REQUEST, "malformed"),
            WebError::Ledger(L::BadProof(_)) => (StatusCode::BAD_REQUEST, "bad-proof"),
            WebError::Ledger(L::Erased) => (StatusCode::GONE, "erased"),
            WebError::Ledger(L::NotTheRecipient) => (StatusCode::FORBIDDEN, "not-the-recipient"),
            WebError::Ledger(L::Storage(_) | L::ShuttingDown) => (StatusCode::SERVICE_UNAVAILABLE, "storage-unavailable"),
            WebError::Ledger(L::Unavailable(_)) => (StatusCode::SERVICE_UNAVAILABLE, "temporarily-unavailable"),
            WebError::Ledger(L::Corrupt(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "corrupt-log"),
            WebError::BadJson(_) => (StatusCode::BAD_REQUEST, "malformed-json"),
            WebError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            WebError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            WebError::TooManyRecords { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "batch-too-large"),
            WebError::BodyTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            WebError::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type"),
            WebError::RequestAuthMissing => (StatusCode::UNAUTHORIZED, "authorization-required"),
            WebError::RequestAuthMalformed(_) => (StatusCode::UNAUTHORIZED, "authorization-malformed"),
            WebError::RequestUnknownSubmitter(_) => (StatusCode::FORBIDDEN, "request-unknown-submitter"),
            WebError::RequestTimeSkew { .. } => (StatusCode::FORBIDDEN, "request-time-skew"),
            WebError::RequestSignature(_) => (StatusCode::FORBIDDEN, "request-signature"),
            WebError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            WebError::OverCapacity { .. } => (StatusCode::SERVICE_UNAVAILABLE, "over-capacity"),
            WebError::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body-timeout"),
            WebError::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            WebError::Setup(_) => (StatusCode::INTERNAL_SERVER_ERROR, "setup"),
        }
    }
}

/// Why a request was refused before or instead of its work, for `/metrics`: set on the
/// response by [`WebError`], counted by the application's outermost layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal(pub &'static str);

impl WebError {
    /// The refusal this error is, if it is one `/metrics` counts (SPEC.md §13).
    fn refusal(&self) -> Option<Refusal> {
        Some(Refusal(match self {
            WebError::RequestAuthMissing | WebError::RequestAuthMalformed(_) => "unauthenticated",
            WebError::RequestUnknownSubmitter(_) => "unknown_submitter",
            WebError::RequestTimeSkew { .. } => "request_time_skew",
            WebError::RequestSignature(_) => "request_signature",
            WebError::Ledger(LedgerError::ForeignRecord { .. }) => "foreign_record",
            WebError::RateLimited { class, .. } => class.refusal(),
            WebError::OverCapacity { .. } => "over_capacity",
            WebError::BodyTimeout(_) => "body_timeout",
            WebError::BodyTooLarge(_) => "body_too_large",
            _ => return None,
        }))
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
                body["record"] = json!(record);
                body["field"] = json!("message_id");
            }
            WebError::Ledger(LedgerError::RecordSignature { record, .. }) => {
                body["record"] = json!(record);
                body["field"] = json!("sig");
            }
            WebError::Ledger(LedgerError::BadBatch { record, field, .. }) => {
                if let Some(r) = record {
                    body["record"] = json!(r);
                }
                if let Some(f) = field {
                    body["field"] = json!(f);
                }
            }
            WebError::Ledger(LedgerError::PartyExists { .. }) => body["field"] = json!("party"),
            WebError::Ledger(LedgerError::ForeignRecord { record, .. }) => {
                body["record"] = json!(record);
                body["field"] = json!("signer");
            }
            _ => {}
        }
        let refusal = self.refusal();
        if status.is_server_error() && refusal.is_none() {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (status, body.to_string()).into_response();
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match &self {
            WebError::Unauthorized(_) => {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            WebError::RequestAuthMissing | WebError::RequestAuthMalformed(_) => {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Sightline"));
            }
            WebError::RateLimited { retry_after, .. } | WebError::OverCapacity { retry_after } => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            // Nothing was acknowledged and the condition passes by itself (a database restarting,
            // a sequencer being replaced): say when to send the same request again.
            WebError::Ledger(LedgerError::Storage(_) | LedgerError::ShuttingDown | LedgerError::Unavailable(_)) => {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(UNAVAILABLE_RETRY_AFTER));
            }
            _ => {}
        }
        if let Some(reason) = refusal {
            resp.extensions_mut().insert(reason);
        }
        resp
    }
}

/// Seconds a client waits before sending again a request the log could not take for a moment
/// (`503`): about how long a new sequencer takes over, or a database takes to restart.
const UNAVAILABLE_RETRY_AFTER: u64 = 2;

/// What the server's functions return.
pub type WebResult<T> = Result<T, WebError>;
