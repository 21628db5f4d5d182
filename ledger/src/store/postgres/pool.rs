//! Connections to PostgreSQL, each owned by a thread of its own ([`Pool`]). The synchronous
//! client drives its connection with a runtime of its own, which must not run inside another
//! async runtime: the server calls some ledger reads on its async workers (a why page, say),
//! where that would panic. So no caller ever touches a connection: it sends its work to a
//! pool's thread and waits for the answer, which is safe on any thread.
//!
//! A connection that broke (the database restarted, the network dropped) is opened again by
//! the next task; the task that met the break fails with [`Error::Unavailable`], which the
//! server answers `503` with `Retry-After`.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, NoTls, Row, Statement};

use crate::error::{Error, Result};

/// One connection, opened when first needed and again after it broke, with its prepared
/// statements.
pub(super) struct Conn {
    config: postgres::Config,
    /// Where the database is, for messages ([`place`]).
    pub(super) place: Arc<str>,
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The open connection, opening it first if there is none or it broke.
    pub(super) fn client(&mut self) -> Result<&mut Client> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
            self.statements.clear();
        }
        let client = match self.client.take() {
            Some(c) => c,
            None => {
                let mut c = self.config.connect(NoTls).map_err(|e| db_error("connecting", &self.place, e))?;
                durable_session(&mut c, &self.place)?;
                c
            }
        };
        Ok(self.client.insert(client))
    }

    /// `sql` prepared on this connection (once per connection).
    pub(super) fn prepared(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let prepared = self.client()?.prepare(sql);
        let statement = prepared.map_err(|e| db_error("preparing a statement", &self.place, e))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// The error of a failed statement, in words (see [`db_error`]).
    pub(super) fn failed(&self, what: &str, e: postgres::Error) -> Error {
        db_error(what, &self.place, e)
    }

    /// Runs the prepared statement `sql` and returns its rows.
    pub(super) fn query(&mut self, what: &str, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let statement = self.prepared(sql)?;
        let rows = self.client()?.query(&statement, params);
        rows.map_err(|e| self.failed(what, e))
    }

    /// Runs the prepared statement `sql`; returns how many rows it changed.
    pub(super) fn execute(&mut self, what: &str, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let statement = self.prepared(sql)?;
        let changed = self.client()?.execute(&statement, params);
        changed.map_err(|e| self.failed(what, e))
    }
}

/// Column `i` of `row`, or an error naming what was read: a value the database holds that
/// does not fit the column's type here.
pub(super) fn column<'a, T: FromSql<'a>>(row: &'a Row, i: usize, what: &str) -> Result<T> {
    row.try_get(i).map_err(|e| Error::Corrupt(format!("{what}: the database holds a value of another type ({e})")))
}

/// Every commit is durable before it returns: `synchronous_commit` is set `on` for the session
/// whatever the server's default. An engine that has no such setting (CockroachDB,
/// YugabyteDB: a commit is replicated before it returns) refuses the statement; that is fine.
fn durable_session(client: &mut Client, place: &str) -> Result<()> {
    match client.batch_execute("SET synchronous_commit TO on") {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_OBJECT) || e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED) => Ok(()),
        Err(e) => Err(db_error("setting synchronous_commit", place, e)),
    }
}

/// Where a database is, for messages: host, port and database, never the password.
pub(super) fn place(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("PostgreSQL at {host}:{port}, database `{}`", config.get_dbname().unwrap_or("(the user's)"))
}

/// A failed statement as the ledger's error: one that passes by itself (the connection broke,
/// the server is restarting or shutting down, a transaction lost a race and may be run again)
/// is [`Error::Unavailable`]; anything else is [`Error::Storage`].
pub(super) fn db_error(what: &str, place: &str, e: postgres::Error) -> Error {
    let transient = match e.code() {
        None => true,
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || c.starts_with("53")
                || c.starts_with("57P")
                || [SqlState::T_R_SERIALIZATION_FAILURE, SqlState::T_R_DEADLOCK_DETECTED, SqlState::LOCK_NOT_AVAILABLE].contains(code)
        }
    };
    let why = match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    let text = format!("{what} failed on {place}: {why}");
    if transient {
        Error::Unavailable(text)
    } else {
        Error::Storage(text)
    }
}

type Task = Box<dyn FnOnce(&mut Conn) + Send>;

/// Threads that each own one connection and run the tasks sent to them, one at a time.
pub(super) struct Pool {
    tasks: Mutex<Option<mpsc::Sender<Task>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Pool {
    /// `size` threads named `name-N`, each with its own connection to `config` (opened by its
    /// first task).
    pub(super) fn start(name: &str, size: usize, config: &postgres::Config) -> Result<Pool> {
        let (tx, rx) = mpsc::channel::<Task>();
        let rx = Arc::new(Mutex::new(rx));
        let mut threads = Vec::with_capacity(size);
        for n in 0..size.max(1) {
            let rx = Arc::clone(&rx);
            let mut conn = Conn { config: config.clone(), place: Arc::from(place(config)), client: None, statements: HashMap::new() };
            let thread = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || loop {
                    let task = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match task {
                        Ok(task) => task(&mut conn),
                        Err(_) => return,
                    }
                })
                .map_err(|e| Error::Storage(format!("cannot start a database thread: {e}")))?;
            threads.push(thread);
        }
        Ok(Pool { tasks: Mutex::new(Some(tx)), threads: Mutex::new(threads) })
    }

    /// Runs `task` on one of the pool's connections and waits for its answer.
    pub(super) fn run<T: Send + 'static>(&self, task: impl FnOnce(&mut Conn) -> Result<T> + Send + 'static) -> Result<T> {
        let (reply, answer) = mpsc::sync_channel(1);
        {
            let tasks = self.tasks.lock().map_err(|_| stopped())?;
            let tasks = tasks.as_ref().ok_or_else(stopped)?;
            tasks
                .send(Box::new(move |conn: &mut Conn| {
                    let _ = reply.send(task(conn));
                }))
                .map_err(|_| stopped())?;
        }
        answer.recv().map_err(|_| stopped())?
    }

    /// Stops the threads once they finished the tasks sent so far.
    pub(super) fn stop(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.take();
        }
        if let Ok(mut threads) = self.threads.lock() {
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stopped() -> Error {
    Error::ShuttingDown
}

/// How long opening a connection may take before the task fails (unless the URL says).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
