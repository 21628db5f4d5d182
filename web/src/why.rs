//! The recipient pages that the why link alone opens (SPEC.md §12 "Recipients"):
//! `/why/<token>` explains one message completely and `/why/<token>/receipt`
//! downloads its offline proof. What also needs the address the message was sent
//! to (the recipient's other messages, objecting, erasing) is in [`crate::rights`].
//!
//! Every page is server-rendered with askama (escaped), needs no JavaScript and
//! is served `no-store`. The token is checked before anything else: a wrong,
//! garbled or guessed token is [`WebError::NotFound`], the same plain 404 for
//! every bad token. Wording lives in [`crate::explain`]; this module only
//! fetches and renders.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_ledger::entry::LoggedEntry;
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::record::{Body, Channel, MessageBody};
use sightline_ledger::reference::EntryRef;
use sightline_ledger::{Error as LedgerError, Ledger, PersonalState};

use crate::app::AppState;
use crate::error::{WebError, WebResult};
use crate::explain::{self, PersonalRef, ProofInput, WhyView};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    origin: String,
    vkey: String,
    size: u64,
}

#[derive(Template)]
#[template(path = "why.html")]
struct WhyPage {
    origin: String,
    token: String,
    /// The form token the recipient forms carry.
    csrf: String,
    v: WhyView,
    /// What the log's witnesses vouch for, when witnesses are configured.
    witnesses: Option<String>,
    /// The reference this message should carry to its entry (SPEC.md §10.2), and where.
    reference: String,
    reference_where: &'static str,
}

/// A link on a notice page; `href` is one of our own paths or passed [`explain::safe_link`].
pub struct NoticeLink {
    pub label: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
pub(crate) struct NoticePage {
    pub(crate) origin: String,
    pub(crate) title: String,
    pub(crate) paragraphs: Vec<String>,
    pub(crate) links: Vec<NoticeLink>,
}

/// An HTML response that no cache keeps and no search engine indexes.
///
/// Rendered into a buffer that holds a whole why page (about 18 KB with the
/// demo's records): askama's own size hint is a fraction of that, and the
/// buffer then grew and was copied several times per page.
pub(crate) fn html<T: Template>(status: StatusCode, page: &T) -> WebResult<Response> {
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

/// Runs blocking ledger work off the async runtime.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> WebResult<T> + Send + 'static) -> WebResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| WebError::Setup(format!("a worker task failed: {e}")))?
}

/// The message entry a token names. Any bad token is the same [`WebError::NotFound`].
pub(crate) fn lookup(ledger: &Ledger, token: &str) -> WebResult<(u64, Stamp, MessageBody)> {
    let index = ledger.check_why_token(token).ok_or(WebError::NotFound)?;
    let (entry, m) = message_at(ledger, index)?;
    Ok((index, entry, m))
}

/// What the log added to a message: when it was logged, and its flags.
pub(crate) struct Stamp {
    logged_at: String,
    flags: Vec<String>,
    /// Nullable fields the body leaves out (an entry logged before SPEC revision 3).
    omitted: Vec<String>,
    /// The entry's leaf hash, which its reference names.
    leaf: [u8; 32],
}

/// The message entry at `index`; [`WebError::NotFound`] if it is not a message.
pub(crate) fn message_at(ledger: &Ledger, index: u64) -> WebResult<(Stamp, MessageBody)> {
    let corrupt = |e: LedgerError| WebError::Ledger(LedgerError::Corrupt(format!("entry {index}: {e}")));
    // `Ledger::entry` checked the bytes against their leaf hash.
    let bytes = ledger.entry(index)?.ok_or(WebError::NotFound)?;
    let entry = LoggedEntry::parse(&bytes).map_err(corrupt)?;
    match entry.body {
        Body::Message(m) => {
            Ok((Stamp { logged_at: entry.logged_at, flags: entry.flags, omitted: entry.omitted, leaf: leaf_hash(&bytes) }, *m))
        }
        _ => Err(WebError::NotFound),
    }
}

/// Where in a message of `channel` its reference is found, in words.
fn reference_where(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "among the e-mail's headers (your mail program can show the original message)",
        Channel::Sms | Channel::Push => "at the end of the link in the message",
        _ => "in the ad's markup, as an attribute (your browser's developer tools show it)",
    }
}

fn personal_ref(p: &Option<PersonalState>) -> PersonalRef<'_> {
    match p {
        Some(PersonalState::Present(p)) => PersonalRef::Present(p),
        Some(PersonalState::Erased) => PersonalRef::Erased,
        None => PersonalRef::Absent,
    }
}

/// The way back to the message's page.
pub(crate) fn back_links(token: &str) -> Vec<NoticeLink> {
    vec![NoticeLink { label: "Back to the explanation of this message".into(), href: format!("/why/{token}") }]
}

/// `GET /`
pub async fn home(State(state): State<AppState>) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    html(StatusCode::OK, &HomePage { origin: ledger.origin().to_string(), vkey: ledger.vkey(), size: ledger.size() })
}

/// `GET /why/<token>`: the full explanation of one message.
///
/// It runs on the async worker, not the blocking pool: it reads one entry and
/// one private record from the page cache and one sled key, tens of
/// microseconds, and the hop to a blocking thread and back (with every string
/// of the page freed on another thread than it was allocated on) cost more
/// than that work (BENCHMARKS.md).
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let ledger = &state.ledger;
    let (index, stamp, m) = lookup(ledger, &token)?;
    let personal = ledger.personal(index)?;
    let registry = ledger.registry()?;
    let vkey = ledger.vkey();
    let proof = ProofInput { size: ledger.size(), vkey: &vkey, token: &token };
    let mut v = explain::explain(index, (&stamp.logged_at, &stamp.flags), &m, &registry, personal_ref(&personal), &proof);
    v.unstated = stamp.omitted.iter().map(|f| explain::unstated_words(f)).collect();
    let witnesses = state.cosigning.as_ref().map(|c| crate::cosigning::report::words(c.witnessed().as_ref(), index, c.policy_words()));
    let entry_ref = EntryRef { origin: ledger.origin().to_string(), index, leaf: stamp.leaf };
    let reference = entry_ref.carrier(m.delivery.channel, Some(&format!("{}/why/{token}", state.public_url)));
    let page = WhyPage {
        origin: ledger.origin().to_string(),
        csrf: ledger.form_token(&token),
        token,
        v,
        witnesses,
        reference,
        reference_where: reference_where(m.delivery.channel),
    };
    state.http.why_pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    html(StatusCode::OK, &page)
}

/// `GET /why/<token>/receipt`: the receipt file (SPEC.md §10), at the witnessed checkpoint.
pub async fn receipt(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let (index, r) = blocking(move || {
        let (index, _, _) = lookup(&state.ledger, &token)?;
        Ok((index, crate::regulator::witnessed_receipt(&state, index)?))
    })
    .await?;
    let mut resp = crate::regulator::receipt_response(&r, index);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
#[path = "why_old_entries.rs"]
mod old_entries;
