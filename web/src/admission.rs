//! Back-pressure before work (SPEC.md §13): every request passes here after routing and before
//! its handler, and is refused as early and as cheaply as possible:
//!
//! 1. **Rate limit** of its class for its client ([`crate::rate_limit`]): `429` + `Retry-After`.
//! 2. **Submitter authentication** for `POST /api/v1/submissions`, from the headers alone
//!    ([`crate::submitter_auth`]): `401`/`403`. Not a byte of the body has been read.
//! 3. **Body admission**: a declared `Content-Length` over the route's limit is `413` at once;
//!    otherwise its bytes are reserved from one budget shared by every request in flight, and
//!    a request the budget cannot take now is `503` + `Retry-After` at once. A body without a
//!    length reserves its bytes as they arrive and is cut at the route's limit (`413`) or when
//!    the budget runs out (`503`).
//! 4. **Body timeout**: the whole body must arrive within the body timeout (`408`).
//!
//! The handler then gets the body already in memory, and the reservation is released when it
//! has answered. Refusals are problem documents ([`WebError`]); `/metrics` counts each reason.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use sightline_ledger::Ledger;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{WebError, WebResult};
use crate::limits::Limits;
use crate::rate_limit::{RateClass, RateLimiters};
use crate::submitter_auth::{authenticate, now_unix};

/// The largest body of any route but ingestion (admin JSON, recipients' forms).
pub const SMALL_BODY_BYTES: usize = 64 * 1024;
/// What a `503` asks the client to wait, in seconds.
const OVER_CAPACITY_RETRY_SECS: u64 = 1;

/// The shared state of admission: the rate limiters and the in-flight byte budget.
pub struct Admission {
    rates: RateLimiters,
    /// The budget, in KiB (a 4 TiB budget still fits a permit count).
    in_flight: Arc<Semaphore>,
    in_flight_kib: usize,
}

impl Admission {
    pub fn new(limits: &Limits) -> Admission {
        let in_flight_kib = limits.max_in_flight_bytes.div_ceil(1024).min(Semaphore::MAX_PERMITS);
        Admission { rates: RateLimiters::new(&limits.rates), in_flight: Arc::new(Semaphore::new(in_flight_kib)), in_flight_kib }
    }

    /// Body bytes reserved right now (a multiple of 1 KiB per request), for `/metrics`.
    pub fn in_flight_bytes(&self) -> u64 {
        (self.in_flight_kib - self.in_flight.available_permits().min(self.in_flight_kib)) as u64 * 1024
    }

    /// Forgets the rate-limit state of clients that are back at full burst; see
    /// [`RateLimiters::forget_idle_clients`].
    pub fn forget_idle_clients(&self) {
        self.rates.forget_idle_clients();
    }
}

/// The middleware (see the module docs). It takes only the parts of the server's state it uses.
pub async fn admit(
    State(ledger): State<Arc<Ledger>>,
    State(admission): State<Arc<Admission>>,
    State(limits): State<Limits>,
    req: Request,
    next: Next,
) -> Response {
    match admit_request(&ledger, &admission, &limits, req).await {
        Ok((req, reservation)) => {
            let resp = next.run(req).await;
            drop(reservation);
            resp
        }
        Err(e) => e.into_response(),
    }
}

/// Steps 1–4 of the module docs; the request with its body read, and the body's reservation.
async fn admit_request(
    ledger: &Ledger,
    admission: &Admission,
    limits: &Limits,
    req: Request,
) -> WebResult<(Request, Option<OwnedSemaphorePermit>)> {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let class = route.as_deref().and_then(|r| RateClass::of(req.method(), r));
    if let (Some(class), Some(ConnectInfo(peer))) = (class, req.extensions().get::<ConnectInfo<SocketAddr>>()) {
        admission
            .rates
            .check(class, peer.ip())
            .map_err(|wait| WebError::RateLimited { class, retry_after: (wait.as_secs_f64().ceil() as u64).max(1) })?;
    }
    let (mut parts, body) = req.into_parts();
    if class == Some(RateClass::Submissions) && parts.method == Method::POST {
        let who = authenticate(ledger, &parts.headers, now_unix())?;
        parts.extensions.insert(who);
    }
    let hint = HttpBody::size_hint(&body);
    if hint.exact() == Some(0) {
        return Ok((Request::from_parts(parts, body), None));
    }
    let limit = if class == Some(RateClass::Submissions) { limits.max_body_bytes } else { SMALL_BODY_BYTES.min(limits.max_body_bytes) };
    let mut reservation = None;
    if let Some(declared) = hint.exact() {
        if declared > limit as u64 {
            return Err(WebError::BodyTooLarge(limit));
        }
        reserve(admission, &mut reservation, 0, declared)?;
    }
    let timeout = limits.body_timeout;
    let bytes = tokio::time::timeout(timeout, read_body(body, hint.exact(), limit, admission, &mut reservation))
        .await
        .map_err(|_| WebError::BodyTimeout(timeout.as_secs()))??;
    Ok((Request::from_parts(parts, Body::from(bytes)), reservation))
}

/// Reads a body into memory. A body of known length was reserved whole already; one of unknown
/// length reserves its bytes as they arrive.
async fn read_body(
    mut body: Body,
    declared: Option<u64>,
    limit: usize,
    admission: &Admission,
    reservation: &mut Option<OwnedSemaphorePermit>,
) -> WebResult<Bytes> {
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n as usize));
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| WebError::BadRequest("the request body could not be read to its end: the connection failed".into()))?;
        let Ok(data) = frame.into_data() else { continue };
        let before = buf.len() as u64;
        if buf.len() + data.len() > limit {
            return Err(WebError::BodyTooLarge(limit));
        }
        if declared.is_none() {
            reserve(admission, reservation, before, before + data.len() as u64)?;
        }
        buf.extend_from_slice(&data);
    }
    Ok(Bytes::from(buf))
}

/// Grows a request's reservation from `held` to `total` bytes, at once or not at all.
fn reserve(admission: &Admission, reservation: &mut Option<OwnedSemaphorePermit>, held: u64, total: u64) -> WebResult<()> {
    let over = || WebError::OverCapacity { retry_after: OVER_CAPACITY_RETRY_SECS };
    let more = u32::try_from(total.div_ceil(1024) - held.div_ceil(1024)).map_err(|_| over())?;
    if more == 0 {
        return Ok(());
    }
    let permit = Arc::clone(&admission.in_flight).try_acquire_many_owned(more).map_err(|_| over())?;
    match reservation {
        Some(held) => held.merge(permit),
        None => *reservation = Some(permit),
    }
    Ok(())
}
