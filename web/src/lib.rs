#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # sightline-web
//!
//! The Sightline server: one axum application, one module per audience. All log logic lives
//! in `sightline-ledger`; this crate only speaks HTTP and renders pages.
//!
//! | module | audience | routes |
//! |---|---|---|
//! | `ingest` | ad servers, email platforms | `POST /api/v1/submissions` |
//! | `why` | recipients | `/why/<token>` and its receipt: what the link alone opens |
//! | [`rights`], `recipient_form` | recipients | `/why/<token>/messages`, `/object`, `/erase`: what needs the address too |
//! | [`library`] | the public, researchers | `/library`, `/api/v1/library` |
//! | `regulator` | verifiers, monitors, C2SP clients | `/checkpoint`, `/tile/…`, proofs, entries, receipts |
//! | [`publish`] | CDNs, static web servers | `checkpoint` and `tile/…` as files (`serve --publish DIR`, `sightline publish`) |
//! | [`export_http`] | compliance teams | `/api/v1/export` |
//! | `admin` | the operator | submitters, parties, key rotation, erasure |
//! | `metrics`, `health` | operations | `/metrics`, `/healthz` |
//! | [`import`] | platforms backfilling | `sightline import` (CLI, server stopped) |
//! | [`migrate`] | operators moving to PostgreSQL | `sightline migrate` (CLI, server stopped) |
//! | [`cosigning`] | the log's witnesses | gathers cosignatures; `/checkpoint` serves them |
//! | [`witness`] | anyone who witnesses a log | `sightline witness` (its own server, `POST /add-checkpoint`) |
//!
//! Handlers do not use each other; what several share has a module of its own: [`state`] (what
//! every handler is given), [`router`] (every route, the body limits, the security headers),
//! `http` (running blocking ledger work, rendering a page, reading a body or a query, each in
//! one place), `acks` (the acknowledgement JSON of ingest, admin and import), `recipient_pages`
//! (a why link's message and notice pages), `receipts` (receipt files), `explain` (every
//! sentence a recipient reads), `error` ([`WebError`], mapped to problem documents).
//!
//! Before any handler, `admission` refuses what the server should not do: a client over its
//! rate ([`rate_limit`]), a submission whose signed header does not authenticate
//! ([`submitter_auth`]), a body the in-flight budget ([`limits`]) cannot take now; [`serve`] is
//! the accept loop with header and idle timeouts and a cap on connections per client
//! ([`serve_flags`] its command-line flags). [`setup`] holds the data folder and keys, [`demo`]
//! the demo data set, `html_escape` the pages' HTML escaper.
//!
//! Guarantees: every page escapes what it shows (askama), carries CSP,
//! `nosniff`, `frame-ancestors 'none'` and `Referrer-Policy: same-origin` (no
//! page's address ever reaches another site), and works without
//! JavaScript; a wrong recipient token is a plain 404; a recipient's other
//! messages, objection and erasure need the address the message was sent to and
//! a form sent from this server's page; admin and compliance
//! routes need their Bearer credential; submissions need their submitter's signed header,
//! checked before the body is read; request bodies held at once are capped; logs never
//! contain personal data.

pub mod cosigning;
pub mod demo;
pub mod export_http;
pub mod import;
pub mod library;
pub mod limits;
pub mod migrate;
pub mod publish;
pub mod rate_limit;
pub mod rights;
pub mod router;
pub mod serve;
pub mod serve_flags;
pub mod setup;
pub mod state;
pub mod submitter_auth;
pub mod witness;

mod acks;
mod admin;
mod admission;
mod durable;
mod error;
mod explain;
mod health;
mod html_escape;
mod http;
mod ingest;
mod metrics;
mod receipts;
mod recipient_form;
mod recipient_pages;
mod regulator;
mod why;

pub use error::{WebError, WebResult};
