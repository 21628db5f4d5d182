#![forbid(unsafe_code)]
//! The `sightline-verifier` command line. All logic is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sightline_verifier::{
    bundle, consistency, live, observe, receipt, reconcile, report, tiles, trust, watch, witness_policy, Error, Summary,
};

/// Independent verifier for Sightline ad-transparency logs and any C2SP tlog-tiles log.
///
/// With --witness keys (and --witness-threshold K), every command also requires the checkpoint
/// it checks to be cosigned by at least K of those witnesses: independent parties that cosign a
/// log's checkpoint only if it extends every checkpoint of that log they saw before, so that the
/// log cannot show you a history different from everyone else's. Cosignatures by keys you did
/// not trust are listed and ignored.
///
/// Exit codes: 0 = every check holds; 1 = an integrity check failed (the message names the
/// first bad entry and what is wrong), a split view or rollback was found, the witness policy is
/// not met, or `observe`/`reconcile` found a message not logged as seen or a count that differs;
/// 2 = unusable input (missing file, unparsable, network).
#[derive(Parser)]
#[command(name = "sightline-verifier", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
    /// Print one JSON object (or one per poll for `watch`) instead of the human summary.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bar (it is also hidden when stderr is not a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Args, Clone)]
struct Keys {
    /// A trusted log key, `<name>+<8 hex>+<base64>` (repeatable).
    #[arg(long = "vkey", value_name = "VKEY", env = "SIGHTLINE_VKEY")]
    vkey: Vec<String>,
    /// A file of trusted log keys, one a line (repeatable).
    #[arg(long = "vkey-file", value_name = "FILE")]
    vkey_file: Vec<PathBuf>,
    /// A trusted witness's key (C2SP tlog-cosignature: type 0x04, or 0x06 ML-DSA-44, which is
    /// reported but not yet checked), `<name>+<8 hex>+<base64>` (repeatable). With witnesses,
    /// the checkpoint must carry enough of their valid cosignatures, or the check fails (exit 1).
    #[arg(long = "witness", value_name = "VKEY", env = "SIGHTLINE_WITNESS", value_delimiter = ' ')]
    witness: Vec<String>,
    /// A file of trusted witness keys, one a line (repeatable).
    #[arg(long = "witness-file", value_name = "FILE")]
    witness_file: Vec<PathBuf>,
    /// How many trusted witnesses must have cosigned (default: all of them).
    #[arg(long = "witness-threshold", value_name = "K")]
    witness_threshold: Option<usize>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Verify an export bundle, a live log (URL) or a tlog-tiles folder.
    ///
    /// SOURCE is a .sightline-bundle.jsonl file, a log URL, or a folder laid out like one.
    /// Recomputes every entry's canonical bytes and leaf hash, walks the hash chain, rebuilds
    /// the Merkle root (or checks each inclusion proof of a filtered bundle), checks it against
    /// the signed checkpoint, follows log-key rotations, checks every record signature and the
    /// personal-part commitments a bundle carries.
    ///
    /// Examples:
    ///   sightline-verifier verify export.sightline-bundle.jsonl --vkey-file log.vkey
    ///   sightline-verifier verify export.sightline-bundle.jsonl --vkey 'sightline.example/log+6b8a2f1c+AQ…'
    ///   sightline-verifier verify https://sightline.example/ --vkey-file log.vkey
    ///   sightline-verifier verify https://other-log.example/ --generic --vkey-file other.vkey
    #[command(verbatim_doc_comment)]
    Verify {
        /// Bundle file, log URL (https://…) or folder.
        source: String,
        #[command(flatten)]
        keys: Keys,
        /// Skip record signature checks (faster; the chain, tree and checkpoint are still checked).
        #[arg(long)]
        structural: bool,
        /// Any C2SP tlog-tiles log: check checkpoint, tiles and root only, not Sightline records.
        #[arg(long)]
        generic: bool,
    },
    /// Prove a log only grew between an older and a newer checkpoint.
    ///
    /// OLD is a checkpoint file or a state file from `watch`/`--save-state`; NEW is a file or a
    /// log URL. Same size with a different root is a split view; a smaller size is a rollback.
    ///
    /// Examples:
    ///   sightline-verifier consistency old.checkpoint https://sightline.example/ --vkey-file log.vkey
    ///   sightline-verifier consistency state.json new.checkpoint --log https://sightline.example/ --vkey-file log.vkey
    #[command(verbatim_doc_comment)]
    Consistency {
        old: String,
        new: String,
        /// Where to fetch the consistency proof when NEW is a file (URL or folder).
        #[arg(long)]
        log: Option<String>,
        /// After success, save NEW as the state in this file.
        #[arg(long, value_name = "FILE")]
        save_state: Option<PathBuf>,
        #[command(flatten)]
        keys: Keys,
    },
    /// Check one recipient's offline receipt without the whole log.
    ///
    /// FILE is a .sightline-receipt.json: the entry, its inclusion proof and a signed checkpoint.
    /// Example:
    ///   sightline-verifier receipt my-ad.sightline-receipt.json --vkey-file log.vkey
    #[command(verbatim_doc_comment)]
    Receipt {
        file: PathBuf,
        #[command(flatten)]
        keys: Keys,
    },
    /// Is a message seen in the wild in the log? Answers LOGGED, NOT LOGGED or MISREPORTED.
    ///
    /// MESSAGE is an .eml file, or a JSON observation of an ad: {"channel", "asset_sha256" or
    /// "asset_base64", "seen_at", "seen_where", "member_state", "advertiser", "why_url",
    /// "reference", "platform"}. The log (URL, tiles folder or bundle) is read and verified as
    /// `verify` does. LOGGED: the message names its entry (Sightline-Entry header or
    /// data-sightline-entry reference), the entry is in the log under the signed checkpoint and
    /// records the content hash, channel, time and sponsor the message shows. NOT LOGGED: it
    /// names no entry, or one the log does not hold. MISREPORTED: the entry records something
    /// else. Exit 0 LOGGED, 1 otherwise, 2 unusable input.
    ///
    /// Examples:
    ///   sightline-verifier observe mail.eml --log https://sightline.example/ --vkey-file log.vkey --evidence mail.evidence.json
    ///   sightline-verifier observe --batch panel.jsonl --log export.sightline-bundle.jsonl --vkey-file log.vkey --json
    #[command(verbatim_doc_comment)]
    Observe {
        /// An .eml file or a JSON observation (not with --batch).
        message: Option<PathBuf>,
        /// The log: a URL, a tiles folder or a .sightline-bundle.jsonl file.
        #[arg(long)]
        log: String,
        /// Observations, one JSON object a line (e-mails as {"eml_file": "…"}).
        #[arg(long, value_name = "FILE.jsonl")]
        batch: Option<PathBuf>,
        /// Write the evidence (one object; with --batch, one line per unlogged or misreported case).
        #[arg(long, value_name = "FILE")]
        evidence: Option<PathBuf>,
        /// Largest accepted difference between the time seen (an e-mail's Date:) and served_at.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        tolerance_minutes: u32,
        #[command(flatten)]
        keys: Keys,
        /// Skip record signature checks while reading the log.
        #[arg(long)]
        structural: bool,
    },
    /// Compare an advertiser's billed delivery counts, and the log's tallies, with the log.
    ///
    /// COUNTS is CSV (campaign_id,day,member_state,delivered[,submitter]) or JSON (a list of such
    /// objects). Each campaign, day and Member State is compared with the message entries the
    /// log holds and the submitter's signed tally; every tally of the log that differs from its
    /// messages is reported too. Exit 0 when all agree, 1 on a difference, 2 unusable input.
    ///
    /// Example:
    ///   sightline-verifier reconcile https://sightline.example/ --counts billed.csv --vkey-file log.vkey
    #[command(verbatim_doc_comment)]
    Reconcile {
        /// The log: a URL, a tiles folder or a complete .sightline-bundle.jsonl file.
        log: String,
        #[arg(long, value_name = "FILE")]
        counts: PathBuf,
        #[command(flatten)]
        keys: Keys,
    },
    /// Poll a log's checkpoint and alert (stderr, exit 1) on any inconsistency.
    ///
    /// Examples:
    ///   sightline-verifier watch https://sightline.example/ --state watch.json --vkey-file log.vkey --interval 300
    ///   sightline-verifier watch https://sightline.example/ --state watch.json --vkey-file log.vkey --once
    #[command(verbatim_doc_comment)]
    Watch {
        url: String,
        /// State file holding the last checkpoint seen.
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// Seconds between polls.
        #[arg(long, default_value_t = 60)]
        interval: u64,
        /// Poll once and exit.
        #[arg(long)]
        once: bool,
        #[command(flatten)]
        keys: Keys,
    },
}

fn opts(keys: &Keys, signatures: bool, quiet: bool) -> Result<trust::Options, Error> {
    Ok(trust::Options {
        trusted: trust::load_vkeys(&keys.vkey, &keys.vkey_file)?,
        witnesses: witness_policy::load(&keys.witness, &keys.witness_file, keys.witness_threshold)?,
        signatures,
        quiet,
    })
}

fn run(cli: &Cli) -> Result<Summary, Error> {
    match &cli.cmd {
        Cmd::Observe { .. } | Cmd::Reconcile { .. } => Err(Error::unusable("the command", "handled by its own report")),
        Cmd::Verify { source, keys, structural, generic } => {
            let o = opts(keys, !structural, cli.quiet)?;
            let path = std::path::Path::new(source);
            if consistency::is_url(source) || path.is_dir() {
                live::verify_live(source, *generic, &o)
            } else {
                bundle::verify_bundle(path, &o)
            }
        }
        Cmd::Consistency { old, new, log, save_state, keys } => {
            let o = opts(keys, true, cli.quiet)?;
            let (a, b) = (consistency::load_checkpoint(old)?, consistency::load_checkpoint(new)?);
            let src = match (log, consistency::is_url(new)) {
                (Some(l), _) => Some(tiles::Source::open(l)?),
                (None, true) => Some(tiles::Source::open(new)?),
                (None, false) => None,
            };
            let s = consistency::check(&a, &b, src.as_ref(), &o)?;
            if let Some(p) = save_state {
                consistency::save_state(p, &b)?;
            }
            Ok(s)
        }
        Cmd::Receipt { file, keys } => receipt::verify_receipt(file, &opts(keys, true, cli.quiet)?),
        Cmd::Watch { url, state, interval, once, keys } => {
            let o = opts(keys, true, cli.quiet)?;
            if o.trusted.is_empty() {
                return Err(Error::NoTrustedKey);
            }
            if *once {
                watch::poll_once(url, state, &o)
            } else {
                Err(watch::watch(url, state, Duration::from_secs((*interval).max(1)), &o, cli.json))
            }
        }
    }
}

/// Writes a file, naming it on failure.
fn write_file(path: &std::path::Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::Io { path: path.display().to_string(), source: e })
}

/// `observe` and `reconcile`: they print their own reports; returns the exit code.
fn run_report(cli: &Cli) -> Option<Result<i32, Error>> {
    match &cli.cmd {
        Cmd::Observe { message, log, batch, evidence, tolerance_minutes, keys, structural } => Some((|| {
            let o = opts(keys, !structural, cli.quiet)?;
            let rules = observe::Rules { tolerance_secs: i64::from(*tolerance_minutes) * 60 };
            match (message, batch) {
                (Some(_), Some(_)) | (None, None) => {
                    Err(Error::unusable("the command line", "give one MESSAGE file, or --batch FILE.jsonl, not both"))
                }
                (Some(m), None) => {
                    let bytes = observe::input::read_capped(m)?;
                    let obs = observe::input::read_observation(
                        &bytes,
                        &m.display().to_string(),
                        m.parent().unwrap_or(std::path::Path::new(".")),
                    )?;
                    let index = observe::index::LogIndex::load(log, &o)?;
                    let j = observe::judge(obs, &index, &rules)?;
                    let material = observe::evidence::material(&[&j], &index)?;
                    let ev = observe::evidence::evidence(&j, &index, &material, &observe::evidence::now());
                    if let Some(p) = evidence {
                        write_file(p, &serde_json::to_string_pretty(&ev).unwrap_or_default())?;
                    }
                    report::print_judgement(&j, &index, cli.json);
                    Ok(i32::from(j.verdict != observe::Verdict::Logged))
                }
                (None, Some(b)) => {
                    let index = observe::index::LogIndex::load(log, &o)?;
                    let audit = observe::batch::audit(b, &index, &rules, cli.quiet)?;
                    if let Some(p) = evidence {
                        let lines: Vec<String> = audit.cases.iter().map(|c| c.evidence.to_string()).collect();
                        write_file(p, &(lines.join("\n") + if lines.is_empty() { "" } else { "\n" }))?;
                    }
                    if cli.json {
                        println!("{}", serde_json::json!({ "ok": audit.exit_code() == 0, "exit_code": audit.exit_code(), "audit": audit }));
                    } else {
                        observe::batch::print(&audit);
                    }
                    Ok(audit.exit_code())
                }
            }
        })()),
        Cmd::Reconcile { log, counts, keys } => Some((|| {
            let o = opts(keys, true, cli.quiet)?;
            let billed = reconcile::read_counts(counts)?;
            let index = observe::index::LogIndex::load(log, &o)?;
            let r = reconcile::reconcile(&billed, &index)?;
            if cli.json {
                println!("{}", serde_json::json!({ "ok": r.exit_code() == 0, "exit_code": r.exit_code(), "reconciliation": r }));
            } else {
                reconcile::print(&r);
            }
            Ok(r.exit_code())
        })()),
        _ => None,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(result) = run_report(&cli) {
        let code = match result {
            Ok(code) => code,
            Err(e) => report::print_err(&e, cli.json),
        };
        return ExitCode::from(u8::try_from(code).unwrap_or(2));
    }
    match run(&cli) {
        Ok(s) => {
            report::print_ok(&s, cli.json);
            ExitCode::SUCCESS
        }
        Err(e) => {
            if matches!(cli.cmd, Cmd::Watch { .. }) && e.exit_code() == 1 && !cli.json {
                eprintln!("ALERT: the log is inconsistent with what was seen before.");
            }
            ExitCode::from(u8::try_from(report::print_err(&e, cli.json)).unwrap_or(2))
        }
    }
}
