//! Conformance vectors from `shared/vectors/` (see its README.md): RFC 9162
//! proofs (transparency-dev/merkle), the 8-leaf tree, C2SP signed notes and
//! checkpoints, and C2SP tlog-tiles paths. Every file is honoured as it says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::Value;
use sightline_ledger::merkle::{empty_root, leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
use sightline_ledger::note::{Checkpoint, NoteSigner, NoteVerifier, SignedNote};
use sightline_ledger::tiles::{entries_path, parse_tile_path, tile_path, tiles_for_size, TileId, TilePath};
use sightline_ledger::Error;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors");

fn vectors(rel: &str) -> PathBuf {
    Path::new(VECTORS).join(rel)
}

fn read(rel: &str) -> String {
    let p = vectors(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Every vector of a proof folder, with its path.
fn proof_vectors(kind: &str) -> Vec<(String, Value)> {
    let mut files = Vec::new();
    json_files(&vectors(&format!("merkle-proofs/{kind}")), &mut files);
    files.sort();
    let out: Vec<(String, Value)> = files
        .into_iter()
        .map(|p| {
            let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p.display().to_string(), v)
        })
        .collect();
    assert!(!out.is_empty(), "no {kind} vectors found under {VECTORS}");
    out
}

fn raw(v: &Value) -> Vec<u8> {
    v.as_str().map(|s| B64.decode(s).expect("vector base64")).unwrap_or_default()
}

/// A vector's "hash": `None` when it is not 32 bytes (a verifier must reject it).
fn hash(bytes: &[u8]) -> Option<Hash> {
    bytes.try_into().ok()
}

fn raw_proof(v: &Value) -> Vec<Vec<u8>> {
    v["proof"].as_array().map(|a| a.iter().map(raw).collect()).unwrap_or_default()
}

fn typed_proof(raws: &[Vec<u8>]) -> Option<Vec<Hash>> {
    raws.iter().map(|r| hash(r)).collect()
}

fn expectation(name: &str, v: &Value) -> (bool, String) {
    let want_err = v["wantErr"].as_bool().expect("wantErr");
    (want_err, format!("{name} ({})", v["desc"].as_str().unwrap_or("")))
}

#[test]
fn transparency_dev_inclusion_vectors() {
    let all = proof_vectors("inclusion");
    let (mut accepted, mut rejected) = (0, 0);
    for (name, v) in &all {
        let (want_err, what) = expectation(name, v);
        let (index, size) = (v["leafIdx"].as_u64().unwrap(), v["treeSize"].as_u64().unwrap());
        let ok = match (hash(&raw(&v["leafHash"])), hash(&raw(&v["root"])), typed_proof(&raw_proof(v))) {
            (Some(leaf), Some(root), Some(proof)) => {
                let res = verify_inclusion(&leaf, index, size, &proof, &root);
                if let Err(e) = &res {
                    assert!(matches!(e, Error::BadProof(_)), "{what}: {e}");
                }
                res.is_ok()
            }
            _ => false,
        };
        assert_eq!(ok, !want_err, "{what}");
        if ok {
            accepted += 1
        } else {
            rejected += 1
        }
    }
    assert!(accepted > 0 && rejected > 0);
    println!("inclusion vectors: {} ({accepted} accepted, {rejected} rejected)", all.len());
}

#[test]
fn transparency_dev_consistency_vectors() {
    let all = proof_vectors("consistency");
    let (mut accepted, mut rejected) = (0, 0);
    for (name, v) in &all {
        let (want_err, what) = expectation(name, v);
        let (size1, size2) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
        let (r1, r2, proof) = (raw(&v["root1"]), raw(&v["root2"]), raw_proof(v));
        let ok = match (hash(&r1), hash(&r2), typed_proof(&proof)) {
            (Some(root1), Some(root2), Some(proof)) => verify_consistency(size1, size2, &root1, &root2, &proof).is_ok(),
            // README exception: between equal sizes, verification is only "roots
            // equal, proof empty", so a stand-in that is not 32 bytes may pass. Pad
            // both stand-ins alike and let the verifier decide (it still rejects
            // size 0, whose root must be SHA-256("")).
            _ if size1 == size2 && r1 == r2 && proof.is_empty() && r1.len() < 32 => {
                let mut pad = [0u8; 32];
                pad[..r1.len()].copy_from_slice(&r1);
                verify_consistency(size1, size2, &pad, &pad, &[]).is_ok()
            }
            _ => false,
        };
        assert_eq!(ok, !want_err, "{what}");
        if ok {
            accepted += 1
        } else {
            rejected += 1
        }
    }
    assert!(accepted > 0 && rejected > 0);
    println!("consistency vectors: {} ({accepted} accepted, {rejected} rejected)", all.len());
}

fn hex_hash(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap()
}

#[test]
fn eight_leaf_tree() {
    let v: Value = serde_json::from_str(&read("merkle-tree-8-leaves.json")).unwrap();
    let leaves: Vec<Hash> =
        v["leaf_inputs"].as_array().unwrap().iter().map(|x| leaf_hash(&hex::decode(x.as_str().unwrap()).unwrap())).collect();
    let roots: Vec<Hash> = v["root_hashes"].as_array().unwrap().iter().map(hex_hash).collect();
    assert_eq!((leaves.len(), roots.len()), (8, 9));
    assert_eq!(roots[0], empty_root());
    let full = Tree::from_leaf_hashes(leaves.clone());
    for (level, hashes) in v["node_hashes"].as_array().unwrap().iter().enumerate() {
        let want: Vec<Hash> = hashes.as_array().unwrap().iter().map(hex_hash).collect();
        assert_eq!(full.level(level), want.as_slice(), "level {level}");
    }
    let mut grown = Tree::new();
    for (n, root) in roots.iter().enumerate() {
        assert_eq!(grown.root(), *root, "pushed n={n}");
        assert_eq!(Tree::from_leaf_hashes(leaves[..n].to_vec()).root(), *root, "built n={n}");
        assert_eq!(full.root_at(n as u64).unwrap(), *root, "root_at n={n}");
        for i in 0..n as u64 {
            let p = full.inclusion_proof(i, n as u64).unwrap();
            verify_inclusion(&leaves[i as usize], i, n as u64, &p, root).unwrap();
        }
        for (old, old_root) in roots.iter().enumerate().take(n + 1) {
            let p = full.consistency_proof(old as u64, n as u64).unwrap();
            verify_consistency(old as u64, n as u64, old_root, root, &p).unwrap();
        }
        if let Some(leaf) = leaves.get(n) {
            grown.push(*leaf);
        }
    }
}

/// The signed-note vector file, by section letter (`A`, `B`, ...).
fn note_sections() -> BTreeMap<char, Vec<String>> {
    let mut out: BTreeMap<char, Vec<String>> = BTreeMap::new();
    let mut current = None;
    for line in read("signed-note-vectors.txt").lines() {
        if let Some(rest) = line.strip_prefix("## [") {
            current = rest.chars().next();
        } else if let Some(c) = current {
            out.entry(c).or_default().push(line.to_string());
        }
    }
    out
}

fn field<'a>(lines: &'a [String], key: &str) -> Vec<&'a str> {
    lines.iter().filter_map(|l| l.strip_prefix(key)).collect()
}

#[test]
fn c2sp_signed_note_example() {
    let s = note_sections();
    let a = &s[&'A'];
    let verifier = NoteVerifier::from_vkey(field(a, "vkey: ")[0]).unwrap();
    let start = a.iter().position(|l| l.starts_with("note (")).unwrap() + 1;
    let end = a.iter().position(|l| l.starts_with("— ")).unwrap();
    let note: String = a[start..=end].iter().map(|l| format!("{l}\n")).collect();
    let parsed = SignedNote::parse(&note).unwrap();
    assert_eq!(parsed.text, "This is an example message.\n");
    assert_eq!(parsed.to_text(), note);
    assert_eq!(parsed.verify(std::slice::from_ref(&verifier)).unwrap()[0].vkey(), verifier.vkey());
}

#[test]
fn go_sumdb_note_vectors() {
    let s = note_sections();
    let b = &s[&'B'];
    let signer = NoteSigner::from_skey(field(b, "skey: ")[0]).unwrap();
    let vkeys = field(b, "vkey: ");
    let (peter, enoch) = (NoteVerifier::from_vkey(vkeys[0]).unwrap(), NoteVerifier::from_vkey(vkeys[1]).unwrap());
    assert_eq!(signer.vkey(), vkeys[0]);
    assert_eq!((peter.vkey(), enoch.vkey()), (vkeys[0].to_string(), vkeys[1].to_string()));
    let start = b.iter().position(|l| l == "text:").unwrap() + 1;
    let end = b.iter().position(|l| l.starts_with("sig lines")).unwrap();
    let text: String = b[start..end].iter().map(|l| format!("{l}\n")).collect();
    let sigs: Vec<&String> = b.iter().filter(|l| l.starts_with("— ")).collect();
    // Deterministic Ed25519: the Peter line is reproduced byte for byte.
    assert_eq!(signer.sign_note(&text).unwrap(), format!("{text}\n{}\n", sigs[0]));
    let note = format!("{text}\n{}\n{}\n", sigs[0], sigs[1]);
    let parsed = SignedNote::parse(&note).unwrap();
    let ok = parsed.verify(&[enoch.clone(), peter.clone()]).unwrap();
    assert_eq!(ok.iter().map(|v| v.name()).collect::<Vec<_>>(), ["PeterNeumann", "EnochRoot"]);
    assert_eq!(parsed.verify(std::slice::from_ref(&enoch)).unwrap().len(), 1);

    // Negative cases of note_test.go.
    let mut other_id = vkeys[0].to_string();
    other_id.replace_range(13..21, "c74f20a4");
    assert!(NoteVerifier::from_vkey(&other_id).is_err(), "wrong key id");
    assert!(NoteVerifier::from_vkey(&vkeys[0].replace("PeterNeumann", "PeterNeuman")).is_err(), "wrong name");
    assert!(NoteVerifier::from_vkey(&vkeys[0].replace("PeterNeumann", "Peter Neumann")).is_err());
    assert!(NoteSigner::generate("Bad Name").is_err());
    let bad_name = note.replace("— EnochRoot", "— Bad Name");
    assert!(matches!(SignedNote::parse(&bad_name), Err(Error::Malformed { .. })), "bad name");
    let renamed = format!("{text}\n{}\n", sigs[0].replace("PeterNeumann", "PeterNeuman"));
    let unknown = SignedNote::parse(&renamed).unwrap();
    assert!(
        matches!(unknown.verify(std::slice::from_ref(&peter)), Err(Error::BadSignature(_))),
        "unknown name is ignored, then none is left"
    );
    let mut wrong_id = parsed.clone();
    wrong_id.signatures[0].key_id[3] ^= 1;
    assert!(wrong_id.verify(std::slice::from_ref(&peter)).is_err(), "unknown id is ignored");
    assert_eq!(wrong_id.verify(&[peter.clone(), enoch.clone()]).unwrap().len(), 1);
    let mut flipped = parsed.clone();
    flipped.signatures[1].signature[10] ^= 0x40;
    let err = flipped.verify(&[peter.clone(), enoch.clone()]).unwrap_err().to_string();
    assert!(err.contains("EnochRoot+af0cfe78"), "{err}");
    assert!(SignedNote::parse(&format!("{text}{}\n", sigs[0])).is_err(), "missing blank line");
    assert!(SignedNote::parse(&format!("{text}\n{}", sigs[0])).is_err(), "missing final newline");
    assert!(SignedNote::parse(&note.replace("cryptography", "crypto\rgraphy")).is_err(), "control char");
    assert!(SignedNote::parse(&note.replace("\n\n", "\n\t\n")).is_err());
    let many = format!("{text}\n{}", format!("{}\n", sigs[1]).repeat(101));
    assert!(matches!(SignedNote::parse(&many), Err(Error::Malformed { .. })), "101 signatures");
    let hundred = format!("{text}\n{}", format!("{}\n", sigs[1]).repeat(100));
    assert_eq!(SignedNote::parse(&hundred).unwrap().verify(&[enoch]).unwrap().len(), 1);
}

#[test]
fn legacy_checkpoint_tessera_keys_and_cosignature_keys() {
    let s = note_sections();
    let c = &s[&'C'];
    let quoted = c.iter().find(|l| l.starts_with('"')).unwrap();
    let text = quoted[1..].split('"').next().unwrap().replace("\\n", "\n");
    let cp = Checkpoint::parse(&text).unwrap();
    assert_eq!((cp.origin.as_str(), cp.size), ("go.sum database tree", 123456789012));
    assert_eq!(cp.root, leaf_hash(b"hello world"));
    assert!(cp.extensions.is_empty());
    assert_eq!(cp.to_text(), text);

    let d = &s[&'D'];
    let signer = NoteSigner::from_skey(field(d, "skey: ")[0]).unwrap();
    assert_eq!(signer.skey(), field(d, "skey: ")[0]);
    assert_eq!(signer.vkey(), field(d, "vkey: ")[0]);
    assert_eq!(signer.name(), "example.com/log/testdata");
    let v = NoteVerifier::from_vkey(field(d, "vkey: ")[0]).unwrap();
    assert_eq!((v.key_id(), v.name()), (signer.key_id(), signer.name()));
    let sig = signer.sign_bytes(b"msg");
    v.verify_bytes(b"msg", &sig).unwrap();
    assert!(v.verify_bytes(b"msh", &sig).is_err());

    // [E] cosignature/v1 keys (type 0x04) are not Ed25519 note keys.
    let e = &s[&'E'];
    for line in e.iter().filter(|l| l.contains(" vkey: ")) {
        let vkey = line.split(" vkey: ").nth(1).unwrap().trim();
        assert!(NoteVerifier::from_vkey(vkey).is_err(), "{vkey}");
    }
}

#[test]
fn note_round_trip_rotation_and_checkpoint_strictness() {
    let old = NoteSigner::generate("sightline.example/log").unwrap();
    let new = NoteSigner::generate("sightline.example/log").unwrap();
    let cp = Checkpoint { origin: "sightline.example/log".into(), size: 7, root: [9; 32], extensions: vec![] };
    let note = old.sign_note(&cp.to_text()).unwrap();
    let mut parsed = SignedNote::parse(&note).unwrap();
    assert_eq!(parsed.to_text(), note);
    assert_eq!(Checkpoint::parse(&parsed.text).unwrap(), cp);
    assert!(parsed.verify(&[new.verifier()]).is_err());
    parsed.add_signature(&new);
    parsed.add_signature(&new);
    assert_eq!(parsed.signatures.len(), 2);
    assert_eq!(parsed.verify(&[new.verifier(), old.verifier()]).unwrap().len(), 2);
    assert_eq!(NoteSigner::from_skey(&old.skey()).unwrap().vkey(), old.vkey());
    assert!(NoteSigner::from_skey(&format!("{}\n", old.skey())).is_err());
    assert!(format!("{old:?}").contains("redacted"));
    for n in ["", "a b", "a+b", "a\u{a0}b"] {
        assert!(NoteSigner::generate(n).is_err(), "{n:?}");
    }
    assert!(old.sign_note("no newline").is_err());
    assert!(old.sign_note("cr\r\n").is_err());
    let root = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    for bad in [
        format!("o\n1\n{root}"),
        format!("o\n01\n{root}\n"),
        format!("o\n+1\n{root}\n"),
        format!("o\n1\n{}\n", &root[4..]),
        "o\n1\n".to_string(),
        format!("\n1\n{root}\n"),
        format!("o\n1\n{root}\n\n"),
        format!("o\n18446744073709551616\n{root}\n"),
        format!("o\n1\n{root}\r\n"),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
    }
    let ok = Checkpoint::parse(&format!("o\n0\n{root}\next\n")).unwrap();
    assert_eq!((ok.size, ok.extensions.clone()), (0, vec!["ext".to_string()]));
    assert_eq!(ok.to_text(), format!("o\n0\n{root}\next\n"));
}

/// `tile/...` tokens of a line, without surrounding punctuation.
fn tile_tokens(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || "(),\"".contains(c)).filter(|t| t.starts_with("tile/")).map(str::to_string).collect()
}

#[test]
fn c2sp_tile_paths() {
    let text = read("tile-path-vectors.txt");
    let (c2sp, legacy) = text.split_once("## Go sumdb").expect("legacy section");
    // index row
    let row = c2sp.lines().find(|l| l.starts_with("index ")).unwrap();
    let index: u64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
    let n = row.split('"').nth(1).unwrap();
    assert_eq!(tile_path(0, index, 256), format!("tile/0/{n}"));
    assert_eq!(tile_path(0, index, 7), format!("tile/0/{n}.p/7"));
    assert_eq!(entries_path(index, 256), format!("tile/entries/{n}"));
    assert_eq!(entries_path(index, 255), format!("tile/entries/{n}.p/255"));
    let parsed = parse_tile_path(&format!("tile/3/{n}.p/9")).unwrap();
    assert_eq!(parsed, TilePath::Hashes(TileId { level: 3, index, width: 9 }));

    // tree-size rows (a row continues on indented lines)
    let mut rows: Vec<String> = Vec::new();
    for line in c2sp.lines() {
        if line.starts_with("tree size ") {
            rows.push(line.to_string());
        } else if line.starts_with(' ') && !rows.is_empty() {
            rows.last_mut().unwrap().push_str(line);
        }
    }
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let size: u64 = row.split_whitespace().nth(2).unwrap().parse().unwrap();
        let tiles = tiles_for_size(size);
        let paths: Vec<String> = tiles.iter().map(|t| tile_path(t.level, t.index, t.width)).collect();
        let named = tile_tokens(row);
        assert!(!named.is_empty(), "{row}");
        for p in &named {
            match parse_tile_path(p).unwrap_or_else(|e| panic!("{p}: {e}")) {
                TilePath::Hashes(_) => {
                    assert!(paths.contains(p), "size {size}: {p} missing from {paths:?}")
                }
                TilePath::Entries { index, width } => {
                    assert_eq!((index, u64::from(width)), (size / 256, size % 256), "{p}")
                }
            }
        }
        // "<k> full L<l> tile(s)" / "<k> partial L<l> tile width <w>" counts
        let mut counted = 0;
        for part in row.split(',') {
            let words: Vec<&str> = part.split_whitespace().collect();
            if let Some(i) = words.iter().position(|w| *w == "full" || *w == "partial") {
                let k: usize = words[i - 1].parse().unwrap();
                let level: u8 = words[i + 1].trim_start_matches('L').parse().unwrap();
                let full = words[i] == "full";
                let got = tiles.iter().filter(|t| t.level == level && (t.width == 256) == full).count();
                assert_eq!(got, k, "size {size}: {part}");
                counted += k;
            }
        }
        if counted > 0 {
            assert_eq!(counted, tiles.len(), "size {size}: every tile is described");
        } else {
            let hashes = named.iter().filter(|p| !p.contains("entries")).count();
            assert_eq!(hashes, tiles.len(), "size {size}: exactly the named tiles, got {paths:?}");
        }
    }

    // Legacy Go paths carry a height element: never accepted as C2SP paths.
    let legacy: Vec<&str> = legacy.lines().filter(|l| l.starts_with('"')).map(|l| l.split('"').nth(1).unwrap()).collect();
    assert!(legacy.len() >= 8);
    for p in legacy {
        assert!(parse_tile_path(p).is_err(), "legacy path {p} was accepted");
    }
    assert!(tiles_for_size(0).is_empty());
}
