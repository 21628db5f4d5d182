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
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use sightline_ledger::record::Channel;
use sightline_ledger::reference::EntryRef;
use sightline_ledger::PersonalState;

use crate::cosigning::report::words as witness_words;
use crate::error::{WebError, WebResult};
use crate::explain::{self, Logged, PersonalRef, ProofInput, WhyView};
use crate::http::{blocking, html};
use crate::receipts::{receipt_response, witnessed_receipt};
use crate::recipient_pages::{lookup, message_in};
use crate::state::AppState;

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

/// `GET /`
pub async fn home(State(state): State<AppState>) -> WebResult<Response> {
    let ledger = state.ledger.clone();
    html(StatusCode::OK, &HomePage { origin: ledger.origin().to_string(), vkey: ledger.vkey(), size: ledger.size() })
}

/// `GET /why/<token>`: the full explanation of one message.
///
/// The entry, its personal part, the registry and the log's size come from one look at the
/// ledger's state ([`sightline_ledger::Ledger::snapshot`]), so the page never mixes two states
/// of the log (a registration or an erasure published halfway through).
///
/// It runs on the async worker, not the blocking pool: it reads one entry and
/// one private record from the page cache, tens of microseconds, and the hop to a
/// blocking thread and back (with every string of the page freed on another thread
/// than it was allocated on) cost more than that work (BENCHMARKS.md).
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let ledger = &state.ledger;
    let index = ledger.check_why_token(&token).ok_or(WebError::NotFound)?;
    let snapshot = ledger.snapshot(index)?.ok_or(WebError::NotFound)?;
    let (stamp, m) = message_in(index, &snapshot.bytes, snapshot.leaf)?;
    let vkey = ledger.vkey();
    let why_token = |i: u64| ledger.why_token(i);
    let proof = ProofInput { size: snapshot.size, vkey: &vkey, token: &token, why_token: &why_token };
    let personal = personal_ref(&snapshot.personal);
    let logged = Logged { logged_at: &stamp.logged_at, flags: &stamp.flags, omitted: &stamp.omitted };
    let v = explain::explain(index, logged, &m, &snapshot.registry, personal, &proof);
    let witnesses = state.cosigning.as_ref().map(|c| witness_words(c.witnessed().as_ref(), index, c.policy_words()));
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
        Ok((index, witnessed_receipt(&state, index)?))
    })
    .await?;
    let mut resp = receipt_response(&r, index);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
#[path = "why_old_entries.rs"]
mod old_entries;
