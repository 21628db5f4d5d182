//! The log's record of its witnesses, `witnessing.json` in the data folder, replaced whole and
//! fsynced (`durable::replace_file`): per witness the size it holds and its latest
//! cosignature of one of our checkpoints, and the newest checkpoint whose cosignatures met the
//! policy. After a restart the log submits to each witness from the size it last saw, and
//! serves the cosigned checkpoint it had.
//!
//! Nothing here is trusted blindly when read back: each cosignature is checked again with the
//! configured witness key, and the witnessed checkpoint against the ledger's own tree.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The file's format string.
pub const FORMAT: &str = "sightline-witnessing/v1";

/// What the log knows of one witness.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Held {
    /// The size the witness holds for this log, as it last said (200 or 409).
    pub size: Option<u64>,
    /// Its latest cosignature: the log-signed checkpoint note it covers, and the signature line.
    pub checkpoint: Option<String>,
    /// The signature line of that cosignature.
    pub cosignature: Option<String>,
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The file's format, `sightline-witnessing/v1`.
    pub format: String,
    /// Witness name → what the log knows of it.
    pub witnesses: BTreeMap<String, Held>,
    /// The newest checkpoint that met the policy, with the cosignatures that met it.
    pub witnessed: Option<String>,
}

/// Reads the record; a missing file is an empty record, an unreadable one is reported and
/// treated as empty (the witnesses keep their own state, so the log relearns sizes by 409).
pub fn read(path: &Path) -> Record {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Record::default(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the witness record; starting from the witnesses' answers");
            return Record::default();
        }
    };
    match serde_json::from_slice::<Record>(&bytes) {
        Ok(r) if r.format == FORMAT => r,
        Ok(r) => {
            tracing::warn!(path = %path.display(), format = %r.format, "the witness record has an unknown format; starting from the witnesses' answers");
            Record::default()
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "the witness record is unreadable; starting from the witnesses' answers");
            Record::default()
        }
    }
}

/// Writes the record durably.
pub fn write(path: &Path, record: &Record) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    crate::durable::replace_file(path, &bytes, false)
}
