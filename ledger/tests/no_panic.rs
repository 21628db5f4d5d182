//! Thousands of random and mutated inputs thrown at every parser of the ledger: none may panic,
//! and none may break a property the fuzz bodies assert. (The same bodies are the cargo-fuzz
//! targets in ledger/fuzz/; `cargo test -p sightline-ledger --test no_panic -- --ignored` writes
//! the seeds below into ledger/fuzz/corpus/ to start them from.)

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use sightline_ledger::fuzzing;
use sightline_ledger::note::SignedNote;
use sightline_ledger::privacy::RecipientKey;
use sightline_ledger::tiles::{entries_path, tile_path};
use sightline_ledger::Submission;

type Body = fn(&[u8]);

/// Every fuzz body by its cargo-fuzz target name, with the inputs each gets here: fewer where
/// an input costs Ed25519 operations (milliseconds each in a debug build).
const FAMILIES: [(&str, Body, u32); 11] = [
    ("json", fuzzing::json, 3000),
    ("entry", fuzzing::entry, 3000),
    ("record", fuzzing::record, 3000),
    ("submission", fuzzing::submission, 500),
    ("note", fuzzing::note, 500),
    ("receipt", fuzzing::receipt, 500),
    ("proofs", fuzzing::proofs, 2000),
    ("tiles", fuzzing::tiles, 3000),
    ("url", fuzzing::url, 3000),
    ("store", fuzzing::store, 300),
    ("witness", sightline_ledger::fuzzing::witness::add_checkpoint, 1500),
];

fn submission_json(s: &Submission) -> serde_json::Value {
    json!({ "body": s.body, "sig": s.sig, "personal": s.personal })
}

/// Valid instances of every format, per family, made with the ledger's own API on a ledger with
/// the fixed keys of `common` (the fuzz fixtures use the same keys, so these verify there).
fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let ledger = open(dir.path(), &keys).unwrap();
    register(&ledger, &keys);
    let subs = [submission(&keys, "m-1", "alice@example.org"), submission(&keys, "m-2", "bob@example.org")];
    let acks = ledger.submit(subs.to_vec()).unwrap().acks;
    ledger.object(acks[0].index, "alice@example.org").unwrap();
    let third = ledger.submit(vec![submission(&keys, "m-3", "alice@example.org")]).unwrap().acks;
    ledger.erase_recipient_of(acks[1].index, "bob@example.org").unwrap();
    let size = ledger.size();
    let entries = ledger.entries(0, size).unwrap();
    let checkpoint = ledger.checkpoint().unwrap();
    let receipt = ledger.receipt(acks[0].index).unwrap();
    let tokens: Vec<String> = acks.iter().chain(&third).filter_map(|a| a.why_token.clone()).collect();
    let personal = personal("carol@example.org");
    let width = size as u16;
    let bytes = |s: &str| s.as_bytes().to_vec();

    let json_seeds: Vec<Vec<u8>> = vec![
        bytes(subs[0].body.get()),
        serde_json::to_vec_pretty(&serde_json::from_str::<serde_json::Value>(subs[0].body.get()).unwrap()).unwrap(),
        personal.canonical().unwrap(),
        bytes(&subs[0].sig),
        bytes("CRwNmnZ8Jr7CmxQ5ohjeaSbM6Ue3qeSE+XnDPCdUTp4="),
        bytes(r#"{"a":[1,-2,9007199254740992],"b":"\u001f\n\"é","\u{1f600}":null}"#),
    ];
    let submissions = vec![
        serde_json::to_vec(&submission_json(&subs[0])).unwrap(),
        serde_json::to_vec_pretty(&submission_json(&subs[1])).unwrap(),
        bytes(&format!("{}\n\n{}\n", submission_json(&subs[0]), submission_json(&subs[1]))),
        serde_json::to_vec(&submission_json(&submission(&keys, "m-new", "dave@example.org"))).unwrap(),
        // A batch as `POST /api/v1/submissions` takes it, which `BatchText` splits.
        serde_json::to_vec(
            &json!({ "records": [submission_json(&subs[0]), submission_json(&submission(&keys, "m-batch", "erin@example.org"))] }),
        )
        .unwrap(),
    ];
    let mut records = vec![bytes(subs[0].body.get()), personal.canonical().unwrap(), serde_json::to_vec_pretty(&personal).unwrap()];
    records.extend(submissions[..2].iter().cloned());
    records.extend(entries.iter().map(|e| {
        let v: serde_json::Value = serde_json::from_slice(e).unwrap();
        serde_json::to_vec(&v["body"]).unwrap()
    }));
    records.push(bytes("2026-11-24T10:00:00.123Z"));
    let note = SignedNote::parse(&checkpoint).unwrap();
    let notes = vec![bytes(&checkpoint), bytes(&note.text), bytes(&ledger.vkey()), bytes(&keys.log.skey())];
    let receipts = vec![serde_json::to_vec(&receipt).unwrap(), bytes(&receipt.tlog_proof), entries[acks[0].index as usize].clone()];
    let mut proofs = Vec::new();
    for (index, size) in [(3u64, 700u64), (0, 1), (255, 777), (u64::MAX, u64::MAX)] {
        let mut p = [index.to_le_bytes(), size.to_le_bytes()].concat();
        for h in ledger.inclusion_proof(1, ledger.size()).unwrap() {
            p.extend_from_slice(&h);
        }
        proofs.push(p);
    }
    let bundle = ledger.entry_bundle(0, width).unwrap();
    let tiles =
        vec![bundle.clone(), ledger.tile(0, 0, width).unwrap(), [&[0u8][..], &3u64.to_le_bytes(), &[7, 0], &700u64.to_le_bytes()].concat()];
    let mut urls = vec![
        bytes(&tile_path(0, 0, width)),
        bytes(&entries_path(0, width)),
        bytes("tile/0/x001/x234/067.p/7"),
        bytes("tile/entries/000"),
        bytes("2026-11-20T18:04:05Z"),
    ];
    urls.extend(tokens.iter().map(|t| bytes(t)));
    urls.push(bytes(&sightline_ledger::request_auth::authorization(&keys.submitter, ORIGIN, "acme", 1_800_000_000)));
    let head = [&size.to_be_bytes()[..], checkpoint.as_bytes()].concat();
    let sealed = RecipientKey([5; 32]).seal(0, b"{}").unwrap();
    let mut store = vec![
        [&[0u8][..], &head].concat(),
        [&[0u8][..], &[7; 32], &u64::MAX.to_be_bytes(), &sealed].concat(),
        [&[1u8, 2, 16, 0][..], &5u64.to_le_bytes(), &10u64.to_le_bytes(), b"helloworld"].concat(),
    ];
    for write in 0..4u8 {
        store.push(vec![2, write]);
        store.push(vec![3, write, 0, 3, 40, 1, 4, 20, 0, 0]);
    }
    let mut entry_seeds = entries.clone();
    entry_seeds.push(bundle);
    vec![
        ("json", json_seeds),
        ("entry", entry_seeds),
        ("record", records),
        ("submission", submissions),
        ("note", notes),
        ("receipt", receipts),
        ("proofs", proofs),
        ("tiles", tiles),
        ("url", urls),
        ("store", store),
        ("witness", sightline_ledger::fuzzing::witness::seeds()),
    ]
}

fn mutate(seed: &[u8], ops: &[(u8, u16, u8)]) -> Vec<u8> {
    const INTERESTING: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b"\\u",
        b"\\ud800",
        b"\n",
        b"\n\n",
        b":",
        b",",
        b"-",
        b"0",
        b"99999999999999999999",
        b"9007199254740993",
        b"\xe2\x80\x94 ",
        b"+",
        b"=",
        b"Z",
        b"x000/",
        b".p/",
        b"null",
        b"\"not_disclosed\"",
        b"\"message\"",
        b"\"party\"",
    ];
    let mut v = seed.to_vec();
    for &(op, pos, byte) in ops {
        let at = if v.is_empty() { 0 } else { usize::from(pos) % v.len() };
        match op % 7 {
            0 if !v.is_empty() => v[at] = byte,
            1 => v.insert(at, byte),
            2 if !v.is_empty() => {
                v.remove(at);
            }
            3 => v.truncate(at),
            4 if !v.is_empty() => v[at] ^= 1 << (byte % 8),
            5 => {
                // Splice a copy of another part of the input (a repeated key, line or record).
                let from = usize::from(byte) * v.len() / 256;
                let piece = v[from..(from + 16).min(v.len())].to_vec();
                v.splice(at..at, piece);
            }
            _ => {
                let token = INTERESTING[usize::from(byte) % INTERESTING.len()];
                v.splice(at..at, token.iter().copied());
            }
        }
    }
    v
}

#[test]
fn seeds_pass_every_body() {
    for (name, seeds) in seeds() {
        let (_, body, _) = FAMILIES.iter().find(|(n, _, _)| *n == name).unwrap();
        for s in &seeds {
            body(s);
        }
    }
}

#[test]
fn random_bytes_do_not_panic() {
    for (name, body, cases) in FAMILIES {
        let mut runner = TestRunner::new(Config { cases: cases / 2, failure_persistence: None, ..Config::default() });
        runner
            .run(&proptest::collection::vec(any::<u8>(), 0..512), |data| {
                body(&data);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn mutated_inputs_do_not_panic() {
    let seeds = seeds();
    let all: Vec<&Vec<u8>> = seeds.iter().flat_map(|(_, s)| s).collect();
    for (name, body, cases) in FAMILIES {
        let own = &seeds.iter().find(|(n, _)| *n == name).unwrap().1;
        let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
        let ops = proptest::collection::vec((any::<u8>(), any::<u16>(), any::<u8>()), 1..8);
        runner
            .run(&(any::<proptest::sample::Index>(), any::<u8>(), ops), |(pick, foreign, ops)| {
                // Mostly the family's own formats; now and then another family's.
                let seed = if foreign < 16 { all[pick.index(all.len())] } else { &own[pick.index(own.len())] };
                body(&mutate(seed, &ops));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn edge_cases_do_not_panic() {
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    let cases: Vec<Vec<u8>> = vec![
        b"[".repeat(100_000),
        nested(126),
        nested(127),
        nested(128),
        nested(129),
        br#"{"index":18446744073709551616,"entry":{}}"#.to_vec(),
        b"c2sp.org/tlog-proof@v1\nindex 18446744073709551615\n\nx\n1\nAAAA\n\n\xe2\x80\x94 x AAAA\n".to_vec(),
        b"tile/0/x018/x446/x744/x073/x709/x551/615".to_vec(),
        b"tile/entries/x018/x446/x744/x073/x709/x551/615.p/255".to_vec(),
        b"tile/63/x018/x446/x744/x073/x709/x551/615".to_vec(),
        b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".to_vec(),
        [u64::MAX.to_le_bytes(), u64::MAX.to_le_bytes()].concat(),
        [1u64.to_le_bytes(), u64::MAX.to_le_bytes()].concat(),
        [&[63u8][..], &u64::MAX.to_le_bytes(), &[255, 255], &u64::MAX.to_le_bytes()].concat(),
        vec![0xff; 2 * 257],
        b"9999-12-31T23:59:59.999Z".to_vec(),
        b"2026-12-31T23:59:60Z".to_vec(),
        b"0000-01-01T00:00:00Z".to_vec(),
        vec![2, 0, 4, 0],
        vec![3, 1, 7, 200, 0, 0, 4, 0, 0, 0],
        vec![1, 15, 255, 255],
    ];
    for c in &cases {
        for (_, body, _) in FAMILIES {
            body(c);
        }
    }
}

/// Writes the seeds into `ledger/fuzz/corpus/<target>/` (or `$SIGHTLINE_FUZZ_CORPUS`), where
/// `cargo fuzz run <target>` starts from them.
#[test]
#[ignore = "writes files; run it to seed the cargo-fuzz corpus"]
fn write_seed_corpus() {
    let root = std::env::var_os("SIGHTLINE_FUZZ_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"));
    for (name, seeds) in seeds() {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
        }
    }
}

/// Found by the `store` fuzz target: a receipt was built from the stored entry bytes without
/// checking them against their leaf, so a damaged entry got a receipt that did not verify
/// instead of `Error::Corrupt` (SPEC.md §13).
#[test]
fn a_damaged_entry_gets_no_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::fixed();
    let index = {
        let ledger = open(dir.path(), &keys).unwrap();
        register(&ledger, &keys);
        let index = ledger.submit(vec![submission(&keys, "m-1", "alice@example.org")]).unwrap().acks[0].index;
        ledger.submit(vec![submission(&keys, "m-2", "bob@example.org")]).unwrap();
        let bytes = ledger.entry(index).unwrap().unwrap();
        drop(ledger);
        // One byte of the entry's free text changed on disk, its length kept.
        let path = dir.path().join("entries.dat");
        let mut dat = std::fs::read(&path).unwrap();
        let at = dat.windows(bytes.len()).position(|w| w == bytes.as_slice()).unwrap();
        dat[at + bytes.windows(5).position(|w| w == b"Civic").unwrap()] = b'X';
        std::fs::write(&path, dat).unwrap();
        index
    };
    let ledger = open(dir.path(), &keys).unwrap();
    assert!(matches!(ledger.entry(index), Err(sightline_ledger::Error::Corrupt(_))));
    match ledger.receipt(index) {
        Err(sightline_ledger::Error::Corrupt(_)) => {}
        Ok(r) => panic!("a damaged entry gets a receipt; it verifies: {:?}", r.verify(&[keys.log.verifier()]).map(|_| ())),
        Err(e) => panic!("a damaged entry's receipt fails with {e}, not as corrupt"),
    }
}
