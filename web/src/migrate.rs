//! `sightline migrate`: a data folder's sled store copied into an empty PostgreSQL database,
//! so that several front ends can serve the log (README "Running on PostgreSQL"). The sled
//! store is opened as a server opens it first (checked against its signed checkpoint, an older
//! layout converted); the copy is then opened the same way and must have the same head.

use serde::Serialize;
use sightline_ledger::store::postgres::PgStore;
use sightline_ledger::store::sled::SledStore;

use crate::error::{WebError, WebResult};
use crate::setup::{self, Access, DataDir, StoreChoice};

/// What a migration copied.
#[derive(Debug, Serialize)]
pub struct Migrated {
    /// Entries copied: the log's size.
    pub entries: u64,
    /// The signed checkpoint both stores end at.
    pub checkpoint: String,
    /// Where the copy is (host, port and database; never the password).
    pub database: String,
}

/// Copies the log of data folder `dir` into the PostgreSQL database `store` names;
/// `progress(done, total)` as entries are copied.
pub fn migrate(dir: &DataDir, origin: &str, store: Option<&str>, progress: &dyn Fn(u64, u64)) -> WebResult<Migrated> {
    let StoreChoice::Postgres(url) = StoreChoice::parse(store)? else {
        return Err(WebError::BadRequest(
            "give --store postgres://user:password@host:5432/database: the empty database to copy the log into".into(),
        ));
    };
    let source = setup::open_existing_ledger(dir, origin)?;
    let (entries, checkpoint) = source.head()?;
    source.shutdown();
    drop(source);
    let database = {
        let sled = SledStore::open(&dir.store())?;
        PgStore::copy_from(&url, &sled, progress)?.place().to_string()
    };
    let copy = setup::open_existing_ledger_on(dir, origin, &StoreChoice::Postgres(url), Access::Read)?;
    let head = copy.head()?;
    copy.shutdown();
    if head != (entries, checkpoint.clone()) {
        return Err(WebError::Setup(format!(
            "the copy in {database} ends at {} entries, not at the data folder's {entries}; run `sightline migrate` again",
            head.0
        )));
    }
    Ok(Migrated { entries, checkpoint, database })
}
