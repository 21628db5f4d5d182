#![forbid(unsafe_code)]
//! `sightline`: the server and its command line. See `lib.rs` for the architecture.
//!
//! Over 400 lines: each command's flags with their help text, and its few lines of wiring; the
//! work itself is in the library's modules.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sightline_web::router::router;
use sightline_web::serve;
use sightline_web::serve_flags::ServeFlags;
use sightline_web::setup::{self, Access, DataDir, StoreChoice};
use sightline_web::state::AppState;
use sightline_web::{demo, export_http, WebError};

/// glibc's allocator fragments under the server's many threads and large,
/// short-lived JSON values: at 1 M records the ledger benchmark's durable
/// appends/s fell to 3.3k with it and held at 4.5k with mimalloc (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sightline: an open ad transparency ledger.
///
/// Ad servers and email platforms append a signed record of every message they
/// serve; recipients see why they were targeted; regulators verify the log.
#[derive(Parser)]
#[command(name = "sightline", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format: `pretty` for people, `json` for log collectors.
    #[arg(long, global = true, env = "SIGHTLINE_LOG_FORMAT", default_value = "pretty")]
    log_format: String,
}

#[derive(clap::Args, Clone)]
struct DataArgs {
    /// Data folder: the sled store, the log key (log.key), the server secret and credentials.
    #[arg(long, env = "SIGHTLINE_DATA", default_value = "sightline-data")]
    data: PathBuf,
    /// The log's origin: first line of every checkpoint and the name of the log key.
    #[arg(long, env = "SIGHTLINE_ORIGIN", default_value = "sightline.localhost/log")]
    origin: String,
    /// Where the log is kept: `sled` (the data folder's own store, the default) or a PostgreSQL
    /// URL, postgres://user:password@host:5432/database, which any number of `sightline serve`
    /// share (one sequences at a time; README "Running on PostgreSQL"). The keys stay in --data.
    #[arg(long, env = "SIGHTLINE_STORE", hide_env_values = true)]
    store: Option<String>,
}

impl DataArgs {
    /// The data folder and where its log is kept.
    fn open(&self) -> Result<(DataDir, StoreChoice), WebError> {
        Ok((DataDir::new(&self.data), StoreChoice::parse(self.store.as_deref())?))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    ///
    /// Example: sightline serve --data ./data --listen 127.0.0.1:8080 --demo
    Serve {
        #[command(flatten)]
        data: DataArgs,
        /// Address to listen on.
        #[arg(long, env = "SIGHTLINE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// URL recipients reach this server at (used in why-links; the recipient forms accept only its origin
        /// as a browser's Origin). Defaults to http://LISTEN (the --listen address).
        #[arg(long, env = "SIGHTLINE_PUBLIC_URL")]
        public_url: Option<String>,
        /// Load the demo data set (once per data folder) and print URLs to click.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        limits: ServeFlags,
        /// Admin credential (default: read or create DATA/admin.token).
        #[arg(long, env = "SIGHTLINE_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Compliance credential (default: read or create DATA/compliance.token).
        #[arg(long, env = "SIGHTLINE_COMPLIANCE_TOKEN", hide_env_values = true)]
        compliance_token: Option<String>,
        #[command(flatten)]
        witnesses: sightline_web::cosigning::WitnessArgs,
        /// Also write the checkpoint, hash tiles and entry bundles into this folder as files
        /// (c2sp.org/tlog-tiles paths), kept current as the log grows, for a static web server
        /// or CDN to serve the read API.
        #[arg(long, env = "SIGHTLINE_PUBLISH", value_name = "DIR")]
        publish: Option<PathBuf>,
    },
    /// Write the log's checkpoint, hash tiles and entry bundles into a folder as files, for a
    /// static web server or CDN (the server must be stopped; a running one keeps such a folder
    /// current with `serve --publish`). Only what changed since the folder's checkpoint is written.
    ///
    /// Example: sightline publish --data ./data --out /var/www/log
    Publish {
        #[command(flatten)]
        data: DataArgs,
        /// The folder to write (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Print a JSON summary (`size`, `files`).
        #[arg(long)]
        json: bool,
    },
    /// Export the log (the server must be stopped; over HTTP use /api/v1/export).
    ///
    /// Example: sightline export --data ./data --format bundle --advertiser p-civic-future --out civic.sightline-bundle.jsonl
    Export {
        #[command(flatten)]
        data: DataArgs,
        /// bundle (self-verifying, SPEC.md §11), jsonl or csv.
        #[arg(long, default_value = "bundle")]
        format: String,
        /// Output file (`-` for standard output).
        #[arg(long)]
        out: PathBuf,
        /// Messages served on or after this date/time.
        #[arg(long)]
        from: Option<String>,
        /// Messages served before this date/time.
        #[arg(long)]
        to: Option<String>,
        /// Messages on behalf of this party id.
        #[arg(long)]
        advertiser: Option<String>,
        /// Messages of this campaign id.
        #[arg(long)]
        campaign: Option<String>,
        /// Include decrypted personal parts (handle with care).
        #[arg(long)]
        include_personal: bool,
        /// Print a JSON summary (`records`, `size`, `out`); needs --out FILE.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Append a file of signed records (the server must be stopped; over HTTP use POST /api/v1/submissions).
    ///
    /// FILE is JSONL: one record per line, each `{"body": …, "sig": …, "personal": …}` exactly as
    /// in a submissions request (SPEC.md §12). Records are appended in batches, each all or
    /// nothing and durable before the next. A record already in the log (same submitter and
    /// message id) is not appended again, so an interrupted or failed import is resumed by
    /// running the same command again. Exit codes: 0 done, 2 a bad line (named, with what is
    /// wrong; the batches before it stay appended), 1 storage or setup failure, 3 corrupt log.
    ///
    /// Example: sightline import --data ./data --receipts receipts.jsonl served-2026-11.jsonl
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// JSONL file of signed records (`-` for standard input).
        file: PathBuf,
        /// Records per batch (1 to 10,000).
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Write each record's receipt and why-link to this file, one JSON line per record, as the
        /// ingestion API returns them. Written as batches become durable, so after a failure it
        /// holds the receipts of everything appended; running the import again rewrites it whole
        /// (records already in the log get their original receipts).
        #[arg(long)]
        receipts: Option<PathBuf>,
        /// URL recipients reach the server at, for the why-links in the receipts.
        #[arg(long, env = "SIGHTLINE_PUBLIC_URL", default_value = "http://127.0.0.1:8080")]
        public_url: String,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a witness for this or any other log with Ed25519 checkpoints (C2SP tlog-witness).
    #[command(long_about = sightline_web::witness::cli::ABOUT)]
    Witness {
        #[command(subcommand)]
        command: sightline_web::witness::cli::WitnessCommand,
    },
    /// Copy a data folder's sled store into an empty PostgreSQL database (--store), for running
    /// several front ends on it. The server must be stopped. The copy is checked by opening it;
    /// the data folder keeps the keys, which the front ends then use with --store.
    ///
    /// Example: sightline migrate --data ./data --store postgres://sightline@db.internal/sightline
    Migrate {
        #[command(flatten)]
        data: DataArgs,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Check the whole stored log: every entry, the chain and the tree, and the private recipient index.
    Fsck {
        #[command(flatten)]
        data: DataArgs,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
        /// Hide the progress bar.
        #[arg(long)]
        quiet: bool,
    },
}

/// A progress bar over `total` log entries, labelled `what`.
fn progress(total: u64, quiet: bool, what: &str) -> ProgressBar {
    let pb = progress_styled(total, quiet, "{msg} [{bar:40}] {pos}/{len} entries ({per_sec}, eta {eta})");
    pb.set_message(what.to_string());
    pb
}

/// A progress bar on standard error, hidden when `quiet` or not a terminal.
fn progress_styled(total: u64, quiet: bool, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()));
    pb
}

fn init_tracing(format: &str) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("SIGHTLINE_LOG").unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.log_format);
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sightline: {e}");
            ExitCode::from(match e {
                WebError::Ledger(sightline_ledger::Error::Corrupt(_)) => 3,
                WebError::BadRequest(_) => 2,
                _ => 1,
            })
        }
    }
}

fn run(command: Command) -> Result<(), WebError> {
    match command {
        Command::Serve { data, listen, public_url, demo: with_demo, limits, admin_token, compliance_token, witnesses, publish } => {
            let (limits, connection_limits) = limits.limits()?;
            let (dir, store) = data.open()?;
            let ledger = setup::open_ledger_on(&dir, &data.origin, &store, Access::Write)?;
            let credentials = setup::credentials(&dir, admin_token, compliance_token)?;
            let public_url = public_url.unwrap_or_else(|| format!("http://{listen}"));
            if with_demo {
                let links = demo::load(&ledger, &public_url)?;
                println!("Demo data loaded. Click through:");
                for (label, url) in links {
                    println!("  {label}: {url}");
                }
            }
            let mut state = AppState::new(ledger.clone(), public_url.clone(), credentials, limits)?;
            state.cosigning = witnesses.start(&ledger, &dir.root)?;
            state.data_dir = Some(std::sync::Arc::new(dir));
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| WebError::Setup(format!("cannot start the runtime: {e}")))?;
            let serving = ledger.clone();
            let cosigning = state.cosigning.clone();
            let library = state.library.clone();
            let publisher = publish.map(|dir| sightline_web::publish::Publisher::start(ledger.clone(), dir)).transpose()?;
            rt.block_on(async move {
                let ledger = serving;
                let listener = tokio::net::TcpListener::bind(listen).await.map_err(|e| WebError::Setup(format!("cannot listen on {listen}: {e}; is another server running there?")))?;
                let bound = listener.local_addr().map_err(|e| WebError::Setup(e.to_string()))?;
                println!("Sightline is serving {} entries at http://{bound}  (library: {public_url}/library, checkpoint: {public_url}/checkpoint)", ledger.size());
                println!("Log vkey: {}", ledger.vkey());
                tracing::info!(%bound, size = ledger.size(), "serving");
                let (metrics, admission) = (state.http.clone(), state.admission.clone());
                serve::serve(listener, router(state), connection_limits, metrics, admission, shutdown_signal()).await;
                Ok::<(), WebError>(())
            })?;
            if let Some(c) = &cosigning {
                c.stop();
            }
            if let Some(p) = publisher {
                p.stop();
            }
            if let Err(e) = sightline_web::library::saved::save(&library, &ledger) {
                tracing::warn!(error = %e, "saving the ad library failed; the next start indexes the entries since its last save");
            }
            ledger.shutdown();
            Ok(())
        }
        Command::Export { data, format, out, from, to, advertiser, campaign, include_personal, json, quiet } => {
            if json && out.as_os_str() == "-" {
                return Err(WebError::BadRequest("--json prints a summary on standard output; give --out FILE for the export".into()));
            }
            let (filter, format) =
                export_http::filter_from(Some(&format), from.as_deref(), to.as_deref(), advertiser, campaign, include_personal)?;
            let (dir, store) = data.open()?;
            let ledger = setup::open_existing_ledger_on(&dir, &data.origin, &store, Access::Read)?;
            let witnessed = sightline_web::cosigning::stored_witnessed(&ledger, &data.data, format);
            let pb = progress(ledger.size(), quiet || out.as_os_str() == "-", "exporting");
            let summary = if out.as_os_str() == "-" {
                let stdout = std::io::stdout();
                let mut lock = stdout.lock();
                sightline_ledger::export::export_at(
                    &ledger,
                    &filter,
                    format,
                    &mut lock,
                    &|done, _| pb.set_position(done),
                    witnessed.as_deref(),
                )?
            } else {
                let tmp = out.with_extension("partial");
                let file = std::fs::File::create(&tmp).map_err(|e| WebError::Setup(format!("cannot create {}: {e}", tmp.display())))?;
                let mut w = std::io::BufWriter::new(file);
                let written = sightline_ledger::export::export_at(
                    &ledger,
                    &filter,
                    format,
                    &mut w,
                    &|done, _| pb.set_position(done),
                    witnessed.as_deref(),
                )
                .and_then(|s| {
                    // Flush and fsync before the rename: a full disk must not leave a truncated
                    // export under the final name.
                    let file = w.into_inner().map_err(|e| sightline_ledger::Error::Storage(e.error().to_string()))?;
                    file.sync_all().map_err(|e| sightline_ledger::Error::Storage(e.to_string()))?;
                    Ok(s)
                });
                let s = match written {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        return Err(WebError::Setup(format!("export to {} failed, nothing was written: {e}", out.display())));
                    }
                };
                std::fs::rename(&tmp, &out).map_err(|e| WebError::Setup(format!("cannot write {}: {e}", out.display())))?;
                s
            };
            pb.finish_and_clear();
            if json {
                println!("{}", serde_json::json!({ "records": summary.records, "size": summary.size, "out": out.display().to_string() }));
            } else {
                eprintln!("exported {} records of a log of {} entries", summary.records, summary.size);
            }
            Ok(())
        }
        Command::Import { data, file, batch, receipts, public_url, json, quiet } => {
            if !(1..=10_000).contains(&batch) {
                return Err(WebError::BadRequest(format!("--batch {batch}: give 1 to 10,000 records per batch")));
            }
            let (input, total): (Box<dyn std::io::BufRead>, Option<u64>) = if file.as_os_str() == "-" {
                (Box::new(std::io::stdin().lock()), None)
            } else {
                let f = std::fs::File::open(&file).map_err(|e| WebError::BadRequest(format!("cannot open {}: {e}", file.display())))?;
                let len = f.metadata().map(|m| m.len()).ok();
                (Box::new(std::io::BufReader::with_capacity(1 << 20, f)), len)
            };
            let (dir, store) = data.open()?;
            let ledger = setup::open_existing_ledger_on(&dir, &data.origin, &store, Access::Write)?;
            let mut out = match &receipts {
                Some(path) => Some(std::io::BufWriter::new(
                    std::fs::File::create(path).map_err(|e| WebError::Setup(format!("cannot create {}: {e}", path.display())))?,
                )),
                None => None,
            };
            let pb = total.map_or_else(ProgressBar::hidden, |len| {
                progress_styled(len, quiet, "importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
            });
            let result = sightline_web::import::import(
                &ledger,
                input,
                batch,
                public_url.trim_end_matches('/'),
                out.as_mut().map(|w| w as &mut dyn std::io::Write),
                &|done| pb.set_position(done),
            );
            pb.finish_and_clear();
            // The receipts of whatever was appended reach the disk, even when a later line failed.
            if let (Some(w), Some(path)) = (out, &receipts) {
                w.into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| WebError::Setup(format!("cannot write the receipts to {}: {e}", path.display())))?;
            }
            ledger.shutdown();
            let s = result?;
            if json {
                println!("{}", serde_json::to_string(&s).map_err(|e| WebError::Setup(e.to_string()))?);
            } else {
                println!(
                    "imported {} records: {} appended, {} already in the log; the log has {} entries",
                    s.records, s.appended, s.duplicates, s.size
                );
            }
            Ok(())
        }
        Command::Witness { command } => sightline_web::witness::cli::run(command),
        Command::Migrate { data, json, quiet } => {
            let pb = progress(0, quiet, "copying");
            let migrated =
                sightline_web::migrate::migrate(&DataDir::new(&data.data), &data.origin, data.store.as_deref(), &|done, total| {
                    pb.set_length(total);
                    pb.set_position(done);
                })?;
            pb.finish_and_clear();
            if json {
                println!("{}", serde_json::to_string(&migrated).map_err(|e| WebError::Setup(e.to_string()))?);
            } else {
                println!(
                    "migrated {} entries into {}; the copy matches the signed checkpoint. Start the front ends with --data {} --store <the same URL>",
                    migrated.entries,
                    migrated.database,
                    data.data.display()
                );
            }
            Ok(())
        }
        Command::Publish { data, out, json } => {
            let (dir, store) = data.open()?;
            let ledger = setup::open_existing_ledger_on(&dir, &data.origin, &store, Access::Read)?;
            std::fs::create_dir_all(&out).map_err(|e| WebError::Setup(format!("cannot create {}: {e}", out.display())))?;
            let from = sightline_web::publish::published_size(&ledger, &out);
            let p = sightline_web::publish::publish(&ledger, &out, from)?;
            ledger.shutdown();
            if json {
                println!("{}", serde_json::json!({ "size": p.size, "files": p.files, "out": out.display().to_string() }));
            } else {
                println!("published the log at size {} into {} ({} files written)", p.size, out.display(), p.files);
            }
            Ok(())
        }
        Command::Fsck { data, json, quiet } => {
            let (dir, store) = data.open()?;
            let ledger = setup::open_existing_ledger_on(&dir, &data.origin, &store, Access::Read)?;
            let pb = progress(ledger.size(), quiet, "checking");
            let n = ledger.fsck(&|done| pb.set_position(done))?;
            pb.finish_and_clear();
            if json {
                println!("{}", serde_json::json!({ "ok": true, "entries": n, "checkpoint": ledger.checkpoint()? }));
            } else {
                println!("ok: {n} entries, chain and tree match the signed checkpoint, the private recipient index is consistent");
            }
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing queued appends");
}
