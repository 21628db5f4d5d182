//! `sightline witness`: a C2SP tlog-witness (`c2sp.org/tlog-witness@v1.0.0`) for any log whose
//! checkpoints are Ed25519 signed notes, Sightline's or another implementation's.
//!
//! A witness is the party that makes a log's history the same for everyone: it cosigns a
//! checkpoint only if it extends the last one it cosigned for that log, so a log that shows a
//! second history to someone cannot get it cosigned by an honest witness (SPEC.md §8.1).
//!
//! | file | concern |
//! |---|---|
//! | `mod.rs` | the witness (key, known logs, state) and its HTTP interface |
//! | [`state`] | what it cosigned per log, durable before each cosignature |
//! | [`log_list`] | the logs it knows, in the public witness network's list format |
//! | [`cli`] | `sightline witness init | vkey | serve` |
//!
//! The protocol (request format, rules, statuses) is `sightline_ledger::tlog_witness`; the
//! cosignature format `sightline_ledger::cosignature`. The log's side, which submits checkpoints
//! to witnesses, is [`crate::cosigning`].
//!
//! HTTP: `POST /add-checkpoint` (the submission prefix is the server's root), `GET /` (what
//! this witness is: its name, key and logs), `GET /healthz`.

pub mod cli;
pub mod log_list;
pub mod state;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sightline_ledger::cosignature::Cosigner;
use sightline_ledger::note::NoteSignature;
use sightline_ledger::tlog_witness::{AddCheckpoint, KnownLog, Refusal, MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE};

use state::{NotCosigned, WitnessState};

/// A running witness: its key, the logs it knows and what it cosigned.
pub struct Witness {
    /// The witness's key.
    pub cosigner: Cosigner,
    /// The logs it witnesses.
    pub logs: Vec<KnownLog>,
    /// What it cosigned, saved before each cosignature leaves.
    pub state: WitnessState,
}

impl Witness {
    /// Handles one `add-checkpoint` body: parse, check the log's signature, check the request
    /// against the held state and persist the new one, then cosign (tlog-witness, in that order).
    pub fn add_checkpoint(&self, body: &[u8]) -> Result<NoteSignature, NotCosigned> {
        let req = AddCheckpoint::parse(body).map_err(NotCosigned::Refused)?;
        let verified = req.verify(&self.logs).map_err(NotCosigned::Refused)?;
        let cosigned = self.state.advance(&verified)?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        self.cosigner.cosign(&cosigned.checkpoint, now).map_err(|e| NotCosigned::Storage(format!("cannot cosign: {e}")))
    }

    /// What `GET /` says.
    fn describe(&self) -> String {
        let mut out =
            format!("Sightline witness (C2SP tlog-witness)\nname: {}\nvkey: {}\nlogs:\n", self.cosigner.name(), self.cosigner.vkey());
        for log in &self.logs {
            let held = self.state.held(&log.origin).map_or("nothing cosigned yet".to_string(), |c| format!("cosigned size {}", c.size));
            out.push_str(&format!("  {} ({held})\n", log.origin));
        }
        out
    }
}

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/", get(|State(w): State<Arc<Witness>>| async move { text(StatusCode::OK, w.describe()) }))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(witness)
}

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `POST /add-checkpoint`
async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Response {
    let result = tokio::task::spawn_blocking(move || w.add_checkpoint(&body)).await;
    match result {
        Ok(Ok(sig)) => {
            tracing::info!("cosigned a checkpoint");
            text(StatusCode::OK, sig.to_line())
        }
        Ok(Err(NotCosigned::Refused(r))) => refusal(&r),
        Ok(Err(NotCosigned::Storage(why))) => {
            tracing::error!(%why, "could not save the witness state; nothing was cosigned");
            text(StatusCode::SERVICE_UNAVAILABLE, format!("nothing was cosigned: {why}\n"))
        }
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("nothing was cosigned: the request failed ({e})\n")),
    }
}

fn refusal(r: &Refusal) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
    tracing::info!(status = status.as_u16(), refusal = %r, "refused a checkpoint");
    match r.conflict_size() {
        Some(size) => (status, [(header::CONTENT_TYPE, SIZE_CONTENT_TYPE)], format!("{size}\n")).into_response(),
        None => text(status, format!("{r}\n")),
    }
}
