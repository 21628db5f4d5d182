//! Conformance vectors from /work/shared/vectors (see its README.md).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use sightline_verifier::merkle::{self, ZeroRule};
use sightline_verifier::note::{Checkpoint, Note, Skey, Vkey};
use sightline_verifier::tiles;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors");

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("vector folder").flatten().collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap_or("")).expect("vector base64")
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default()
}

fn load(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    json_files(&Path::new(VECTORS).join("merkle-proofs/inclusion"), &mut files);
    assert!(files.len() > 50, "found only {} inclusion vectors", files.len());
    let mut happy = 0;
    for f in &files {
        let v = load(f);
        let got = merkle::verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(&v["leafHash"]),
            &proof(&v["proof"]),
            &b64(&v["root"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{}: {got:?}", f.display());
        happy += usize::from(!want_err);
    }
    assert!(happy >= 6);
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    json_files(&Path::new(VECTORS).join("merkle-proofs/consistency"), &mut files);
    assert!(files.len() > 50, "found only {} consistency vectors", files.len());
    for f in &files {
        let v = load(f);
        let (s1, s2) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
        let (r1, r2, p) = (b64(&v["root1"]), b64(&v["root2"]), proof(&v["proof"]));
        let want_err = v["wantErr"].as_bool().unwrap();
        // The transparency-dev suite rejects every proof from size 0: honour it file by file.
        let strict = merkle::verify_consistency(s1, s2, &r1, &r2, &p, ZeroRule::Reject);
        assert_eq!(strict.is_err(), want_err, "{}: {strict:?}", f.display());
        // Our production rule (SPEC §6, C2SP tlog-witness) differs only from size 0.
        let ours = merkle::verify_consistency(s1, s2, &r1, &r2, &p, ZeroRule::AcceptEmptyProof);
        if s1 != 0 {
            assert_eq!(ours.is_err(), want_err, "{}: {ours:?}", f.display());
        } else {
            let accept = p.is_empty() && r1 == merkle::empty_root() && r2.len() == 32;
            assert_eq!(ours.is_ok(), accept, "{}: {ours:?}", f.display());
        }
    }
}

#[test]
fn size_zero_rule() {
    let e = merkle::empty_root();
    let none: [Vec<u8>; 0] = [];
    let r = merkle::leaf_hash(b"x");
    assert!(merkle::verify_consistency(0, 5, &e, &r, &none, ZeroRule::AcceptEmptyProof).is_ok());
    assert!(merkle::verify_consistency(0, 0, &e, &e, &none, ZeroRule::AcceptEmptyProof).is_ok());
    assert!(merkle::verify_consistency(0, 5, &r, &r, &none, ZeroRule::AcceptEmptyProof).is_err());
    assert!(merkle::verify_consistency(0, 5, &e, &r, &[r], ZeroRule::AcceptEmptyProof).is_err());
    assert!(merkle::verify_consistency(0, 0, &e, &e, &none, ZeroRule::Reject).is_err());
}

#[test]
fn eight_leaf_tree() {
    let v = load(&Path::new(VECTORS).join("merkle-tree-8-leaves.json"));
    let leaves: Vec<Vec<u8>> = v["leaf_inputs"].as_array().unwrap().iter().map(|x| hex::decode(x.as_str().unwrap()).unwrap()).collect();
    let hashes = merkle::leaf_hashes(&leaves);
    for (level, nodes) in v["node_hashes"].as_array().unwrap().iter().enumerate() {
        for (i, want) in nodes.as_array().unwrap().iter().enumerate() {
            let span = 1usize << level;
            let got = merkle::root(&hashes[i * span..(i + 1) * span]);
            assert_eq!(hex::encode(got), want.as_str().unwrap(), "level {level} node {i}");
        }
    }
    let roots = v["root_hashes"].as_array().unwrap();
    assert_eq!(roots.len(), 9);
    for (n, want) in roots.iter().enumerate() {
        assert_eq!(hex::encode(merkle::root(&hashes[..n])), want.as_str().unwrap(), "root of {n}");
        let mut cr = merkle::CompactRange::new();
        cr.extend(&hashes[..n]);
        assert_eq!(hex::encode(cr.root()), want.as_str().unwrap(), "compact root of {n}");
    }
}

fn vector_line<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter_map(|l| l.strip_prefix(prefix)).map(str::trim).collect()
}

#[test]
fn c2sp_signed_note_example() {
    let text = std::fs::read_to_string(Path::new(VECTORS).join("signed-note-vectors.txt")).unwrap();
    let vkey = Vkey::parse(vector_line(&text, "vkey: ")[0]).unwrap();
    assert_eq!(vkey.name, "example.com/foo");
    assert_eq!(vkey.id, 0x530d903a);
    let sig = text.lines().find(|l| l.starts_with("— example.com/foo ")).unwrap();
    let note = format!("This is an example message.\n\n{sig}\n");
    let parsed = Note::parse("the note", note.as_bytes()).unwrap();
    assert_eq!(parsed.verify("the note", std::slice::from_ref(&vkey)).unwrap(), vec![vkey.clone()]);
    // One changed character breaks it; an unknown key alone is "untrusted".
    let bad = note.replace("example message", "example massage");
    let err = Note::parse("the note", bad.as_bytes()).unwrap().verify("the note", &[vkey]).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}

#[test]
fn go_note_vectors() {
    let text = std::fs::read_to_string(Path::new(VECTORS).join("signed-note-vectors.txt")).unwrap();
    let skey = Skey::parse(vector_line(&text, "skey: ")[0]).unwrap();
    let vkeys: Vec<Vkey> = vector_line(&text, "vkey: ").iter().filter_map(|v| Vkey::parse(v).ok()).collect();
    let peter = vkeys.iter().find(|k| k.name == "PeterNeumann").unwrap().clone();
    let enoch = vkeys.iter().find(|k| k.name == "EnochRoot").unwrap().clone();
    assert_eq!(skey.vkey(), peter);
    let msg = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    let peter_line = text.lines().find(|l| l.starts_with("— PeterNeumann ")).unwrap();
    let enoch_line = text.lines().find(|l| l.starts_with("— EnochRoot ")).unwrap();
    // Ed25519 is deterministic: our signature line is byte for byte the Go one.
    assert_eq!(skey.sign_line(msg), format!("{peter_line}\n"));
    let note = format!("{msg}\n{peter_line}\n{enoch_line}\n");
    let parsed = Note::parse("the note", note.as_bytes()).unwrap();
    assert_eq!(parsed.sigs.len(), 2);
    assert_eq!(parsed.verify("n", std::slice::from_ref(&peter)).unwrap(), vec![peter.clone()]);
    assert_eq!(parsed.verify("n", std::slice::from_ref(&enoch)).unwrap(), vec![enoch.clone()]);
    assert_eq!(parsed.verify("n", &[peter.clone(), enoch.clone()]).unwrap().len(), 2);
    // Neither key known: refused; Enoch's signature swapped onto Peter's name: refused.
    assert!(parsed.verify("n", &[]).is_err());
    let forged = format!("{msg}\n{}\n", enoch_line.replace("EnochRoot", "PeterNeumann"));
    assert!(Note::parse("n", forged.as_bytes()).unwrap().verify("n", std::slice::from_ref(&peter)).is_err());
    // Negative parses (from the Go test file's list).
    let bad_notes = [
        format!("{msg}{peter_line}\n"),                              // missing blank line
        format!("{msg}\n{peter_line}"),                              // no final newline
        format!("{msg}\n— Bad Name {}\n", &peter_line[17..]),        // space in key name
        format!("{}\x01\n\n{peter_line}\n", msg.trim_end()),         // control character
        format!("{msg}\n{}", format!("{peter_line}\n").repeat(101)), // too many signatures
    ];
    for n in &bad_notes {
        assert!(Note::parse("n", n.as_bytes()).is_err(), "accepted {n:?}");
    }
    assert!(Note::parse("n", b"text\n\n\xff\xfe\n").is_err(), "non-UTF-8 accepted");
    let hundred = format!("{msg}\n{}", format!("{peter_line}\n").repeat(100));
    assert!(Note::parse("n", hundred.as_bytes()).is_ok());
    // Wrong key hash / wrong name in a vkey.
    let v = peter.to_text();
    assert!(Vkey::parse(&v.replace("c74f20a3", "c74f20a4")).is_err());
    assert!(Vkey::parse(&v.replace("PeterNeumann", "PeterNeuman")).is_err());
}

#[test]
fn tlog_checkpoint_golden() {
    let cp = Checkpoint::parse("go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n").unwrap();
    assert_eq!(cp.size, 123456789012);
    assert_eq!(cp.root, merkle::leaf_hash(b"hello world"));
    assert_eq!(cp.to_text(), "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n");
    for bad in [
        "o\n012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "o\n1\nAAAA\n",
        "o\n1\n",
        "\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
        "o\n+1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n",
    ] {
        assert!(Checkpoint::parse(bad).is_err(), "{bad:?}");
    }
    let ext = Checkpoint::parse("o\n1\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\nextra line\n").unwrap();
    assert_eq!(ext.extensions, vec!["extra line".to_string()]);
}

#[test]
fn tessera_testdata_key() {
    let text = std::fs::read_to_string(Path::new(VECTORS).join("signed-note-vectors.txt")).unwrap();
    let skey = Skey::parse(vector_line(&text, "skey: ")[1]).unwrap();
    let vkey = Vkey::parse(vector_line(&text, "vkey: ")[3]).unwrap();
    assert_eq!(skey.vkey(), vkey);
    let note = skey.sign_note("example.com/log/testdata\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    let n = Note::parse("cp", note.as_bytes()).unwrap();
    n.verify("cp", &[vkey]).unwrap();
    assert_eq!(Checkpoint::parse(&n.text).unwrap().root, merkle::empty_root());
}

#[test]
fn tile_path_vectors() {
    let text = std::fs::read_to_string(Path::new(VECTORS).join("tile-path-vectors.txt")).unwrap();
    assert!(text.contains("index 1234067 -> \"x001/x234/067\""));
    assert_eq!(tiles::encode_index(1234067), "x001/x234/067");
    assert_eq!(tiles::encode_index(5), "005");
    assert_eq!(tiles::encode_index(1000), "x001/000");
    assert_eq!(tiles::tile_path(0, 1234067, 256), "tile/0/x001/x234/067");
    assert_eq!(tiles::tile_path(0, 1234067, 7), "tile/0/x001/x234/067.p/7");
    assert_eq!(tiles::entries_path(0, 15), "tile/entries/000.p/15");
    let t = tiles::parse_tile_path("tile/0/x001/x234/067.p/7").unwrap();
    assert_eq!((t.level, t.index, t.width), (Some(0), 1234067, 7));
    let t = tiles::parse_tile_path("tile/entries/x001/000").unwrap();
    assert_eq!((t.level, t.index, t.width), (None, 1000, 256));
    for bad in [
        "tile/0/1/234/067",
        "tile/0/x001/x234",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/x000/001",
        "tile/0/00",
        "tile/3/5/x123/x456/078",
        "tile/0/000.p/05",
    ] {
        assert!(tiles::parse_tile_path(bad).is_none(), "{bad}");
    }
    let paths = |size: u64| -> Vec<String> {
        tiles::tiles_for_size(size).iter().map(|t| tiles::tile_path(t.level.unwrap(), t.index, t.width)).collect()
    };
    let p = paths(70000);
    assert_eq!(p.iter().filter(|x| x.starts_with("tile/0/") && !x.contains(".p/")).count(), 273);
    for want in ["tile/0/273.p/112", "tile/1/000", "tile/1/001.p/17", "tile/2/000.p/1"] {
        assert!(p.contains(&want.to_string()), "{want}");
    }
    assert_eq!(p.len(), 273 + 1 + 1 + 1 + 1);
    assert_eq!(paths(256), vec!["tile/0/000", "tile/1/000.p/1"]);
    assert_eq!(paths(300), vec!["tile/0/000", "tile/0/001.p/44", "tile/1/000.p/1"]);
    assert_eq!(paths(15), vec!["tile/0/000.p/15"]);
    assert_eq!(tiles::entries_path(0, tiles::width_at(0, 15)), "tile/entries/000.p/15");
    assert!(paths(0).is_empty());
}

#[test]
fn entry_bundle_roundtrip() {
    let entries = vec![b"".to_vec(), b"hello".to_vec(), vec![7u8; 300]];
    let enc = tiles::encode_bundle(&entries).unwrap();
    let dec = tiles::decode_bundle(&enc).unwrap();
    assert_eq!(dec, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    assert!(tiles::decode_bundle(&enc[..enc.len() - 1]).is_err());
    assert!(tiles::decode_bundle(&[0]).is_err());
    assert!(tiles::encode_bundle(&[vec![0u8; 65536]]).is_none());
}
