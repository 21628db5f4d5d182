//! Walking Sightline entries in order (SPEC §4, §5, §8): the hash chain, the log-key
//! succession, the submitter and party registries, and record signatures checked in batches
//! across all cores.

use std::collections::{HashMap, HashSet};

use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::merkle::{CompactRange, Hash};
use crate::note::Vkey;
use crate::observe::index::Collector;
use crate::record::{Detail, Entry};
use crate::sig::{all_verify, is_weak, SigCheck};
use crate::tally::{Claim, Counts};

pub use crate::prepare::prepare;

/// Signatures per batch (`sig::all_verify`). Batch verification gets cheaper per signature as the
/// batch grows (one multi-scalar multiplication): on the bench machine 1,024 per call verified
/// 12–16% more signatures per second than 256 (BENCHMARKS.md). A chunk of the input holds several
/// thousand records, so both cores still get whole batches.
pub const BATCH: usize = 1024;

/// One entry after the parallel stage: its leaf hash, fields and signed message.
#[derive(Debug)]
pub struct Rec {
    /// Position in the input (0-based record number).
    pub position: u64,
    /// The entry's RFC 6962 leaf hash.
    pub leaf: Hash,
    /// The entry's fields.
    pub entry: Entry,
    /// `"sightline/record/v1\n" || JCS(body)`, when signatures are checked.
    pub msg: Vec<u8>,
}

/// Hashes keys that are already SHA-256 digests by taking their first 8 bytes.
#[derive(Default, Clone, Copy)]
struct BuildDigestHasher;

#[derive(Default)]
struct DigestHasher(u64);

impl std::hash::Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
}

impl std::hash::BuildHasher for BuildDigestHasher {
    type Hasher = DigestHasher;
    fn build_hasher(&self) -> DigestHasher {
        DigestHasher(0)
    }
}

/// How the walk treats gaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every entry `0..size`, in order; the root is rebuilt.
    Complete,
    /// A filtered bundle: increasing indexes, each with its own inclusion proof.
    Filtered,
}

/// The state carried from one entry to the next.
pub struct Walker {
    mode: Mode,
    signatures: bool,
    origin: String,
    size: u64,
    last: Option<(u64, Hash)>,
    /// Announced log keys in order: (index of the log_key entry, key).
    pub log_keys: Vec<(u64, Vkey)>,
    submitters: HashMap<String, VerifyingKey>,
    parties: HashSet<String>,
    objections: HashSet<u64>,
    message_ids: HashSet<[u8; 16], BuildDigestHasher>,
    /// The Merkle tree of the entries walked so far, as a compact range.
    pub range: CompactRange,
    /// Entries walked.
    pub count: u64,
    /// Entries per kind, in the order of `record::KINDS`.
    pub kinds: [u64; 7],
    /// Record signatures verified.
    pub signatures_checked: u64,
    /// Revision-3 rules an older entry breaks, each naming entry and field (not failures).
    pub warnings: Vec<String>,
    /// Message entries per submitter, campaign, day and Member State, for tallies (SPEC §3.8).
    pub counts: Counts,
    /// The tallies walked, in log order.
    pub tallies: Vec<Claim>,
    tally_ids: HashSet<(String, String, String)>,
    /// What `observe` and `reconcile` keep of each entry, when asked for.
    pub collect: Option<Box<Collector>>,
}

struct Job {
    pos: usize,
    key: VerifyingKey,
    /// The log key's text for log records; `None` for a submitter's registered key.
    key_name: Option<String>,
}

impl Walker {
    /// A walker for a log `origin` whose checkpoint has `size` entries.
    pub fn new(mode: Mode, signatures: bool, origin: &str, size: u64) -> Self {
        Walker {
            mode,
            signatures,
            origin: origin.to_string(),
            size,
            last: None,
            log_keys: Vec::new(),
            submitters: HashMap::new(),
            parties: HashSet::new(),
            objections: HashSet::new(),
            message_ids: HashSet::with_hasher(BuildDigestHasher),
            range: CompactRange::new(),
            count: 0,
            kinds: [0; 7],
            signatures_checked: 0,
            warnings: Vec::new(),
            counts: Counts::default(),
            tallies: Vec::new(),
            tally_ids: HashSet::new(),
            collect: None,
        }
    }

    /// Whether the walk reads every entry or a filtered selection.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The next index a complete walk expects (= how many entries were walked).
    pub fn next_index(&self) -> u64 {
        self.last.map_or(0, |(i, _)| i + 1)
    }

    /// The current log key after the entries walked so far.
    pub fn current_log_key(&self) -> Option<&Vkey> {
        self.log_keys.last().map(|(_, k)| k)
    }

    /// Walk one chunk of prepared entries (in input order). Stops at the first failure and
    /// reports the failure with the lowest entry index.
    pub fn walk(&mut self, recs: Vec<Result<Rec>>) -> Result<()> {
        let mut ok: Vec<Rec> = Vec::with_capacity(recs.len());
        let mut jobs = Vec::new();
        let mut stop = None;
        let mut it = recs.into_iter().peekable();
        while let Some(r) = it.next() {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            };
            let peek = it.peek().and_then(|n| n.as_ref().ok()).map(|n| n.entry.index);
            match self.step(&r, peek) {
                Ok(key) => {
                    if let Some((key, key_name)) = key {
                        jobs.push(Job { pos: ok.len(), key, key_name });
                    }
                    self.after(&r);
                    ok.push(r);
                }
                Err(e) => {
                    stop = Some(e);
                    break;
                }
            }
        }
        if self.mode == Mode::Complete {
            let leaves: Vec<Hash> = ok.iter().map(|r| r.leaf).collect();
            self.range.extend(&leaves);
        }
        if let Some(e) = verify_jobs(&ok, &jobs) {
            return Err(e);
        }
        self.signatures_checked += jobs.len() as u64;
        match stop {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Order, chain and registry checks for one entry; returns the key its signature needs.
    fn step(&mut self, r: &Rec, peek: Option<u64>) -> Result<Option<(VerifyingKey, Option<String>)>> {
        let e = &r.entry;
        let i = e.index;
        let expected = self.next_index();
        if self.mode == Mode::Complete && i != expected {
            if i > expected {
                if peek == Some(expected) {
                    return Err(Error::OutOfOrder { position: r.position, expected, found: i });
                }
                let before = if expected == 0 { "the start".to_string() } else { format!("entry {}", expected - 1) };
                return Err(Error::Missing { index: expected, before, found: i });
            }
            if self.last.is_some_and(|(l, _)| l == i) {
                return Err(Error::Duplicate { index: i });
            }
            return Err(Error::OutOfOrder { position: r.position, expected, found: i });
        }
        if let Some((l, _)) = self.last {
            if i == l {
                return Err(Error::Duplicate { index: i });
            }
            if i < l {
                return Err(Error::OutOfOrder { position: r.position, expected: l + 1, found: i });
            }
        }
        if i >= self.size {
            return Err(Error::BeyondCheckpoint { index: i, size: self.size });
        }
        // The chain (SPEC §5).
        if i == 0 && e.prev != [0u8; 32] {
            return Err(Error::entry(0, "prev must be 64 zeros for the first entry"));
        }
        if let Some((l, leaf)) = self.last {
            if l + 1 == i && e.prev != leaf {
                return Err(Error::ChainBroken { index: i, prev_index: l, expected: hex::encode(leaf), found: hex::encode(e.prev) });
            }
        }
        if self.log_keys.is_empty() && !matches!(e.detail, Detail::LogKey { .. }) {
            return Err(Error::entry(i, "the log does not start with a log_key entry (SPEC §3.1: entry 0 announces the log key)"));
        }
        if i != 0 && self.log_keys.is_empty() {
            return Err(Error::entry(i, "entry 0 (the genesis log_key entry) is missing"));
        }
        for &n in &e.objected {
            let known = self.mode == Mode::Filtered || self.objections.contains(&n);
            if n >= i || !known {
                return Err(Error::entry(i, format!("flag objected:{n} does not name an earlier objection entry")));
            }
        }
        let need_party = |p: &str, what: &str| -> Result<()> {
            if self.parties.contains(p) {
                Ok(())
            } else {
                Err(Error::entry(i, format!("{what} {p:?} is not a party registered before this entry")))
            }
        };
        match &e.detail {
            Detail::LogKey { vkey } => {
                let k = Vkey::parse(vkey).map_err(|err| Error::entry(i, format!("body.vkey: {err}")))?;
                if k.name != self.origin {
                    return Err(Error::entry(
                        i,
                        format!("the announced key is named {:?}, not the log's origin {:?}", k.name, self.origin),
                    ));
                }
                let signer = if i == 0 { k.clone() } else { self.current_log_key().cloned().unwrap_or_else(|| k.clone()) };
                if self.signatures {
                    self.signatures_checked += 1;
                    if !SigCheck::new(&signer.key, &e.sig, &r.msg).verifies() {
                        return Err(bad_sig(e, &signer.to_text()));
                    }
                }
                return Ok(None);
            }
            Detail::Submitter { id, public_key } if VerifyingKey::from_bytes(public_key).is_ok_and(|k| is_weak(&k)) => {
                return Err(Error::entry(
                    i,
                    format!("submitter {id:?} is registered with a public key of small order, under which anyone can forge its signatures (SPEC §3.2)"),
                ));
            }
            Detail::Party { controlled_by, .. } if !matches!(controlled_by.as_str(), "self" | "not_disclosed") => {
                need_party(controlled_by, "body.ultimately_controlled_by")?;
            }
            Detail::Tally { campaign, day, .. } if self.tally_ids.contains(&(e.signer.clone(), campaign.clone(), day.clone())) => {
                return Err(Error::entry(
                    i,
                    format!(
                        "a second tally by {:?} for campaign {campaign:?} on {day}: a day's tally is logged once (SPEC §3.8)",
                        e.signer
                    ),
                ));
            }
            Detail::Message { message_id, on_behalf_of, payer, id_key, .. } => {
                need_party(on_behalf_of, "body.sponsor.on_behalf_of")?;
                need_party(payer, "body.sponsor.payer")?;
                if !self.message_ids.insert(*id_key) {
                    return Err(Error::entry(
                        i,
                        format!("message_id {message_id:?} of {:?} was already used by an earlier entry", e.signer),
                    ));
                }
            }
            _ => {}
        }
        let key = if e.signer == "log" {
            self.current_log_key().map(|k| (k.key, Some(k.to_text())))
        } else {
            self.submitters.get(&e.signer).map(|k| (*k, None))
        };
        let key = key.ok_or_else(|| Error::UnknownSigner { index: i, signer: e.signer.clone() })?;
        Ok(self.signatures.then_some(key))
    }

    /// Registry updates that take effect from the next entry.
    fn after(&mut self, r: &Rec) {
        let e = &r.entry;
        self.warnings.extend(e.warnings.iter().map(|w| format!("entry {}: {w}", e.index)));
        match &e.detail {
            Detail::LogKey { vkey } => {
                if let Ok(k) = Vkey::parse(vkey) {
                    self.log_keys.push((e.index, k));
                }
            }
            Detail::Submitter { id, public_key } => {
                if let Ok(k) = VerifyingKey::from_bytes(public_key) {
                    self.submitters.insert(id.clone(), k);
                }
            }
            Detail::Party { id, .. } => {
                self.parties.insert(id.clone());
            }
            Detail::Objection => {
                self.objections.insert(e.index);
            }
            Detail::Message { delivery, .. } => {
                let day = delivery.served_at.get(..10).unwrap_or_default();
                self.counts.add(&e.signer, &delivery.campaign, day, &delivery.member_state);
            }
            Detail::Tally { campaign, day, delivered } => {
                self.tally_ids.insert((e.signer.clone(), campaign.clone(), day.clone()));
                let claim = Claim {
                    index: e.index,
                    signer: e.signer.clone(),
                    campaign: campaign.clone(),
                    day: day.clone(),
                    delivered: delivered.clone(),
                };
                self.tallies.push(claim);
            }
            _ => {}
        }
        if let Some(c) = self.collect.as_mut() {
            c.add(r);
        }
        let k = crate::record::KINDS.iter().position(|k| *k == e.detail.kind()).unwrap_or(0);
        if let Some(c) = self.kinds.get_mut(k) {
            *c += 1;
        }
        self.count += 1;
        self.last = Some((e.index, r.leaf));
    }
}

fn bad_sig(e: &Entry, key: &str) -> Error {
    Error::BadSignature { index: e.index, kind: e.detail.kind().into(), signer: e.signer.clone(), key: key.into() }
}

/// Check signatures in batches on all cores; the failure with the lowest index wins.
fn verify_jobs(recs: &[Rec], jobs: &[Job]) -> Option<Error> {
    let check = |batch: &[Job]| -> Option<Error> {
        let (who, checks): (Vec<(&Job, &Rec)>, Vec<SigCheck>) = batch
            .iter()
            .filter_map(|j| {
                let r = recs.get(j.pos)?;
                Some(((j, r), SigCheck::new(&j.key, &r.entry.sig, &r.msg)))
            })
            .unzip();
        if all_verify(&checks) {
            return None;
        }
        who.into_iter().zip(checks).find_map(|((j, r), c)| {
            (!c.verifies()).then(|| {
                let name = j.key_name.clone().unwrap_or_else(|| format!("the key registered for {:?}", r.entry.signer));
                bad_sig(&r.entry, &name)
            })
        })
    };
    jobs.par_chunks(BATCH).filter_map(check).min_by_key(|e| e.index().unwrap_or(u64::MAX))
}
