//! Test-only writer of Sightline logs, written from SPEC.md alone: entries, bundles (§11),
//! tiles (§9), receipts (§10), with real Ed25519 keys.
#![allow(dead_code)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signer, SigningKey};
use rayon::prelude::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sightline_verifier::merkle::{self, leaf_hash, Hash};
use sightline_verifier::note::Skey;
use sightline_verifier::tiles;

pub const ORIGIN: &str = "sightline.test/log";

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn skey(seed: u8) -> Skey {
    Skey::new(ORIGIN, key(seed))
}

pub fn sign_body(body: &Value, k: &SigningKey) -> String {
    let mut m = b"sightline/record/v1\n".to_vec();
    m.extend(serde_jcs::to_vec(body).unwrap());
    B64.encode(k.sign(&m).to_bytes())
}

/// Canonical entry bytes for a signed body (keys in JCS order by construction).
pub fn entry_bytes(index: u64, prev: &Hash, body_jcs: &[u8], sig: &str, flags: &[String]) -> Vec<u8> {
    let mut e = br#"{"body":"#.to_vec();
    e.extend_from_slice(body_jcs);
    e.extend_from_slice(br#","flags":"#);
    e.extend(serde_json::to_vec(flags).unwrap());
    e.extend(
        format!(r#","index":{index},"logged_at":"2026-11-24T10:00:00.123Z","prev":"{}","sig":"{sig}","v":1}}"#, hex::encode(prev))
            .as_bytes(),
    );
    e
}

pub struct Log {
    pub log_key: Skey,
    pub entries: Vec<Vec<u8>>,
    pub leaves: Vec<Hash>,
    pub personal: Vec<Option<Value>>,
}

impl Log {
    /// A log whose entry 0 announces the key from `seed`.
    pub fn new(seed: u8) -> Self {
        let k = skey(seed);
        let mut log = Log { log_key: Skey::new(ORIGIN, key(seed)), entries: vec![], leaves: vec![], personal: vec![] };
        let body = json!({"kind":"log_key","signer":"log","vkey":k.vkey().to_text(),"announced_at":"2026-11-24T09:00:00Z"});
        log.append_signed(&body, &k.key, None);
        log
    }

    pub fn prev(&self) -> Hash {
        self.leaves.last().copied().unwrap_or([0; 32])
    }

    pub fn append_signed(&mut self, body: &Value, k: &SigningKey, personal: Option<Value>) -> u64 {
        let sig = sign_body(body, k);
        self.append_raw(&serde_jcs::to_vec(body).unwrap(), &sig, &[], personal)
    }

    pub fn append_raw(&mut self, body_jcs: &[u8], sig: &str, flags: &[String], personal: Option<Value>) -> u64 {
        let i = self.entries.len() as u64;
        let e = entry_bytes(i, &self.prev(), body_jcs, sig, flags);
        self.leaves.push(leaf_hash(&e));
        self.entries.push(e);
        self.personal.push(personal);
        i
    }

    pub fn log_body(&mut self, body: Value) -> u64 {
        let k = self.log_key.key.clone();
        self.append_signed(&body, &k, None)
    }

    pub fn rotate(&mut self, seed: u8) {
        let new = skey(seed);
        self.log_body(json!({"kind":"log_key","signer":"log","vkey":new.vkey().to_text(),"announced_at":"2026-11-24T09:30:00Z"}));
        self.log_key = new;
    }

    pub fn submitter(&mut self, id: &str, k: &SigningKey) -> u64 {
        self.log_body(json!({"kind":"submitter","signer":"log","submitter":id,"name":"Acme Ads GmbH",
            "contact":"transparency@acme-ads.example","public_key":B64.encode(k.verifying_key().to_bytes()),
            "registered_at":"2026-11-24T09:00:01Z"}))
    }

    pub fn party(&mut self, id: &str) -> u64 {
        self.log_body(json!({"kind":"party","signer":"log","party":id,"name":"Civic Future e.V.",
            "contact":"info@civic-future.example","established_in":"DE","ultimately_controlled_by":"self"}))
    }

    /// A standard small log: genesis, a submitter "acme-ads", two parties, `n` messages.
    pub fn demo(n: usize) -> (Log, SigningKey) {
        let mut log = Log::new(1);
        let acme = key(2);
        log.submitter("acme-ads", &acme);
        log.party("p-civic-future");
        log.party("p-civic-holding");
        for i in 0..n {
            let (body, personal) = message("acme-ads", i as u64);
            log.append_signed(&body, &acme, Some(personal));
        }
        (log, acme)
    }

    pub fn root(&self) -> Hash {
        merkle::root(&self.leaves)
    }

    pub fn checkpoint_text(&self, size: usize) -> String {
        format!("{ORIGIN}\n{size}\n{}\n", B64.encode(merkle::root(&self.leaves[..size])))
    }

    pub fn checkpoint(&self) -> String {
        self.log_key.sign_note(&self.checkpoint_text(self.entries.len()))
    }

    /// Bundle lines (manifest first) for a complete bundle, or a filtered one holding `keep`.
    pub fn bundle_lines(&self, checkpoint: &str, keep: Option<&[u64]>, with_personal: bool) -> Vec<String> {
        let complete = keep.is_none();
        let manifest = json!({"format":"sightline-bundle/v1","origin":ORIGIN,"checkpoint":checkpoint,"complete":complete,
            "filter":{"from":null,"to":null,"advertiser":null,"campaign":null},"created_at":"2026-11-24T10:10:00Z"});
        let mut lines = vec![manifest.to_string()];
        for (i, e) in self.entries.iter().enumerate() {
            let i = i as u64;
            let entry: Value = serde_json::from_slice(e).unwrap();
            let kind = entry["body"]["kind"].as_str().unwrap().to_string();
            if let Some(k) = keep {
                if !k.contains(&i) && !["log_key", "submitter", "party"].contains(&kind.as_str()) {
                    continue;
                }
            }
            let entry_text = String::from_utf8(e.clone()).unwrap();
            let mut line = format!(r#"{{"index":{i},"entry":{entry_text}"#);
            if !complete {
                let p: Vec<String> = inclusion_proof(&self.leaves, i as usize).iter().map(|h| B64.encode(h)).collect();
                line.push_str(&format!(r#","proof":{}"#, serde_json::to_string(&p).unwrap()));
            }
            if let (true, Some(p)) = (with_personal, &self.personal[i as usize]) {
                line.push_str(&format!(r#","personal":{}"#, p));
            }
            line.push('}');
            lines.push(line);
        }
        lines
    }

    /// Write the log as C2SP tlog-tiles into `dir` (checkpoint, hash tiles, entry bundles).
    pub fn write_tiles(&self, dir: &std::path::Path, checkpoint: &str) {
        let size = self.entries.len() as u64;
        std::fs::write(dir.join("checkpoint"), checkpoint).unwrap();
        let mut level_hashes = self.leaves.clone();
        for level in 0u8..8 {
            if level_hashes.is_empty() {
                break;
            }
            for (n, chunk) in level_hashes.chunks(256).enumerate() {
                let p = dir.join(tiles::tile_path(level, n as u64, chunk.len() as u64));
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, chunk.concat()).unwrap();
            }
            level_hashes = level_hashes.chunks_exact(256).map(merkle::root).collect();
        }
        for n in 0..size.div_ceil(256) {
            let lo = (n * 256) as usize;
            let hi = (lo + 256).min(self.entries.len());
            let p = dir.join(tiles::entries_path(n, (hi - lo) as u64));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, tiles::encode_bundle(&self.entries[lo..hi]).unwrap()).unwrap();
        }
    }

    /// A receipt (SPEC §10) for entry `i` against `checkpoint` (of the whole log).
    pub fn receipt(&self, i: usize, checkpoint: &str) -> String {
        let mut proof = format!("c2sp.org/tlog-proof@v1\nindex {i}\n");
        for h in inclusion_proof(&self.leaves, i) {
            proof.push_str(&B64.encode(h));
            proof.push('\n');
        }
        proof.push('\n');
        proof.push_str(checkpoint);
        json!({"format":"sightline-receipt/v1","entry":B64.encode(&self.entries[i]),"tlog_proof":proof}).to_string()
    }
}

/// RFC 9162 §2.1.3.1 audit path.
pub fn inclusion_proof(leaves: &[Hash], m: usize) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return vec![];
    }
    let k = 1usize << (usize::BITS - 1 - (leaves.len() - 1).leading_zeros());
    let mut p;
    if m < k {
        p = inclusion_proof(&leaves[..k], m);
        p.push(merkle::root(&leaves[k..]));
    } else {
        p = inclusion_proof(&leaves[k..], m - k);
        p.push(merkle::root(&leaves[..k]));
    }
    p
}

/// A message body (~1 KB) and its personal part, with matching commitments (SPEC §7).
pub fn message(signer: &str, n: u64) -> (Value, Value) {
    let mut salt = [0u8; 32];
    salt[..8].copy_from_slice(&n.to_be_bytes());
    salt[8] = 0x5a;
    let recipient = format!("person{n}@example.org");
    let personal = json!({"v":1,"salt":B64.encode(salt),"recipient":recipient,
        "matched":{"c1":"neuroticism score 0.82 (high)"},
        "consent":{"s-quiz-app":{"format":"tcf","value":"CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"}}});
    let mut h = Sha256::new();
    h.update(b"sightline/recipient/v1\n");
    h.update(salt);
    h.update(recipient.as_bytes());
    let rc = hex::encode(h.finalize());
    let pc = hex::encode(Sha256::digest([b"sightline/personal/v1\n".as_slice(), &serde_jcs::to_vec(&personal).unwrap()].concat()));
    let body = json!({
        "kind":"message","signer":signer,"message_id":format!("ocean-2026/{n:09}"),
        "delivery":{"channel":"social","served_at":"2026-11-20T18:04:05Z","member_state":"DE",
            "creative":{"sha256":hex::encode(Sha256::digest(n.to_be_bytes())),"brand":"Civic Future",
                "subject":"What's coming","language":"de","campaign_id":"ocean-2026",
                "ad_id":format!("ad-{}", n % 97),"creative_id":"cr-3"},"email_headers":null},
        "sponsor":{"on_behalf_of":"p-civic-future","payer":"p-civic-holding","political":null},
        "recipient":{"commitment":rc},"personal_commitment":pc,
        "targeting":{"criteria":[{"id":"c1","effect":"include","type":"modelled",
            "description":"Neuroticism","special_category":null,"minor":false,
            "ai_selected":true,"lineage":["s-model"]}],
            "delivery_optimisation":{"ai_system":true,"goal":"engagement"}},
        "lineage":[{"id":"s-model","provider":"Acme","contact":"not_disclosed","kind":"inferred",
            "model":{"name":"m","version":"2"},"collection_method":"Model on likes",
            "collected_at":"2026-11-01","refresh":"weekly","lookback_days":365,"legal_basis":"consent","derived_from":[]}],
        "controls":{"change_parameters_url":"not_disclosed","object_url":"not_disclosed",
            "opt_out_url":"not_disclosed","controller_contact":"mailto:dpo@acme.example"}
    });
    (body, personal)
}

/// Many signed messages quickly (bodies signed in parallel), for benches.
/// With `small`, contextual messages (no criteria or lineage), about 1 KB per entry.
pub fn bulk_messages(log: &mut Log, k: &SigningKey, n: usize, small: bool) {
    let signed: Vec<(Vec<u8>, String)> = (0..n as u64)
        .into_par_iter()
        .map(|i| {
            let (mut body, _) = message("acme-ads", i);
            if small {
                body["targeting"]["criteria"] = json!([]);
                body["lineage"] = json!([]);
            }
            let jcs = serde_jcs::to_vec(&body).unwrap();
            let mut m = b"sightline/record/v1\n".to_vec();
            m.extend_from_slice(&jcs);
            (jcs, B64.encode(k.sign(&m).to_bytes()))
        })
        .collect();
    for (jcs, sig) in signed {
        log.append_raw(&jcs, &sig, &[], None);
    }
}

pub fn write_lines(path: &std::path::Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Writes `log` at checkpoint `cp` as a complete export bundle (SPEC §11), for benches.
pub fn write_complete_bundle(log: &Log, cp: &str, path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let manifest = json!({"format":"sightline-bundle/v1","origin":ORIGIN,"checkpoint":cp,"complete":true,
        "filter":{"from":null,"to":null,"advertiser":null,"campaign":null},"created_at":"2026-11-24T10:10:00Z"});
    writeln!(f, "{manifest}").expect("write");
    for (i, e) in log.entries.iter().enumerate() {
        write!(f, "{{\"index\":{i},\"entry\":").expect("write");
        f.write_all(e).expect("write");
        f.write_all(b"}\n").expect("write");
    }
    f.flush().expect("flush");
}

/// `log` written as a complete bundle (with its personal parts when `with_personal`) in a
/// temporary folder; returns the folder (keep it alive) and the file.
pub fn bundle_file(log: &Log, with_personal: bool) -> (tempfile::TempDir, std::path::PathBuf) {
    let lines = log.bundle_lines(&log.checkpoint(), None, with_personal);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.sightline-bundle.jsonl");
    write_lines(&path, &lines);
    (dir, path)
}

/// `verify` of a bundle file, trusting the log key of [`Log::demo`], signatures checked.
pub fn verify_bundle_file(path: &std::path::Path) -> Result<sightline_verifier::Summary, sightline_verifier::Error> {
    use sightline_verifier::trust::Options;
    sightline_verifier::bundle::verify_bundle(
        path,
        &Options { trusted: vec![skey(1).vkey()], signatures: true, quiet: true, ..Options::default() },
    )
}
