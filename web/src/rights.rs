//! The recipient's rights through a why link that need more than the link
//! (SPEC.md §12 "Recipients"): the list of their other messages, an objection
//! (GDPR Art. 21) and an erasure (Art. 17). Each is a form on the message's page
//! that also asks for the address the message was sent to.
//!
//! Order of the checks: the token (a plain 404, as for every page of a link), then
//! the form (`recipient_form.rs`: media type, origin, form token, fields),
//! then the address, which the ledger checks against the message's private record
//! (a `403` page when it does not match). Nothing is shown, recorded or erased before
//! all of them passed. Everything stays within the scope of the submitter that
//! reported the message (the ledger's recipient handles are keyed by it).
//!
//! An erasure takes two steps: the form on the message's page shows what will be
//! erased and that it cannot be undone; only the second form, with `confirm=yes`,
//! erases. Each page says what the record proves, no more.

use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use sightline_ledger::record::{Disclosed, MessageBody};
use sightline_ledger::{Error as LedgerError, Ledger, PersonalState};

use crate::error::{WebError, WebResult};
use crate::explain::{self, MessageRow};
use crate::http::{blocking, html};
use crate::recipient_form::{self, Fields, RecipientForm};
use crate::recipient_pages::{back_links, lookup, message_at, notice, NoticeLink};
use crate::state::AppState;

/// Rows per page of the message list: a recipient may have thousands of messages, and each
/// row reads and explains one entry.
pub const MESSAGES_PER_PAGE: usize = 100;

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    origin: String,
    token: String,
    csrf: String,
    /// The address given, carried by the page buttons (this page is `no-store`).
    address: String,
    /// Who reported the message: the list holds that submitter's messages only.
    reporter: String,
    rows: Vec<MessageRow>,
    erased: bool,
    /// Messages in all pages, and the 1-based positions of this page's first and last.
    total: usize,
    first: usize,
    last: usize,
    prev: Option<usize>,
    next: Option<usize>,
}

#[derive(Template)]
#[template(path = "ask_address.html")]
struct AskAddressPage {
    origin: String,
    token: String,
    csrf: String,
    page: usize,
}

#[derive(Template)]
#[template(path = "confirm_erase.html")]
struct ConfirmErasePage {
    origin: String,
    token: String,
    csrf: String,
    address: String,
    count: usize,
    reporter: String,
}

/// The `page` parameter of `GET /why/<token>/messages` (1-based; the only parameter).
fn page_number(query: Option<&str>) -> WebResult<usize> {
    let bad = || WebError::BadRequest("the only parameter of this page is `page`, a page number from 1".into());
    match query.filter(|q| !q.is_empty()) {
        None => Ok(1),
        Some(q) => q.strip_prefix("page=").and_then(|n| n.parse::<usize>().ok()).filter(|&n| n >= 1).ok_or_else(bad),
    }
}

/// A recipient form that passed [`recipient_form::check`], for the message of its link.
struct Asked {
    ledger: Arc<Ledger>,
    token: String,
    index: u64,
    message: MessageBody,
    form: RecipientForm,
}

/// Runs `act` on a blocking thread for a form that passed its checks; answers a refused one
/// with its page, and a wrong token with the plain 404, before anything else.
async fn on_form(
    state: &AppState,
    token: String,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    fields: Fields,
    act: impl FnOnce(Asked) -> WebResult<Response> + Send + 'static,
) -> WebResult<Response> {
    let ledger = Arc::clone(&state.ledger);
    let (index, _, message) = lookup(&ledger, &token)?;
    let form = match recipient_form::check(&ledger, state.public_origin.as_deref(), headers, &token, body, fields) {
        Ok(form) => form,
        Err(refusal) => {
            let (title, paragraphs) = refusal.words();
            return notice(&ledger, refusal.status(), &title, paragraphs, back_links(&token));
        }
    };
    blocking(move || act(Asked { ledger, token, index, message, form })).await
}

/// The page for a ledger answer that refuses the holder: a wrong address, or a message
/// erased before erasures kept a trace to check an address against.
fn refused(ledger: &Ledger, token: &str, e: LedgerError) -> WebResult<Response> {
    match e {
        LedgerError::NotTheRecipient => notice(
            ledger,
            StatusCode::FORBIDDEN,
            "That address does not match this message",
            vec![
                "Nothing was shown, recorded or erased.".into(),
                "Enter the address this message was sent to, as the platform that sent it knows you: an e-mail address, an account or a device id. Letter case and spaces around it do not matter.".into(),
            ],
            back_links(token),
        ),
        LedgerError::Erased => notice(
            ledger,
            StatusCode::GONE,
            "The personal data of this message was erased",
            vec![
                "It was erased before this log kept a keyed trace of erased messages, so this log can no longer check an address against this message, list your messages or record an objection through it.".into(),
                "You can still object directly to the advertiser and the platform, using the contacts on the explanation page.".into(),
            ],
            back_links(token),
        ),
        e => Err(e.into()),
    }
}

/// `GET /why/<token>/messages[?page=N]`: the form that asks for the address; the list
/// itself answers its `POST`.
pub async fn ask_address(State(state): State<AppState>, Path(token): Path<String>, RawQuery(query): RawQuery) -> WebResult<Response> {
    let ledger = &state.ledger;
    lookup(ledger, &token)?;
    let page = page_number(query.as_deref())?;
    html(StatusCode::OK, &AskAddressPage { origin: ledger.origin().to_string(), csrf: ledger.form_token(&token), token, page })
}

/// `POST /why/<token>/messages` with the address (and `page`): every message the submitter
/// of this one reported to this log for that address, in log order, [`MESSAGES_PER_PAGE`]
/// to a page.
pub async fn messages(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    let page = on_form(&state, token, &headers, body, Fields::List, |Asked { ledger, token, index, message: m, form }| {
        let mut indexes = match ledger.recipient_entries(index, &form.address) {
            Ok(i) => i,
            Err(e) => return refused(&ledger, &token, e),
        };
        let erased = matches!(ledger.personal(index)?, Some(PersonalState::Erased));
        // An erased message is no longer in its recipient's list, but the holder proved it theirs.
        if let Err(at) = indexes.binary_search(&index) {
            indexes.insert(at, index);
        }
        let total = indexes.len();
        let start = (form.page - 1).saturating_mul(MESSAGES_PER_PAGE);
        if start >= total {
            return Err(WebError::NotFound);
        }
        let end = (start + MESSAGES_PER_PAGE).min(total);
        let registry = ledger.registry()?;
        let mut rows = Vec::with_capacity(end - start);
        for &i in &indexes[start..end] {
            let (_, other) = message_at(&ledger, i)?;
            rows.push(explain::message_row(i, &other, &registry, ledger.why_token(i), i == index));
        }
        let (prev, next) = ((form.page > 1).then(|| form.page - 1), (end < total).then(|| form.page + 1));
        let page = MessagesPage {
            origin: ledger.origin().to_string(),
            csrf: ledger.form_token(&token),
            token,
            address: form.address,
            reporter: explain::submitter_brief(&m.signer, &registry).name,
            rows,
            erased,
            total,
            first: start + 1,
            last: end,
            prev,
            next,
        };
        html(StatusCode::OK, &page)
    })
    .await?;
    state.http.why_pages.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(page)
}

/// `POST /why/<token>/object` with the address: records an objection to further targeting
/// by this message's sponsor (SPEC.md §3.5), once per recipient and sponsor.
pub async fn object(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    on_form(&state, token, &headers, body, Fields::Object, |Asked { ledger, token, index, message: m, form }| {
        let ack = match ledger.object(index, &form.address) {
            Ok(ack) => ack,
            Err(e) => return refused(&ledger, &token, e),
        };
        let (at, duplicate) = ack.acks.first().map(|a| (a.index, a.duplicate)).unwrap_or_default();
        let registry = ledger.registry()?;
        let sponsor = explain::party_brief(&m.sponsor.on_behalf_of, &registry).name;
        let reporter = explain::submitter_brief(&m.signer, &registry).name;
        let mut links = back_links(&token);
        if let Disclosed::Value(u) = &m.controls.object_url {
            if let Some(href) = explain::safe_link(u) {
                links.push(NoticeLink { label: format!("Also tell {sponsor}'s platform directly (its own objection page)"), href });
            }
        }
        let flagged = format!("Every later message from {sponsor} that {reporter} reports to this log for this address is publicly flagged as sent after your objection. Anyone, including regulators, can see these flags in the log and in the ad library. Messages other platforms report are not: this log cannot check that an address is yours, so it never links one platform's records to another's.");
        if duplicate {
            let paragraphs = vec![
                format!("Your objection to targeting by {sponsor} was already recorded as entry {at} of the public log. Nothing new was recorded: one objection per advertiser is enough, and it stays in force."),
                flagged,
            ];
            return notice(&ledger, StatusCode::OK, "Your objection was already recorded", paragraphs, links);
        }
        let paragraphs = vec![
            format!("Your objection to targeting by {sponsor} was recorded in the public log as entry {at}. The entry names the advertiser but not you: you appear in it only as a fresh, unlinkable commitment."),
            format!("What happens next: {flagged}"),
            "Under GDPR Art. 21, once you object to processing for direct marketing, your data must no longer be used for it. Sightline cannot stop a message from being sent; it makes sure that sending one anyway is on the public record.".into(),
            "Earlier messages are not changed: the log never rewrites what it recorded.".into(),
        ];
        notice(&ledger, StatusCode::OK, "Your objection was recorded", paragraphs, links)
    })
    .await
}

/// `POST /why/<token>/erase` with the address: without `confirm=yes`, the page that says
/// what will be erased and asks to confirm; with it, crypto-shreds this recipient's
/// personal parts in the scope of this message's submitter (SPEC.md §3.7, §7).
pub async fn erase(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    on_form(&state, token, &headers, body, Fields::Erase, |Asked { ledger, token, index, message: m, form }| {
        let count = match ledger.recipient_entries(index, &form.address) {
            Ok(entries) => entries.len(),
            Err(e) => return refused(&ledger, &token, e),
        };
        if count == 0 {
            return already_erased(&ledger, &token);
        }
        let reporter = explain::submitter_brief(&m.signer, &*ledger.registry()?).name;
        if !form.confirmed {
            let page = ConfirmErasePage {
                origin: ledger.origin().to_string(),
                csrf: ledger.form_token(&token),
                token,
                address: form.address,
                count,
                reporter,
            };
            return html(StatusCode::OK, &page);
        }
        match ledger.erase_recipient_of(index, &form.address) {
            Ok(ack) => erased_page(&ledger, &token, &m, ack.acks.first().map(|a| a.index).unwrap_or_default(), count, &reporter),
            Err(LedgerError::Erased) => already_erased(&ledger, &token),
            Err(e) => refused(&ledger, &token, e),
        }
    })
    .await
}

fn already_erased(ledger: &Ledger, token: &str) -> WebResult<Response> {
    let paragraphs = vec!["There was nothing left to erase: your personal data for this message had already been erased. The public record and its proof remain.".into()];
    notice(ledger, StatusCode::OK, "Your personal data was already erased", paragraphs, back_links(token))
}

fn erased_page(ledger: &Ledger, token: &str, m: &MessageBody, at: u64, count: usize, reporter: &str) -> WebResult<Response> {
    let parts = if count == 1 { "1 message".to_string() } else { format!("{count} messages") };
    let sponsor = explain::party_brief(&m.sponsor.on_behalf_of, &*ledger.registry()?).name;
    let paragraphs = vec![
        format!("Your personal data for {parts} that {reporter} reported to this log is gone: your identifier, the values used to select you and the consent evidence. Their encryption key was destroyed and the encrypted data overwritten, so nobody can read them any more, including the log operator."),
        format!("The erasure was recorded in the public log as entry {at}. It names neither you nor any message; it says that the request came through the link of a message, from someone who gave the address it was sent to."),
        "The public record of each message and its proof remain: who paid, the targeting criteria and where the data came from can still be read and verified by anyone. They never contained your identity.".into(),
        format!("This link keeps working and now shows only the public part. You can still object to targeting by {sponsor} through it with your address: for each erased message this log keeps only a keyed tag that your address matches and that opens nothing."),
    ];
    notice(ledger, StatusCode::OK, "Your personal data was erased", paragraphs, back_links(token))
}
