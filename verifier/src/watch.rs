//! Watching a live log: poll its checkpoint, prove each new one consistent with the last one
//! seen (kept in a state file), and alert on any inconsistency.

use std::path::Path;
use std::time::Duration;

use crate::consistency::{self, State};
use crate::error::{Error, Result};
use crate::note::SignedCheckpoint;
use crate::report::Summary;
use crate::tiles::Source;
use crate::trust::Options;

/// One poll: fetch the checkpoint, check it against the state (if any), save it.
pub fn poll_once(url: &str, state: &Path, opts: &Options) -> Result<Summary> {
    let src = Source::open(url)?;
    let new = SignedCheckpoint::parse(&src.checkpoint()?)?;
    let old = if state.exists() {
        let bytes = std::fs::read(state).map_err(|e| Error::Io { path: state.display().to_string(), source: e })?;
        let st: State =
            serde_json::from_slice(&bytes).map_err(|e| Error::unusable(format!("state file {}", state.display()), e.to_string()))?;
        Some(SignedCheckpoint::parse(st.checkpoint.as_bytes())?)
    } else {
        None
    };
    let summary = match &old {
        Some(old) => consistency::check(old, &new, Some(&src), opts)?,
        None => {
            if opts.trusted.is_empty() {
                return Err(Error::NoTrustedKey);
            }
            let keys = new.verify(&opts.trusted)?;
            let mut first = Summary {
                checked: "first checkpoint".into(),
                source: url.to_string(),
                origin: new.checkpoint.origin.clone(),
                size: new.checkpoint.size,
                root: hex::encode(new.checkpoint.root),
                checkpoint_signed_by: keys.iter().map(|k| format!("{}+{:08x}", k.name, k.id)).collect(),
                notes: vec![format!("no earlier state: remembered in {}", state.display())],
                ..Summary::default()
            };
            crate::trust::witnesses(&new, opts, &mut first)?;
            first
        }
    };
    consistency::save_state(state, &new)?;
    Ok(summary)
}

/// Poll every `interval` until an inconsistency is found (returned as the error). Network
/// trouble is reported on stderr and retried at the next poll.
pub fn watch(url: &str, state: &Path, interval: Duration, opts: &Options, json: bool) -> Error {
    loop {
        match poll_once(url, state, opts) {
            Ok(s) => {
                if json {
                    println!("{}", serde_json::json!({ "ok": true, "size": s.size, "root": s.root, "source": s.source }));
                } else {
                    println!("ok: {} size {} root {}", s.origin, s.size, s.root);
                }
            }
            Err(e) if e.exit_code() == 2 => eprintln!("warning (will retry): {}", crate::content::neutralise(&e.to_string())),
            Err(e) => return e,
        }
        std::thread::sleep(interval);
    }
}
