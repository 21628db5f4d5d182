//! C2SP tlog-tiles (`c2sp.org/tlog-tiles`): tile paths, which tiles exist at a tree size,
//! entry-bundle decoding, and reading a log over HTTP or from a local folder with the same
//! layout.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::merkle::Hash;

/// Hashes per full tile (tile height 8).
pub const TILE_WIDTH: u64 = 256;
/// Largest response body read from a server (an entry bundle of 256 maximal entries).
pub const MAX_BODY: u64 = 256 * (65_535 + 2) + 1024;

/// `1234067` -> `x001/x234/067`; `5` -> `005`.
pub fn encode_index(n: u64) -> String {
    let mut groups = vec![format!("{:03}", n % 1000)];
    let mut rest = n / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

fn suffix(width: u64) -> String {
    if width >= TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

/// Path of the level-`level` hash tile `n` of `width` hashes (256 = full).
pub fn tile_path(level: u8, n: u64, width: u64) -> String {
    format!("tile/{level}/{}{}", encode_index(n), suffix(width))
}

/// Path of entry bundle `n` with `width` entries (256 = full).
pub fn entries_path(n: u64, width: u64) -> String {
    format!("tile/entries/{}{}", encode_index(n), suffix(width))
}

/// What a tile path names: `level` is `None` for entry bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRef {
    /// The tile's level; `None` for an entry bundle.
    pub level: Option<u8>,
    /// Its index within the level.
    pub index: u64,
    /// How many hashes or entries it holds.
    pub width: u64,
}

/// Parse a C2SP tile path (`tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`), strictly.
pub fn parse_tile_path(path: &str) -> Option<TileRef> {
    let rest = path.strip_prefix("tile/")?;
    let (level_s, rest) = rest.split_once('/')?;
    let level = if level_s == "entries" {
        None
    } else {
        let l = crate::note::parse_decimal(level_s)?;
        Some(u8::try_from(l).ok().filter(|l| *l <= 63)?)
    };
    let (idx_s, width) = match rest.split_once(".p/") {
        Some((i, w)) => {
            let w = crate::note::parse_decimal(w)?;
            if !(1..TILE_WIDTH).contains(&w) {
                return None;
            }
            (i, w)
        }
        None => (rest, TILE_WIDTH),
    };
    let parts: Vec<&str> = idx_s.split('/').collect();
    let (last, init) = parts.split_last()?;
    let mut n: u64 = 0;
    for (i, p) in init.iter().enumerate() {
        let d = p.strip_prefix('x')?;
        if d.len() != 3 || !d.bytes().all(|b| b.is_ascii_digit()) || (i == 0 && d == "000") {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(d.parse::<u64>().ok()?)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n = n.checked_mul(1000)?.checked_add(last.parse::<u64>().ok()?)?;
    Some(TileRef { level, index: n, width })
}

/// Every hash tile that exists for a tree of `size` leaves, level by level: full tiles, then
/// the partial rightmost one if any.
pub fn tiles_for_size(size: u64) -> Vec<TileRef> {
    let mut out = Vec::new();
    for level in 0u8..8 {
        let count = size >> (8 * u32::from(level));
        if count == 0 {
            break;
        }
        for n in 0..count / TILE_WIDTH {
            out.push(TileRef { level: Some(level), index: n, width: TILE_WIDTH });
        }
        if count % TILE_WIDTH != 0 {
            out.push(TileRef { level: Some(level), index: count / TILE_WIDTH, width: count % TILE_WIDTH });
        }
    }
    out
}

/// Width of level-0 tile / entry bundle `n` in a tree of `size` leaves (0 if it does not exist).
pub fn width_at(n: u64, size: u64) -> u64 {
    size.saturating_sub(n.saturating_mul(TILE_WIDTH)).min(TILE_WIDTH)
}

/// Decode an entry bundle: `uint16 big-endian length || entry bytes`, repeated, nothing after.
pub fn decode_bundle(data: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return Err(format!("a length prefix is cut off after {} entries", out.len()));
        };
        let len = usize::from(u16::from_be_bytes(*len));
        let Some((entry, tail)) = tail.split_at_checked(len) else {
            return Err(format!("entry {} says {len} bytes but fewer remain", out.len()));
        };
        out.push(entry);
        rest = tail;
    }
    Ok(out)
}

/// Encode entries as an entry bundle (entries longer than 65,535 bytes are refused).
pub fn encode_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for e in entries {
        let e = e.as_ref();
        out.extend_from_slice(&u16::try_from(e.len()).ok()?.to_be_bytes());
        out.extend_from_slice(e);
    }
    Some(out)
}

/// Split a hash tile into hashes.
pub fn tile_hashes(data: &[u8]) -> Option<Vec<Hash>> {
    if data.len() % 32 != 0 {
        return None;
    }
    data.chunks_exact(32).map(|c| <Hash>::try_from(c).ok()).collect()
}

/// Where a tlog-tiles log is read from.
pub enum Source {
    /// `https://…/` prefix (the checkpoint is at `<prefix>checkpoint`).
    Http {
        /// The prefix, ending in `/`.
        base: String,
        /// The HTTP client.
        agent: ureq::Agent,
    },
    /// A local folder laid out with the same paths.
    Dir(PathBuf),
}

impl Source {
    /// A source from a URL (`http://` or `https://`) or a folder path.
    pub fn open(location: &str) -> Result<Source> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let mut base = location.to_string();
            if !base.ends_with('/') {
                base.push('/');
            }
            let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(15)).timeout(Duration::from_secs(120)).build();
            Ok(Source::Http { base, agent })
        } else {
            let p = PathBuf::from(location);
            if !p.is_dir() {
                return Err(Error::Io {
                    path: location.to_string(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a folder"),
                });
            }
            Ok(Source::Dir(p))
        }
    }

    /// Human-readable location of `path`.
    pub fn describe(&self, path: &str) -> String {
        match self {
            Source::Http { base, .. } => format!("{base}{path}"),
            Source::Dir(d) => d.join(path).display().to_string(),
        }
    }

    /// Fetch `path`; `Ok(None)` when it does not exist (HTTP 404 / no file).
    pub fn get(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Source::Http { base, agent } => {
                let url = format!("{base}{path}");
                let net = |d: String| Error::Network { url: url.clone(), detail: d };
                match agent.get(&url).call() {
                    Ok(resp) => {
                        let mut buf = Vec::new();
                        std::io::Read::read_to_end(&mut resp.into_reader().take_limit(), &mut buf).map_err(|e| net(e.to_string()))?;
                        if buf.len() as u64 > MAX_BODY {
                            return Err(net("the response is larger than any valid tile".into()));
                        }
                        Ok(Some(buf))
                    }
                    Err(ureq::Error::Status(404 | 410, _)) => Ok(None),
                    Err(ureq::Error::Status(code, _)) => Err(net(format!("HTTP status {code}"))),
                    Err(e) => Err(net(e.to_string())),
                }
            }
            Source::Dir(d) => {
                let p = d.join(path);
                match std::fs::read(&p) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Error::Io { path: p.display().to_string(), source: e }),
                }
            }
        }
    }

    /// Fetch `path`, which must exist.
    pub fn get_required(&self, path: &str) -> Result<Vec<u8>> {
        self.get(path)?.ok_or_else(|| Error::Network { url: self.describe(path), detail: "not found (404)".into() })
    }

    /// Fetch the checkpoint note.
    pub fn checkpoint(&self) -> Result<Vec<u8>> {
        self.get_required("checkpoint")
    }

    /// Fetch a tile of `width` hashes; a partial tile that is gone (superseded by a wider one)
    /// is read from the full tile and cut to `width`.
    pub fn hash_tile(&self, level: u8, n: u64, width: u64) -> Result<Vec<Hash>> {
        let path = tile_path(level, n, width);
        let data = match self.get(&path)? {
            Some(d) => d,
            None if width < TILE_WIDTH => self.get_required(&tile_path(level, n, TILE_WIDTH))?,
            None => return Err(Error::Network { url: self.describe(&path), detail: "not found (404)".into() }),
        };
        let hashes = tile_hashes(&data).ok_or_else(|| Error::Integrity {
            what: format!("tile {path}"),
            detail: format!("{} bytes is not a whole number of hashes", data.len()),
        })?;
        if (hashes.len() as u64) < width {
            return Err(Error::Integrity {
                what: format!("tile {path}"),
                detail: format!("it holds {} hashes, {width} expected", hashes.len()),
            });
        }
        Ok(hashes.into_iter().take(width as usize).collect())
    }

    /// Fetch entry bundle `n` of `width` entries (falling back to the full bundle likewise).
    pub fn entry_bundle(&self, n: u64, width: u64) -> Result<Vec<Vec<u8>>> {
        let path = entries_path(n, width);
        let data = match self.get(&path)? {
            Some(d) => d,
            None if width < TILE_WIDTH => self.get_required(&entries_path(n, TILE_WIDTH))?,
            None => return Err(Error::Network { url: self.describe(&path), detail: "not found (404)".into() }),
        };
        let entries = decode_bundle(&data).map_err(|d| Error::Integrity { what: format!("entry bundle {path}"), detail: d })?;
        if (entries.len() as u64) < width {
            return Err(Error::Integrity {
                what: format!("entry bundle {path}"),
                detail: format!("it holds {} entries, {width} expected", entries.len()),
            });
        }
        Ok(entries.into_iter().take(width as usize).map(<[u8]>::to_vec).collect())
    }
}

trait TakeLimit: std::io::Read + Sized {
    fn take_limit(self) -> std::io::Take<Self> {
        self.take(MAX_BODY + 1)
    }
}
impl<R: std::io::Read> TakeLimit for R {}
