#![forbid(unsafe_code)]
//! # sightline-web
//!
//! The Sightline server: one axum application, one module per audience.
//!
//! | module | audience | routes |
//! |---|---|---|
//! | [`ingest`] | ad servers, email platforms | `POST /api/v1/submissions` |
//! | [`why`] | recipients | `/why/<token>`, its messages, receipt, objection, erasure |
//! | [`library`] | the public, researchers | `/library`, `/api/v1/library` |
//! | [`regulator`] | verifiers, monitors, C2SP clients | `/checkpoint`, `/tile/…`, proofs, entries, receipts |
//! | [`export_http`] | compliance teams | `/api/v1/export` |
//! | [`admin`] | the operator | submitters, parties, key rotation, erasure |
//! | [`metrics`] | operations | `/metrics` |
//! | [`import`] | platforms backfilling | `sightline import` (CLI, server stopped) |
//! | [`cosigning`] | the log's witnesses | gathers cosignatures; `/checkpoint` serves them |
//! | [`witness`] | anyone who witnesses a log | `sightline witness` (its own server, `POST /add-checkpoint`) |
//!
//! [`app`] holds the state, router, credentials and security headers; [`setup`]
//! the data folder and keys; [`demo`] the demo data set; [`html_escape`] the pages'
//! HTML escaper. All log logic lives in
//! `sightline-ledger`; this crate only speaks HTTP and renders pages.
//!
//! Guarantees: every page escapes what it shows (askama), carries CSP,
//! `nosniff`, `frame-ancestors 'none'` and `no-referrer`, and works without
//! JavaScript; a wrong recipient token is a plain 404; admin and compliance
//! routes need their Bearer credential; logs never contain personal data.

pub mod admin;
pub mod app;
pub mod cosigning;
pub mod demo;
pub mod durable;
pub mod error;
pub mod explain;
pub mod export_http;
pub mod html_escape;
pub mod import;
pub mod ingest;
pub mod json_text;
pub mod library;
pub mod metrics;
pub mod regulator;
pub mod setup;
pub mod why;
pub mod witness;

pub use error::{WebError, WebResult};
