//! A witness policy (`--witness`, `--witness-file`, `--witness-threshold`): at least K of the
//! trusted witnesses must have cosigned a checkpoint before it is believed (SPEC.md §8.1, §14.5).
//!
//! Every signature line of the checkpoint note is sorted into one of: cosigned by a trusted
//! witness (the signature and timestamp check), not checked (a trusted ML-DSA-44 witness),
//! rejected (a timestamp in the future, or not the layout of a cosignature), or by a key the
//! verifier was not told to trust (listed, never counted). A cosignature by a trusted witness
//! that does not verify is an integrity failure: the checkpoint was altered after it was
//! cosigned, or the cosignature forged.

use std::path::PathBuf;

use serde::Serialize;

use crate::cosignature::{rfc3339, Check, WitnessKey};
use crate::error::{Error, Result};
use crate::note::{SignedCheckpoint, Vkey};

/// How far in the future a cosignature's timestamp may be (clock skew).
pub const FUTURE_SKEW_SECS: u64 = 600;

/// The witnesses a verifier trusts, and how many must cosign.
#[derive(Clone, Debug)]
pub struct WitnessPolicy {
    /// The trusted witnesses.
    pub keys: Vec<WitnessKey>,
    /// How many of them must cosign.
    pub threshold: usize,
}

/// Reads `--witness` keys and `--witness-file` files (one key a line; blank lines and `#`
/// comments skipped) and `--witness-threshold` (default: all of them). `None` without keys.
pub fn load(keys: &[String], files: &[PathBuf], threshold: Option<usize>) -> Result<Option<WitnessPolicy>> {
    let mut out: Vec<WitnessKey> = Vec::new();
    let mut add = |k: WitnessKey| {
        if !out.iter().any(|have| have.name == k.name && have.id == k.id) {
            out.push(k);
        }
    };
    for k in keys {
        add(WitnessKey::parse(k)?);
    }
    for f in files {
        let text = std::fs::read_to_string(f).map_err(|e| Error::Io { path: f.display().to_string(), source: e })?;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            add(WitnessKey::parse(line)?);
        }
    }
    if out.is_empty() {
        return match threshold {
            Some(_) => Err(Error::unusable("--witness-threshold", "it needs witnesses: give --witness VKEY or --witness-file FILE")),
            None => Ok(None),
        };
    }
    let n = out.len();
    let k = threshold.unwrap_or(n);
    if k == 0 || k > n {
        return Err(Error::unusable("--witness-threshold", format!("{k} of {n} trusted witnesses cannot be required; give 1 to {n}")));
    }
    Ok(Some(WitnessPolicy { keys: out, threshold: k }))
}

/// Why a checkpoint did not meet the witness policy (the error's words and the full report).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyUnmet {
    /// What was checked.
    pub what: String,
    /// Trusted witnesses that cosigned.
    pub got: usize,
    /// How many must.
    pub need: usize,
    /// Witnesses trusted.
    pub trusted: usize,
    /// Who cosigned, in words.
    pub cosigned: String,
    /// Who did not, in words.
    pub missing: String,
    /// What else the report says, in words.
    pub detail: String,
    /// The full report.
    pub report: WitnessReport,
}

/// A trusted witness's valid cosignature.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's name.
    pub witness: String,
    /// Its key, as a vkey.
    pub key: String,
    /// When it cosigned (POSIX seconds).
    pub timestamp: u64,
    /// The same, as an RFC 3339 time.
    pub time: String,
}

/// A signature line that was not counted, and why.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NotCounted {
    /// The name on the line.
    pub witness: String,
    /// Why it was not counted.
    pub reason: String,
}

/// What the witnesses say about one checkpoint.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WitnessReport {
    /// Cosignatures required.
    pub threshold: usize,
    /// Witnesses trusted.
    pub trusted: usize,
    /// Whether the policy is met.
    pub met: bool,
    /// The trusted cosignatures that verify.
    pub cosigned: Vec<Cosigned>,
    /// Trusted witnesses with no cosignature on this checkpoint.
    pub not_cosigned: Vec<String>,
    /// Cosignatures by trusted witnesses of a type this verifier does not check (ML-DSA-44).
    pub not_checked: Vec<NotCounted>,
    /// Cosignatures by trusted witnesses that are not counted (future timestamp, bad layout).
    pub rejected: Vec<NotCounted>,
    /// Signature lines by keys that are neither a trusted witness nor a trusted log key.
    pub untrusted: Vec<String>,
}

impl WitnessPolicy {
    /// Sorts the checkpoint's signature lines; `log_keys` are the log's own keys (not listed as
    /// untrusted); `now` is POSIX seconds. A forged cosignature by a trusted witness is an error.
    pub fn evaluate(&self, what: &str, cp: &SignedCheckpoint, log_keys: &[Vkey], now: u64) -> Result<WitnessReport> {
        let mut r = WitnessReport {
            threshold: self.threshold,
            trusted: self.keys.len(),
            met: false,
            cosigned: vec![],
            not_cosigned: vec![],
            not_checked: vec![],
            rejected: vec![],
            untrusted: vec![],
        };
        for sig in &cp.note.sigs {
            let Some(k) = self.keys.iter().find(|k| k.claims(sig)) else {
                if !log_keys.iter().any(|l| l.name == sig.name && l.id == sig.id) {
                    r.untrusted.push(format!("{}+{:08x}", sig.name, sig.id));
                }
                continue;
            };
            if r.cosigned.iter().any(|c| c.witness == k.name) {
                continue; // a second line by one witness counts once
            }
            let reject = |r: &mut WitnessReport, reason: String| r.rejected.push(NotCounted { witness: k.name.clone(), reason });
            match k.check(&cp.note.text, sig) {
                Check::Valid { timestamp } if timestamp > now.saturating_add(FUTURE_SKEW_SECS) => {
                    reject(&mut r, format!("its timestamp {} is in the future", rfc3339(timestamp)));
                }
                Check::Valid { timestamp } => {
                    r.cosigned.push(Cosigned { witness: k.name.clone(), key: k.label(), timestamp, time: rfc3339(timestamp) })
                }
                Check::NotChecked { timestamp } => r.not_checked.push(NotCounted {
                    witness: k.name.clone(),
                    reason: format!("ML-DSA-44 cosignature of {}, not yet checked by this verifier", rfc3339(timestamp)),
                }),
                Check::Malformed(why) => reject(&mut r, why),
                Check::Forged => return Err(Error::BadCosignature { what: what.to_string(), witness: k.label() }),
            }
        }
        for k in &self.keys {
            if !r.cosigned.iter().any(|c| c.witness == k.name) {
                r.not_cosigned.push(k.name.clone());
            }
        }
        r.met = r.cosigned.len() >= self.threshold;
        Ok(r)
    }

    /// [`WitnessPolicy::evaluate`], failing when the policy is not met.
    pub fn enforce(&self, what: &str, cp: &SignedCheckpoint, log_keys: &[Vkey]) -> Result<WitnessReport> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let r = self.evaluate(what, cp, log_keys, now)?;
        if r.met {
            return Ok(r);
        }
        let list = |v: Vec<String>| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        let mut detail = String::new();
        for n in r.not_checked.iter().chain(&r.rejected) {
            detail.push_str(&format!("; {} not counted: {}", n.witness, n.reason));
        }
        if !r.untrusted.is_empty() {
            detail.push_str(&format!("; ignored, not trusted: {}", r.untrusted.join(", ")));
        }
        Err(Error::WitnessPolicyUnmet(Box::new(PolicyUnmet {
            what: what.to_string(),
            got: r.cosigned.len(),
            need: self.threshold,
            trusted: self.keys.len(),
            cosigned: list(r.cosigned.iter().map(|c| c.witness.clone()).collect()),
            missing: list(r.not_cosigned.clone()),
            detail,
            report: r,
        })))
    }
}

/// The lines a human report prints for a witness report.
pub fn lines(r: &WitnessReport) -> Vec<String> {
    let mut out = vec![format!("{} of {} trusted witnesses cosigned (policy: at least {})", r.cosigned.len(), r.trusted, r.threshold)];
    for c in &r.cosigned {
        out.push(format!("cosigned by {} at {}", c.witness, c.time));
    }
    let missing: Vec<&String> =
        r.not_cosigned.iter().filter(|n| !r.not_checked.iter().chain(&r.rejected).any(|x| &x.witness == *n)).collect();
    if !missing.is_empty() {
        out.push(format!("not cosigned by {}", missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
    }
    for n in &r.not_checked {
        out.push(format!("{}: {}", n.witness, n.reason));
    }
    for n in &r.rejected {
        out.push(format!("{}: not counted, {}", n.witness, n.reason));
    }
    if !r.untrusted.is_empty() {
        out.push(format!("ignored (keys not trusted as witnesses): {}", r.untrusted.join(", ")));
    }
    out
}
