//! Thousands of random and mutated inputs thrown at every parser: none may panic.
//! (The same bodies are the cargo-fuzz targets in verifier/fuzz/.)

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use sightline_verifier::fuzzing;

/// Valid seeds of every format, to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let (log, _) = Log::demo(3);
    let cp = log.checkpoint();
    let lines = log.bundle_lines(&cp, None, true);
    let filtered = log.bundle_lines(&cp, Some(&[5]), false);
    let mut s: Vec<Vec<u8>> = vec![cp.clone().into_bytes(), log.receipt(5, &cp).into_bytes(), (lines.join("\n") + "\n").into_bytes()];
    s.extend(lines.iter().map(|l| l.clone().into_bytes()));
    s.extend(filtered.iter().map(|l| l.clone().into_bytes()));
    s.extend(log.entries.iter().cloned());
    s.push(sightline_verifier::tiles::encode_bundle(&log.entries).unwrap());
    s.push(b"tile/0/x001/x234/067.p/7".to_vec());
    s
}

fn all(data: &[u8]) {
    fuzzing::note(data);
    fuzzing::proofs(data);
    fuzzing::receipt(data);
    fuzzing::record(data);
    fuzzing::bundle(data);
    fuzzing::observe(data);
}

fn mutate(seed: &[u8], ops: &[(u8, u16, u8)]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for &(op, pos, byte) in ops {
        let at = if v.is_empty() { 0 } else { usize::from(pos) % v.len() };
        match op % 6 {
            0 if !v.is_empty() => v[at] = byte,
            1 => v.insert(at, byte),
            2 if !v.is_empty() => {
                v.remove(at);
            }
            3 => v.truncate(at),
            4 if !v.is_empty() => v[at] ^= 1 << (byte % 8),
            _ => {
                let interesting: &[&[u8]] = &[
                    b"{",
                    b"}",
                    b"[",
                    b"]",
                    b"\"",
                    b"\\u",
                    b"\n",
                    b"\n\n",
                    b":",
                    b",",
                    b"-",
                    b"99999999999999999999",
                    b"\xe2\x80\x94 ",
                    b"null",
                    b"\"erased\"",
                ];
                let ins = interesting[usize::from(byte) % interesting.len()];
                v.splice(at..at, ins.iter().copied());
            }
        }
    }
    v
}

#[test]
fn random_bytes_do_not_panic() {
    let mut runner = TestRunner::new(Config { cases: 4000, failure_persistence: None, ..Config::default() });
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..512), |data| {
            all(&data);
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_inputs_do_not_panic() {
    let seeds = seeds();
    for s in &seeds {
        all(s);
    }
    let n = seeds.len();
    let mut runner = TestRunner::new(Config { cases: 6000, failure_persistence: None, ..Config::default() });
    runner
        .run(&(0..n, proptest::collection::vec((any::<u8>(), any::<u16>(), any::<u8>()), 1..8)), |(i, ops)| {
            all(&mutate(&seeds[i], &ops));
            Ok(())
        })
        .unwrap();
}

#[test]
fn deep_nesting_and_huge_numbers() {
    all(&b"[".repeat(100_000));
    all(format!("{}1{}", "[".repeat(70), "]".repeat(70)).as_bytes());
    all(b"{\"index\":18446744073709551616,\"entry\":{}}");
    all(b"c2sp.org/tlog-proof@v1\nindex 18446744073709551615\n\nx\n1\nAAAA\n\n\xe2\x80\x94 x AAAA\n");
}

/// Valid observations to mutate: real e-mails (test data) and JSON observations of ads.
fn observation_seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail");
    let mut s: Vec<Vec<u8>> =
        ["rfc8463-relaxed.eml", "newsletter-relaxed.eml"].iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect();
    let leaf = "ab".repeat(32);
    s.push(format!("Sightline-Entry: sightline.example/log 41 {leaf}\r\nFrom: A <a@b.example>\r\nDate: Fri, 20 Nov 2026 18:04:05 +0000\r\n\r\nHi.\r\n").into_bytes());
    s.push(format!(r#"{{"channel":"display","asset_base64":"aGk=","seen_at":"2026-11-20T18:04:05Z","reference":"log 7 {leaf}","advertiser":"Shoes","member_state":"DE"}}"#).into_bytes());
    s.push(
        format!(r#"{{"channel":"sms","asset_sha256":"{leaf}","why_url":"https://l.example/why/T#sightline-entry=7.{leaf}"}}"#).into_bytes(),
    );
    s.push(format!("sightline.example/log 41 {leaf}").into_bytes());
    s
}

/// The observation parsers (`observe`), on mutated real e-mails and observations: never a panic.
#[test]
fn mutated_observations_do_not_panic() {
    let seeds = observation_seeds();
    for s in &seeds {
        fuzzing::observe(s);
    }
    let n = seeds.len();
    let mut runner = TestRunner::new(Config { cases: 3000, failure_persistence: None, ..Config::default() });
    runner
        .run(&(0..n, proptest::collection::vec((any::<u8>(), any::<u16>(), any::<u8>()), 1..8)), |(i, ops)| {
            fuzzing::observe(&mutate(&seeds[i], &ops));
            Ok(())
        })
        .unwrap();
}
