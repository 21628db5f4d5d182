//! What a witness remembers: per log origin, the latest checkpoint it cosigned, kept in one
//! JSON file (`state.json` in its data folder) replaced whole and fsynced before any cosignature
//! for it leaves the process (`durable::replace_file`).
//!
//! The check of a request against the held state and the write of the new state happen under
//! one lock, so two requests racing cannot roll the witness back (tlog-witness, "atomically").
//! A crash or `kill -9` at any point leaves the old state or the new one; after a restart the
//! witness therefore never cosigns a checkpoint older than, or inconsistent with, one it already
//! signed. A state file that cannot be read stops the witness from starting: starting empty
//! would let it cosign a second history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sightline_ledger::tlog_witness::{Cosigned, Refusal, Verified};

use crate::error::{WebError, WebResult};

/// The state file's format string.
pub const FORMAT: &str = "sightline-witness-state/v1";

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StateFile {
    format: String,
    /// Origin → the latest checkpoint cosigned for it.
    logs: BTreeMap<String, Cosigned>,
}

/// Why a request was not cosigned: a refusal of the protocol, or the state could not be saved.
#[derive(Debug)]
pub enum NotCosigned {
    /// The protocol refuses it.
    Refused(Refusal),
    /// The state could not be saved, so nothing was cosigned.
    Storage(String),
}

/// The witness's durable state.
pub struct WitnessState {
    path: PathBuf,
    logs: Mutex<BTreeMap<String, Cosigned>>,
}

impl WitnessState {
    /// Loads `path` (a missing file is a witness that never cosigned anything).
    pub fn open(path: &Path) -> WebResult<WitnessState> {
        let logs = match std::fs::read(path) {
            Ok(bytes) => {
                let file: StateFile = serde_json::from_slice(&bytes).map_err(|e| unreadable(path, &e.to_string()))?;
                if file.format != FORMAT {
                    return Err(unreadable(path, &format!("its format is `{}`, not {FORMAT}", file.format)));
                }
                file.logs
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(unreadable(path, &e.to_string())),
        };
        Ok(WitnessState { path: path.to_path_buf(), logs: Mutex::new(logs) })
    }

    /// The checkpoint last cosigned for `origin`.
    pub fn held(&self, origin: &str) -> Option<Cosigned> {
        self.logs.lock().ok().and_then(|l| l.get(origin).cloned())
    }

    /// Applies the tlog-witness rules to `req` against the held state and, if they pass, makes
    /// the new state durable before returning it; the caller cosigns only after that.
    pub fn advance(&self, req: &Verified) -> Result<Cosigned, NotCosigned> {
        let mut logs = self.logs.lock().map_err(|_| NotCosigned::Storage("the state lock was poisoned; restart the witness".into()))?;
        let origin = &req.checkpoint.origin;
        let held = logs.get(origin);
        let new = req.advance(held).map_err(NotCosigned::Refused)?;
        if held != Some(&new) {
            let mut next = logs.clone();
            next.insert(origin.clone(), new.clone());
            let file = StateFile { format: FORMAT.into(), logs: next };
            let bytes = serde_json::to_vec_pretty(&file).map_err(|e| NotCosigned::Storage(e.to_string()))?;
            crate::durable::replace_file(&self.path, &bytes, false)
                .map_err(|e| NotCosigned::Storage(format!("cannot save {}: {e}", self.path.display())))?;
            *logs = file.logs;
        }
        Ok(new)
    }
}

fn unreadable(path: &Path, why: &str) -> WebError {
    WebError::Setup(format!(
        "the witness state {} is unreadable ({why}). Do not delete it: a witness that forgets what it cosigned could cosign a second history of a log. Restore it from a backup, or retire this witness's key and start a new witness",
        path.display()
    ))
}
