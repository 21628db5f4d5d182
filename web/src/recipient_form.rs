//! The checks every recipient form passes before it can show or change anything
//! (SPEC.md §12 "Recipients"), after its token named a message:
//!
//! 1. its body is `application/x-www-form-urlencoded` (else `415`) of at most
//!    [`FORM_BYTES`] (else `413`): what a browser sends for the pages' forms, and not
//!    the `text/plain` a page of another site can send without asking;
//! 2. it was sent from this server's own page: an `Origin` header, when present, is
//!    this server's public origin, `null` included (else `403`);
//! 3. it carries the link's form token (`Ledger::form_token`, else `403`), which only
//!    this server's page of that link holds;
//! 4. its fields are the form's own, each once (else `400`), and the address is
//!    given (else `403`).
//!
//! None of this proves who is asking: whoever holds the link can fetch its page and
//! its form token. The address, checked next by the ledger against the message's
//! private record (`Ledger::recipient_entries`, `object`, `erase_recipient_of`), is
//! what a forwarded link alone does not give. These checks stop another site from
//! making a visitor's browser send a form they did not mean to send.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderMap, StatusCode};
use sightline_ledger::Ledger;

/// The largest form body accepted: the fields are a form token, an address of at most 256
/// characters, a page number and a confirmation.
pub const FORM_BYTES: usize = 8 * 1024;

/// The media type of every recipient form.
const FORM_TYPE: &str = "application/x-www-form-urlencoded";

/// A recipient form that passed the checks.
#[derive(Debug, PartialEq, Eq)]
pub struct RecipientForm {
    /// The address the holder says the message was sent to (not yet checked).
    pub address: String,
    /// `page`, from 1 (the message list only; 1 when absent).
    pub page: usize,
    /// `confirm=yes` was sent (erasure only).
    pub confirmed: bool,
}

/// Which optional fields a form has besides `csrf` and `address`.
#[derive(Clone, Copy, Debug)]
pub enum Fields {
    /// `POST /why/<token>/messages`: `page`.
    List,
    /// `POST /why/<token>/object`: nothing more.
    Object,
    /// `POST /why/<token>/erase`: `confirm`.
    Erase,
}

/// Why a form was refused; nothing was shown, recorded or erased.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NotAForm,
    TooLarge,
    OtherSite,
    NoFormToken,
    BadField(String),
    NoAddress,
}

impl Refusal {
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::NotAForm => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::BadField(_) => StatusCode::BAD_REQUEST,
            Refusal::OtherSite | Refusal::NoFormToken | Refusal::NoAddress => StatusCode::FORBIDDEN,
        }
    }

    /// A title and what to do, in words.
    pub fn words(&self) -> (String, Vec<String>) {
        let nothing = "Nothing was shown, recorded or erased.".to_string();
        match self {
            Refusal::NotAForm => (
                "This request is not one of this page's forms".into(),
                vec![nothing, format!("The forms of a message's page are sent as {FORM_TYPE}. Open the link of the message and use the form on its page.")],
            ),
            Refusal::TooLarge => (
                "This form is too large".into(),
                vec![nothing, format!("A form of a message's page is at most {FORM_BYTES} bytes. Open the link of the message and use the form on its page.")],
            ),
            Refusal::OtherSite | Refusal::NoFormToken => (
                "This form was not sent from this message's page".into(),
                vec![
                    nothing,
                    "Another web site, or an outdated copy of the page, sent it. Open the link of the message yourself and use the form on its page.".into(),
                ],
            ),
            Refusal::BadField(why) => ("This form has a field it should not have".into(), vec![nothing, why.clone()]),
            Refusal::NoAddress => (
                "Enter the address this message was sent to".into(),
                vec![
                    nothing,
                    "A link to a message shows that message to anyone who holds it. Your other messages, an objection and an erasure need, besides the link, the address the message was sent to (an e-mail address, an account or a device id), as the platform knows you.".into(),
                ],
            ),
        }
    }
}

/// Runs the checks on a form for the why link `token` (whose message the caller found).
pub fn check(
    ledger: &Ledger,
    public_origin: Option<&str>,
    headers: &HeaderMap,
    token: &str,
    body: Result<Bytes, BytesRejection>,
    fields: Fields,
) -> Result<RecipientForm, Refusal> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|v| v.split(';').next()).map(str::trim);
    if !media.is_some_and(|m| m.eq_ignore_ascii_case(FORM_TYPE)) {
        return Err(Refusal::NotAForm);
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin.to_str().ok().zip(public_origin).is_some_and(|(given, ours)| given.eq_ignore_ascii_case(ours));
        if !same {
            return Err(Refusal::OtherSite);
        }
    }
    let body = body.map_err(|r| if r.status() == StatusCode::PAYLOAD_TOO_LARGE { Refusal::TooLarge } else { Refusal::NotAForm })?;
    let (mut csrf, mut address, mut page, mut confirm) = (None, None, None, None);
    for (name, value) in form_urlencoded::parse(&body) {
        let slot = match (name.as_ref(), fields) {
            ("csrf", _) => &mut csrf,
            ("address", _) => &mut address,
            ("page", Fields::List) => &mut page,
            ("confirm", Fields::Erase) => &mut confirm,
            (other, _) => return Err(Refusal::BadField(format!("This form has no field `{other}`."))),
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(Refusal::BadField(format!("The field `{name}` was sent more than once.")));
        }
    }
    if !csrf.is_some_and(|c| ledger.check_form_token(token, &c)) {
        return Err(Refusal::NoFormToken);
    }
    let address = address.filter(|a| !a.trim().is_empty()).ok_or(Refusal::NoAddress)?;
    let page = match page {
        None => 1,
        Some(p) => {
            p.parse::<usize>().ok().filter(|&n| n >= 1).ok_or_else(|| Refusal::BadField("`page` is a page number from 1.".into()))?
        }
    };
    Ok(RecipientForm { address, page, confirmed: confirm.as_deref() == Some("yes") })
}
