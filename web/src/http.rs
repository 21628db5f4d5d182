//! The HTTP helpers every handler shares, each in one place: running blocking ledger work off
//! the async runtime ([`blocking`], [`streamed_body`]), rendering a page ([`html`]), reading a
//! JSON body ([`require_json`], [`body_bytes`]) and query parameters ([`query_rejection`],
//! [`number_param`], [`required_number`]), each failure told in plain words.

use std::io::Write;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::error::{WebError, WebResult};

/// Runs blocking work (the ledger's reads and writes, parsing a large batch) on the blocking
/// pool, off the async runtime. A task that panicked is answered as a server error.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> WebResult<T> + Send + 'static) -> WebResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| WebError::Setup(format!("a worker task failed: {e}")))?
}

/// A response body that `write` fills on the blocking pool while the response is sent, in
/// chunks of 64 KiB, so that a large export starts at once and runs in constant memory. An
/// error `write` returns ends the body with that error (the client sees a cut transfer).
pub fn streamed_body(write: impl FnOnce(&mut dyn Write) -> Result<(), String> + Send + 'static) -> Body {
    let (tx, rx) = mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter { tx: tx.clone(), buf: Vec::new() };
        if let Err(e) = write(&mut w) {
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    Body::from_stream(ReceiverStream::new(rx))
}

/// A `Write` that forwards 64 KiB chunks to an HTTP body stream.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        }
        Ok(())
    }
}

/// An HTML response that no cache keeps and no search engine indexes.
///
/// Rendered into a buffer that holds a whole why page (about 18 KB with the
/// demo's records): askama's own size hint is a fraction of that, and the
/// buffer then grew and was copied several times per page.
pub fn html<T: Template>(status: StatusCode, page: &T) -> WebResult<Response> {
    let mut body = String::with_capacity(PAGE_BUFFER.max(T::SIZE_HINT));
    page.render_into(&mut body).map_err(|e| WebError::Setup(format!("rendering a page failed: {e}")))?;
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(HeaderName::from_static("x-robots-tag"), HeaderValue::from_static("noindex, nofollow"));
    Ok(resp)
}

const PAGE_BUFFER: usize = 32 * 1024;

/// Rejects a body that is not declared as JSON.
pub fn require_json(headers: &HeaderMap) -> WebResult<()> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.split(';').next().map(str::trim).is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
        Ok(())
    } else {
        Err(WebError::UnsupportedMediaType)
    }
}

/// Reads a JSON body, mapping an over-limit body to 413.
pub fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> WebResult<Bytes> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::BodyTooLarge(limit)
        } else {
            // The framework's own words name its internals; say what happened instead.
            WebError::BadRequest(format!(
                "the request body could not be read completely (status {} while receiving it); send the request again",
                e.status().as_u16()
            ))
        }
    })
}

/// A query string the framework could not decode, in plain words naming the parameter (a
/// parameter given twice, say), never the framework's own text; `usage` shows the right form.
pub fn query_rejection(e: &QueryRejection, usage: &str) -> WebError {
    let text = e.body_text();
    let inner = text.split_once(": ").map_or(text.as_str(), |(_, m)| m);
    let (field, why) = sightline_ledger::serde_words::field_and_reason("", inner);
    let why = if why.starts_with("is repeated") { "is given more than once".to_string() } else { why };
    if field.is_empty() {
        WebError::BadRequest(format!("the query string cannot be read ({why}); use {usage}"))
    } else {
        WebError::BadRequest(format!("the query parameter `{field}` {why}; use {usage}"))
    }
}

/// A whole-number query parameter: `None` when absent, an error naming it when not a number.
pub fn number_param(name: &str, value: Option<&str>, usage: &str) -> WebResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
            WebError::BadRequest(format!("the query parameter `{name}` must be a whole number from 0 up (got `{v}`); use {usage}"))
        }),
    }
}

/// A required whole-number query parameter.
pub fn required_number(name: &str, value: Option<&str>, usage: &str) -> WebResult<u64> {
    number_param(name, value, usage)?.ok_or_else(|| WebError::BadRequest(format!("the query parameter `{name}` is required; use {usage}")))
}
