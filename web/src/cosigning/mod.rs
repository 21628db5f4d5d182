//! The log's side of witnessing (SPEC.md §8.1): after each new checkpoint, submit it to every
//! configured witness (C2SP tlog-witness `add-checkpoint`), keep the cosignatures they return,
//! and serve them.
//!
//! - **Rounds.** One coordinator thread picks the checkpoint all witnesses are asked to cosign
//!   (the *target*): the newest the ledger signed, moved on once the current one met the policy,
//!   every witness answered, or 10 s passed. One worker thread per witness submits the target
//!   with a consistency proof from the size that witness last cosigned, at most once a second
//!   (the public witness network's rate), backing off up to 30 s while a witness fails. A `409`
//!   teaches the worker the witness's size, and it resubmits from there; a `409` for the very
//!   size it sent means the witness holds another tree of that size: an alarm (split view).
//! - **Serving.** `/checkpoint` is the newest checkpoint with the cosignatures gathered for it
//!   ([`Cosigning::served_checkpoint`]). Receipts and bundles use the newest checkpoint whose
//!   cosignatures met the policy ([`Cosigning::witnessed`]). `/healthz` and `/metrics` say
//!   whether the policy is met ([`report`]).
//! - **Memory.** `witnessing.json` in the data folder ([`store`]) keeps each witness's size and
//!   latest cosignature and the witnessed checkpoint across restarts.
//!
//! | file | concern |
//! |---|---|
//! | [`config`] | the witness list and policy (`witnesses.txt`, flags) |
//! | [`policy`] | k-of-n rules with groups |
//! | [`client`] | one submission over HTTP and what its answer means |
//! | `rounds` | the coordinator and worker threads |
//! | [`store`] | the durable record |
//! | [`report`] | status words, `/healthz`, `/metrics` lines |

pub mod client;
pub mod config;
pub mod policy;
pub mod report;
mod rounds;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use sightline_ledger::note::{parse_signature_lines, Checkpoint, SignedNote};
use sightline_ledger::Ledger;

use config::WitnessConfig;

/// The checkpoint witnesses are asked to cosign now.
#[derive(Clone, Debug)]
struct Target {
    /// The log-signed note.
    note: String,
    /// Its text (what a cosignature signs).
    text: String,
    size: u64,
    set_at: Instant,
}

/// A witness's latest cosignature of one of this log's checkpoints.
#[derive(Clone, Debug)]
struct Cosig {
    note: String,
    size: u64,
    line: String,
    timestamp: u64,
}

/// Requests to one witness, by how they ended (for `/metrics`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Requests the witness cosigned.
    pub cosigned: u64,
    /// Requests it answered 409: it holds another size, or another tree.
    pub conflicts: u64,
    /// Requests it refused otherwise.
    pub refused: u64,
    /// Requests that got no answer.
    pub unreachable: u64,
}

#[derive(Clone, Debug, Default)]
struct PerWitness {
    /// The size the witness holds, as it last said.
    held: Option<u64>,
    cosig: Option<Cosig>,
    /// Submitted (or found unable to submit) the current target.
    attempted: bool,
    last_submit: Option<Instant>,
    failures: u32,
    last_error: Option<String>,
    /// The witness holds another tree of a size this log signed.
    alarm: Option<String>,
    counts: Counts,
}

/// The newest checkpoint whose cosignatures met the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witnessed {
    /// The checkpoint note with the log's signature and the cosignatures.
    pub note: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The witnesses that cosigned it, in configuration order.
    pub names: Vec<String>,
}

struct Inner {
    target: Option<Target>,
    per: Vec<PerWitness>,
    witnessed: Option<Witnessed>,
    /// Whether the last round that settled (met, or every witness answered) met the policy.
    settled: Option<bool>,
    stop: bool,
}

/// Gathering cosignatures for one ledger.
pub struct Cosigning {
    config: WitnessConfig,
    /// The policy in words (computed once; pages show it).
    policy_words: String,
    ledger: Arc<Ledger>,
    record_path: PathBuf,
    inner: Mutex<Inner>,
    wake: Condvar,
    persist: Mutex<()>,
}

impl Cosigning {
    /// Loads the record from `data` (the ledger's data folder) and starts the threads.
    pub fn start(ledger: Arc<Ledger>, config: WitnessConfig, data: &Path) -> Arc<Cosigning> {
        let record_path = data.join("witnessing.json");
        let record = store::read(&record_path);
        let mut per = vec![PerWitness::default(); config.witnesses.len()];
        for (w, p) in config.witnesses.iter().zip(per.iter_mut()) {
            let Some(held) = record.witnesses.get(w.name()) else { continue };
            p.held = held.size;
            if let (Some(note), Some(line)) = (&held.checkpoint, &held.cosignature) {
                p.cosig = check_cosig(w, note, line);
            }
        }
        let witnessed = record.witnessed.as_deref().and_then(|note| {
            ledger.check_checkpoint(note).ok()?;
            let w = witnessed_from(&config, note)?;
            config.policy.met(&w.1).then_some(w.0)
        });
        let inner = Inner { target: None, per, settled: witnessed.as_ref().map(|_| true), witnessed, stop: false };
        let policy_words = config.policy.describe(&config.names());
        let c = Arc::new(Cosigning {
            config,
            policy_words,
            ledger,
            record_path,
            inner: Mutex::new(inner),
            wake: Condvar::new(),
            persist: Mutex::new(()),
        });
        rounds::spawn(&c);
        c
    }

    /// The witness list and policy.
    pub fn config(&self) -> &WitnessConfig {
        &self.config
    }

    /// The policy in words, e.g. "2 of 3 witnesses (a, b, c)".
    pub fn policy_words(&self) -> &str {
        &self.policy_words
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `head` (the newest log-signed checkpoint) with the cosignature lines gathered for exactly
    /// it appended after the log's own, in the order the witnesses are configured.
    pub fn served_checkpoint(&self, head: &str) -> String {
        let g = self.lock();
        let mut out = head.to_string();
        for p in &g.per {
            if let Some(c) = p.cosig.as_ref().filter(|c| c.note == head) {
                out.push_str(&c.line);
            }
        }
        out
    }

    /// The newest checkpoint whose cosignatures met the policy.
    pub fn witnessed(&self) -> Option<Witnessed> {
        self.lock().witnessed.clone()
    }

    /// Stops the threads (a submission under way finishes first).
    pub fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_all();
    }

    /// Saves the record; a failure is logged (the witnesses keep their own state, so nothing
    /// the log promised depends on this file).
    fn save(&self) {
        let _one_writer = self.persist.lock().unwrap_or_else(|p| p.into_inner());
        let record = {
            let g = self.lock();
            if g.stop {
                return;
            }
            let witnesses = self
                .config
                .witnesses
                .iter()
                .zip(&g.per)
                .map(|(w, p)| {
                    let held = store::Held {
                        size: p.held,
                        checkpoint: p.cosig.as_ref().map(|c| c.note.clone()),
                        cosignature: p.cosig.as_ref().map(|c| c.line.clone()),
                    };
                    (w.name().to_string(), held)
                })
                .collect();
            store::Record { format: store::FORMAT.into(), witnesses, witnessed: g.witnessed.as_ref().map(|w| w.note.clone()) }
        };
        if let Err(e) = store::write(&self.record_path, &record) {
            tracing::warn!(path = %self.record_path.display(), error = %e, "cannot save the witness record");
        }
    }
}

/// `sightline serve`'s witness flags.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct WitnessArgs {
    /// The log's witnesses (C2SP tlog-witness): `witness <vkey> <submission URL>`, `group` and
    /// `quorum` lines (README, SPEC.md §8.1). Default: DATA/witnesses.txt when it exists.
    #[arg(long, env = "SIGHTLINE_WITNESSES", value_name = "FILE")]
    pub witnesses: Option<PathBuf>,
    /// A witness, as 'VKEY URL' (repeatable; added to the list).
    #[arg(long = "witness", value_name = "'VKEY URL'")]
    pub witness: Vec<String>,
    /// How many of the witnesses must cosign a checkpoint (default: all, or the list's `quorum`).
    #[arg(long, env = "SIGHTLINE_WITNESS_QUORUM", value_name = "K")]
    pub witness_quorum: Option<usize>,
}

impl WitnessArgs {
    /// Reads the witness list of a data folder and the flags, and starts gathering cosignatures
    /// (`None` when no witness is configured).
    pub fn start(&self, ledger: &Arc<Ledger>, data: &Path) -> crate::WebResult<Option<Arc<Cosigning>>> {
        let Some(config) = config::load(data, self.witnesses.as_deref(), &self.witness, self.witness_quorum)? else { return Ok(None) };
        let policy = config.policy.describe(&config.names());
        println!("Witnesses: {policy}");
        tracing::info!(%policy, "gathering cosignatures");
        Ok(Some(Cosigning::start(Arc::clone(ledger), config, data)))
    }
}

/// For a bundle export: the witnessed checkpoint the server last recorded in a (stopped
/// server's) data folder, if it is a checkpoint of this ledger. Other formats: `None`.
pub fn stored_witnessed(ledger: &Ledger, data: &Path, format: sightline_ledger::export::ExportFormat) -> Option<String> {
    if format != sightline_ledger::export::ExportFormat::Bundle {
        return None;
    }
    let note = store::read(&data.join("witnessing.json")).witnessed?;
    ledger.check_checkpoint(&note).ok().map(|_| note)
}

/// A stored cosignature, kept only if it still verifies with the configured key.
fn check_cosig(w: &config::WitnessEntry, note: &str, line: &str) -> Option<Cosig> {
    let text = SignedNote::parse(note).ok()?.text;
    let sig = parse_signature_lines(line).ok()?.into_iter().next()?;
    let timestamp = w.verifier.verify(&text, &sig).ok()?;
    let size = Checkpoint::parse(&text).ok()?.size;
    Some(Cosig { note: note.to_string(), size, line: sig.to_line(), timestamp })
}

/// A cosigned note read back: the witnesses whose cosignature in it verifies.
fn witnessed_from(config: &WitnessConfig, note: &str) -> Option<(Witnessed, Vec<bool>)> {
    let parsed = SignedNote::parse(note).ok()?;
    let size = Checkpoint::parse(&parsed.text).ok()?.size;
    let flags: Vec<bool> = config
        .witnesses
        .iter()
        .map(|w| parsed.signatures.iter().any(|s| w.verifier.claims(s) && w.verifier.verify(&parsed.text, s).is_ok()))
        .collect();
    let names = config.witnesses.iter().zip(&flags).filter(|(_, f)| **f).map(|(w, _)| w.name().to_string()).collect();
    Some((Witnessed { note: note.to_string(), size, names }, flags))
}
