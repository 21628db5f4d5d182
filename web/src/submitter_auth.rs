//! Who is submitting (SPEC.md §12): the `Authorization: Sightline v1 …` header of
//! `POST /api/v1/submissions`, checked from the headers alone, before a byte of the body is
//! read. The header's format and signature check are the ledger's
//! (`sightline_ledger::request_auth`); this module adds the HTTP answers and the clock window.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use sightline_ledger::request_auth::{RequestAuth, SUBMISSIONS_REQUEST};
use sightline_ledger::{Error as LedgerError, Ledger};

use crate::error::{WebError, WebResult};

/// How far, in seconds, a request's time may be from the server's clock, either way.
pub const CLOCK_WINDOW_SECS: u64 = 300;

/// The submitter a request is authenticated as; the ingestion handler submits its batch as it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthenticatedSubmitter(pub String);

/// Now, in Unix seconds.
pub fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Authenticates a submission request from its headers: `401` when the header is missing or
/// unreadable, `403` for an unknown submitter, a time outside the window or a signature that
/// does not verify with the submitter's registered key.
pub fn authenticate(ledger: &Ledger, headers: &HeaderMap, now: u64) -> WebResult<AuthenticatedSubmitter> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(WebError::RequestAuthMissing)?;
    if values.next().is_some() {
        return Err(WebError::RequestAuthMalformed("the request has more than one Authorization header; send one".into()));
    }
    let text = value.to_str().map_err(|_| WebError::RequestAuthMalformed("it is not printable ASCII text".into()))?;
    let auth = RequestAuth::parse(text).map_err(WebError::RequestAuthMalformed)?;
    let skew = auth.unix_seconds.abs_diff(now);
    if skew > CLOCK_WINDOW_SECS {
        return Err(WebError::RequestTimeSkew { sent: auth.unix_seconds, now, skew, window: CLOCK_WINDOW_SECS });
    }
    ledger.verify_request(&auth, SUBMISSIONS_REQUEST).map_err(|e| match e {
        LedgerError::UnknownSubmitter(id) => WebError::RequestUnknownSubmitter(id),
        LedgerError::BadSignature(why) => WebError::RequestSignature(why),
        other => WebError::Ledger(other),
    })?;
    Ok(AuthenticatedSubmitter(auth.submitter))
}
