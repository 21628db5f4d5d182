#![forbid(unsafe_code)]
//! # sightline-web
//!
//! The Sightline server: one axum application, one module per audience.
//!
//! | module | audience | routes |
//! |---|---|---|
//! | [`ingest`] | ad servers, email platforms | `POST /api/v1/submissions` |
//! | [`why`] | recipients | `/why/<token>` and its receipt: what the link alone opens |
//! | [`rights`], [`recipient_form`] | recipients | `/why/<token>/messages`, `/object`, `/erase`: what needs the address too |
//! | [`library`] | the public, researchers | `/library`, `/api/v1/library` |
//! | [`regulator`] | verifiers, monitors, C2SP clients | `/checkpoint`, `/tile/…`, proofs, entries, receipts |
//! | [`export_http`] | compliance teams | `/api/v1/export` |
//! | [`admin`] | the operator | submitters, parties, key rotation, erasure |
//! | [`metrics`] | operations | `/metrics` |
//! | [`import`] | platforms backfilling | `sightline import` (CLI, server stopped) |
//! | [`cosigning`] | the log's witnesses | gathers cosignatures; `/checkpoint` serves them |
//! | [`witness`] | anyone who witnesses a log | `sightline witness` (its own server, `POST /add-checkpoint`) |
//!
//! Before any handler, [`admission`] refuses what the server should not do: a client over its
//! rate ([`rate_limit`]), a submission whose signed header does not authenticate
//! ([`submitter_auth`]), a body the in-flight budget cannot take now; [`serve`] is the accept
//! loop with header and idle timeouts and a cap on connections per client ([`serve_flags`] its
//! command-line flags).
//!
//! [`app`] holds the state, router, credentials and security headers; [`setup`]
//! the data folder and keys; [`demo`] the demo data set; [`html_escape`] the pages'
//! HTML escaper. All log logic lives in
//! `sightline-ledger`; this crate only speaks HTTP and renders pages.
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

pub mod acks;
pub mod admin;
pub mod admission;
pub mod cosigning;
pub mod demo;
pub mod durable;
pub mod error;
pub mod explain;
pub mod export_http;
pub mod health;
pub mod html_escape;
pub mod http;
pub mod import;
pub mod ingest;
pub mod library;
pub mod limits;
pub mod metrics;
pub mod rate_limit;
pub mod receipts;
pub mod recipient_form;
pub mod recipient_pages;
pub mod regulator;
pub mod rights;
pub mod router;
pub mod serve;
pub mod serve_flags;
pub mod setup;
pub mod state;
pub mod submitter_auth;
pub mod why;
pub mod witness;

pub use error::{WebError, WebResult};
