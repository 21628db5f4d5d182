//! A real headless Chromium, driven through chromedriver's W3C WebDriver HTTP
//! API, opens a recipient's why-page on the real server (`serve --demo`), finds
//! the proof link by element lookup and clicks it, follows the receipt link it
//! finds there through the verifier, takes a screenshot, and types the
//! recipient's address into the page's form to reach their message list and to
//! object. A second session clicks through three of the seed scenarios: the dark
//! post, the follow-up (to the earlier message it follows and back) and the
//! e-mail to an address bought from a broker.
//!
//! Chromium and chromedriver come from the system (`apt-get install chromium
//! chromium-driver`; `.ci/run` installs both). Without them the test fails when
//! `CI` is set and is skipped loudly otherwise.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sightline_e2e::*;

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_program(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.is_file() {
                return Some(p.to_path_buf());
            }
        } else if let Some(paths) = std::env::var_os("PATH") {
            if let Some(found) = std::env::split_paths(&paths).map(|d| d.join(c)).find(|p| p.is_file()) {
                return Some(found);
            }
        }
    }
    None
}

/// chromedriver and one browser session; both end on drop.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).max_idle_connections(0).build();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            agent,
            _profile: tempfile::tempdir().expect("tempdir"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = browser
                .agent
                .get(&format!("{}/status", browser.base))
                .call()
                .ok()
                .and_then(|r| r.into_string().ok())
                .and_then(|s| serde_json::from_str::<Value>(&s).ok());
            if ready.as_ref().is_some_and(|v| v["value"]["ready"] == json!(true)) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready within 60 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = browser._profile.path().to_str().expect("UTF-8 path").to_string();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_str().expect("UTF-8 path"),
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--window-size=1280,1000", format!("--user-data-dir={profile}")]
            }
        }}});
        let created = browser.call("POST", "/session", Some(caps));
        browser.session = created["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {created}")).to_string();
        browser
    }

    /// One WebDriver command; returns `value`, panicking on a WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" { format!("{}{path}", self.base) } else { format!("{}/session/{}{path}", self.base, self.session) };
        let req = self.agent.request(method, &url).set("content-type", "application/json; charset=utf-8");
        let resp = match body {
            Some(b) => req.send_string(&b.to_string()),
            None if method == "POST" => req.send_string("{}"),
            None => req.call(),
        };
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => panic!("WebDriver {method} {path}: {code} {}", r.into_string().unwrap_or_default()),
            Err(e) => panic!("WebDriver {method} {path}: {e}"),
        };
        let v: Value = serde_json::from_str(&resp.into_string().expect("WebDriver body")).expect("WebDriver JSON");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.call("GET", "/url", None).as_str().expect("url").to_string()
    }

    fn find(&self, css: &str) -> String {
        let v = self.call("POST", "/element", Some(json!({ "using": "css selector", "value": css })));
        v[ELEMENT].as_str().unwrap_or_else(|| panic!("no element {css}: {v}")).to_string()
    }

    fn text(&self, element: &str) -> String {
        self.call("GET", &format!("/element/{element}/text"), None).as_str().expect("text").to_string()
    }

    fn property(&self, element: &str, name: &str) -> Value {
        self.call("GET", &format!("/element/{element}/property/{name}"), None)
    }

    fn click(&self, element: &str) {
        self.call("POST", &format!("/element/{element}/click"), None);
    }

    /// The browser's Back button.
    fn back(&self) {
        self.call("POST", "/back", None);
    }

    /// The text of the whole page, as the browser renders it.
    fn page_text(&self) -> String {
        self.text(&self.find("body"))
    }

    /// Types `text` into an input, key by key (WebDriver "Element Send Keys").
    fn type_text(&self, element: &str, text: &str) {
        self.call("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    fn script(&self, js: &str) -> Value {
        self.call("POST", "/execute/sync", Some(json!({ "script": js, "args": [] })))
    }

    /// Waits (bounded) until the page's URL satisfies `ok`.
    fn wait_url(&self, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let u = self.url();
            if ok(&u) || Instant::now() > deadline {
                return u;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self) -> Vec<u8> {
        B64.decode(self.call("GET", "/screenshot", None).as_str().expect("base64 screenshot")).expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.agent.delete(&format!("{}/session/{}", self.base, self.session)).timeout(Duration::from_secs(20)).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Width and height of a PNG, checking its signature and IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "too short for a PNG");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "first chunk is not IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().expect("4 bytes"));
    (be(&png[16..20]), be(&png[20..24]))
}

/// Chromium and chromedriver, or `None` (having said so loudly) when they are missing outside CI.
fn browser_programs(test: &str) -> Option<(PathBuf, PathBuf)> {
    let chromium = find_program(&["/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"]);
    let chromedriver = find_program(&["/usr/bin/chromedriver", "chromedriver"]);
    if let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) {
        return Some((chromium, chromedriver));
    }
    let msg = "Chromium and chromedriver are needed for the browser test: apt-get install chromium chromium-driver";
    if std::env::var_os("CI").is_some() {
        panic!("{msg} (CI is set, so this is a failure, not a skip)");
    }
    eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    eprintln!("!!! SKIPPED {test}: {msg}");
    eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
    None
}

/// The why link the demo printed for campaign `n` as seen by `who`.
fn demo_link(server: &Server, n: u32, who: &str) -> String {
    server
        .stdout
        .lines()
        .filter(|l| l.trim_start().starts_with(&format!("Campaign {n}: ")) && l.contains(&format!("as seen by {who}:")))
        .filter_map(|l| l.rsplit_once(": ").map(|(_, u)| u.trim().to_string()))
        .find(|u| u.starts_with(&format!("{}/why/", server.base)))
        .unwrap_or_else(|| panic!("no link of campaign {n} as seen by {who} in the demo output:\n{}", server.stdout))
}

#[test]
fn why_page_proof_link_is_clicked_in_a_real_browser() {
    let Some((chromium, chromedriver)) = browser_programs("why_page_proof_link_is_clicked_in_a_real_browser") else { return };

    let server = Server::start_with(ServerOptions { demo: true, ..Default::default() });
    // The demo prints the links to click; take a message as seen by alice, whose address the
    // list of her messages asks for.
    let alice = "alice@example.org";
    let why_url = server
        .stdout
        .lines()
        .filter(|l| l.contains(&format!("as seen by {alice}:")))
        .filter_map(|l| l.rsplit_once(": ").map(|(_, u)| u.trim()))
        .find(|u| u.starts_with(&format!("{}/why/", server.base)))
        .unwrap_or_else(|| panic!("no why link of a message to {alice} in the demo output:\n{}", server.stdout))
        .to_string();

    let browser = Browser::start(&chromium, &chromedriver);
    browser.goto(&why_url);
    assert_eq!(browser.url(), why_url);
    let h1 = browser.text(&browser.find("h1"));
    assert!(!h1.is_empty(), "the page has a heading");

    // The in-page link to the proof: a real element lookup, then a real click.
    let proof_link = browser.find("nav a[href='#proof']");
    assert_eq!(browser.text(&proof_link), "Proof");
    browser.click(&proof_link);
    let after = browser.wait_url(|u| u.ends_with("#proof"));
    assert_eq!(after, format!("{why_url}#proof"), "clicking Proof did not go to the proof section");
    let heading = browser.find("h2#proof");
    assert_eq!(browser.text(&heading), "Proof that this record was not changed");
    let top = browser.script("return document.getElementById('proof').getBoundingClientRect().top;");
    let top = top.as_f64().expect("a number");
    assert!((-2.0..200.0).contains(&top), "the proof section was not scrolled into view (top = {top})");
    assert!(browser.script("return window.scrollY;").as_f64().expect("number") > 100.0, "the page did not scroll");

    // The receipt link the browser shows there is the real, verifiable receipt.
    let receipt_link = browser.find("a[href$='/receipt']");
    let link_text = browser.text(&receipt_link);
    assert!(link_text.starts_with("Download the offline receipt"), "{link_text}");
    let href = browser.property(&receipt_link, "href");
    let href = href.as_str().expect("href");
    assert_eq!(href, format!("{why_url}/receipt"));
    let receipt = http_get(href, &[]);
    assert_eq!(receipt.status, 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("demo.sightline-receipt.json");
    std::fs::write(&file, &receipt.body).expect("write receipt");
    let (code, out, err) = verifier(&["receipt", file.to_str().expect("UTF-8"), "--vkey", &server.vkey]);
    assert_eq!(code, 0, "the receipt linked from the page does not verify: {out}{err}");
    let command = browser.text(&browser.find("#proof ~ pre code"));
    assert!(command.contains("sightline-verifier"), "the page shows how to check the receipt: {command}");

    // A screenshot of what the browser shows now.
    let png = browser.screenshot();
    let (w, h) = png_size(&png);
    assert!(w >= 600 && h >= 400, "screenshot is {w}x{h}");
    assert!(png.len() > 10_000, "screenshot is suspiciously small ({} bytes)", png.len());
    let shots = profile_dir().parent().expect("target folder").join("e2e-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let path = shots.join("why-receipt.png");
    std::fs::write(&path, &png).expect("write screenshot");
    eprintln!("screenshot: {}", path.display());

    // And a real form: the recipient types the address the message was sent to and asks for
    // the list of their messages (a POST with the page's form token, no script).
    let address = browser.find("form#rights input[name='address']");
    browser.type_text(&address, alice);
    let show = browser.find("form#rights button[type='submit']");
    assert_eq!(browser.text(&show), "Show my messages", "the form's first button is the harmless one");
    browser.click(&show);
    let list_url = browser.wait_url(|u| u.ends_with("/messages"));
    assert_eq!(list_url, format!("{why_url}/messages"));
    assert_eq!(browser.text(&browser.find("h1")), "Messages sent to you");
    let back = browser.find("td a[href^='/why/']");
    assert!(browser.text(&back).contains("Why did I get this?"));

    // The objection button of the same form posts elsewhere (`formaction`). The demo's alice
    // already objected to this campaign's sponsor: one objection per advertiser, so the page
    // names the one on file.
    browser.goto(&why_url);
    let address = browser.find("form#rights input[name='address']");
    browser.type_text(&address, alice);
    let object = browser.find("form#rights button[formaction$='/object']");
    browser.click(&object);
    let object_url = browser.wait_url(|u| u.ends_with("/object"));
    assert_eq!(object_url, format!("{why_url}/object"));
    assert_eq!(browser.text(&browser.find("h1")), "Your objection was already recorded");
}

#[test]
fn the_dark_post_the_follow_up_and_the_bought_list_email_are_clicked_through() {
    let Some((chromium, chromedriver)) = browser_programs("the_dark_post_the_follow_up_and_the_bought_list_email_are_clicked_through")
    else {
        return;
    };
    let server = Server::start_with(ServerOptions { demo: true, ..Default::default() });
    let dark_post = demo_link(&server, 1, "alice@example.org");
    let follow_up = demo_link(&server, 2, "alice@example.org");
    let email = demo_link(&server, 10, "bob@example.org");
    let browser = Browser::start(&chromium, &chromedriver);

    // The dark post: what it said, that only its audience saw it, and why this reader got it.
    browser.goto(&dark_post);
    assert_eq!(browser.text(&browser.find("h2#content")), "What the message said");
    let content = browser.text(&browser.find("blockquote.creative"));
    assert!(content.starts_with("Sie sollen nicht erfahren, was auf uns zukommt."), "{content}");
    let text = browser.page_text();
    assert!(text.contains("Shown only to the people it was targeted at (a “dark post”)"), "{text}");
    assert!(text.contains("You were selected because criterion 1 (“Personality score: high neuroticism (OCEAN model)”)"), "{text}");
    let why = browser.find("nav a[href='#why']");
    browser.click(&why);
    assert!(browser.wait_url(|u| u.ends_with("#why")).ends_with("#why"), "the Why you link did not go to the criteria");

    // The follow-up: its source is the reader's response to the dark post, whose own page it
    // links to; the browser follows the link there and comes back.
    browser.goto(&follow_up);
    let text = browser.page_text();
    assert!(text.contains("This message follows up on your response to an earlier message"), "{text}");
    let earlier = browser.find("a.earlier");
    assert!(browser.text(&earlier).starts_with("The message you responded to (entry "), "{}", browser.text(&earlier));
    browser.click(&earlier);
    let at = browser.wait_url(|u| u == dark_post);
    assert_eq!(at, dark_post, "the earlier message's link leads to the dark post's own page");
    assert_eq!(browser.text(&browser.find("blockquote.creative")), content, "the earlier page is the dark post");
    browser.back();
    let back = browser.wait_url(|u| u == follow_up);
    assert_eq!(back, follow_up, "Back returns to the follow-up");
    assert!(browser.page_text().contains("Clicked or answered an earlier post of the personality campaign"));

    // The e-mail to a bought address: how the sender got the address, under its own heading.
    browser.goto(&email);
    assert_eq!(browser.text(&browser.find("h1")), "Why you received an email");
    assert_eq!(browser.text(&browser.find("h2#address")), "How we got your address");
    let source = browser.text(&browser.find("h2#address + p + ol.chain h5"));
    assert!(source.starts_with("ListHaus Direct GmbH"), "{source}");
    let text = browser.page_text();
    assert!(text.contains("Bought from a data broker"), "{text}");
    assert!(text.contains("Entry form of an online prize draw"), "{text}");
    let unsubscribe = browser.find("h2#unsubscribe");
    assert_eq!(browser.text(&unsubscribe), "Unsubscribe from these emails");
}
