//! The tables, as versioned migrations run when a store opens: `sightline_schema_version`
//! holds each version applied, and a front end applies, each in one transaction, the versions
//! it knows and the database has not. Several front ends starting at once may race to apply
//! one: the loser's transaction fails on the version's primary key, and it reads the version
//! again. A database of a newer version than this build knows is refused.
//!
//! The statements keep to what PostgreSQL, CockroachDB and YugabyteDB all accept (README
//! "Running on PostgreSQL"): plain tables, primary keys, a partial index, a foreign key with
//! `ON DELETE CASCADE`; no PL/pgSQL, no triggers, no advisory locks, no `LISTEN`/`NOTIFY`.

use postgres::Client;

use crate::error::{Error, Result};
use crate::store::postgres::pool::Conn;

/// Every migration, in order: `(version, statements)`.
const MIGRATIONS: [(i32, &str); 1] = [(1, VERSION_1)];

/// Version 1: the log (head, entries, private records with their lookup records, tiles, the
/// two key spaces), the sequencing lease, and the queue of handed-over jobs.
const VERSION_1: &str = "
CREATE TABLE sightline_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    checkpoint TEXT NOT NULL
);
CREATE TABLE sightline_entries (
    idx BIGINT PRIMARY KEY,
    entry BYTEA NOT NULL
);
CREATE TABLE sightline_private (
    idx BIGINT PRIMARY KEY,
    record BYTEA NOT NULL,
    message_key BYTEA NOT NULL,
    handle BYTEA NOT NULL,
    recipient_key BYTEA NOT NULL
);
CREATE TABLE sightline_tiles (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hashes BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE sightline_index_rows (
    row_key BYTEA PRIMARY KEY,
    row_value BYTEA NOT NULL
);
CREATE TABLE sightline_private_rows (
    row_key BYTEA PRIMARY KEY,
    row_value BYTEA NOT NULL
);
CREATE TABLE sightline_lease (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    holder TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
INSERT INTO sightline_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, TIMESTAMPTZ '1970-01-01 00:00:00+00');
CREATE TABLE sightline_handoff (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    log_body TEXT,
    effect TEXT,
    advertiser TEXT,
    handles BYTEA[],
    answer TEXT,
    enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    answered_at TIMESTAMPTZ
);
CREATE INDEX sightline_handoff_waiting ON sightline_handoff (id) WHERE answer IS NULL;
CREATE TABLE sightline_handoff_records (
    job BIGINT NOT NULL REFERENCES sightline_handoff (id) ON DELETE CASCADE,
    pos INT NOT NULL,
    body BYTEA NOT NULL,
    sig BYTEA NOT NULL,
    signer_key BYTEA NOT NULL,
    message_key BYTEA NOT NULL,
    personal BYTEA,
    handle BYTEA,
    signer TEXT,
    message_id TEXT,
    advertiser TEXT,
    channel TEXT,
    PRIMARY KEY (job, pos)
);
";

/// The newest version this build knows.
pub(super) const LATEST: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Brings the database to [`LATEST`], applying each missing version in its own transaction.
pub(super) fn migrate(conn: &mut Conn) -> Result<()> {
    // A race with another front end creating the table or applying a version (a unique key
    // or a catalogue row taken) is lost at most once per version; an error that stays is
    // reported after that.
    let mut attempts = 0;
    loop {
        match apply_missing(conn) {
            Err(Error::Storage(_) | Error::Unavailable(_)) if attempts < MIGRATIONS.len() + 2 => attempts += 1,
            other => return other,
        }
    }
}

fn apply_missing(conn: &mut Conn) -> Result<()> {
    let created = conn.client()?.batch_execute(
        "CREATE TABLE IF NOT EXISTS sightline_schema_version (version INT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    );
    created.map_err(|e| conn.failed("creating the schema version table", e))?;
    for (version, statements) in MIGRATIONS {
        let applied = apply(conn.client()?, version, statements);
        applied.map_err(|e| conn.failed(&format!("applying schema version {version}"), e))?;
    }
    let read = conn.client()?.query_one("SELECT max(version) FROM sightline_schema_version", &[]).and_then(|r| r.try_get(0));
    let newest: Option<i32> = read.map_err(|e| conn.failed("reading the schema version", e))?;
    match newest {
        Some(v) if v > LATEST => Err(Error::Storage(format!(
            "the database's tables are of schema version {v}, newer than this Sightline knows ({LATEST}); run the same Sightline version on every front end"
        ))),
        _ => Ok(()),
    }
}

/// Applies `version` unless the database has it; a concurrent front end that applied it first
/// makes this transaction fail on the version's key, which the caller retries.
fn apply(client: &mut Client, version: i32, statements: &str) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    if tx.query_opt("SELECT version FROM sightline_schema_version WHERE version = $1", &[&version])?.is_some() {
        return Ok(());
    }
    tx.batch_execute(statements)?;
    tx.execute("INSERT INTO sightline_schema_version (version) VALUES ($1)", &[&version])?;
    tx.commit()
}
