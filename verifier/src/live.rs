//! Verifying a live log read as C2SP tlog-tiles (over HTTP or from a folder): the checkpoint,
//! every entry bundle and level-0 tile, the rebuilt root, and (for Sightline logs) every record.

use rayon::prelude::*;

use crate::chain::{self, Mode, Walker};
use crate::error::{Error, HexHash, Result};
use crate::json;
use crate::merkle::{leaf_hash, CompactRange, Hash};
use crate::note::SignedCheckpoint;
use crate::report::{progress, Summary};
use crate::tiles::{self, Source, TILE_WIDTH};
use crate::trust::{self, Options};

/// Entry bundles fetched and checked per step.
const BUNDLES_PER_STEP: u64 = 64;

/// Fetch and parse the checkpoint of `src`.
pub fn fetch_checkpoint(src: &Source) -> Result<SignedCheckpoint> {
    SignedCheckpoint::parse(&src.checkpoint()?)
}

/// One fetched entry bundle with its level-0 tile.
struct Fetched {
    n: u64,
    entries: Vec<Vec<u8>>,
    tile: Vec<Hash>,
}

fn fetch(src: &Source, n: u64, size: u64) -> Result<Fetched> {
    let w = tiles::width_at(n, size);
    Ok(Fetched { n, entries: src.entry_bundle(n, w)?, tile: src.hash_tile(0, n, w)? })
}

/// Verify the log at `location` (URL or folder). `generic` skips the Sightline record checks so
/// that any tlog-tiles log can be checked.
pub fn verify_live(location: &str, generic: bool, opts: &Options) -> Result<Summary> {
    let (mut summary, walker, _) = read_live(location, generic, opts, false)?;
    if !generic {
        crate::tally::reconcile_walk(&walker, &mut summary)?;
    }
    Ok(summary)
}

/// Reads and checks the log at `location` as [`verify_live`] does, apart from tallies; returns
/// the walk (with what `observe` keeps when `collect`) and the checkpoint.
pub fn read_live(location: &str, generic: bool, opts: &Options, collect: bool) -> Result<(Summary, Walker, SignedCheckpoint)> {
    let src = Source::open(location)?;
    let cp = fetch_checkpoint(&src)?;
    let c = cp.checkpoint.clone();
    let mut summary = Summary {
        checked: "live log".into(),
        source: location.to_string(),
        origin: c.origin.clone(),
        size: c.size,
        root: hex::encode(c.root),
        complete: true,
        ..Summary::default()
    };
    if generic {
        trust::generic_check(&cp, opts, &mut summary)?;
    } else {
        trust::precheck(&cp, opts)?;
    }
    trust::witnesses(&cp, opts, &mut summary)?;
    let mut walker = Walker::new(Mode::Complete, opts.signatures, &c.origin, c.size);
    if collect {
        walker.collect = Some(Box::new(crate::observe::index::Collector::new(true)));
    }
    let mut range = CompactRange::new();
    let pb = progress(c.size, opts.quiet, "verifying");
    let bundles = c.size.div_ceil(TILE_WIDTH);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(8).build().map_err(|e| Error::unusable("thread pool", e.to_string()))?;
    let mut n = 0;
    while n < bundles {
        let upto = (n + BUNDLES_PER_STEP).min(bundles);
        let fetched: Vec<Result<Fetched>> = pool.install(|| (n..upto).into_par_iter().map(|k| fetch(&src, k, c.size)).collect());
        let fetched: Vec<Fetched> = fetched.into_iter().collect::<Result<_>>()?;
        let mut raw: Vec<(u64, &[u8])> = Vec::new();
        for f in &fetched {
            let path = tiles::tile_path(0, f.n, tiles::width_at(f.n, c.size));
            for (k, (e, t)) in f.entries.iter().zip(&f.tile).enumerate() {
                let index = f.n * TILE_WIDTH + k as u64;
                let leaf = leaf_hash(e);
                if leaf != *t {
                    return Err(Error::TileMismatch { path, position: k as u64, index, expected: HexHash(leaf), found: HexHash(*t) });
                }
                raw.push((index, e.as_slice()));
            }
        }
        if generic {
            let leaves: Vec<Hash> = raw.par_iter().map(|(_, e)| leaf_hash(e)).collect();
            range.extend(&leaves);
            summary.entries_checked += leaves.len() as u64;
        } else {
            let recs: Vec<Result<chain::Rec>> = raw
                .par_iter()
                .map(|&(index, e)| {
                    let doc = json::parse(e).map_err(|d| Error::entry(index, format!("the entry bytes are not valid JSON ({d})")))?;
                    let rec = chain::prepare(index, &doc, 0, true, opts.signatures)?;
                    if rec.entry.index != index {
                        return Err(Error::entry(index, format!("the entry at leaf {index} says index {}", rec.entry.index)));
                    }
                    Ok(rec)
                })
                .collect();
            walker.walk(recs)?;
        }
        pb.set_position(n.saturating_mul(TILE_WIDTH).min(c.size));
        n = upto;
    }
    pb.finish_and_clear();
    let root = if generic { range.root() } else { walker.range.root() };
    if root != c.root {
        return Err(Error::RootMismatch { size: c.size, computed: HexHash(root), expected: HexHash(c.root) });
    }
    if !generic {
        summary.entries_checked = walker.count;
        summary.signatures_checked = walker.signatures_checked;
        summary.warnings = std::mem::take(&mut walker.warnings);
        for (name, k) in crate::record::KINDS.iter().zip(walker.kinds) {
            if k > 0 {
                summary.kinds.insert((*name).to_string(), k);
            }
        }
        trust::postcheck(&cp, &walker, opts, &mut summary)?;
    }
    Ok((summary, walker, cp))
}
