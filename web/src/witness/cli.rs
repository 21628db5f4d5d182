//! `sightline witness init | vkey | serve`: the witness's data folder and its server.
//!
//! The data folder holds `witness.key` (its Ed25519 cosignature key, type 0x04, owner-only),
//! `logs.txt` (the logs it knows, [`super::log_list`]), `state.json` (what it cosigned,
//! [`super::state`]) and `witness.lock` (one witness process per folder).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use sightline_ledger::cosignature::Cosigner;

use super::{log_list, state::WitnessState, Witness};
use crate::error::{WebError, WebResult};

/// `sightline witness --help`.
pub const ABOUT: &str = "Run a witness for this or any other log with Ed25519 checkpoints (C2SP tlog-witness).

A witness cosigns a log's checkpoint only if it extends the last checkpoint of that log it
cosigned, so a log cannot show two histories without an honest witness refusing one. Log
operators list witnesses in their witnesses.txt; verifiers require their cosignatures with
`sightline-verifier --witness`.

Example:
  sightline witness init --data ./witness --name witness.example.org/w1
  printf 'logs/v0\\nvkey %s\\n' \"$LOG_VKEY\" > ./witness/logs.txt
  sightline witness serve --data ./witness --listen 0.0.0.0:7380";

/// The witness's data folder.
#[derive(Args, Clone, Debug)]
pub struct WitnessData {
    /// Data folder: the witness key (witness.key), the logs it knows (logs.txt) and what it cosigned (state.json).
    #[arg(long, env = "SIGHTLINE_WITNESS_DATA", default_value = "sightline-witness")]
    pub data: PathBuf,
}

/// `sightline witness …`
#[derive(Subcommand, Clone, Debug)]
pub enum WitnessCommand {
    /// Create the witness's key (once) and print its verifier key.
    ///
    /// The vkey is what log operators put in their witness list and what verifiers pass with
    /// --witness. Running init again prints the same vkey.
    ///
    /// Example: sightline witness init --data ./witness --name witness.example.org/w1
    Init {
        #[command(flatten)]
        /// The witness's data folder.
        data: WitnessData,
        /// The witness's name: a schema-less URL that identifies it (no spaces, no '+').
        #[arg(long)]
        name: String,
    },
    /// Print the witness's verifier key.
    Vkey {
        #[command(flatten)]
        /// The witness's data folder.
        data: WitnessData,
    },
    /// Run the witness: `POST /add-checkpoint` (C2SP tlog-witness).
    ///
    /// It cosigns a checkpoint of a log it knows only if the log's key signed it and a
    /// consistency proof shows it extends the last checkpoint this witness cosigned for that log;
    /// what it cosigned is saved (fsynced) before each cosignature leaves, so a crash never makes
    /// it cosign an older or a different tree. Statuses: 200 cosigned, 400 malformed, 403 not
    /// signed by the log's key, 404 unknown log, 409 the old size is not the one it holds (body:
    /// its size) or a different tree of the same size, 413 body too large, 422 bad proof.
    ///
    /// Example: sightline witness serve --data ./witness --listen 0.0.0.0:7380
    Serve {
        #[command(flatten)]
        /// The witness's data folder.
        data: WitnessData,
        /// Address to listen on.
        #[arg(long, env = "SIGHTLINE_WITNESS_LISTEN", default_value = "127.0.0.1:7380")]
        listen: SocketAddr,
        /// The list of logs to witness (format `logs/v0`, see the README). Default: DATA/logs.txt.
        #[arg(long, env = "SIGHTLINE_WITNESS_LOGS")]
        logs: Option<PathBuf>,
        /// A log to witness, by its checkpoint key (origin = the key's name); repeatable.
        #[arg(long = "log", value_name = "VKEY")]
        log: Vec<String>,
    },
}

fn key_path(data: &Path) -> PathBuf {
    data.join("witness.key")
}

/// Reads the witness key of a data folder.
pub fn read_key(data: &Path) -> WebResult<Cosigner> {
    let path = key_path(data);
    let skey = std::fs::read_to_string(&path).map_err(|e| {
        WebError::BadRequest(format!(
            "cannot read {} ({e}); create the witness first: sightline witness init --data {} --name NAME",
            path.display(),
            data.display()
        ))
    })?;
    Cosigner::from_skey(skey.trim()).map_err(|e| WebError::Setup(format!("the witness key in {} is unreadable: {e}", path.display())))
}

/// Creates the witness key if missing; returns the key and whether it was created.
pub fn init(data: &Path, name: &str) -> WebResult<(Cosigner, bool)> {
    std::fs::create_dir_all(data).map_err(|e| WebError::Setup(format!("cannot create {}: {e}", data.display())))?;
    if key_path(data).exists() {
        let key = read_key(data)?;
        if key.name() != name {
            return Err(WebError::BadRequest(format!(
                "{} already holds the key of witness `{}`; a witness keeps its name and key for ever (use another folder for another witness)",
                data.display(),
                key.name()
            )));
        }
        return Ok((key, false));
    }
    let key = Cosigner::generate(name).map_err(|e| WebError::BadRequest(format!("--name {name}: {e}")))?;
    crate::durable::replace_file(&key_path(data), key.skey().as_bytes(), true)
        .map_err(|e| WebError::Setup(format!("cannot write {}: {e}", key_path(data).display())))?;
    Ok((key, true))
}

/// Loads a witness from its data folder: key, logs (file and flags) and state.
pub fn load(data: &Path, logs_file: Option<&Path>, log_flags: &[String]) -> WebResult<Witness> {
    let cosigner = read_key(data)?;
    let default = data.join("logs.txt");
    let file = logs_file.map(Path::to_path_buf).or_else(|| default.exists().then_some(default));
    let mut logs = Vec::new();
    if let Some(file) = &file {
        let text =
            std::fs::read_to_string(file).map_err(|e| WebError::BadRequest(format!("cannot read the log list {}: {e}", file.display())))?;
        logs = log_list::parse(&text, &file.display().to_string())?;
    }
    logs.extend(log_list::from_vkeys(log_flags)?);
    let logs = log_list::merge(logs);
    if logs.is_empty() {
        return Err(WebError::BadRequest(format!(
            "this witness knows no log: write `logs/v0` and one `vkey <log key>` line per log into {}/logs.txt, or pass --log VKEY",
            data.display()
        )));
    }
    let state = WitnessState::open(&data.join("state.json"))?;
    Ok(Witness { cosigner, logs, state })
}

/// Runs a `sightline witness` command.
pub fn run(command: WitnessCommand) -> WebResult<()> {
    match command {
        WitnessCommand::Init { data, name } => {
            let (key, created) = init(&data.data, &name)?;
            if !created {
                eprintln!("{} already holds this witness's key; its vkey:", data.data.display());
            }
            println!("{}", key.vkey());
            Ok(())
        }
        WitnessCommand::Vkey { data } => {
            println!("{}", read_key(&data.data)?.vkey());
            Ok(())
        }
        WitnessCommand::Serve { data, listen, logs, log } => serve(&data.data, listen, logs.as_deref(), &log),
    }
}

fn serve(data: &Path, listen: SocketAddr, logs: Option<&Path>, log: &[String]) -> WebResult<()> {
    let lock_path = data.join("witness.lock");
    let _lock = crate::durable::lock_exclusive(&lock_path).map_err(|e| {
        WebError::Setup(format!("cannot lock {} ({e}); is another witness process using {}?", lock_path.display(), data.display()))
    })?;
    let witness = Arc::new(load(data, logs, log)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| WebError::Setup(format!("cannot start the runtime: {e}")))?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| WebError::Setup(format!("cannot listen on {listen}: {e}; is another server running there?")))?;
        let bound = listener.local_addr().map_err(|e| WebError::Setup(e.to_string()))?;
        println!("Witness {} is serving at http://{bound}/add-checkpoint", witness.cosigner.name());
        println!("Witness vkey: {}", witness.cosigner.vkey());
        for l in &witness.logs {
            println!("Witnessing: {}", l.origin);
        }
        tracing::info!(%bound, logs = witness.logs.len(), "witness serving");
        // No graceful shutdown is needed: every cosignature's state is on disk before it leaves,
        // so SIGTERM or SIGKILL at any moment loses nothing the witness promised.
        axum::serve(listener, super::router(witness)).await.map_err(|e| WebError::Setup(format!("the witness server failed: {e}")))
    })
}
