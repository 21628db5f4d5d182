//! The world of the authorization matrix, and the request each [`Case`] sends to a route of each
//! [`Kind`]: who holds which key and link, and what they send.
//!
//! acme (a submitter) sent alice two messages, bob one and carol one; beta (another submitter)
//! sent one "to" `"  ALICE@Example.org "`, its bait. Attackers are after alice: her personal
//! values, her other message's link, her objection and erasure.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde_json::{json, Value};
use sightline_e2e::raw_http::{addr_of, head, head_only};
use sightline_e2e::*;

use super::{Case, Kind, Row};

/// alice's address: what the attackers lack.
pub const ALICE: &str = "alice@example.org";
/// A personal value of alice's first message, on its page until she erases it.
pub const ALICE_VALUE: &str = "neuroticism score 0.82 (high)";
/// The origin of another site.
pub const EVIL: &str = "https://evil.example";
const CAROL: &str = "carol@example.org";

/// What an admin or compliance route is asked to do.
#[derive(Clone, Copy, Debug)]
pub enum OperatorAct {
    /// Admin. Rightful: registers a new submitter; attackers: re-key acme to their own key.
    RegisterSubmitter,
    /// Admin. Rightful: a new party; attackers: theirs.
    RegisterParty,
    /// Admin: no body.
    RotateKey,
    /// Compliance. Rightful: erases carol; attackers: alice.
    Erase,
    /// Compliance: the export with personal parts (a `GET`).
    Export,
}

impl OperatorAct {
    fn compliance(self) -> bool {
        matches!(self, OperatorAct::Erase | OperatorAct::Export)
    }
}

/// A why link and the form token its page carries.
pub struct Link {
    pub token: String,
    pub csrf: String,
}

/// One server, its submitters and the links they got back.
pub struct World {
    pub server: Server,
    acme: Submitter,
    beta: Submitter,
    /// Signs as `acme-ads` with a key acme does not hold.
    impostor: Submitter,
    /// alice's first message: the link that is forwarded.
    alice: Link,
    /// alice's other message: its link is what no attacker may learn.
    alice_other: Link,
    alice_other_index: u64,
    bob: Link,
    /// beta's message "to" alice.
    bait: Link,
    next_id: AtomicU32,
    /// Set once an attack erased alice's personal values, so that only its cell says so.
    alice_erased: AtomicBool,
}

/// A request of the matrix.
pub struct Request {
    method: &'static str,
    pub path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Request {
    fn new(method: &'static str, path: String) -> Request {
        Request { method, path, headers: Vec::new(), body: Vec::new() }
    }

    fn with(mut self, name: &'static str, value: impl Into<String>) -> Request {
        self.headers.push((name, value.into()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Whether the request carries `text` (in its path, headers or body).
    fn carries(&self, text: &str) -> bool {
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let body = String::from_utf8_lossy(&self.body);
        self.path.contains(text) || self.headers.iter().any(|(_, v)| v.contains(text)) || body.contains(text) || body.contains(&encoded)
    }

    /// What another site's page can make a browser send instead: no `Authorization` header
    /// (it cannot add one without a preflight this server never grants), a body as
    /// `text/plain`, its own `Origin`.
    fn sent_by_another_site(self) -> Request {
        let mut r = Request::new(self.method, self.path).with("origin", EVIL);
        if !self.body.is_empty() {
            r = r.with("content-type", "text/plain").body(self.body);
        }
        r
    }

    pub fn send(&self, server: &Server) -> Resp {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        match self.method {
            "GET" => http_get(&server.url(&self.path), &headers),
            _ => http_post(&server.url(&self.path), &headers, &self.body),
        }
    }
}

impl World {
    /// A server with rate limits off, acme's and beta's messages logged, and their links' form
    /// tokens read from their pages.
    pub fn new() -> World {
        let args = ["--rate-submissions", "off", "--rate-admin", "off", "--rate-forms", "off", "--rate-why", "off"];
        let server = Server::start_with(ServerOptions { args: args.map(String::from).to_vec(), ..Default::default() });
        let (acme, beta) = (Submitter::new("acme-ads"), Submitter::new("beta-mail"));
        server.register_submitter(&acme);
        server.register_submitter(&beta);
        server.register_standard_parties();
        let ack = server.submit(&[
            acme.record(political_message("acme-ads", "authz/alice-1", "Acme to Alice, one"), &political_personal(ALICE)),
            acme.record(plain_message("acme-ads", "authz/alice-2", "Acme to Alice, two"), &personal(ALICE, &[], &[])),
            acme.record(plain_message("acme-ads", "authz/bob", "Acme to Bob"), &personal("bob@example.org", &[], &[])),
            acme.record(plain_message("acme-ads", "authz/carol", "Acme to Carol"), &personal(CAROL, &[], &[])),
        ]);
        let bait = server.submit(&[
            beta.record(plain_message("beta-mail", "authz/bait", "Bait from Beta"), &personal("  ALICE@Example.org ", &[], &[]))
        ]);
        let link = |ack: &Value, i: usize| {
            let token = why_token(ack["receipts"][i]["why_url"].as_str().expect("why_url")).to_string();
            let page = server.get(&format!("/why/{token}"));
            Link { csrf: hidden_value(&page.text(), "csrf").expect("the page has a form token"), token }
        };
        let (alice, alice_other, bob, bait) = (link(&ack, 0), link(&ack, 1), link(&ack, 2), link(&bait, 0));
        let alice_other_index = ack["receipts"][1]["index"].as_u64().expect("index");
        let impostor = Submitter::new("acme-ads");
        World {
            acme,
            beta,
            impostor,
            alice,
            alice_other,
            alice_other_index,
            bob,
            bait,
            next_id: AtomicU32::new(0),
            alice_erased: AtomicBool::new(false),
            server,
        }
    }

    /// A fresh signed acme message to `to`, never sent before.
    fn acme_message(&self, to: &str) -> Value {
        let id = format!("authz/fresh-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        self.acme.record(political_message("acme-ads", &id, "Acme, fresh"), &political_personal(to))
    }

    /// What an attacker's request must not leave behind, whatever its status; each line names one.
    pub fn traces(&self, request: &Request, resp: &Resp) -> Vec<String> {
        let body = String::from_utf8_lossy(&resp.body);
        let mut found = Vec::new();
        for (whose, link) in
            [("alice's other message", &self.alice_other), ("alice", &self.alice), ("bob", &self.bob), ("beta's bait", &self.bait)]
        {
            if !request.path.contains(&link.token) && body.contains(&link.token) {
                found.push(format!("the response holds the link of {whose}, which the request did not use"));
            }
        }
        if !request.path.contains(&self.alice.token) && body.contains(ALICE_VALUE) {
            found.push("the response shows alice's personal values without her link".into());
        }
        if !request.carries(ALICE) && body.contains(ALICE) {
            found.push("the response shows alice's address, which the request did not carry".into());
        }
        if resp.status == 401 && resp.header("www-authenticate").is_none() {
            found.push("a 401 without WWW-Authenticate, which says what credential to send".into());
        }
        if let Some(allowed) = resp.header("access-control-allow-origin") {
            found.push(format!("Access-Control-Allow-Origin: {allowed} lets another site read the response"));
        }
        let gone_before = self.alice_erased.load(Ordering::Relaxed);
        if !gone_before && !self.server.get(&format!("/why/{}", self.alice.token)).text().contains(ALICE_VALUE) {
            self.alice_erased.store(true, Ordering::Relaxed);
            found.push("alice's personal values are gone from her page (the cells after this one do not say it again)".into());
        }
        found
    }

    /// What must hold once every attacker has run: alice's list through her own link still
    /// holds both her messages and not beta's, and beta's objection in its scope did not flag
    /// acme's messages to her.
    pub fn after_the_attacks(&self) -> Vec<String> {
        let mut wrong = Vec::new();
        let list = self.server.post_rights(&format!("/why/{}", self.alice.token), "messages", &[("address", ALICE)]).text();
        if !list.contains(&self.alice_other.token) || list.contains(&self.bait.token) {
            wrong.push(format!("after the attacks, alice's list is not her two messages: {}", super::excerpt(list.as_bytes())));
        }
        let r = self.server.post_submission_json(&json!({ "records": [self.acme_message(ALICE)] }));
        if r.status != 200 {
            wrong.push(format!("after the attacks, acme cannot log a message: {} {}", r.status, super::excerpt(&r.body)));
        } else if r.json()["receipts"][0]["warnings"] != json!([]) {
            wrong.push(format!("after the attacks, acme's new message to alice is flagged: {}", super::excerpt(&r.body)));
        }
        wrong
    }

    /// A preflight from another site for the row's route: no answer may grant it (no
    /// `Access-Control-Allow-Origin`); `None` if none does.
    pub fn preflight(&self, row: &Row) -> Option<String> {
        let path = self.path(row, &self.alice.token);
        let addr = addr_of(&self.server.base);
        let asks = [("Origin", EVIL), ("Access-Control-Request-Method", row.method), ("Access-Control-Request-Headers", "authorization")];
        let out = head_only(&addr, &head("OPTIONS", &path, &addr, &asks, None), std::time::Duration::from_secs(30));
        match (out.status, out.header("access-control-allow-origin")) {
            (None, _) => Some(format!("OPTIONS {path} | cross-site preflight | got no answer")),
            (_, Some(allowed)) => {
                Some(format!("OPTIONS {path} | cross-site preflight | expected no grant | got Access-Control-Allow-Origin: {allowed}"))
            }
            _ => None,
        }
    }

    /// The row's path with its placeholders filled in.
    fn path(&self, row: &Row, token: &str) -> String {
        let size = if row.path.contains("{size}") { self.server.tree_size().to_string() } else { String::new() };
        row.path.replace("{token}", token).replace("{size}", &size).replace("{index}", &self.alice_other_index.to_string())
    }

    /// alice's link altered in its last byte: the right shape and index, a wrong MAC.
    fn forged(&self) -> String {
        let mut raw = B64URL.decode(&self.alice.token).expect("a why token is base64url");
        if let Some(last) = raw.last_mut() {
            *last ^= 1;
        }
        B64URL.encode(raw)
    }
}

/// The request `case` sends to `row`, `None` where the case does not apply to its kind.
pub fn build(w: &World, row: &Row, case: Case) -> Option<Request> {
    let at = |token: &str| Request::new(row.method, w.path(row, token));
    match row.kind {
        Kind::Public => match case {
            Case::Rightful | Case::NoCredential => Some(at("")),
            Case::WrongCredential => Some(at("").with("authorization", "Bearer not-a-credential")),
            Case::CrossSite => Some(at("").with("origin", EVIL)),
            Case::OtherSubmitter | Case::OtherRecipient | Case::ForwardedLink => None,
        },
        Kind::Submission => {
            let batch = json!({ "records": [w.acme_message("dave@example.org")] }).to_string();
            let request = at("").with("content-type", "application/json").body(batch);
            match case {
                Case::Rightful => Some(request.with("authorization", w.acme.auth_header())),
                Case::NoCredential => Some(request),
                Case::WrongCredential => Some(request.with("authorization", w.impostor.auth_header())),
                Case::OtherSubmitter => Some(request.with("authorization", w.beta.auth_header())),
                Case::CrossSite => Some(request.sent_by_another_site()),
                Case::OtherRecipient | Case::ForwardedLink => None,
            }
        }
        Kind::Operator(act) => {
            let (ours, theirs) = if act.compliance() { (COMPLIANCE_TOKEN, ADMIN_TOKEN) } else { (ADMIN_TOKEN, COMPLIANCE_TOKEN) };
            let request = operator_request(w, at(""), act, case == Case::Rightful);
            match case {
                Case::Rightful => Some(request.with("authorization", format!("Bearer {ours}"))),
                Case::NoCredential => Some(request),
                Case::WrongCredential => Some(request.with("authorization", format!("Bearer {theirs}"))),
                Case::OtherSubmitter => Some(request.with("authorization", w.beta.auth_header())),
                Case::CrossSite => Some(request.sent_by_another_site()),
                Case::OtherRecipient | Case::ForwardedLink => None,
            }
        }
        Kind::LinkPage => match case {
            Case::Rightful | Case::ForwardedLink => Some(at(&w.alice.token)),
            Case::NoCredential => Some(at("")),
            Case::WrongCredential => Some(at(&w.forged())),
            Case::OtherRecipient => Some(at(&w.bob.token)),
            Case::CrossSite => Some(at(&w.alice.token).with("origin", EVIL)),
            Case::OtherSubmitter => None,
        },
        Kind::LinkForm(extra) => {
            let ours = w.server.base.as_str();
            // (link, its form token sent?, address, Origin)
            let (link, csrf, address, origin) = match case {
                Case::Rightful => (&w.alice, true, Some(ALICE), Some(ours)),
                Case::NoCredential => (&w.alice, false, Some(ALICE), None),
                Case::WrongCredential => (&w.alice, true, Some("alice@example.com"), Some(ours)),
                Case::OtherSubmitter => (&w.bait, true, Some(ALICE), Some(ours)),
                Case::OtherRecipient => (&w.bob, true, Some(ALICE), Some(ours)),
                Case::ForwardedLink => (&w.alice, true, None, Some(ours)),
                Case::CrossSite => (&w.alice, true, Some(ALICE), Some(EVIL)),
            };
            let mut form = form_urlencoded::Serializer::new(String::new());
            if csrf {
                form.append_pair("csrf", &link.csrf);
            }
            if let Some(address) = address {
                form.append_pair("address", address);
            }
            form.extend_pairs(extra);
            let mut request = at(&link.token).with("content-type", "application/x-www-form-urlencoded").body(form.finish());
            if let Some(origin) = origin {
                request = request.with("origin", origin);
            }
            Some(request)
        }
    }
}

/// An admin or compliance request without its credential: what the rightful party asks, or
/// what an attacker would.
fn operator_request(w: &World, request: Request, act: OperatorAct, rightful: bool) -> Request {
    let body = match (act, rightful) {
        (OperatorAct::RegisterSubmitter, true) => {
            let fresh = Submitter::new(&format!("gamma-{}", w.next_id.fetch_add(1, Ordering::Relaxed)));
            json!({ "submitter": fresh.id, "name": fresh.name, "contact": "t@gamma.example", "public_key": fresh.public_key() })
        }
        (OperatorAct::RegisterSubmitter, false) => {
            json!({ "submitter": "acme-ads", "name": "Acme", "contact": "t@acme.example", "public_key": w.impostor.public_key() })
        }
        (OperatorAct::RegisterParty, _) => {
            let party = if rightful { "p-rightful" } else { "p-attacker" };
            json!({ "party": party, "name": "A Party", "contact": "p@party.example", "established_in": "DE", "ultimately_controlled_by": "self" })
        }
        (OperatorAct::Erase, _) => json!({ "recipient": if rightful { CAROL } else { ALICE } }),
        (OperatorAct::RotateKey | OperatorAct::Export, _) => return request,
    };
    request.with("content-type", "application/json").body(body.to_string())
}
