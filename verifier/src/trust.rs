//! Deciding whether a checkpoint is trusted (SPEC §8): the keys given on the command line,
//! and the log keys learned by walking the log's `log_key` entries from one of them.

use crate::chain::Walker;
use crate::error::{Error, Result};
use crate::note::{SignedCheckpoint, Vkey};
use crate::report::Summary;
use crate::witness_policy::WitnessPolicy;

/// How a run checks signatures.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Trusted log keys (`--vkey`, `--vkey-file`).
    pub trusted: Vec<Vkey>,
    /// The witness policy (`--witness`, `--witness-file`, `--witness-threshold`), if any.
    pub witnesses: Option<WitnessPolicy>,
    /// `false` with `--structural`: record signatures are skipped.
    pub signatures: bool,
    /// No progress bar.
    pub quiet: bool,
}

/// Read trusted keys from `--vkey` values and `--vkey-file` files (one key a line; blank lines
/// and `#` comments ignored).
pub fn load_vkeys(vkeys: &[String], files: &[std::path::PathBuf]) -> Result<Vec<Vkey>> {
    let mut out = Vec::new();
    for v in vkeys {
        out.push(Vkey::parse(v)?);
    }
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::Io { path: f.display().to_string(), source: e })?;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            out.push(Vkey::parse(line)?);
        }
    }
    Ok(out)
}

/// Before the walk: a bad signature by a trusted key fails at once; a checkpoint signed by no
/// trusted key may still be signed by a key learned from the log (checked after the walk).
/// Without trusted keys, full verification is refused.
pub fn precheck(cp: &SignedCheckpoint, opts: &Options) -> Result<Vec<Vkey>> {
    if opts.trusted.is_empty() {
        return if opts.signatures { Err(Error::NoTrustedKey) } else { Ok(Vec::new()) };
    }
    match cp.verify(&opts.trusted) {
        Ok(k) => Ok(k),
        Err(Error::UntrustedNote { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// After walking a Sightline log: the trusted key must be one of the log's keys, and the
/// checkpoint must be signed by the current log key at its size.
pub fn postcheck(cp: &SignedCheckpoint, walker: &Walker, opts: &Options, summary: &mut Summary) -> Result<()> {
    summary.log_keys = walker.log_keys.iter().map(|(i, k)| format!("{}+{:08x} (entry {i})", k.name, k.id)).collect();
    if opts.trusted.is_empty() {
        summary.notes.push("no trusted key given: the checkpoint signature was not checked (--structural)".into());
        return Ok(());
    }
    let announced = |t: &Vkey| walker.log_keys.iter().any(|(_, k)| k == t);
    if !opts.trusted.iter().any(announced) {
        let names: Vec<String> = opts.trusted.iter().map(Vkey::to_text).collect();
        return Err(Error::TrustedKeyNotInLog { vkey: names.join(", ") });
    }
    let current = walker
        .current_log_key()
        .cloned()
        .ok_or_else(|| Error::TrustedKeyNotInLog { vkey: opts.trusted.iter().map(Vkey::to_text).collect::<Vec<_>>().join(", ") })?;
    match cp.verify(std::slice::from_ref(&current)) {
        Ok(_) => {}
        Err(Error::UntrustedNote { signed_by, .. }) => {
            return Err(Error::UntrustedNote {
                what: format!("the checkpoint of size {}", cp.checkpoint.size),
                trusted: format!("the current log key at that size, {}+{:08x}", current.name, current.id),
                signed_by,
            })
        }
        Err(e) => return Err(e),
    }
    summary.checkpoint_signed_by = vec![format!("{}+{:08x} (current log key)", current.name, current.id)];
    if !opts.signatures {
        summary.notes.push("--structural: record and log_key signatures were not checked".into());
    }
    Ok(())
}

/// For any tlog: the checkpoint must be signed by a trusted key.
pub fn generic_check(cp: &SignedCheckpoint, opts: &Options, summary: &mut Summary) -> Result<()> {
    if opts.trusted.is_empty() {
        if opts.signatures {
            return Err(Error::NoTrustedKey);
        }
        summary.notes.push("no trusted key given: the checkpoint signature was not checked".into());
        return Ok(());
    }
    let keys = cp.verify(&opts.trusted)?;
    summary.checkpoint_signed_by = keys.iter().map(|k| format!("{}+{:08x}", k.name, k.id)).collect();
    Ok(())
}

/// With a witness policy: the checkpoint must carry enough valid cosignatures by trusted
/// witnesses (SPEC.md §8.1); the report goes into the summary.
pub fn witnesses(cp: &SignedCheckpoint, opts: &Options, summary: &mut Summary) -> Result<()> {
    if let Some(policy) = &opts.witnesses {
        let what = format!("the checkpoint of size {}", cp.checkpoint.size);
        summary.witnesses = Some(policy.enforce(&what, cp, &opts.trusted)?);
    }
    Ok(())
}
