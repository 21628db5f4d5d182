//! A real `sightline witness` process for the end-to-end tests: created with `witness init`,
//! served on a fixed loopback port (logs list the witness's URL before it runs), stopped,
//! killed and restarted on the same data folder.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{binaries, free_port, http_get, run, START_TIMEOUT};

/// A witness's data folder and, while it runs, its process (killed on drop).
pub struct WitnessProcess {
    /// The witness's name.
    pub name: String,
    /// Its data folder.
    pub data: PathBuf,
    /// The URL it serves at.
    pub url: String,
    /// Its verifier key.
    pub vkey: String,
    port: u16,
    child: Option<Child>,
    _tmp: tempfile::TempDir,
}

impl WitnessProcess {
    /// `sightline witness init` in a fresh folder; the vkey is what it prints.
    pub fn init(name: &str) -> WitnessProcess {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("witness");
        let (code, out, err) = run(&binaries().sightline, &["witness", "init", "--data", data.to_str().expect("UTF-8"), "--name", name]);
        assert_eq!(code, 0, "witness init: {err}");
        let vkey = out.trim().to_string();
        assert!(vkey.starts_with(&format!("{name}+")), "init prints the vkey: {out}");
        let port = free_port();
        WitnessProcess { name: name.into(), data, url: format!("http://127.0.0.1:{port}"), vkey, port, child: None, _tmp: tmp }
    }

    /// Runs `sightline witness serve` for the log `log_vkey` and waits until it answers.
    pub fn start(&mut self, log_vkey: &str) {
        assert!(self.child.is_none(), "already running");
        std::fs::write(self.data.join("logs.txt"), format!("logs/v0\nvkey {log_vkey}\n")).expect("logs.txt");
        let child = Command::new(&binaries().sightline)
            .args(["witness", "serve", "--data", self.data.to_str().expect("UTF-8"), "--listen", &format!("127.0.0.1:{}", self.port)])
            .env("SIGHTLINE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.data.join("stderr")).expect("stderr file"))
            .spawn()
            .expect("spawn sightline witness serve");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                let err = std::fs::read_to_string(self.data.join("stderr")).unwrap_or_default();
                panic!("witness {} exited with {status}: {err}", self.name);
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && http_get(&format!("{}/healthz", self.url), &[]).status == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "witness {} did not start", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The size the witness holds for `origin`, read from its state file.
    pub fn held_size(&self, origin: &str) -> Option<u64> {
        let text = std::fs::read_to_string(self.data.join("state.json")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        v["logs"][origin]["size"].as_u64()
    }
}

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}
