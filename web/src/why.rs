//! The recipient pages (SPEC.md §12 "Recipients"): `/why/<token>` explains one
//! message completely, `/why/<token>/messages` lists every message this
//! recipient received, `/why/<token>/receipt` downloads the offline proof, and
//! two plain POST forms object (GDPR Art. 21) or erase (Art. 17).
//!
//! Every page is server-rendered with askama (escaped), needs no JavaScript and
//! is served `no-store`. The token is checked before anything else: a wrong,
//! garbled or guessed token is [`WebError::NotFound`], the same plain 404 for
//! every bad token. A token only ever opens the data of its own recipient.
//! Wording lives in [`crate::explain`]; this module only fetches and renders.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sightline_ledger::canonical::LoggedEntry;
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::record::{Body, Channel, MessageBody};
use sightline_ledger::reference::EntryRef;
use sightline_ledger::{Error as LedgerError, Ledger, PersonalState};

use crate::app::AppState;
use crate::error::{WebError, WebResult};
use crate::explain::{self, MessageRow, PersonalRef, ProofInput, WhyView};

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
    v: WhyView,
    /// The reference this message should carry to its entry (SPEC.md §10.2), and where.
    reference: String,
    reference_where: &'static str,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    origin: String,
    token: String,
    rows: Vec<MessageRow>,
    erased: bool,
    /// Messages in all pages, and the 1-based positions of this page's first and last.
    total: usize,
    first: usize,
    last: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

/// Rows per page of `/why/<token>/messages`: a recipient may have thousands of
/// messages, and each row reads and explains one entry.
pub const MESSAGES_PER_PAGE: usize = 100;

/// The `page` parameter of `/why/<token>/messages` (1-based; the only parameter).
fn page_number(query: Option<&str>) -> WebResult<usize> {
    let bad = || WebError::BadRequest("the only parameter of this page is `page`, a page number from 1".into());
    match query.filter(|q| !q.is_empty()) {
        None => Ok(1),
        Some(q) => q.strip_prefix("page=").and_then(|n| n.parse::<usize>().ok()).filter(|&n| n >= 1).ok_or_else(bad),
    }
}

/// A link on a notice page; `href` is one of our own paths or passed [`explain::safe_link`].
pub struct NoticeLink {
    pub label: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    origin: String,
    title: String,
    paragraphs: Vec<String>,
    links: Vec<NoticeLink>,
}

/// An HTML response that no cache keeps and no search engine indexes.
///
/// Rendered into a buffer that holds a whole why page (about 18 KB with the
/// demo's records): askama's own size hint is a fraction of that, and the
/// buffer then grew and was copied several times per page.
fn html<T: Template>(status: StatusCode, page: &T) -> WebResult<Response> {
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
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> WebResult<T> + Send + 'static) -> WebResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| WebError::Setup(format!("a worker task failed: {e}")))?
}

/// The message entry a token names. Any bad token is the same [`WebError::NotFound`].
fn lookup(ledger: &Ledger, token: &str) -> WebResult<(u64, Stamp, MessageBody)> {
    let index = ledger.check_why_token(token).ok_or(WebError::NotFound)?;
    let (entry, m) = message_at(ledger, index)?;
    Ok((index, entry, m))
}

/// What the log added to a message: when it was logged, and its flags.
struct Stamp {
    logged_at: String,
    flags: Vec<String>,
    /// The entry's leaf hash, which its reference names.
    leaf: [u8; 32],
}

/// The message entry at `index`; [`WebError::NotFound`] if it is not a message.
fn message_at(ledger: &Ledger, index: u64) -> WebResult<(Stamp, MessageBody)> {
    let corrupt = |e: LedgerError| WebError::Ledger(LedgerError::Corrupt(format!("entry {index}: {e}")));
    // `Ledger::entry` checked the bytes against their leaf hash.
    let bytes = ledger.entry(index)?.ok_or(WebError::NotFound)?;
    let entry = LoggedEntry::parse(&bytes).map_err(corrupt)?;
    match entry.body {
        Body::Message(m) => Ok((Stamp { logged_at: entry.logged_at, flags: entry.flags, leaf: leaf_hash(&bytes) }, *m)),
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

fn back_links(token: &str) -> Vec<NoticeLink> {
    vec![
        NoticeLink { label: "Back to the explanation of this message".into(), href: format!("/why/{token}") },
        NoticeLink { label: "Every message sent to you that this log holds".into(), href: format!("/why/{token}/messages") },
    ]
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
    let v = explain::explain(index, (&stamp.logged_at, &stamp.flags), &m, &registry, personal_ref(&personal), &proof);
    let entry_ref = EntryRef { origin: ledger.origin().to_string(), index, leaf: stamp.leaf };
    let reference = entry_ref.carrier(m.delivery.channel, Some(&format!("{}/why/{token}", state.public_url)));
    let page = WhyPage { origin: ledger.origin().to_string(), token, v, reference, reference_where: reference_where(m.delivery.channel) };
    state.http.why_pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    html(StatusCode::OK, &page)
}

/// `GET /why/<token>/messages[?page=N]`: every message this recipient received
/// here, in log order, [`MESSAGES_PER_PAGE`] to a page.
pub async fn messages(State(state): State<AppState>, Path(token): Path<String>, RawQuery(query): RawQuery) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    let page = blocking(move || {
        let (index, _, m) = lookup(&ledger, &token)?;
        let number = page_number(query.as_deref())?;
        let erased = matches!(ledger.personal(index)?, Some(PersonalState::Erased));
        let registry = ledger.registry()?;
        let indexes = ledger.recipient_entries(index)?;
        let total = indexes.len().max(1);
        let start = (number - 1).saturating_mul(MESSAGES_PER_PAGE);
        if start >= total {
            return Err(WebError::NotFound);
        }
        let end = (start + MESSAGES_PER_PAGE).min(total);
        let mut rows = Vec::with_capacity(end - start);
        if indexes.is_empty() {
            // Erased (or never indexed): the ledger can no longer tell which other
            // messages were this person's; the one this token names is still theirs.
            rows.push(explain::message_row(index, &m, &registry, token.clone(), true));
        }
        for &i in indexes.get(start..end).unwrap_or_default() {
            let (_, other) = message_at(&ledger, i)?;
            rows.push(explain::message_row(i, &other, &registry, ledger.why_token(i), i == index));
        }
        let (prev, next) = ((number > 1).then(|| number - 1), (end < total).then(|| number + 1));
        Ok(MessagesPage { origin: ledger.origin().to_string(), token, rows, erased, total, first: start + 1, last: end, prev, next })
    })
    .await?;
    state.http.why_pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    html(StatusCode::OK, &page)
}

/// `GET /why/<token>/receipt`: the receipt file (SPEC.md §10).
pub async fn receipt(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    let (index, r) = blocking(move || {
        let (index, _, _) = lookup(&ledger, &token)?;
        Ok((index, ledger.receipt(index)?))
    })
    .await?;
    let mut resp = crate::regulator::receipt_response(&r, index);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// `POST /why/<token>/object`: object to further targeting by this message's sponsor.
pub async fn object(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    let (status, page) = blocking(move || {
        let (index, _, m) = lookup(&ledger, &token)?;
        let registry = ledger.registry()?;
        let sponsor = explain::party_brief(&m.sponsor.on_behalf_of, &registry).name;
        let origin = ledger.origin().to_string();
        let mut links = back_links(&token);
        match ledger.object(index) {
            Ok(ack) => {
                let at = ack.acks.first().map(|a| a.index).unwrap_or_default();
                if let sightline_ledger::record::Disclosed::Value(u) = &m.controls.object_url {
                    if let Some(href) = explain::safe_link(u) {
                        links.push(NoticeLink { label: format!("Also tell {sponsor}'s platform directly (its own objection page)"), href });
                    }
                }
                let paragraphs = vec![
                    format!("Your objection to targeting by {sponsor} was recorded in the public log as entry {at}. The entry names the advertiser but not you: you appear in it only as a fresh, unlinkable commitment."),
                    format!("What happens next: every later message from {sponsor} to you that is reported to this log will be publicly flagged as sent after you objected. Anyone, including regulators, can see these flags in the log and in the ad library."),
                    "Under GDPR Art. 21, once you object to processing for direct marketing, your data must no longer be used for it. Sightline cannot stop a message from being sent; it makes sure that sending one anyway is on the public record.".to_string(),
                    "Earlier messages are not changed: the log never rewrites what it recorded.".to_string(),
                ];
                Ok((StatusCode::OK, NoticePage { origin, title: "Your objection was recorded".into(), paragraphs, links }))
            }
            Err(LedgerError::Erased) => Ok((
                StatusCode::GONE,
                NoticePage {
                    origin,
                    title: "Your personal data was already erased".into(),
                    paragraphs: vec![
                        "Your personal data for this message was erased on request, so this log can no longer recognise later messages to you and cannot record an objection for you.".into(),
                        "You can still object directly to the advertiser, using the contacts on the explanation page.".into(),
                    ],
                    links,
                },
            )),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    html(status, &page)
}

/// `POST /why/<token>/erase` with `confirm=yes`: crypto-shred this recipient's personal parts.
pub async fn erase(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    let confirmed = form_value(&body, "confirm").as_deref() == Some("yes");
    let (status, page) = blocking(move || {
        let (index, _, _) = lookup(&ledger, &token)?;
        let origin = ledger.origin().to_string();
        let links = back_links(&token);
        if !confirmed {
            return Ok((
                StatusCode::BAD_REQUEST,
                NoticePage {
                    origin,
                    title: "Please confirm the erasure".into(),
                    paragraphs: vec![
                        "Nothing was erased. Erasure cannot be undone, so the form needs its confirmation box ticked (confirm=yes).".into(),
                        "Go back to the explanation page, tick “Yes, erase my personal data” and send the form again.".into(),
                    ],
                    links,
                },
            ));
        }
        let count = ledger.recipient_entries(index)?.len();
        match ledger.erase_recipient_of(index, "recipient") {
            Ok(ack) => {
                let at = ack.acks.first().map(|a| a.index).unwrap_or_default();
                let parts = if count == 1 { "1 message".to_string() } else { format!("{count} messages") };
                Ok((
                    StatusCode::OK,
                    NoticePage {
                        origin,
                        title: "Your personal data was erased".into(),
                        paragraphs: vec![
                            format!("Your personal data for {parts} in this log is gone: your identifier, the values used to select you and the consent evidence. Their encryption key was destroyed, so nobody can read them any more, including the log operator."),
                            format!("The erasure itself was recorded in the public log as entry {at}. It names neither you nor any message."),
                            "The public record of each message and its proof remain: who paid, the targeting criteria and where the data came from can still be read and verified by anyone. They never contained your identity.".into(),
                            "This link keeps working and now shows only the public part. The log can no longer tell which other messages were sent to you, and cannot flag later messages after an objection.".into(),
                        ],
                        links,
                    },
                ))
            }
            Err(LedgerError::Erased) => Ok((
                StatusCode::OK,
                NoticePage { origin, title: "Your personal data was already erased".into(), paragraphs: vec!["There was nothing left to erase: your personal data for this message had already been erased. The public record and its proof remain.".into()], links },
            )),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    html(status, &page)
}

/// The value of one field of an `application/x-www-form-urlencoded` body.
fn form_value(body: &[u8], name: &str) -> Option<String> {
    body.split(|b| *b == b'&').find_map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let k = url_decode(kv.next()?);
        (k == name).then(|| url_decode(kv.next().unwrap_or_default()))
    })
}

fn url_decode(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match hex::decode(&s[i + 1..i + 3]) {
                Ok(b) => {
                    out.extend_from_slice(&b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded() {
        assert_eq!(form_value(b"confirm=yes", "confirm").as_deref(), Some("yes"));
        assert_eq!(form_value(b"a=1&confirm=y%65s", "confirm").as_deref(), Some("yes"));
        assert_eq!(form_value(b"x=a+b%2", "x").as_deref(), Some("a b%2"));
        assert_eq!(form_value(b"confirm", "confirm").as_deref(), Some(""));
        assert_eq!(form_value(b"", "confirm"), None);
        assert_eq!(form_value(b"confirm=no", "confirm").as_deref(), Some("no"));
    }
}
