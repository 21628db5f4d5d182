//! The authorization matrix (SPEC.md §14.1–§14.3): every route of the router
//! (`web/src/router.rs`) against every attacker, on one real `sightline serve`.
//!
//! Read [`MATRIX`] as a table. A row is a route (method and path as the router spells them); a
//! column is who sends the request ([`Case`], what each one sends per kind of route is in
//! `authz/requests.rs`); a cell is what that request must get:
//!
//! - `S(401)`: exactly that status, and nothing written (the signed tree size is unchanged);
//! - `W(200, 1)`: exactly that status, and exactly that many entries appended;
//! - `NA("…")`: the case does not apply to the route, and why (the run prints it in the table).
//!
//! Every attacker's cell also checks, whatever its status, that the attack left no trace: alice's
//! personal values are still readable on her page; no response holds a why link the request did
//! not use (the link of alice's other message above all) or alice's personal values unless the
//! request used her link, or her address unless the request carried it; and no response lets a
//! page of another site read it (`Access-Control-Allow-Origin`), nor grants its preflight. A `401`
//! says what credential to send (`WWW-Authenticate`).
//!
//! The rightful column (the party a route is for, with its credential) runs after all attackers:
//! it writes, and in the end erases alice. It shows that every route works for the party it is
//! for, so that a refusal in the other columns is about who asks. Rate limits are off here; they
//! have their own tests (`rate_limits.rs`). One server runs the whole matrix in about a second;
//! `cargo test -p sightline-e2e --test authz -- --nocapture` prints it as it ran.

use std::fmt;

#[path = "authz/requests.rs"]
mod requests;
use requests::{OperatorAct, World};

/// Who sends the request: the columns of [`MATRIX`], in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    /// The party the route is for, with its credential: an operator's or compliance team's
    /// Bearer, acme's signed header, alice's link with her address.
    Rightful,
    /// No credential: no `Authorization`; a form without the form token of its page; a why
    /// path with no token.
    NoCredential,
    /// A credential that is not this route's: the other role's Bearer; acme's id signed with a
    /// key acme does not hold; a why link altered by one bit; a guessed address.
    WrongCredential,
    /// beta, a registered submitter, with its valid key and the links its own messages got: its
    /// signed header, or its link to a message it sent "to" `"  ALICE@Example.org "`.
    OtherSubmitter,
    /// bob, an acme recipient, with his own link (and its form token), giving alice's address.
    OtherRecipient,
    /// Whoever alice's link was forwarded to: the link and its page, without her address.
    ForwardedLink,
    /// A page of another site: `Origin: https://evil.example`, and only what such a page can
    /// make a browser send (no `Authorization` header; a form with everything but the origin).
    CrossSite,
}

const CASES: [Case; 7] = [
    Case::Rightful,
    Case::NoCredential,
    Case::WrongCredential,
    Case::OtherSubmitter,
    Case::OtherRecipient,
    Case::ForwardedLink,
    Case::CrossSite,
];

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::Rightful => "rightful",
            Case::NoCredential => "no credential",
            Case::WrongCredential => "wrong credential",
            Case::OtherSubmitter => "other submitter's key",
            Case::OtherRecipient => "other recipient's link",
            Case::ForwardedLink => "forwarded link",
            Case::CrossSite => "cross-site Origin",
        }
    }
}

/// What kind of credential a route takes, which decides what each [`Case`] sends.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// Public reads: no credential. `{size}` in the path is the tree size, `{index}` the index of
    /// alice's other message.
    Public,
    /// `POST /api/v1/submissions`: a submitter's signed `Authorization: Sightline v1 …`.
    Submission,
    /// An admin or compliance route (Bearer); what the rightful and the attacking request ask.
    Operator(OperatorAct),
    /// A page the why link `{token}` opens by itself.
    LinkPage,
    /// A recipient form on the why link `{token}` (form token, address, `Origin`), with these
    /// fields besides them.
    LinkForm(&'static [(&'static str, &'static str)]),
}

/// One cell of [`MATRIX`].
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// This status, and nothing written.
    S(u16),
    /// This status, and this many entries appended.
    W(u16, u64),
    /// Not applicable, and why.
    NA(&'static str),
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            S(status) => write!(f, "{status}, nothing written"),
            W(status, n) => write!(f, "{status}, {n} appended"),
            NA(why) => write!(f, "n/a ({why})"),
        }
    }
}

/// A route and its cells, one per [`Case`] in [`CASES`] order.
pub struct Row {
    pub method: &'static str,
    /// As the router spells it.
    pub route: &'static str,
    /// The path requested.
    pub path: &'static str,
    pub kind: Kind,
    pub cells: [Expect; 7],
}

use Expect::{NA, S, W};
use Kind::{LinkForm, LinkPage, Operator, Public, Submission};

const PUBLIC: &str = "public: no key or link to misuse";
const NO_LINK: &str = "takes no why link or address";
const KEY_NO_PAGE: &str = "a submitter's key opens no page; its links open its own messages (form rows)";
const CONFIRM: &[(&str, &str)] = &[("confirm", "yes")];

/// Every route × every attacker. `W` in an attacker's column: beta acting in its own scope,
/// which §14.2 allows; the checks after the cell show alice's data untouched.
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    //   method  route                          path requested                                    kind                         rightful   no credential  wrong credential  other submitter's key  other recipient's link  forwarded link  cross-site Origin
    Row { method: "GET",  route: "/",                          path: "/",                                     kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/healthz",                   path: "/healthz",                              kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/static/sightline.css",      path: "/static/sightline.css",                 kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/metrics",                   path: "/metrics",                              kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/openapi.yaml",              path: "/openapi.yaml",                         kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/checkpoint",                path: "/checkpoint",                           kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/tile/{*path}",              path: "/tile/0/000.p/{size}",                  kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/tile/{*path}",              path: "/tile/entries/000.p/{size}",            kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/proof/inclusion",    path: "/api/v1/proof/inclusion?index={index}", kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/proof/consistency",  path: "/api/v1/proof/consistency?old=1",       kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/entries",            path: "/api/v1/entries?start=0&end={size}",    kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/receipt/{index}",    path: "/api/v1/receipt/{index}",               kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/registry",           path: "/api/v1/registry",                      kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/api/v1/library",            path: "/api/v1/library?format=csv",            kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "GET",  route: "/library",                   path: "/library",                              kind: Public,                cells: [S(200),    S(200),        S(200),           NA(PUBLIC),            NA(PUBLIC),             NA(PUBLIC),     S(200)] },
    Row { method: "POST", route: "/api/v1/submissions",        path: "/api/v1/submissions",                   kind: Submission,            cells: [W(200, 1), S(401),        S(403),           S(403),                NA(NO_LINK),            NA(NO_LINK),    S(401)] },
    Row { method: "POST", route: "/api/v1/admin/submitters",   path: "/api/v1/admin/submitters",              kind: Operator(OperatorAct::RegisterSubmitter), cells: [W(200, 1), S(401), S(401), S(401), NA(NO_LINK),     NA(NO_LINK),    S(401)] },
    Row { method: "POST", route: "/api/v1/admin/parties",      path: "/api/v1/admin/parties",                 kind: Operator(OperatorAct::RegisterParty),     cells: [W(200, 1), S(401), S(401), S(401), NA(NO_LINK),     NA(NO_LINK),    S(401)] },
    Row { method: "POST", route: "/api/v1/compliance/erase",   path: "/api/v1/compliance/erase",              kind: Operator(OperatorAct::Erase),             cells: [W(200, 1), S(401), S(401), S(401), NA(NO_LINK),     NA(NO_LINK),    S(401)] },
    Row { method: "GET",  route: "/api/v1/export",             path: "/api/v1/export?format=jsonl&include_personal=true", kind: Operator(OperatorAct::Export), cells: [S(200), S(401), S(401), S(401), NA(NO_LINK),     NA(NO_LINK),    S(401)] },
    Row { method: "GET",  route: "/why/{token}",               path: "/why/{token}",                          kind: LinkPage,              cells: [S(200),    S(404),        S(404),           NA(KEY_NO_PAGE),       S(200),                 S(200),         S(200)] },
    Row { method: "POST", route: "/why/{token}",               path: "/why/{token}",                          kind: LinkForm(&[]),         cells: [S(405),    S(405),        S(405),           S(405),                S(405),                 S(405),         S(405)] },
    Row { method: "GET",  route: "/why/{token}/receipt",       path: "/why/{token}/receipt",                  kind: LinkPage,              cells: [S(200),    S(404),        S(404),           NA(KEY_NO_PAGE),       S(200),                 S(200),         S(200)] },
    Row { method: "POST", route: "/why/{token}/receipt",       path: "/why/{token}/receipt",                  kind: LinkForm(&[]),         cells: [S(405),    S(405),        S(405),           S(405),                S(405),                 S(405),         S(405)] },
    Row { method: "GET",  route: "/why/{token}/messages",      path: "/why/{token}/messages",                 kind: LinkPage,              cells: [S(200),    S(404),        S(404),           NA(KEY_NO_PAGE),       S(200),                 S(200),         S(200)] },
    Row { method: "POST", route: "/why/{token}/messages",      path: "/why/{token}/messages",                 kind: LinkForm(&[]),         cells: [S(200),    S(403),        S(403),           S(200),                S(403),                 S(403),         S(403)] },
    Row { method: "GET",  route: "/why/{token}/object",        path: "/why/{token}/object",                   kind: LinkPage,              cells: [S(405),    S(405),        S(405),           NA(KEY_NO_PAGE),       S(405),                 S(405),         S(405)] },
    Row { method: "POST", route: "/why/{token}/object",        path: "/why/{token}/object",                   kind: LinkForm(&[]),         cells: [W(200, 1), S(403),        S(403),           W(200, 1),             S(403),                 S(403),         S(403)] },
    Row { method: "GET",  route: "/why/{token}/erase",         path: "/why/{token}/erase",                    kind: LinkPage,              cells: [S(405),    S(405),        S(405),           NA(KEY_NO_PAGE),       S(405),                 S(405),         S(405)] },
    Row { method: "POST", route: "/why/{token}/erase",         path: "/why/{token}/erase",                    kind: LinkForm(&[]),         cells: [S(200),    S(403),        S(403),           S(200),                S(403),                 S(403),         S(403)] },
    Row { method: "POST", route: "/why/{token}/erase",         path: "/why/{token}/erase",                    kind: LinkForm(CONFIRM),     cells: [W(200, 1), S(403),        S(403),           W(200, 1),             S(403),                 S(403),         S(403)] },
    Row { method: "POST", route: "/api/v1/admin/rotate-key",   path: "/api/v1/admin/rotate-key",              kind: Operator(OperatorAct::RotateKey),         cells: [W(200, 1), S(401), S(401), S(401), NA(NO_LINK),     NA(NO_LINK),    S(401)] },
];

#[test]
fn every_route_against_every_attacker() {
    let world = World::new();
    let mut results: Vec<[Option<Result<(), String>>; 7]> = MATRIX.iter().map(|_| Default::default()).collect();
    // Attackers first, every row; then what must still hold; then the rightful column, which
    // writes and in the end erases alice.
    for (r, row) in MATRIX.iter().enumerate() {
        for (c, case) in CASES.iter().enumerate().skip(1) {
            results[r][c] = run_cell(&world, row, *case);
        }
    }
    let mut failures: Vec<String> = world.after_the_attacks();
    failures.extend(MATRIX.iter().filter_map(|row| world.preflight(row)));
    for (r, row) in MATRIX.iter().enumerate() {
        results[r][0] = run_cell(&world, row, Case::Rightful);
    }
    println!("{}", render(&results));
    failures.extend(results.iter().flatten().flatten().filter_map(|r| r.clone().err()));
    assert!(failures.is_empty(), "{} failures in the authorization matrix:\n{}", failures.len(), failures.join("\n"));
}

/// Runs one cell; `None` for a case that does not apply, `Err` with a line that says what went
/// wrong: route, case, expected, got, and the start of the body.
fn run_cell(w: &World, row: &Row, case: Case) -> Option<Result<(), String>> {
    let expect = row.cells[CASES.iter().position(|c| *c == case)?];
    let fail = |got: &str, body: &[u8]| {
        Err(format!(
            "{} {} (path {}) | {} | expected {expect} | got {got} | body: {}",
            row.method,
            row.route,
            row.path,
            case.name(),
            excerpt(body)
        ))
    };
    let (status, appends, request) = match (expect, requests::build(w, row, case)) {
        (NA(_), None) => return None,
        (NA(_), Some(_)) => return Some(fail("a request: the table says n/a but authz/requests.rs sends one", b"")),
        (_, None) => return Some(fail("no request: authz/requests.rs sends none for this case", b"")),
        (S(status), Some(request)) => (status, 0, request),
        (W(status, n), Some(request)) => (status, n, request),
    };
    let before = w.server.tree_size();
    let resp = request.send(&w.server);
    let appended = w.server.tree_size() - before;
    let mut wrong = Vec::new();
    if resp.status != status {
        wrong.push(format!("status {}", resp.status));
    }
    if appended != appends {
        wrong.push(format!("{appended} entries appended"));
    }
    if case != Case::Rightful {
        wrong.extend(w.traces(&request, &resp));
    }
    Some(if wrong.is_empty() { Ok(()) } else { fail(&wrong.join("; "), &resp.body) })
}

/// The start of a body, on one line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(300).collect()
}

/// The matrix as it ran: each cell's expectation, `✗` where it failed; the reasons of the
/// `n/a` cells below it.
fn render(results: &[[Option<Result<(), String>>; 7]]) -> String {
    let mut reasons: Vec<&str> = Vec::new();
    let mut lines = vec![std::iter::once("route".to_string()).chain(CASES.iter().map(|c| c.name().to_string())).collect::<Vec<_>>()];
    for (row, ran) in MATRIX.iter().zip(results) {
        let mut line = vec![format!("{} {}", row.method, row.path)];
        for (cell, ran) in row.cells.iter().zip(ran) {
            let text = match cell {
                S(status) => status.to_string(),
                W(status, n) => format!("{status} +{n}"),
                NA(why) => {
                    let at = reasons.iter().position(|r| r == why).unwrap_or_else(|| {
                        reasons.push(why);
                        reasons.len() - 1
                    });
                    format!("n/a ({})", at + 1)
                }
            };
            line.push(if matches!(ran, Some(Err(_))) { format!("✗ {text}") } else { text });
        }
        lines.push(line);
    }
    let widths: Vec<usize> = (0..8).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::from("The authorization matrix (S: status, nothing written; +n: entries appended):\n");
    for line in &lines {
        let cells: Vec<String> = line.iter().zip(&widths).map(|(t, w)| format!("{t:<w$}")).collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
    }
    for (i, why) in reasons.iter().enumerate() {
        out.push_str(&format!("n/a ({}): {why}\n", i + 1));
    }
    out
}

/// The routes of the router, as `(method, route)`, read from `web/src/router.rs`.
fn routed() -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for line in include_str!("../../web/src/router.rs").lines().map(str::trim) {
        let Some((route, handlers)) = line.strip_prefix(".route(\"").and_then(|l| l.split_once('"')) else { continue };
        for (method, call) in [("GET", "get("), ("POST", "post(")] {
            if handlers.contains(&format!(" {call}")) || handlers.contains(&format!(".{call}")) {
                routes.push((method.to_string(), route.to_string()));
            }
        }
    }
    routes
}

#[test]
fn the_matrix_has_every_route_of_the_router_and_no_other() {
    let routed = routed();
    assert!(routed.len() >= 25, "read too few routes from web/src/router.rs: {routed:?}");
    let answered: Vec<(String, String)> =
        MATRIX.iter().filter(|row| !matches!(row.cells[0], S(405))).map(|row| (row.method.to_string(), row.route.to_string())).collect();
    for route in &routed {
        assert!(answered.contains(route), "{} {} is routed in web/src/router.rs but has no row in MATRIX", route.0, route.1);
    }
    for route in &answered {
        assert!(routed.contains(route), "MATRIX has {} {}, which web/src/router.rs does not route", route.0, route.1);
    }
    // A 405 row is a method the route does not have, on a route it has.
    for row in MATRIX.iter().filter(|row| matches!(row.cells[0], S(405))) {
        assert!(routed.iter().any(|(_, r)| r == row.route), "405 row for {}, which is not routed", row.route);
        assert!(!routed.contains(&(row.method.to_string(), row.route.to_string())), "{} {} is routed: not a 405", row.method, row.route);
    }
}
