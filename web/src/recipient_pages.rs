//! What the pages of a why link share: the message its token names (a wrong token is the same
//! plain 404 whatever is wrong with it), and the notice page that answers a recipient's form.
//! The pages themselves are `why.rs` (what the link alone opens) and `rights.rs` (what also
//! needs the address).

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use sightline_ledger::entry::LoggedEntry;
use sightline_ledger::merkle::leaf_hash;
use sightline_ledger::record::{Body, MessageBody};
use sightline_ledger::{Error as LedgerError, Ledger};

use crate::error::{WebError, WebResult};
use crate::http::html;

/// The message entry a token names. Any bad token is the same [`WebError::NotFound`].
pub(crate) fn lookup(ledger: &Ledger, token: &str) -> WebResult<(u64, Stamp, MessageBody)> {
    let index = ledger.check_why_token(token).ok_or(WebError::NotFound)?;
    let (entry, m) = message_at(ledger, index)?;
    Ok((index, entry, m))
}

/// What the log added to a message: when it was logged, and its flags.
pub(crate) struct Stamp {
    pub(crate) logged_at: String,
    pub(crate) flags: Vec<String>,
    /// Nullable fields the body leaves out (an entry logged before SPEC revision 3).
    pub(crate) omitted: Vec<String>,
    /// The entry's leaf hash, which its reference names.
    pub(crate) leaf: [u8; 32],
}

/// The message entry at `index`; [`WebError::NotFound`] if it is not a message.
pub(crate) fn message_at(ledger: &Ledger, index: u64) -> WebResult<(Stamp, MessageBody)> {
    // `Ledger::entry` checked the bytes against their leaf hash.
    let bytes = ledger.entry(index)?.ok_or(WebError::NotFound)?;
    message_in(index, &bytes, leaf_hash(&bytes))
}

/// The message entry `index`, whose bytes (checked against their leaf `leaf`) are `bytes`;
/// [`WebError::NotFound`] if it is not a message.
pub(crate) fn message_in(index: u64, bytes: &[u8], leaf: [u8; 32]) -> WebResult<(Stamp, MessageBody)> {
    let corrupt = |e: LedgerError| WebError::Ledger(LedgerError::Corrupt(format!("entry {index}: {e}")));
    let entry = LoggedEntry::parse(bytes).map_err(corrupt)?;
    match entry.body {
        Body::Message(m) => Ok((Stamp { logged_at: entry.logged_at, flags: entry.flags, omitted: entry.omitted, leaf }, *m)),
        _ => Err(WebError::NotFound),
    }
}

/// A link on a notice page; `href` is one of our own paths or passed [`crate::explain::safe_link`].
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

/// A notice page, in the log's name.
pub(crate) fn notice(
    ledger: &Ledger,
    status: StatusCode,
    title: &str,
    paragraphs: Vec<String>,
    links: Vec<NoticeLink>,
) -> WebResult<Response> {
    html(status, &NoticePage { origin: ledger.origin().to_string(), title: title.into(), paragraphs, links })
}

/// The way back to the message's page.
pub(crate) fn back_links(token: &str) -> Vec<NoticeLink> {
    vec![NoticeLink { label: "Back to the explanation of this message".into(), href: format!("/why/{token}") }]
}
