//! A throw-away PostgreSQL cluster for tests ([`PgCluster`]): `initdb` in a temporary folder,
//! `pg_ctl start` on a free loopback port, one database per test, `pg_ctl stop` and the folder
//! removed on drop. PostgreSQL refuses to run as root, so when the tests run as root (CI does)
//! the server runs as the `postgres` user that Debian's package creates (`runuser`).
//!
//! Without PostgreSQL installed, [`PgCluster::start`] prints why and returns `None`, and the
//! test skips; with `CI` set it fails instead, since CI installs PostgreSQL (`.ci/run`). The
//! binaries are looked for on `PATH`, then in `/usr/lib/postgresql/<version>/bin` (where
//! Debian's package puts them), newest first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// A running PostgreSQL cluster of one test, stopped and deleted on drop.
pub struct PgCluster {
    bin: PathBuf,
    data: PathBuf,
    log: PathBuf,
    sockets: PathBuf,
    /// The loopback port it listens on.
    pub port: u16,
    /// The user the server runs as, when the tests run as root.
    run_as: Option<String>,
    _dir: tempfile::TempDir,
}

/// The folder holding `initdb` and `pg_ctl`, if PostgreSQL is installed.
pub fn postgres_bin() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PATH").iter().flat_map(std::env::split_paths).find(|d| has_both(d)) {
        // A link on PATH (`/usr/local/bin/initdb`) leads to the folder that has the other tools.
        return Some(std::fs::canonicalize(dir.join("initdb")).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).filter(|p| has_both(p)).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()));
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

fn check(what: &str, out: std::io::Result<Output>) -> Output {
    let out = out.unwrap_or_else(|e| panic!("{what}: cannot run it: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl PgCluster {
    /// Starts a cluster for `test`, or returns `None` after saying why when PostgreSQL is not
    /// installed (a failure instead when `CI` is set).
    pub fn start(test: &str) -> Option<PgCluster> {
        let Some(bin) = postgres_bin() else {
            if std::env::var_os("CI").is_some() {
                panic!("{test}: PostgreSQL is not installed (no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin); CI installs it in .ci/run (apt-get install postgresql)");
            }
            eprintln!(
                "skipping {test}: PostgreSQL is not installed (no initdb and pg_ctl on PATH or in /usr/lib/postgresql/*/bin); `apt-get install postgresql` runs it (README \"Running on PostgreSQL\")"
            );
            return None;
        };
        let run_as = is_root().then(|| "postgres".to_string());
        let dir = tempfile::Builder::new().prefix("sightline-pg-").tempdir().expect("a temporary folder for the cluster");
        let (data, log, sockets) = (dir.path().join("data"), dir.path().join("postgres.log"), dir.path().join("sockets"));
        std::fs::create_dir_all(&sockets).expect("the socket folder");
        if let Some(user) = &run_as {
            check("chown of the cluster's folder", Command::new("chown").args(["-R", &format!("{user}:")]).arg(dir.path()).output());
        }
        let mut cluster = PgCluster { bin, data, log, sockets, port: 0, run_as, _dir: dir };
        let mut initdb = cluster.as_server_user(&cluster.bin.join("initdb"));
        check(
            "initdb",
            initdb
                .arg("-D")
                .arg(&cluster.data)
                .args(["-U", "sightline", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"])
                .stdin(Stdio::null())
                .output(),
        );
        // A port taken between free_port() and the server's bind: another one.
        for attempt in 0..5 {
            cluster.port = crate::free_port();
            if cluster.try_start() {
                return Some(cluster);
            }
            assert!(attempt < 4, "PostgreSQL did not start in 5 attempts: {}", cluster.server_log());
        }
        None
    }

    /// A command running `program` as the server's user.
    fn as_server_user(&self, program: &Path) -> Command {
        match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut c = self.as_server_user(&self.bin.join("pg_ctl"));
        c.arg("-D").arg(&self.data).args(args).stdin(Stdio::null());
        c
    }

    /// `pg_ctl start` on [`PgCluster::port`]; whether the server came up.
    fn try_start(&self) -> bool {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c max_connections=300 -c fsync=on",
            self.port,
            self.sockets.display()
        );
        let out = self.pg_ctl(&["-w", "-t", "120", "-o", &options, "-l"]).arg(&self.log).arg("start").output();
        out.map(|o| o.status.success()).unwrap_or(false)
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Creates database `name` if it does not exist; returns its URL.
    pub fn database(&self, name: &str) -> String {
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "sightline", name])
            .stdin(Stdio::null())
            .output()
            .expect("run createdb");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() || stderr.contains("already exists"), "createdb {name}: {stderr}");
        self.url(name)
    }

    /// The URL of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://sightline@127.0.0.1:{}/{name}", self.port)
    }

    /// Runs `sql` in database `name` with `psql`; returns what it printed (unaligned, tuples only).
    pub fn psql(&self, name: &str, sql: &str) -> String {
        let out = check(
            "psql",
            Command::new(self.bin.join("psql"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "sightline", "-d", name])
                .args(["-v", "ON_ERROR_STOP=1", "-tA", "-c", sql])
                .stdin(Stdio::null())
                .output(),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Stops the server as a crash would (`pg_ctl stop -m immediate`: no checkpoint, recovery
    /// from the WAL on the next start).
    pub fn stop_immediately(&self) {
        check("pg_ctl stop -m immediate", self.pg_ctl(&["-w", "-m", "immediate", "stop"]).output());
    }

    /// Starts the server again on the same port after [`PgCluster::stop_immediately`].
    pub fn start_again(&self) {
        for _ in 0..50 {
            if self.try_start() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("PostgreSQL did not start again: {}", self.server_log());
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}
