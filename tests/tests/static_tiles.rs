//! Static tiles behind a plain web server: `sightline serve --publish DIR` writes the log's
//! read API as files, nginx serves that folder, and the independent verifier verifies the log
//! through nginx; every file is byte for byte what the server's own read API answers. The test
//! starts nginx itself on a free port, with its configuration in a temporary folder; without
//! nginx it is skipped with a line saying why, unless `CI` is set (then it fails).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sightline_e2e::*;

/// An nginx serving one folder on a free port, stopped on drop.
struct Nginx {
    child: Child,
    base: String,
    _conf: tempfile::TempDir,
}

impl Nginx {
    fn serve(binary: &Path, root: &Path) -> Nginx {
        let conf = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let prefix = conf.path().display().to_string();
        // One process (no workers), in the foreground, everything it writes in the temp folder.
        let config = format!(
            "daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  access_log off;\n  default_type application/octet-stream;\n\
               client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n  fastcgi_temp_path {prefix}/fastcgi;\n\
               uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {root}; location / {{ try_files $uri =404; }} }}\n}}\n",
            root = root.display()
        );
        std::fs::write(conf.path().join("nginx.conf"), config).expect("nginx.conf");
        let child = Command::new(binary)
            .args(["-p", &prefix, "-e", &format!("{prefix}/error.log"), "-c", &format!("{prefix}/nginx.conf")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx { child, base: format!("http://127.0.0.1:{port}"), _conf: conf };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(nginx._conf.path().join("error.log")).unwrap_or_default();
            let exited = nginx.child.try_wait().ok().flatten();
            assert!(exited.is_none() && Instant::now() < deadline, "nginx did not listen within 20 s ({exited:?}): {log}");
            std::thread::sleep(Duration::from_millis(50));
        }
        nginx
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx from `PATH` or where Debian installs it.
fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"].iter().map(PathBuf::from).find(|p| p.exists()).or_else(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path).map(|d| d.join("nginx")).find(|p| p.exists())
    })
}

/// Every file under `dir`, as paths relative to it.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("inside").to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// Waits until the published checkpoint is the server's.
fn wait_published(server: &Server, dir: &Path) -> String {
    let want = server.get("/checkpoint").text();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = std::fs::read_to_string(dir.join("checkpoint")).unwrap_or_default();
        if got == want {
            return got;
        }
        assert!(Instant::now() < deadline, "the publish folder did not reach the server's checkpoint within 60 s: {}", server.stderr());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_verifier_verifies_the_log_through_nginx_serving_the_published_folder() {
    let Some(nginx) = nginx_binary() else {
        let msg = "nginx is needed for the static tiles test: apt-get install nginx";
        if std::env::var_os("CI").is_some() {
            panic!("{msg} (CI is set, so this is a failure, not a skip)");
        }
        eprintln!("\n!!! SKIPPED the_verifier_verifies_the_log_through_nginx_serving_the_published_folder: {msg}\n");
        return;
    };
    let out = tempfile::tempdir().expect("tempdir");
    let published = out.path().join("published");
    let opts = ServerOptions { args: vec!["--publish".into(), published.display().to_string()], ..Default::default() };
    let (server, acme) = operator_setup_with(opts);
    // Enough entries to fill a level-0 tile and bundle, leaving partial ones after it.
    let mut n = 0;
    let batch = |from: usize, count: usize| -> Vec<serde_json::Value> {
        (from..from + count)
            .map(|i| {
                acme.record(
                    plain_message("acme-ads", &format!("shoes/{i}"), "Spring shoes"),
                    &personal(&format!("r{i}@example.org"), &[], &[]),
                )
            })
            .collect()
    };
    for count in [100, 100, 40] {
        server.submit(&batch(n, count));
        n += count;
    }
    wait_published(&server, &published);
    let partial_before = server.tree_size() % 256;
    assert!(server.tree_size() < 256 + 40 && partial_before > 0);
    server.submit(&batch(n, 60));
    let checkpoint = wait_published(&server, &published);
    let size = checkpoint_size(&checkpoint);
    assert!(size > 256, "a full tile and a partial one: size {size}");

    // Byte for byte the server's own read API, and nothing else: the checkpoint, the full
    // level-0 tile and bundle, and the partial tile of each level at this size. (The partial
    // tiles of the tile that became full go once the checkpoint that covers it is in place.)
    let w = size % 256;
    let mut want = vec![
        "checkpoint".to_string(),
        "tile/0/000".to_string(),
        format!("tile/0/001.p/{w}"),
        "tile/1/000.p/1".to_string(),
        "tile/entries/000".to_string(),
        format!("tile/entries/001.p/{w}"),
    ];
    want.sort();
    let deadline = Instant::now() + Duration::from_secs(30);
    while files(&published) != want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let listed = files(&published);
    assert_eq!(listed, want, "the partial tiles of the full tile are gone, no temporary file is left");
    for path in &listed {
        let on_disk = std::fs::read(published.join(path)).expect("read");
        let served = server.get(&format!("/{path}"));
        assert_eq!(served.status, 200, "{path} is in the folder but the server does not serve it");
        assert_eq!(served.body, on_disk, "{path} differs from what the server serves");
    }

    // The verifier, through nginx.
    let web = Nginx::serve(&nginx, &published);
    for path in &listed {
        assert_eq!(http_get(&format!("{}/{path}", web.base), &[]).body, server.get(&format!("/{path}")).body, "nginx serves {path}");
    }
    let (code, stdout, stderr) = verifier(&["verify", &format!("{}/", web.base), "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the verifier through nginx: {stdout}{stderr}");
    assert!(stdout.contains(&format!("size {size}")), "{stdout}");
    assert!(stdout.contains(&format!("entries:    {size} checked")), "{stdout}");

    // `sightline publish` of the stopped server writes the same folder.
    drop(web);
    let mut server = server;
    server.stop();
    let again = out.path().join("again");
    let (code, stdout, stderr) = run(
        &binaries().sightline,
        &["publish", "--data", &server.data.display().to_string(), "--origin", ORIGIN, "--out", &again.display().to_string(), "--json"],
    );
    assert_eq!(code, 0, "sightline publish: {stdout}{stderr}");
    assert_eq!(files(&again), listed);
    for path in &listed {
        assert_eq!(std::fs::read(again.join(path)).unwrap(), std::fs::read(published.join(path)).unwrap(), "{path}");
    }
}
