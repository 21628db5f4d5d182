//! The log as `observe` and `reconcile` see it: every message entry's comparable fields, every
//! leaf hash, the parties' names and the message counts, gathered during the same walk `verify`
//! makes (so the log is checked before anything is judged against it), kept compact enough for
//! a log of millions of entries.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::chain::{Rec, Walker};
use crate::error::{Error, Result};
use crate::json;
use crate::merkle::{node_hash, Hash};
use crate::note::SignedCheckpoint;
use crate::record::Detail;
use crate::report::Summary;
use crate::tiles::{self, Source, TILE_WIDTH};
use crate::trust::Options;

/// One message entry, as observations are compared with it.
#[derive(Debug, Clone)]
pub struct Logged {
    /// The entry's index.
    pub index: u64,
    /// Its leaf hash.
    pub leaf: Hash,
    /// `delivery.creative.sha256`.
    pub creative: Hash,
    /// `delivery.served_at`, Unix seconds.
    pub served_at: i64,
    /// Interned names (see [`LogIndex::name`]).
    pub channel: u32,
    /// `delivery.member_state`.
    pub member_state: u32,
    /// `signer`.
    pub signer: u32,
    /// `delivery.creative.campaign_id`.
    pub campaign: u32,
    /// `delivery.creative.brand`.
    pub brand: u32,
    /// `sponsor.on_behalf_of`, a party id.
    pub sponsor: u32,
}

/// Strings kept once.
#[derive(Debug, Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }
}

/// What the walk keeps for `observe` (set as [`Walker::collect`]).
#[derive(Debug, Default)]
pub struct Collector {
    /// Every entry's leaf hash in index order (complete logs only).
    leaves: Vec<Hash>,
    complete: bool,
    messages: Vec<Logged>,
    /// Kinds of the other entries, for "entry N is not a message".
    others: HashMap<u64, &'static str>,
    parties: HashMap<String, String>,
    names: Names,
}

impl Collector {
    /// A collector for a complete log (every leaf kept) or a filtered bundle.
    pub fn new(complete: bool) -> Self {
        Collector { complete, ..Collector::default() }
    }

    /// Keeps what `observe` needs of one walked entry.
    pub fn add(&mut self, r: &Rec) {
        let e = &r.entry;
        if self.complete {
            self.leaves.push(r.leaf);
        }
        match &e.detail {
            Detail::Message { delivery, on_behalf_of, .. } => {
                let logged = Logged {
                    index: e.index,
                    leaf: r.leaf,
                    creative: delivery.creative,
                    served_at: unix_seconds(&delivery.served_at).unwrap_or(0),
                    channel: self.names.id(&delivery.channel),
                    member_state: self.names.id(&delivery.member_state),
                    signer: self.names.id(&e.signer),
                    campaign: self.names.id(&delivery.campaign),
                    brand: self.names.id(&delivery.brand),
                    sponsor: self.names.id(on_behalf_of),
                };
                self.messages.push(logged);
            }
            Detail::Party { id, name, .. } => {
                self.parties.insert(id.clone(), name.clone());
                self.others.insert(e.index, "party");
            }
            d => {
                self.others.insert(e.index, d.kind());
            }
        }
    }
}

/// Entries read again for evidence, by index: their canonical bytes and inclusion proof.
pub type Material = HashMap<u64, (Vec<u8>, Vec<Hash>)>;

/// Where the log was read from, to read single entries again for evidence.
#[derive(Debug, Clone)]
enum Origin {
    Bundle(String),
    Tiles(String),
}

/// A walked log with what `observe` and `reconcile` judge against.
pub struct LogIndex {
    /// What the walk verified.
    pub summary: Summary,
    /// The checkpoint walked to.
    pub checkpoint: SignedCheckpoint,
    /// Whether every entry of the checkpoint was read (a live log or a complete bundle).
    pub complete: bool,
    /// The walk's state: the registry, the chain, the tree.
    pub walker: Walker,
    collector: Box<Collector>,
    from: Origin,
    levels: OnceLock<Vec<Vec<Hash>>>,
    creatives: OnceLock<HashMap<Hash, Vec<u64>>>,
}

impl LogIndex {
    /// Reads and verifies the log at `location` (a bundle file, a log URL or a tiles folder),
    /// exactly as `verify` does (apart from the tally reconciliation, which `reconcile`
    /// reports), keeping what observations are judged against.
    pub fn load(location: &str, opts: &Options) -> Result<LogIndex> {
        let path = std::path::Path::new(location);
        let tiles = crate::consistency::is_url(location) || path.is_dir();
        let (summary, mut walker, checkpoint) = if tiles {
            crate::live::read_live(location, false, opts, true)?
        } else {
            let file = std::fs::File::open(path).map_err(|e| Error::Io { path: location.to_string(), source: e })?;
            crate::bundle::read_bundle(file, location, opts, true)?
        };
        let collector = walker.collect.take().ok_or_else(|| Error::unusable(location, "the log was read without its index"))?;
        let complete = collector.complete;
        let from = if tiles { Origin::Tiles(location.to_string()) } else { Origin::Bundle(location.to_string()) };
        Ok(LogIndex { summary, checkpoint, complete, walker, collector, from, levels: OnceLock::new(), creatives: OnceLock::new() })
    }

    /// The log's origin (its checkpoint key name).
    pub fn origin(&self) -> &str {
        &self.checkpoint.checkpoint.origin
    }

    /// The checkpoint's tree size.
    pub fn size(&self) -> u64 {
        self.checkpoint.checkpoint.size
    }

    /// An interned name.
    pub fn name(&self, id: u32) -> &str {
        self.collector.names.names.get(id as usize).map_or("", String::as_str)
    }

    /// The registered name of a party, or its id.
    pub fn party_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.collector.parties.get(id).map_or(id, String::as_str)
    }

    /// The message entry at `index`, if the log (or bundle) holds one there.
    pub fn message(&self, index: u64) -> Option<&Logged> {
        let m = &self.collector.messages;
        m.binary_search_by_key(&index, |l| l.index).ok().and_then(|i| m.get(i))
    }

    /// The leaf hash of entry `index`, if read.
    pub fn leaf(&self, index: u64) -> Option<Hash> {
        if self.complete {
            return usize::try_from(index).ok().and_then(|i| self.collector.leaves.get(i)).copied();
        }
        self.message(index).map(|m| m.leaf)
    }

    /// The kind of a non-message entry.
    pub fn other_kind(&self, index: u64) -> Option<&'static str> {
        self.collector.others.get(&index).copied()
    }

    /// Message entries that name `creative` as their content hash (complete logs).
    pub fn naming(&self, creative: &Hash) -> &[u64] {
        let map = self.creatives.get_or_init(|| {
            let mut map: HashMap<Hash, Vec<u64>> = HashMap::new();
            for m in &self.collector.messages {
                map.entry(m.creative).or_default().push(m.index);
            }
            map
        });
        map.get(creative).map_or(&[], Vec::as_slice)
    }

    /// Message entries walked.
    pub fn messages(&self) -> &[Logged] {
        &self.collector.messages
    }

    /// The RFC 9162 inclusion proof of `index` against the checkpoint, built from every leaf
    /// (complete logs; `None` otherwise).
    pub fn inclusion_proof(&self, index: u64) -> Option<Vec<Hash>> {
        if !self.complete || index >= self.size() {
            return None;
        }
        let levels = self.levels.get_or_init(|| tree_levels(&self.collector.leaves));
        Some(audit_path(levels, index))
    }

    /// Reads the given entries again (for evidence): their canonical bytes, and for a filtered
    /// bundle the inclusion proof its line carries.
    pub fn entries(&self, indexes: &[u64]) -> Result<Material> {
        let mut sorted = indexes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let indexes = sorted.as_slice();
        let mut out = HashMap::new();
        match &self.from {
            Origin::Tiles(location) => {
                let src = Source::open(location)?;
                let mut bundles: Vec<u64> = indexes.iter().map(|i| i / TILE_WIDTH).collect();
                bundles.sort_unstable();
                bundles.dedup();
                for n in bundles {
                    let entries = src.entry_bundle(n, tiles::width_at(n, self.size()))?;
                    for (k, bytes) in entries.into_iter().enumerate() {
                        let i = n * TILE_WIDTH + k as u64;
                        if indexes.contains(&i) {
                            let proof = self.inclusion_proof(i).unwrap_or_default();
                            out.insert(i, (bytes, proof));
                        }
                    }
                }
            }
            Origin::Bundle(path) => {
                use std::io::BufRead;
                let file = std::fs::File::open(path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
                let wanted: std::collections::HashSet<u64> = indexes.iter().copied().collect();
                for line in std::io::BufReader::new(file).split(b'\n').skip(1) {
                    let line = line.map_err(|e| Error::Io { path: path.clone(), source: e })?;
                    // Lines the exporter wrote start with their index: skip the others unparsed.
                    if leading_index(&line).is_some_and(|i| !wanted.contains(&i)) {
                        continue;
                    }
                    if let Some((i, bytes, proof)) = bundle_line(&line).filter(|(i, ..)| wanted.contains(i)) {
                        let proof = if self.complete { self.inclusion_proof(i).unwrap_or_default() } else { proof };
                        out.insert(i, (bytes, proof));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// The index of a line that starts `{"index":<n>,`.
fn leading_index(line: &[u8]) -> Option<u64> {
    let rest = line.strip_prefix(b"{\"index\":")?;
    let end = rest.iter().position(|b| !b.is_ascii_digit())?;
    (rest.get(end) == Some(&b',')).then(|| std::str::from_utf8(rest.get(..end)?).ok()?.parse().ok())?
}

/// A bundle line's index, canonical entry bytes and proof (already verified by the walk).
fn bundle_line(line: &[u8]) -> Option<(u64, Vec<u8>, Vec<Hash>)> {
    let doc = json::parse(line).ok()?;
    let index = doc.get(0, "index").and_then(|i| doc.u64(i))?;
    let entry = doc.get(0, "entry")?;
    let (bytes, _) = json::canonicalize(doc.raw(entry).as_bytes()).ok()?;
    let proof = doc
        .get(0, "proof")
        .map(|p| doc.items(p).into_iter().filter_map(|h| doc.str(h).and_then(|s| B64.decode(s.as_bytes()).ok())))
        .map(|hs| hs.filter_map(|h| Hash::try_from(h.as_slice()).ok()).collect())
        .unwrap_or_default();
    Some((index, bytes.into_owned(), proof))
}

/// Every level of the RFC 6962 tree over `leaves`: level 0 the leaves, each next level the
/// hashes of pairs, a last odd node carried up unchanged (as RFC 6962 splits a tree).
fn tree_levels(leaves: &[Hash]) -> Vec<Vec<Hash>> {
    let mut levels = vec![leaves.to_vec()];
    while levels.last().is_some_and(|l| l.len() > 1) {
        let below = levels.last().map(Vec::as_slice).unwrap_or_default();
        let next = below.chunks(2).map(|p| if let [l, r] = p { node_hash(l, r) } else { p[0] }).collect();
        levels.push(next);
    }
    levels
}

/// The audit path of leaf `index`: at each level its sibling, when it has one.
fn audit_path(levels: &[Vec<Hash>], index: u64) -> Vec<Hash> {
    let mut path = Vec::new();
    let mut i = index as usize;
    for level in levels.iter().take(levels.len().saturating_sub(1)) {
        if let Some(h) = level.get(i ^ 1) {
            path.push(*h);
        }
        i >>= 1;
    }
    path
}

/// Unix seconds of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn unix_seconds(s: &str) -> Option<i64> {
    if !crate::record::is_time(s) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<i64>().ok());
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (H. Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, root, verify_inclusion};

    #[test]
    fn audit_paths_from_levels_verify_for_every_leaf_of_odd_and_even_trees() {
        for n in [1u64, 2, 3, 5, 7, 8, 13, 256, 300] {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
            let levels = tree_levels(&leaves);
            let r = root(&leaves);
            for i in 0..n {
                let p = audit_path(&levels, i);
                verify_inclusion(i, n, &leaves[i as usize], &p, &r).unwrap_or_else(|e| panic!("n={n} i={i}: {e}"));
            }
        }
    }

    #[test]
    fn a_bundle_lines_leading_index_is_read_without_parsing_the_line() {
        assert_eq!(leading_index(br#"{"index":41,"entry":{}}"#), Some(41));
        assert_eq!(leading_index(br#"{"entry":{},"index":41}"#), None);
        assert_eq!(leading_index(br#"{"index":41}"#), None);
        assert_eq!(leading_index(br#"{"index":99999999999999999999999,"entry":{}}"#), None);
    }

    #[test]
    fn unix_seconds_of_known_times() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-11-26T18:04:05Z"), Some(1_795_716_245));
        assert_eq!(unix_seconds("2026-11-26T18:04:05.123Z"), Some(1_795_716_245));
        assert_eq!(unix_seconds("2026-13-26T18:04:05Z"), None);
        assert_eq!(unix_seconds("yesterday"), None);
    }
}
