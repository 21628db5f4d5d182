//! The data folder: the sled store, the log key, the server secret and the
//! admin/compliance credentials, created on first start with owner-only
//! permissions. Keys and credentials are never printed or logged.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand_core::{OsRng, RngCore};
use sightline_ledger::note::NoteSigner;
use sightline_ledger::privacy::ServerSecret;
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::{Ledger, LedgerOptions};

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

/// Writes a secret file atomically with mode 0600 (never overwrites).
fn write_secret(path: &Path, contents: &str) -> WebResult<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| setup_err("cannot create", &tmp, e))?;
    f.write_all(contents.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| setup_err("cannot write", &tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| setup_err("cannot rename into place", path, e))
}

fn read_or_create(path: &Path, create: impl FnOnce() -> WebResult<String>) -> WebResult<String> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let s = create()?;
            write_secret(path, &s)?;
            Ok(s)
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

/// Opens (creating on first use) the ledger of a data folder.
pub fn open_ledger(dir: &DataDir, origin: &str) -> WebResult<Arc<Ledger>> {
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
    // A rotation that committed but crashed before promoting its key left log.key.next.
    if let Ok(next) = fs::read_to_string(dir.next_log_key()) {
        if let Ok(next) = NoteSigner::from_skey(next.trim()) {
            let store = SledStore::open(&dir.store())?;
            if let Ok(ledger) = Ledger::open(Arc::new(store), next, ServerSecret(secret), options.clone()) {
                promote_next_key(dir)?;
                return Ok(Arc::new(ledger));
            }
        }
    }
    let store = SledStore::open(&dir.store())?;
    Ok(Arc::new(Ledger::open(Arc::new(store), signer, ServerSecret(secret), options)?))
}

/// Opens the log of a data folder that must already hold one (the offline
/// commands: export, import, fsck), instead of creating a new log there.
pub fn open_existing_ledger(dir: &DataDir, origin: &str) -> WebResult<Arc<Ledger>> {
    if !dir.log_key().exists() {
        return Err(WebError::BadRequest(format!(
            "{} holds no log (no log.key there); check --data, or run `sightline serve --data {}` once to create the log",
            dir.root.display(),
            dir.root.display()
        )));
    }
    open_ledger(dir, origin)
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
