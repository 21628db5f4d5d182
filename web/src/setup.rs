//! The data folder: the sled store, the log key, the server secret and the
//! admin/compliance credentials, created on first start with owner-only
//! permissions. Keys and credentials are never printed or logged. With `--store postgres://…`
//! the log lives in PostgreSQL and the folder keeps only the keys, which every front end of
//! that database shares (the same folder, or copies of it).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand_core::{OsRng, RngCore};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::privacy::ServerSecret;
use sightline_ledger::store::postgres::PgStore;
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::{ClusterOptions, Ledger, LedgerOptions};

use crate::error::{WebError, WebResult};

/// Paths inside a data folder.
pub struct DataDir {
    /// The folder.
    pub root: PathBuf,
}

impl DataDir {
    /// The data folder at `root`.
    pub fn new(root: &Path) -> Self {
        DataDir { root: root.to_path_buf() }
    }
    /// The sled store.
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }
    /// The log's signing key.
    pub fn log_key(&self) -> PathBuf {
        self.root.join("log.key")
    }
    /// A rotated key not yet in use (written before the rotation is committed).
    pub fn next_log_key(&self) -> PathBuf {
        self.root.join("log.key.next")
    }
    /// The server secret (why-tokens, recipient handles).
    pub fn secret(&self) -> PathBuf {
        self.root.join("server.secret")
    }
    /// The admin Bearer credential.
    pub fn admin_token(&self) -> PathBuf {
        self.root.join("admin.token")
    }
    /// The compliance Bearer credential.
    pub fn compliance_token(&self) -> PathBuf {
        self.root.join("compliance.token")
    }
}

fn setup_err(what: &str, path: &Path, e: impl std::fmt::Display) -> WebError {
    WebError::Setup(format!("{what} {}: {e}", path.display()))
}

/// Writes a secret file atomically with mode 0600, replacing what `path` held.
fn write_secret(path: &Path, contents: &str) -> WebResult<()> {
    let tmp = path.with_extension("tmp");
    write_synced(&tmp, contents)?;
    fs::rename(&tmp, path).map_err(|e| setup_err("cannot rename into place", path, e))
}

/// Writes `contents` to `path` with mode 0600 and syncs it.
fn write_synced(path: &Path, contents: &str) -> WebResult<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| setup_err("cannot create", path, e))?;
    f.write_all(contents.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| setup_err("cannot write", path, e))
}

/// The secret in `path`, created by `create` if there is none. Front ends that share a data
/// folder may start at the same moment: the first file in place wins (a hard link never
/// replaces one), and every one of them uses it.
fn read_or_create(path: &Path, create: impl FnOnce() -> WebResult<String>) -> WebResult<String> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let s = create()?;
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            write_synced(&tmp, &s)?;
            let placed = fs::hard_link(&tmp, path);
            let _ = fs::remove_file(&tmp);
            match placed {
                Ok(()) => Ok(s),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    fs::read_to_string(path).map(|s| s.trim().to_string()).map_err(|e| setup_err("cannot read", path, e))
                }
                Err(e) => Err(setup_err("cannot put in place", path, e)),
            }
        }
        Err(e) => Err(setup_err("cannot read", path, e)),
    }
}

/// A fresh random credential (256 bits, hex).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Credentials for the admin and compliance endpoints.
#[derive(Clone)]
pub struct Credentials {
    /// The admin endpoints' Bearer credential.
    pub admin: String,
    /// The compliance endpoints' Bearer credential.
    pub compliance: String,
}

/// Where the log is kept: the data folder's own sled store, or a PostgreSQL database that any
/// number of `sightline serve` processes share (`--store`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// The data folder's sled store (the default).
    Sled,
    /// A PostgreSQL database, by its URL.
    Postgres(String),
}

impl StoreChoice {
    /// `--store`: absent or `sled`, or a `postgres://` (or `postgresql://`) URL.
    pub fn parse(given: Option<&str>) -> WebResult<StoreChoice> {
        match given.map(str::trim) {
            None | Some("") | Some("sled") => Ok(StoreChoice::Sled),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(StoreChoice::Postgres(url.to_string())),
            Some(_) => Err(WebError::BadRequest(
                "--store takes `sled` (the data folder's own store) or a PostgreSQL URL such as postgres://user:password@host:5432/sightline"
                    .into(),
            )),
        }
    }
}

/// Whether a process opening a shared log may sequence it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A server or an import: it may take the sequencing lease.
    Write,
    /// A tool that only reads (export, fsck): it never sequences.
    Read,
}

/// Opens (creating on first use) the ledger of a data folder.
pub fn open_ledger(dir: &DataDir, origin: &str) -> WebResult<Arc<Ledger>> {
    open_ledger_on(dir, origin, &StoreChoice::Sled, Access::Write)
}

/// Opens (creating on first use) the ledger of a data folder, its log kept in `store`. The
/// data folder holds the keys (log key, server secret, credentials) either way; front ends
/// sharing one PostgreSQL database share the folder or copies of it.
pub fn open_ledger_on(dir: &DataDir, origin: &str, store: &StoreChoice, access: Access) -> WebResult<Arc<Ledger>> {
    fs::create_dir_all(&dir.root).map_err(|e| setup_err("cannot create the data folder", &dir.root, e))?;
    let skey = read_or_create(&dir.log_key(), || NoteSigner::generate(origin).map(|s| s.skey()).map_err(WebError::from))?;
    let signer = NoteSigner::from_skey(&skey)
        .map_err(|e| WebError::Setup(format!("the log key in {} is unreadable: {e}", dir.log_key().display())))?;
    let secret_hex = read_or_create(&dir.secret(), || Ok(random_token()))?;
    let secret: [u8; 32] = hex::decode(&secret_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| WebError::Setup(format!("{} must hold 64 hex digits", dir.secret().display())))?;
    let options = LedgerOptions { origin: origin.to_string(), ..LedgerOptions::default() };
    let open = |signer: NoteSigner| -> WebResult<Ledger> {
        Ok(match store {
            StoreChoice::Sled => Ledger::open(Arc::new(SledStore::open(&dir.store())?), signer, ServerSecret(secret), options.clone())?,
            StoreChoice::Postgres(url) => {
                let mut cluster = ClusterOptions::new(front_end_id());
                cluster.may_sequence = access == Access::Write;
                Ledger::open_shared(Arc::new(PgStore::open(url)?), signer, ServerSecret(secret), options.clone(), cluster)?
            }
        })
    };
    // A rotation that committed but crashed before promoting its key left log.key.next.
    if let Ok(next) = fs::read_to_string(dir.next_log_key()) {
        if let Ok(next) = NoteSigner::from_skey(next.trim()) {
            if let Ok(ledger) = open(next) {
                promote_next_key(dir)?;
                return Ok(Arc::new(ledger));
            }
        }
    }
    Ok(Arc::new(open(signer)?))
}

/// This process's id among the front ends of a shared log: host, process id and a random part.
fn front_end_id() -> String {
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let mut b = [0u8; 4];
    OsRng.fill_bytes(&mut b);
    format!("{host}-{}-{}", std::process::id(), hex::encode(b))
}

/// Opens the log of a data folder that must already hold one (the offline
/// commands: export, import, fsck), instead of creating a new log there.
pub fn open_existing_ledger(dir: &DataDir, origin: &str) -> WebResult<Arc<Ledger>> {
    open_existing_ledger_on(dir, origin, &StoreChoice::Sled, Access::Write)
}

/// [`open_existing_ledger`] with the log kept in `store`.
pub fn open_existing_ledger_on(dir: &DataDir, origin: &str, store: &StoreChoice, access: Access) -> WebResult<Arc<Ledger>> {
    if !dir.log_key().exists() {
        return Err(WebError::BadRequest(format!(
            "{} holds no log (no log.key there); check --data, or run `sightline serve --data {}` once to create the log",
            dir.root.display(),
            dir.root.display()
        )));
    }
    open_ledger_on(dir, origin, store, access)
}

/// Writes a new log key beside the current one (step 1 of a rotation).
pub fn stage_next_key(dir: &DataDir, next: &NoteSigner) -> WebResult<()> {
    write_secret(&dir.next_log_key(), &next.skey())
}

/// Makes the staged key the log key (step 3 of a rotation, after the commit).
pub fn promote_next_key(dir: &DataDir) -> WebResult<()> {
    fs::rename(dir.next_log_key(), dir.log_key()).map_err(|e| setup_err("cannot promote the new log key", &dir.next_log_key(), e))
}

/// Reads (creating on first use) the credentials; environment values win.
pub fn credentials(dir: &DataDir, admin_env: Option<String>, compliance_env: Option<String>) -> WebResult<Credentials> {
    let admin = match admin_env {
        Some(t) => t,
        None => read_or_create(&dir.admin_token(), || Ok(random_token()))?,
    };
    let compliance = match compliance_env {
        Some(t) => t,
        None => read_or_create(&dir.compliance_token(), || Ok(random_token()))?,
    };
    if admin.len() < 16 || compliance.len() < 16 {
        return Err(WebError::Setup("admin and compliance credentials must be at least 16 characters".into()));
    }
    Ok(Credentials { admin, compliance })
}
