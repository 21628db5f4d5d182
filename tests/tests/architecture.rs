//! The shape of the house, held by tests: the verifier stays an independent reading of
//! SPEC.md; the server binary carries no fuzz code; the ledger's files import each other in
//! no circle and its folders only use the layers above them (the map in `ledger/src/lib.rs`);
//! the server's handlers do not import each other; and no source file grows past 600 lines,
//! nor past 400 without saying why in its header.
//!
//! The import picture is read from the sources: `use crate::…`, `super::…` and `self::…`
//! paths, a module's paths into its own children, and `pub use` re-exports followed to the
//! module that defines the item. A module's `pub use` of its own children (a folder naming its
//! parts) is not a dependency. Test modules (`#[cfg(test)]`) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The workspace's packages, as `cargo metadata` reads them.
fn packages() -> Vec<Value> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--manifest-path"])
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata writes JSON");
    meta["packages"].as_array().expect("packages").clone()
}

fn package<'a>(packages: &'a [Value], name: &str) -> &'a Value {
    packages.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn the_verifier_depends_on_neither_the_ledger_nor_the_server() {
    let packages = packages();
    let verifier = package(&packages, "sightline-verifier");
    let deps = verifier["dependencies"].as_array().expect("dependencies");
    assert!(deps.len() > 5, "read too few dependencies of the verifier: {deps:?}");
    for dep in deps {
        let name = dep["name"].as_str().unwrap_or_default();
        let path = Path::new(dep["path"].as_str().unwrap_or_default());
        let names_ours = ["sightline-ledger", "sightline-web"].contains(&name) || path.ends_with("ledger") || path.ends_with("web");
        assert!(
            !names_ours,
            "verifier/Cargo.toml names {name} ({}): the verifier must be an independent implementation of SPEC.md",
            path.display()
        );
    }
    // The fuzz crate of the verifier is outside the workspace; read its manifest as text.
    let fuzz = std::fs::read_to_string(root().join("verifier/fuzz/Cargo.toml")).expect("verifier/fuzz/Cargo.toml");
    assert!(
        !fuzz.contains("sightline-ledger") && !fuzz.contains("sightline-web"),
        "verifier/fuzz/Cargo.toml names the ledger or the server"
    );
}

#[test]
fn the_server_does_not_enable_the_fuzz_code() {
    let packages = packages();
    let deps = package(&packages, "sightline-web")["dependencies"].as_array().expect("dependencies").clone();
    let ledger = deps.iter().find(|d| d["name"] == "sightline-ledger" && d["kind"].is_null()).expect("the server depends on the ledger");
    let features: Vec<&str> = ledger["features"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    assert!(!features.contains(&"fuzzing"), "the server enables the ledger's fuzz bodies and store damage tools: {features:?}");
    for crate_name in ["sightline-ledger", "sightline-verifier"] {
        let features = &package(&packages, crate_name)["features"];
        assert!(features["default"].as_array().is_none_or(|d| d.is_empty()), "{crate_name} enables features by default: {features}");
        assert!(features.get("fuzzing").is_some(), "{crate_name} has no `fuzzing` feature to keep its fuzz code apart");
    }
}

// ---- The import picture -------------------------------------------------------------------

/// A module's path inside its crate: `["pipeline", "sequencer"]`; the crate root is `[]`.
type Module = Vec<String>;

/// One crate's modules, their source (tests left out) and what each imports.
struct Crate {
    modules: BTreeMap<Module, String>,
    edges: BTreeMap<Module, BTreeSet<Module>>,
}

impl Crate {
    fn read(src: &Path) -> Crate {
        let mut files = Vec::new();
        walk(src, &mut files);
        // Files that are only test modules (`#[cfg(test)] #[path = "…"] mod …;`) are left out.
        let test_only: BTreeSet<String> = files
            .iter()
            .flat_map(|f| {
                let text = std::fs::read_to_string(f).unwrap_or_default();
                let lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
                lines
                    .windows(2)
                    .filter(|w| w[0] == "#[cfg(test)]" && w[1].starts_with("#[path = \""))
                    .filter_map(|w| w[1].split('"').nth(1).map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut modules = BTreeMap::new();
        for f in &files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if name == "main.rs" || test_only.contains(&name) {
                continue;
            }
            let rel = f.strip_prefix(src).expect("inside src").with_extension("");
            let mut path: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if path.last().is_some_and(|l| l == "mod" || l == "lib") {
                path.pop();
            }
            modules.insert(path, code_of(&std::fs::read_to_string(f).expect("read a source file")));
        }
        let mut krate = Crate { modules, edges: BTreeMap::new() };
        krate.edges = krate.imports();
        krate
    }

    /// What each module imports, resolved to the module that defines it.
    fn imports(&self) -> BTreeMap<Module, BTreeSet<Module>> {
        let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
        for (module, code) in &self.modules {
            let mut targets = Vec::new();
            for (public, path) in uses(code) {
                let Some(target) = self.resolve(module, &path, 0) else { continue };
                // A folder naming its own parts is not a dependency.
                if public && target.starts_with(module) {
                    continue;
                }
                targets.push(target);
            }
            for path in inline_paths(code, &self.children(module)) {
                targets.extend(self.resolve(module, &path, 0));
            }
            let set = edges.entry(module.clone()).or_default();
            set.extend(targets.into_iter().filter(|t| t != module && !t.is_empty()));
        }
        edges
    }

    fn children(&self, module: &Module) -> Vec<String> {
        self.modules.keys().filter(|m| m.len() == module.len() + 1 && m.starts_with(module)).map(|m| m[module.len()].clone()).collect()
    }

    /// The module a path used in `from` leads to: the longest module prefix, with re-exports
    /// (`pub use`) followed. `None` for paths outside the crate.
    fn resolve(&self, from: &Module, path: &[String], depth: usize) -> Option<Module> {
        let (mut at, mut rest): (Module, &[String]) = match path.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &path[1..]),
            Some("super") => {
                let mut at = from.clone();
                let mut rest = path;
                while rest.first().is_some_and(|s| s == "super") {
                    at.pop();
                    rest = &rest[1..];
                }
                (at, rest)
            }
            Some("self") => (from.clone(), &path[1..]),
            Some(first) if self.children(from).iter().any(|c| c == first) => (from.clone(), path),
            _ => return None,
        };
        while let Some(next) = rest.first() {
            let mut child = at.clone();
            child.push(next.clone());
            if self.modules.contains_key(&child) {
                at = child;
                rest = &rest[1..];
                continue;
            }
            // An item of `at`: defined there, or re-exported from elsewhere.
            if depth < 8 {
                for (public, used) in uses(&self.modules[&at]) {
                    if public && used.last() == Some(next) {
                        return self.resolve(&at, &[&used[..], &rest[1..]].concat(), depth + 1);
                    }
                    if public && used.last().is_some_and(|l| l == "*") && !defines(&self.modules[&at], next) {
                        let glob = [&used[..used.len() - 1], &rest[..1]].concat();
                        if let Some(target) = self.resolve(&at, &glob, depth + 1).filter(|t| *t != at) {
                            return Some(target);
                        }
                    }
                }
            }
            break;
        }
        Some(at)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A file's code: comments and the test module at its end left out.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t == "#[cfg(test)]" && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod ")) {
            break;
        }
        if !t.starts_with("//") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Whether `code` defines an item named `name`.
fn defines(code: &str, name: &str) -> bool {
    ["fn", "struct", "enum", "const", "type", "trait", "static", "mod"].iter().any(|k| {
        code.match_indices(&format!("{k} {name}")).any(|(i, _)| {
            let after = code[i + k.len() + 1 + name.len()..].chars().next();
            !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    })
}

/// Every `use` of `code`, expanded to paths, each with whether it is a `pub use`.
fn uses(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = code[from..].find("use ").map(|i| i + from) {
        from = i + 4;
        let before = code[..i].trim_end();
        let statement_start = before.is_empty() || before.ends_with([';', '{', '}']) || before.ends_with(')') || before.ends_with("pub");
        if !statement_start || code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let public =
            before.ends_with("pub") || (before.ends_with(')') && before.rsplit_once("pub(").is_some_and(|(_, r)| !r.contains(';')));
        let Some(end) = code[i..].find(';') else { break };
        let tree: String = code[i + 4..i + end].split_whitespace().collect::<Vec<_>>().join(" ");
        for path in expand(&tree, &[]) {
            out.push((public, path));
        }
        from = i + end;
    }
    out
}

/// `a::{b, c::{d, e as f}}` as `[a, b]`, `[a, c, d]`, `[a, c, e]`.
fn expand(tree: &str, prefix: &[String]) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let (mut parts, mut depth, mut cur) = (Vec::new(), 0, String::new());
        for c in inner.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(std::mem::take(&mut cur));
                    continue;
                }
                _ => {}
            }
            cur.push(c);
        }
        parts.push(cur);
        return parts.iter().filter(|p| !p.trim().is_empty()).flat_map(|p| expand(p, prefix)).collect();
    }
    if let Some((head, rest)) = tree.split_once("::{") {
        let mut p = prefix.to_vec();
        p.extend(head.split("::").map(|s| s.trim().to_string()));
        return expand(&format!("{{{rest}"), &p);
    }
    let path = tree.split(" as ").next().unwrap_or_default();
    let mut p = prefix.to_vec();
    p.extend(path.split("::").map(|s| s.trim().to_string()));
    vec![p]
}

/// Paths in code outside `use` statements: `crate::…`, `super::…`, `self::…`, and a
/// module's paths into its own `children`.
fn inline_paths(code: &str, children: &[String]) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut starts: Vec<String> = ["crate", "super", "self"].iter().map(|s| s.to_string()).collect();
    starts.extend(children.iter().cloned());
    let mut out = Vec::new();
    for statement in code.split(';') {
        if statement.trim_start().starts_with("use ") || statement.trim_start().starts_with("pub use ") {
            continue;
        }
        for start in &starts {
            let needle = format!("{start}::");
            for (i, _) in statement.match_indices(&needle) {
                let before = statement[..i].chars().next_back();
                if before.is_some_and(|c| ident(c) || c == ':') {
                    continue;
                }
                let path: Vec<String> = statement[i..]
                    .split("::")
                    .map(|seg| seg.chars().take_while(|&c| ident(c)).collect::<String>())
                    .take_while(|s| !s.is_empty())
                    .collect();
                out.push(path);
            }
        }
    }
    out
}

/// Every circle of imports, as the modules it goes through.
fn circles(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    // Tarjan's strongly connected components.
    struct Walk<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit(w: &mut Walk<'_>, v: &Module) {
        let n = w.index.len();
        w.index.insert(v.clone(), n);
        w.low.insert(v.clone(), n);
        w.stack.push(v.clone());
        for next in w.edges.get(v).into_iter().flatten() {
            if !w.index.contains_key(next) {
                visit(w, next);
                let low = w.low[v].min(w.low[next]);
                w.low.insert(v.clone(), low);
            } else if w.stack.contains(next) {
                let low = w.low[v].min(w.index[next]);
                w.low.insert(v.clone(), low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(m) = w.stack.pop() {
                let done = m == *v;
                component.push(m);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let mut w = Walk { edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    let nodes: BTreeSet<Module> = edges.keys().chain(edges.values().flatten()).cloned().collect();
    for v in &nodes {
        if !w.index.contains_key(v) {
            visit(&mut w, v);
        }
    }
    w.found
}

fn spell(m: &Module) -> String {
    if m.is_empty() {
        "crate".into()
    } else {
        m.join("::")
    }
}

/// The edges between top-level modules (folders), each folder one node.
fn folders(edges: &BTreeMap<Module, BTreeSet<Module>>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut out: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (from, tos) in edges.iter().filter(|(from, _)| !from.is_empty()) {
        for to in tos.iter().filter(|to| !to.is_empty()) {
            if from[..1] != to[..1] {
                out.entry(from[..1].to_vec()).or_default().insert(to[..1].to_vec());
            }
        }
    }
    out
}

#[test]
fn the_ledger_imports_in_no_circle() {
    let ledger = Crate::read(&root().join("ledger/src"));
    assert!(ledger.modules.len() > 40, "read too few modules of the ledger: {}", ledger.modules.len());
    // The reading finds what it should: the sequencer hands groups to the committer through
    // `group.rs`, and its loop calls its own `plan.rs`.
    let sequencer = &ledger.edges[&vec!["pipeline".to_string(), "sequencer".to_string()]];
    assert!(sequencer.contains(&vec!["pipeline".to_string(), "group".to_string()]), "{sequencer:?}");
    assert!(sequencer.contains(&vec!["pipeline".to_string(), "sequencer".to_string(), "plan".to_string()]), "{sequencer:?}");
    let found: Vec<String> = circles(&ledger.edges).iter().map(|c| c.iter().map(spell).collect::<Vec<_>>().join(" <-> ")).collect();
    assert!(found.is_empty(), "the ledger's files import each other in circles: {found:#?}");
}

#[test]
fn each_layer_of_the_ledger_uses_only_the_layers_above_it() {
    // The map in ledger/src/lib.rs, top to bottom.
    let layers =
        ["error", "tlog", "model", "evidence", "store", "privacy", "pipeline", "cluster", "ledger", "export", "submitter", "fuzzing"];
    let ledger = Crate::read(&root().join("ledger/src"));
    let layer = |m: &Module| layers.iter().position(|l| m[0] == *l).unwrap_or_else(|| panic!("{} is in no layer of the map", spell(m)));
    let mut wrong = Vec::new();
    for (from, tos) in &ledger.edges {
        if from.is_empty() {
            continue;
        }
        for to in tos {
            if layer(to) > layer(from) {
                wrong.push(format!("{} uses {}, a layer below it", spell(from), spell(to)));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_server_handlers_do_not_import_each_other() {
    let web = Crate::read(&root().join("web/src"));
    let router = &web.modules[&vec!["router".to_string()]];
    // The modules whose functions the router routes to.
    let handlers: BTreeSet<String> = ["get(", "post(", ".post("]
        .iter()
        .flat_map(|call| router.match_indices(call).map(move |(i, _)| &router[i + call.len()..]))
        .filter_map(|rest| rest.split_once("::").map(|(m, _)| m.trim().to_string()))
        .filter(|m| m.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .collect();
    assert!(handlers.len() >= 8 && handlers.contains("why") && handlers.contains("ingest"), "read too few handler modules: {handlers:?}");
    let mut wrong = Vec::new();
    for (from, tos) in folders(&web.edges) {
        for to in tos {
            if handlers.contains(&from[0]) && handlers.contains(&to[0]) {
                wrong.push(format!("handler module {} imports handler module {}", from[0], to[0]));
            }
        }
    }
    assert!(wrong.is_empty(), "shared pieces belong in a shared module: {wrong:#?}");
    let found: Vec<String> = circles(&folders(&web.edges)).iter().map(|c| c.iter().map(spell).collect::<Vec<_>>().join(" <-> ")).collect();
    assert!(found.is_empty(), "the server's modules import each other in circles: {found:#?}");
}

// ---- File sizes ---------------------------------------------------------------------------

/// Files over 600 lines on purpose, each with why. None: the demo's data, the last one, is data
/// files now (`web/demo/`, issue 23).
const TOO_LONG_FOR_NOW: [(&str, &str); 0] = [];

#[test]
fn no_source_file_is_over_600_lines_and_each_over_400_says_why() {
    let mut files = Vec::new();
    for dir in ["ledger/src", "ledger/benches", "web/src", "web/benches", "verifier/src", "verifier/benches"] {
        walk(&root().join(dir), &mut files);
    }
    assert!(files.len() > 100, "read too few source files: {}", files.len());
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(root()).unwrap_or(&f).to_string_lossy().replace("../", "");
        let text = std::fs::read_to_string(&f).expect("read a source file");
        let lines = text.lines().count();
        let header: String = text.lines().take_while(|l| l.starts_with("//!") || l.starts_with("#!")).collect::<Vec<_>>().join(" ");
        let excused = TOO_LONG_FOR_NOW.iter().any(|(path, _)| rel.ends_with(path));
        if lines > 600 && !excused {
            wrong.push(format!("{rel} has {lines} lines (at most 600): split it by concern"));
        } else if lines > 400 && !excused && !header.contains("400 lines") {
            wrong.push(format!("{rel} has {lines} lines: say in its header why it is over 400 lines, or split it"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
