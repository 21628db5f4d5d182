//! Export bundles (SPEC §11): `.sightline-bundle.jsonl`, a manifest line and one line per
//! entry, read in chunks so a bundle of any size streams through constant memory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use rayon::prelude::*;
use serde::Deserialize;

use crate::chain::{self, Mode, Rec, Walker};
use crate::error::{Error, HexHash, Result};
use crate::json::{self, Kind};
use crate::note::SignedCheckpoint;
use crate::record::{check_personal, Detail};
use crate::report::{progress, Summary};
use crate::trust::{self, Options};

/// The bundle format this verifier reads.
pub const FORMAT: &str = "sightline-bundle/v1";
/// Bytes read per chunk.
const CHUNK: usize = 8 << 20;
/// Longest line accepted (an entry of 65,535 bytes plus proof and personal part).
const MAX_LINE: usize = 1 << 20;

/// Line 1 of a bundle.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// `sightline-bundle/v1`.
    pub format: String,
    /// The log's origin.
    pub origin: String,
    /// The signed checkpoint the bundle was made at.
    pub checkpoint: String,
    /// Whether the bundle holds every entry of that checkpoint (no filter).
    pub complete: bool,
    /// The filter it was made with, as the exporter wrote it.
    pub filter: serde_json::Value,
    /// When it was made.
    pub created_at: String,
}

/// Splits a reader into chunks of whole lines.
struct Lines<R> {
    r: R,
    carry: Vec<u8>,
    done: bool,
}

impl<R: Read> Lines<R> {
    /// The next chunk of whole lines (the last line of the input may lack its newline).
    fn next_chunk(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            if self.done {
                return Ok(if buf.is_empty() { None } else { Some(buf) });
            }
            buf.reserve(CHUNK + 1);
            let got = (&mut self.r).take(CHUNK as u64).read_to_end(&mut buf)?;
            self.done = got < CHUNK;
            if self.done {
                continue;
            }
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(p) => {
                    self.carry = buf.get(p + 1..).unwrap_or_default().to_vec();
                    buf.truncate(p + 1);
                    return Ok(Some(buf));
                }
                None if buf.len() > MAX_LINE => return Err(std::io::Error::other("a line is longer than 1 MiB")),
                None => {}
            }
        }
    }
}

/// Lines of a chunk, prepared in parallel.
struct Prepared {
    recs: Vec<Result<Rec>>,
    personal: u64,
    erased: u64,
}

fn prepare_chunk(buf: &[u8], base: u64, mode: Mode, cp: &SignedCheckpoint, sigs: bool) -> Prepared {
    let body = buf.strip_suffix(b"\n").unwrap_or(buf);
    // Split at newlines only; each line's parser checks its own UTF-8, on both cores.
    let mut lines: Vec<&[u8]> = Vec::with_capacity(body.len() / 512);
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', body).chain([body.len()]) {
        lines.push(body.get(start..nl).unwrap_or_default());
        start = nl + 1;
    }
    let out: Vec<Result<(Rec, u8)>> = lines.par_iter().enumerate().map(|(k, l)| prepare_line(base + k as u64, l, mode, cp, sigs)).collect();
    let mut p = Prepared { recs: Vec::with_capacity(out.len()), personal: 0, erased: 0 };
    for o in out {
        p.recs.push(o.map(|(rec, kind)| {
            p.personal += u64::from(kind == 1);
            p.erased += u64::from(kind == 2);
            rec
        }));
    }
    p
}

/// Verify the bundle at `path`.
pub fn verify_bundle(path: &Path, opts: &Options) -> Result<Summary> {
    let file = File::open(path).map_err(|e| Error::Io { path: path.display().to_string(), source: e })?;
    verify_bundle_from(file, &path.display().to_string(), opts)
}

/// Verify a bundle read from `input`; `name` names it in messages.
pub fn verify_bundle_from(input: impl Read + Send, name: &str, opts: &Options) -> Result<Summary> {
    let (mut s, walker, _) = read_bundle(input, name, opts, false)?;
    crate::tally::reconcile_walk(&walker, &mut s)?;
    Ok(s)
}

/// Reads and checks a bundle as [`verify_bundle_from`] does, apart from tallies; returns the
/// walk (with what `observe` keeps when `collect`) and the checkpoint.
pub fn read_bundle(input: impl Read + Send, name: &str, opts: &Options, collect: bool) -> Result<(Summary, Walker, SignedCheckpoint)> {
    let io = |e: std::io::Error| Error::Io { path: name.to_string(), source: e };
    let mut r = BufReader::new(input);
    let mut first = Vec::new();
    r.read_until(b'\n', &mut first).map_err(io)?;
    let m: Manifest = serde_json::from_slice(&first)
        .map_err(|e| Error::unusable(format!("{name} (line 1, the manifest)"), format!("{e}; is this a {FORMAT} file?")))?;
    if m.format != FORMAT {
        return Err(Error::unusable(name.to_string(), format!("format {:?} is not {FORMAT}", m.format)));
    }
    let cp = SignedCheckpoint::parse(m.checkpoint.as_bytes())?;
    let c = &cp.checkpoint;
    if c.origin != m.origin {
        return Err(Error::Integrity {
            what: "the manifest".into(),
            detail: format!("origin {:?} differs from the checkpoint's origin {:?}", m.origin, c.origin),
        });
    }
    if !c.extensions.is_empty() {
        return Err(Error::malformed("the checkpoint", "it has extension lines, which sightline/v1 does not define"));
    }
    trust::precheck(&cp, opts)?;
    let mut report = Summary::default();
    trust::witnesses(&cp, opts, &mut report)?;
    let mode = if m.complete { Mode::Complete } else { Mode::Filtered };
    let mut walker = Walker::new(mode, opts.signatures, &c.origin, c.size);
    if collect {
        walker.collect = Some(Box::new(crate::observe::index::Collector::new(m.complete)));
    }
    let pb = progress(if m.complete { c.size } else { 0 }, opts.quiet, "verifying");
    let mut lines = Lines { r, carry: Vec::new(), done: false };
    let (mut position, mut personal, mut erased) = (0u64, 0u64, 0u64);
    // A three-stage pipeline: read chunk k+2, prepare chunk k+1 and walk chunk k at once.
    let mut raw: Option<Vec<u8>> = lines.next_chunk().map_err(io)?;
    let mut ready: Option<Prepared> = None;
    while raw.is_some() || ready.is_some() {
        let this_raw = raw.take();
        let this_ready = ready.take();
        let w = &mut walker;
        let (next_raw, (prepared, walked)) = rayon::join(
            || lines.next_chunk(),
            || {
                rayon::join(
                    || this_raw.map(|b| prepare_chunk(&b, position, mode, &cp, opts.signatures)),
                    || this_ready.map(|p| w.walk(p.recs)),
                )
            },
        );
        if let Some(r) = walked {
            r?;
        }
        pb.set_position(walker.count);
        if let Some(p) = prepared {
            position += p.recs.len() as u64;
            personal += p.personal;
            erased += p.erased;
            ready = Some(p);
        }
        raw = next_raw.map_err(io)?;
    }
    pb.finish_and_clear();
    if mode == Mode::Complete {
        if walker.next_index() < c.size {
            return Err(Error::Truncated { size: c.size, have: walker.next_index() });
        }
        let root = walker.range.root();
        if root != c.root {
            return Err(Error::RootMismatch { size: c.size, computed: HexHash(root), expected: HexHash(c.root) });
        }
    }
    let mut s = Summary {
        checked: "export bundle".into(),
        source: name.to_string(),
        origin: c.origin.clone(),
        size: c.size,
        root: hex::encode(c.root),
        entries_checked: walker.count,
        complete: m.complete,
        signatures_checked: walker.signatures_checked,
        personal_parts_checked: personal,
        personal_parts_erased: erased,
        warnings: std::mem::take(&mut walker.warnings),
        witnesses: report.witnesses,
        ..Summary::default()
    };
    for (name, n) in crate::record::KINDS.iter().zip(walker.kinds) {
        if n > 0 {
            s.kinds.insert((*name).to_string(), n);
        }
    }
    if !m.complete {
        s.notes.push("filtered bundle: it proves its entries are in the log, not that the filter selected all of them".into());
    }
    trust::postcheck(&cp, &walker, opts, &mut s)?;
    Ok((s, walker, cp))
}

/// One record line: `{index, entry, proof?, personal?}`. Returns the record and 0 (no personal
/// part), 1 (personal part checked) or 2 (erased).
pub fn prepare_line(position: u64, line: &[u8], mode: Mode, cp: &SignedCheckpoint, sigs: bool) -> Result<(Rec, u8)> {
    let line_no = position + 2;
    let fail = |d: String| Error::Integrity { what: format!("bundle line {line_no}"), detail: d };
    let doc = json::parse(line).map_err(|e| fail(format!("it is not valid JSON ({e}); the bundle was altered or damaged")))?;
    if doc.kind(0) != Some(Kind::Obj) {
        return Err(fail("it is not a JSON object".into()));
    }
    if let Some(k) = doc.unknown_key(0, &["index", "entry", "proof", "personal"]) {
        return Err(fail(format!("unknown field {k:?}")));
    }
    let idx = doc.get(0, "index").and_then(|i| doc.u64(i)).ok_or_else(|| fail("field index is missing or not an integer".into()))?;
    let at = doc.get(0, "entry").filter(|&i| doc.kind(i) == Some(Kind::Obj));
    let at = at.ok_or_else(|| Error::entry(idx, "the line has no entry object"))?;
    let rec = chain::prepare(position, &doc, at, false, sigs)?;
    let i = rec.entry.index;
    if i != idx {
        return Err(Error::entry(i, format!("the bundle line says index {idx} but the entry says {i}")));
    }
    let proof = doc.get(0, "proof").filter(|&p| doc.kind(p) != Some(Kind::Null));
    let c = &cp.checkpoint;
    match (mode, proof) {
        (Mode::Complete, None) => {}
        (Mode::Complete, Some(p)) => {
            if !doc.items(p).is_empty() {
                return Err(Error::entry(i, "a complete bundle carries no inclusion proofs, but this line has one"));
            }
        }
        (Mode::Filtered, None) => return Err(Error::entry(i, "a filtered bundle needs an inclusion proof on every line")),
        (Mode::Filtered, Some(p)) => {
            if doc.kind(p) != Some(Kind::Arr) {
                return Err(Error::entry(i, "field proof is not an array"));
            }
            let hashes: Option<Vec<Vec<u8>>> =
                doc.items(p).into_iter().map(|h| doc.str(h).and_then(|s| B64.decode(s.as_bytes()).ok())).collect();
            let hashes = hashes.ok_or_else(|| Error::entry(i, "a proof hash is not base64"))?;
            crate::merkle::verify_inclusion(i, c.size, &rec.leaf, &hashes, &c.root)
                .map_err(|e| Error::Proof { what: format!("entry {i}: the inclusion proof against the checkpoint"), source: e })?;
        }
    }
    let mut p = 0;
    if let Some(pn) = doc.get(0, "personal") {
        let Detail::Message { recipient, personal, .. } = &rec.entry.detail else {
            return Err(Error::entry(i, "a personal part is attached to a record that is not a message"));
        };
        match doc.kind(pn) {
            Some(Kind::Str) if doc.str(pn).as_deref() == Some("erased") => p = 2,
            Some(Kind::Obj) => {
                check_personal(doc.raw(pn).as_bytes(), recipient, personal).map_err(|which| Error::Commitment { index: i, which })?;
                let body = doc.get(at, "body").ok_or_else(|| Error::entry(i, "the entry has no body"))?;
                crate::audience::check_evaluation(&doc, body, &doc, pn).map_err(|detail| Error::entry(i, detail))?;
                p = 1;
            }
            _ => return Err(Error::entry(i, "field personal is neither a personal part nor \"erased\"")),
        }
    }
    Ok((rec, p))
}
