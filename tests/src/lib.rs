#![warn(missing_docs)]
//! Helpers for the end-to-end tests: they drive the real `sightline` and
//! `sightline-verifier` binaries as a black box, over real HTTP and real
//! processes. Nothing here links the ledger or the web crate: records are built
//! and signed by hand, following SPEC.md §4 (signatures) and §7 (personal parts
//! and commitments), exactly as an outside submitter would.
//!
//! - [`binaries`] finds (building once if needed) `target/<profile>/sightline`
//!   and `target/<profile>/sightline-verifier`.
//! - [`Server`] runs `sightline serve` on a free loopback port with a temporary
//!   (or given) data folder, waits for `/healthz`, and kills the process on drop; a data folder
//!   of another log (the golden log of `tests/golden/`) is served with [`ServerOptions::origin`],
//!   after [`copy_dir`] copied it.
//! - [`Submitter`] holds an Ed25519 key and signs message bodies with their
//!   personal parts (and tallies, which have none); [`political_message`] and
//!   [`plain_message`] build bodies.
//! - `submitting.rs`: [`Submitter::auth_header`], the signed `Authorization` header of a
//!   submission (SPEC.md §12), and [`Server::submit`] / [`Server::post_submission`], which send
//!   a batch authenticated as the submitter that signed it, as long as the server registered it
//!   ([`Server::register_submitter`]) or was told about it ([`Server::knows`]).
//! - `raw_http.rs`: requests written byte by byte on a socket, for floods and slow clients.
//! - [`Server::post_rights`] sends a recipient form (list, object, erase) as a
//!   message's page does: its form token, the fields, this server's origin.
//! - [`witness::WitnessProcess`] runs `sightline witness` (init, serve, kill, restart).
//! - [`mail`] is a platform's e-mail side: DKIM-signed messages, logged by their body hash.
//! - [`postgres::PgCluster`] is a throw-away PostgreSQL cluster (skipped, with a line saying
//!   why, where PostgreSQL is not installed and `CI` is not set).

pub mod ingestion;
pub mod mail;
pub mod postgres;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub mod raw_http;
mod recipient_forms;
mod submitting;
pub use recipient_forms::hidden_value;

/// How long a server may take to start on a loaded machine (it may load the demo).
pub const START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long one HTTP request may take.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh admin credential for a test server.
pub const ADMIN_TOKEN: &str = "e2e-admin-credential-0123456789abcdef";
/// A fresh compliance credential for a test server.
pub const COMPLIANCE_TOKEN: &str = "e2e-compliance-credential-0123456789abcdef";
/// The origin every test server uses.
pub const ORIGIN: &str = "sightline.e2e/log";

/// The two binaries under test.
pub struct Binaries {
    /// The server, `sightline`.
    pub sightline: PathBuf,
    /// The verifier, `sightline-verifier`.
    pub verifier: PathBuf,
}

fn exe(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The `target/<profile>` folder this test binary runs from (`target/<profile>/deps/<test>`).
pub fn profile_dir() -> PathBuf {
    let me = std::env::current_exe().expect("current_exe");
    let deps = me.parent().expect("test binary has a folder");
    if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

/// Finds the binaries next to this test binary, building them once if they are missing.
pub fn binaries() -> &'static Binaries {
    static BINS: OnceLock<Binaries> = OnceLock::new();
    BINS.get_or_init(|| {
        let dir = profile_dir();
        let b = Binaries { sightline: exe(&dir, "sightline"), verifier: exe(&dir, "sightline-verifier") };
        if !b.sightline.is_file() || !b.verifier.is_file() || stale(&[&b.sightline, &b.verifier]) {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--bins", "-p", "sightline-web", "-p", "sightline-verifier"]);
            if dir.file_name().is_some_and(|n| n == "release") {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("run cargo build");
            assert!(status.success(), "cargo build --bins failed");
        }
        assert!(b.sightline.is_file(), "missing {}", b.sightline.display());
        assert!(b.verifier.is_file(), "missing {}", b.verifier.display());
        b
    })
}

/// Whether a source file of the binaries is newer than the oldest binary (e.g. after
/// `cargo test -p sightline-e2e`, which does not rebuild other packages' binaries).
fn stale(bins: &[&Path]) -> bool {
    fn newest(p: &Path) -> Option<SystemTime> {
        let meta = std::fs::metadata(p).ok()?;
        if meta.is_file() {
            return meta.modified().ok();
        }
        std::fs::read_dir(p).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
    }
    let Some(built) = bins.iter().filter_map(|b| std::fs::metadata(b).and_then(|m| m.modified()).ok()).min() else {
        return true;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    ["ledger/src", "ledger/Cargo.toml", "web/src", "web/templates", "web/openapi.yaml", "verifier/src", "verifier/Cargo.toml"]
        .iter()
        .filter_map(|p| newest(&root.join(p)))
        .any(|t| t > built)
}

/// A free loopback port (bound and released; the server retries on a clash).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// An HTTP response, read completely.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The headers, as received.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// A header value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
    /// The body as JSON (panics if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// Asserts an RFC 9457 problem with `status`; returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected status; body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "problem content type");
        let p = self.json();
        assert_eq!(p["status"], json!(status), "problem status: {p}");
        for k in ["type", "title", "detail"] {
            assert!(p[k].as_str().is_some_and(|s| !s.is_empty()), "problem lacks `{k}`: {p}");
        }
        p
    }
}

fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        // No connection reuse: a server may close a connection after an error response
        // without reading the request body, and a POST on such a pooled connection fails.
        ureq::AgentBuilder::new().timeout(HTTP_TIMEOUT).redirects(0).max_idle_connections(0).build()
    })
}

fn finish(r: Result<ureq::Response, ureq::Error>, what: &str) -> Resp {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{what}: {e}"),
    };
    let status = resp.status();
    let headers = resp.headers_names().into_iter().filter_map(|n| resp.header(&n).map(|v| (n.clone(), v.to_string()))).collect();
    let mut body = Vec::new();
    resp.into_reader().take(512 * 1024 * 1024).read_to_end(&mut body).expect("read body");
    Resp { status, headers, body }
}

/// `GET url` with optional headers.
pub fn http_get(url: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    finish(req.call(), url)
}

/// `POST url` with a raw body and headers.
pub fn http_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut req = agent().post(url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    finish(req.send_bytes(body), url)
}

pub mod witness;

/// A running server with submitter `acme-ads` and the standard parties registered.
pub fn operator_setup() -> (Server, Submitter) {
    operator_setup_with(ServerOptions::default())
}

/// [`operator_setup`] with server options (a prepared data folder, e.g. with a witness list).
pub fn operator_setup_with(opts: ServerOptions) -> (Server, Submitter) {
    let server = Server::start_with(opts);
    let acme = Submitter::new("acme-ads");
    server.register_submitter(&acme);
    server.register_standard_parties();
    (server, acme)
}

/// Options for [`Server::start`].
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Reuse this data folder (e.g. after a crash) instead of a fresh temporary one.
    pub data: Option<PathBuf>,
    /// Load the demo data (`--demo`).
    pub demo: bool,
    /// `--max-body-bytes`, if given.
    pub max_body_bytes: Option<usize>,
    /// `--max-records`, if given.
    pub max_records: Option<usize>,
    /// More `sightline serve` flags (limits, timeouts, rates), e.g. `["--header-timeout", "2"]`.
    pub args: Vec<String>,
    /// The log's origin, if not [`ORIGIN`] (a data folder written for another log, e.g. the golden log).
    pub origin: Option<String>,
}

/// A running `sightline serve`, killed on drop.
pub struct Server {
    child: Option<Child>,
    /// The server's base URL, without a trailing slash.
    pub base: String,
    /// Its data folder.
    pub data: PathBuf,
    /// The log's verifier key, as the server printed it.
    pub vkey: String,
    /// The log's origin ([`ORIGIN`] unless [`ServerOptions::origin`] said otherwise).
    pub origin: String,
    /// What the server printed to standard output (demo links, vkey).
    pub stdout: String,
    logs: PathBuf,
    /// The submitters this server registered or was told about, for the `Authorization` header.
    pub(crate) submitters: Mutex<Vec<Submitter>>,
    _tmp: tempfile::TempDir,
}

impl Server {
    /// Starts a server with a fresh data folder.
    pub fn start() -> Server {
        Server::start_with(ServerOptions::default())
    }

    /// Starts a server; retries on another port if the chosen one was taken meanwhile.
    pub fn start_with(opts: ServerOptions) -> Server {
        let mut last = String::new();
        for _attempt in 0..5 {
            let tmp = tempfile::tempdir().expect("tempdir");
            let data = opts.data.clone().unwrap_or_else(|| tmp.path().join("data"));
            let logs = tmp.path().join("logs");
            std::fs::create_dir_all(&logs).expect("log folder");
            let port = free_port();
            let base = format!("http://127.0.0.1:{port}");
            let origin = opts.origin.clone().unwrap_or_else(|| ORIGIN.to_string());
            let mut cmd = Command::new(&binaries().sightline);
            cmd.arg("serve")
                .arg("--data")
                .arg(&data)
                .args(["--origin", &origin, "--listen", &format!("127.0.0.1:{port}"), "--public-url", &base])
                .args(["--admin-token", ADMIN_TOKEN, "--compliance-token", COMPLIANCE_TOKEN]);
            if opts.demo {
                cmd.arg("--demo");
            }
            if let Some(n) = opts.max_body_bytes {
                cmd.args(["--max-body-bytes", &n.to_string()]);
            }
            if let Some(n) = opts.max_records {
                cmd.args(["--max-records", &n.to_string()]);
            }
            cmd.args(&opts.args);
            cmd.env("SIGHTLINE_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(logs.join("stdout")).expect("stdout file"))
                .stderr(std::fs::File::create(logs.join("stderr")).expect("stderr file"));
            let child = cmd.spawn().expect("spawn sightline serve");
            let submitters = Mutex::new(Vec::new());
            let mut server =
                Server { child: Some(child), base, data, vkey: String::new(), origin, stdout: String::new(), logs, submitters, _tmp: tmp };
            match server.wait_ready() {
                Ok(()) => return server,
                // Another process took the port between free_port() and the bind: try another.
                Err(stderr) if stderr.contains("cannot listen") => last = stderr,
                Err(stderr) => panic!("sightline serve did not start: {stderr}"),
            }
        }
        panic!("sightline serve could not bind a free port in 5 attempts: {last}");
    }

    /// Waits for `/healthz` and the vkey line; `Err(stderr)` if the process exited or timed out.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("exited with {status}: {}", self.stderr()));
                }
            }
            let out = std::fs::read_to_string(self.logs.join("stdout")).unwrap_or_default();
            if let Some(vkey) = out.lines().find_map(|l| l.strip_prefix("Log vkey: ")) {
                let url = format!("{}/healthz", self.base);
                if let Ok(r) = agent().get(&url).timeout(Duration::from_secs(10)).call() {
                    if r.status() == 200 {
                        self.vkey = vkey.trim().to_string();
                        self.stdout = out;
                        return Ok(());
                    }
                }
            }
            if Instant::now() > deadline {
                self.kill9();
                return Err(format!("not ready within {START_TIMEOUT:?}: {}", self.stderr()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// What the server wrote to standard error so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.logs.join("stderr")).unwrap_or_default()
    }

    /// The server's process id (e.g. to read `/proc/<pid>/status`), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the process with SIGKILL (no chance to flush anything) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the process with SIGTERM (graceful), SIGKILL after 60 s; returns its exit status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(s)) = c.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        c.wait().ok()
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Resp {
        http_get(&self.url(path), &[])
    }

    /// `GET` with a Bearer credential.
    pub fn get_auth(&self, path: &str, token: &str) -> Resp {
        http_get(&self.url(path), &[("authorization", &format!("Bearer {token}"))])
    }

    /// `POST` a JSON value as `application/json`.
    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        http_post(&self.url(path), &[("content-type", "application/json")], body.to_string().as_bytes())
    }

    /// `POST` JSON with a Bearer credential.
    pub fn post_json_auth(&self, path: &str, token: &str, body: &Value) -> Resp {
        let auth = format!("Bearer {token}");
        http_post(&self.url(path), &[("content-type", "application/json"), ("authorization", &auth)], body.to_string().as_bytes())
    }

    /// `POST` an HTML form.
    pub fn post_form(&self, path: &str, form: &str) -> Resp {
        http_post(&self.url(path), &[("content-type", "application/x-www-form-urlencoded")], form.as_bytes())
    }

    /// The tree size of the latest signed checkpoint.
    pub fn tree_size(&self) -> u64 {
        let r = self.get("/checkpoint");
        assert_eq!(r.status, 200, "GET /checkpoint");
        checkpoint_size(&r.text())
    }

    /// Registers a submitter through the admin API (and remembers it for [`Server::submit`]).
    pub fn register_submitter(&self, s: &Submitter) {
        let body = json!({ "submitter": s.id, "name": s.name, "contact": "transparency@submitter.example", "public_key": s.public_key() });
        let r = self.post_json_auth("/api/v1/admin/submitters", ADMIN_TOKEN, &body);
        assert_eq!(r.status, 200, "register submitter: {}", r.text());
        self.knows(s);
    }

    /// Registers a party through the admin API.
    pub fn register_party(&self, party: &str, name: &str, established_in: &str, controlled_by: &str) {
        let body = json!({ "party": party, "name": name, "contact": format!("info@{party}.example"),
            "established_in": established_in, "ultimately_controlled_by": controlled_by });
        let r = self.post_json_auth("/api/v1/admin/parties", ADMIN_TOKEN, &body);
        assert_eq!(r.status, 200, "register party {party}: {}", r.text());
    }

    /// Registers the parties [`political_message`] and [`plain_message`] refer to.
    pub fn register_standard_parties(&self) {
        self.register_party("p-top", "Top Trust Ltd", "KY", "self");
        self.register_party("p-civic-holding", "Civic Holding AG", "CH", "p-top");
        self.register_party("p-civic-future", "Civic Future e.V.", "DE", "p-civic-holding");
        self.register_party("p-shoes", "Shoe Shop SE", "FR", "not_disclosed");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The tree size line of a checkpoint note.
pub fn checkpoint_size(note: &str) -> u64 {
    note.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("not a checkpoint: {note:?}"))
}

/// Runs a binary to completion; returns (exit code, stdout, stderr).
pub fn run(bin: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin).args(args).stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs `sightline-verifier <args>`.
pub fn verifier(args: &[&str]) -> (i32, String, String) {
    run(&binaries().verifier, args)
}

/// Runs `sightline fsck` on a (stopped server's) data folder.
pub fn fsck(data: &Path) -> (i32, String, String) {
    fsck_log(data, ORIGIN, &[])
}

/// Runs `sightline fsck` on the data folder of the log `origin`, with more flags (`--json`).
pub fn fsck_log(data: &Path, origin: &str, flags: &[&str]) -> (i32, String, String) {
    let data = data.to_str().expect("UTF-8 path");
    let mut args = vec!["fsck", "--data", data, "--origin", origin, "--quiet"];
    args.extend_from_slice(flags);
    run(&binaries().sightline, &args)
}

/// Copies the folder `from` into `to` (created), files and subfolders (e.g. a stopped server's
/// data folder, to open a copy of it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let e = e.expect("folder entry");
        if e.file_type().expect("file type").is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap_or_else(|err| panic!("copy {}: {err}", e.path().display()));
        }
    }
}

/// The path of a `why_url` (`/why/<token>`), checking it points at `server`.
pub fn why_path<'a>(server: &Server, why_url: &'a str) -> &'a str {
    why_url.strip_prefix(&server.base).unwrap_or_else(|| panic!("why_url {why_url} does not point at {}", server.base))
}

/// The token of a `why_url`.
pub fn why_token(why_url: &str) -> &str {
    why_url.rsplit('/').next().expect("token")
}

/// HTML-escapes text the way the pages do (askama's escaper), for assertions.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&#38;"),
            '<' => out.push_str("&#60;"),
            '>' => out.push_str("&#62;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Records (SPEC.md §3.4, §4, §7)

/// A submitter: an id and its Ed25519 key.
#[derive(Clone)]
pub struct Submitter {
    /// Its id.
    pub id: String,
    /// Its registered name.
    pub name: String,
    /// Its signing key.
    pub key: SigningKey,
}

impl Submitter {
    /// A submitter `id` with a fresh key.
    pub fn new(id: &str) -> Submitter {
        Submitter { id: id.to_string(), name: format!("{id} GmbH"), key: SigningKey::generate(&mut OsRng) }
    }

    /// The public key as the admin API wants it (standard base64).
    pub fn public_key(&self) -> String {
        B64.encode(self.key.verifying_key().to_bytes())
    }

    /// Fills the commitments of `body` from `personal`, signs the body (SPEC.md §4)
    /// and returns the submission record `{body, sig, personal}`.
    pub fn record(&self, mut body: Value, personal: &Value) -> Value {
        let salt = B64.decode(personal["salt"].as_str().expect("salt")).expect("salt is base64");
        let recipient = personal["recipient"].as_str().expect("recipient");
        body["recipient"] = json!({ "commitment": recipient_commitment(&salt, recipient) });
        body["personal_commitment"] = json!(personal_commitment(personal));
        let sig = self.sign(&body);
        json!({ "body": body, "sig": sig, "personal": personal })
    }

    /// A record with no personal part (a `tally`, SPEC.md §3.8), signed: `{body, sig}`.
    pub fn signed(&self, body: Value) -> Value {
        let sig = self.sign(&body);
        json!({ "body": body, "sig": sig })
    }

    /// The base64 signature of a body: Ed25519 over `"sightline/record/v1\n" || JCS(body)`.
    pub fn sign(&self, body: &Value) -> String {
        let mut msg = b"sightline/record/v1\n".to_vec();
        msg.extend_from_slice(&jcs(body));
        B64.encode(self.key.sign(&msg).to_bytes())
    }
}

/// RFC 8785 canonical bytes.
pub fn jcs(v: &Value) -> Vec<u8> {
    serde_jcs::to_vec(v).expect("JCS")
}

/// `hex(SHA-256("sightline/recipient/v1\n" || salt || UTF-8(recipient)))`
pub fn recipient_commitment(salt: &[u8], recipient: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"sightline/recipient/v1\n");
    h.update(salt);
    h.update(recipient.as_bytes());
    hex::encode(h.finalize())
}

/// `hex(SHA-256("sightline/personal/v1\n" || JCS(personal part)))`
pub fn personal_commitment(personal: &Value) -> String {
    let mut h = Sha256::new();
    h.update(b"sightline/personal/v1\n");
    h.update(jcs(personal));
    hex::encode(h.finalize())
}

/// A personal part (SPEC.md §7) with a fresh 32-byte salt. `evaluation` items are
/// `(criterion id, result, value)`, `consent` items `(lineage id, format, value)`.
pub fn personal(recipient: &str, evaluation: &[(&str, &str, Option<&str>)], consent: &[(&str, &str, &str)]) -> Value {
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    let evaluation: serde_json::Map<String, Value> =
        evaluation.iter().map(|(k, r, v)| (k.to_string(), json!({ "result": r, "value": v }))).collect();
    let consent: serde_json::Map<String, Value> =
        consent.iter().map(|(k, f, v)| (k.to_string(), json!({ "format": f, "value": v }))).collect();
    json!({ "v": 1, "salt": B64.encode(salt), "recipient": recipient, "evaluation": evaluation, "consent": consent })
}

/// The example message of SPEC.md §3.4 and its personal part: the one shared fixture file,
/// `tests/fixtures/message.json` at the repository root.
pub const FIXTURE_JSON: &str = include_str!("../fixtures/message.json");

fn fixture(part: &str) -> Value {
    let all: Value = serde_json::from_str(FIXTURE_JSON).expect("tests/fixtures/message.json is JSON");
    all[part].clone()
}

/// The personal part of [`political_message`] (the fixture's) for `recipient`, with a fresh salt.
pub fn political_personal(recipient: &str) -> Value {
    let mut p = fixture("personal");
    let mut salt = [0u8; 32];
    OsRng.fill_bytes(&mut salt);
    p["v"] = json!(1);
    p["salt"] = json!(B64.encode(salt));
    p["recipient"] = json!(recipient);
    p
}

/// RFC 3339 UTC (`Z`, whole seconds) of a Unix time.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs / 60 % 60, secs % 60)
}

/// Now, as Unix seconds.
pub fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs() as i64
}

/// A served time one hour ago.
pub fn an_hour_ago() -> String {
    rfc3339(now_unix() - 3600)
}

/// The SPEC.md §3.4 political "dark post" (`tests/fixtures/message.json`) on behalf of
/// `p-civic-future`, paid by `p-civic-holding`, as `signer`'s message `message_id` with `subject`,
/// served an hour ago. Commitments are filled in by [`Submitter::record`].
pub fn political_message(signer: &str, message_id: &str, subject: &str) -> Value {
    let mut m = fixture("body");
    m["signer"] = json!(signer);
    m["message_id"] = json!(message_id);
    m["delivery"]["served_at"] = json!(an_hour_ago());
    m["delivery"]["creative"]["subject"] = json!(subject);
    m
}

/// A plain, non-political display ad on behalf of `p-shoes`, with no criteria, and one source
/// (`s-customers`, how the shop got its customers' addresses, for an e-mail's address lineage).
/// Its personal part is `personal(recipient, &[], &[])`.
pub fn plain_message(signer: &str, message_id: &str, subject: &str) -> Value {
    json!({
        "kind": "message",
        "signer": signer,
        "message_id": message_id,
        "delivery": {
            "channel": "display",
            "served_at": an_hour_ago(),
            "member_state": "FR",
            "creative": { "sha256": "ab".repeat(32), "brand": "Shoe Shop", "subject": subject, "language": "fr",
                "campaign_id": "winter-sale", "ad_id": "banner-1", "creative_id": "cr-1", "visibility": "public",
                "content": { "text": "Winter sale: every boot at half price until Sunday.", "assets": [] } },
            "email_headers": null,
            "address_lineage": null
        },
        "sponsor": { "on_behalf_of": "p-shoes", "payer": "p-shoes", "political": null },
        "recipient": { "commitment": "0".repeat(64) },
        "personal_commitment": "0".repeat(64),
        "targeting": { "criteria": [], "audience": null, "delivery_optimisation": { "ai_system": false, "goal": "not_disclosed" } },
        "lineage": [
            { "id": "s-customers", "provider": "Shoe Shop SE", "contact": "hello@shoes.example", "kind": "provided_by_person",
              "model": null, "collection_method": "The address customers gave when they ordered from the shop",
              "collected_at": "not_disclosed", "refresh": "once", "lookback_days": "not_disclosed", "legal_basis": "contract",
              "derived_from": [], "entry": null, "audience_size": null, "precision": null, "id_types": null, "onboarder": null }
        ],
        "controls": { "change_parameters_url": "not_disclosed", "object_url": "not_disclosed",
            "opt_out_url": "https://shoes.example/opt-out", "controller_contact": "not_disclosed" }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_716_245), "2026-11-26T18:04:05Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn checkpoint_size_reads_the_second_line() {
        assert_eq!(checkpoint_size("o/log\n42\nAAAA\n\n— o/log sig\n"), 42);
    }
}
