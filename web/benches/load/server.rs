//! The load bench's side of the wire: the real server binary as a child process (start, stop,
//! its CPU time), and keep-alive HTTP/1.1 requests to it.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;

use crate::ORIGIN;

/// CPU time (user + system) process `pid` (or `self`) has used so far, from `/proc/<pid>/stat`;
/// NaN where that is not readable.
pub fn process_cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, rest)| rest.split(' ').collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        // USER_HZ is 100 on every Linux this runs on.
        (Some(u), Some(k)) => (u + k) / 100.0,
        _ => f64::NAN,
    }
}

/// The real server binary, on a loopback port.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub startup: Duration,
}

impl Server {
    /// CPU time (user + system) the server process has used so far, from `/proc/<pid>/stat`;
    /// NaN where that is not readable. Steadier than a rate on a shared machine: a change that
    /// saves work shows here even when the cores are being taken by something else.
    pub fn cpu_secs(&self) -> f64 {
        process_cpu_secs(&self.child.id().to_string())
    }

    /// The server's process id (the start-up bench reads its memory).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn start(dir: &Path, log: &Path) -> Server {
        Server::start_with(dir, log, &[])
    }

    /// [`Server::start`] with more `sightline serve` flags (`--store postgres://…`).
    pub fn start_with(dir: &Path, log: &Path, args: &[&str]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let t = Instant::now();
        let mut child = Command::new(server_binary())
            .arg("serve")
            .arg("--data")
            .arg(dir)
            .args(["--origin", ORIGIN, "--listen", &addr.to_string()])
            .args(args)
            .env("SIGHTLINE_RATE_WHY", "off")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).expect("server log"))
            .spawn()
            .expect("start the server binary");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        loop {
            match lines.next() {
                Some(Ok(l)) if l.starts_with("Sightline is serving") => break,
                Some(Ok(_)) => {}
                _ => panic!("the server exited before serving; see {}", log.display()),
            }
        }
        let startup = t.elapsed();
        std::thread::spawn(move || for _ in lines {});
        Server { child, addr, startup }
    }

    /// SIGTERM (graceful: queued appends finish), then wait.
    pub fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive HTTP/1.1 connection.
pub async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    sender
}

pub async fn send(sender: &mut SendRequest<Full<Bytes>>, req: Request<Full<Bytes>>) -> (StatusCode, Bytes) {
    sender.ready().await.expect("connection ready");
    let resp = sender.send_request(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, body)
}

pub async fn get(addr: SocketAddr, path: &str) -> (StatusCode, Bytes) {
    let mut c = connect(addr).await;
    let req = Request::get(path).header(header::HOST, addr.to_string()).body(Full::new(Bytes::new())).expect("request");
    send(&mut c, req).await
}

/// The tree size of the server's checkpoint.
pub async fn checkpoint_size(addr: SocketAddr) -> u64 {
    let (status, body) = get(addr, "/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    String::from_utf8_lossy(&body).lines().nth(1).and_then(|l| l.parse().ok()).expect("checkpoint size")
}

/// The server binary under test: this build's, or `SIGHTLINE_BENCH_SERVER` for an A/B comparison.
pub fn server_binary() -> String {
    std::env::var("SIGHTLINE_BENCH_SERVER").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sightline").to_string())
}

/// Bytes the files below `dir` occupy (a kept ledger's folder, not opened in-process).
pub fn folder_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => folder_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
