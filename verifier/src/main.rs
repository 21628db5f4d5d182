#![forbid(unsafe_code)]
//! The `sightline-verifier` command line. All logic is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sightline_verifier::{bundle, consistency, live, receipt, report, tiles, trust, watch, witness_policy, Error, Summary};

/// Independent verifier for Sightline ad-transparency logs and any C2SP tlog-tiles log.
///
/// With --witness keys (and --witness-threshold K), every command also requires the checkpoint
/// it checks to be cosigned by at least K of those witnesses: independent parties that cosign a
/// log's checkpoint only if it extends every checkpoint of that log they saw before, so that the
/// log cannot show you a history different from everyone else's. Cosignatures by keys you did
/// not trust are listed and ignored.
///
/// Exit codes: 0 = every check holds; 1 = an integrity check failed (the message names the
/// first bad entry and what is wrong), a split view or rollback was found, or the witness policy
/// is not met; 2 = unusable input (missing file, unparsable, network).
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

fn main() -> ExitCode {
    let cli = Cli::parse();
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
