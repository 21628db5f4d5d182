//! The golden log's folder (`tests/golden/v3/`, its `README.md` says what each file is): where
//! its files are, what its manifest says, and the C2SP tlog-tiles paths a tree of its size
//! publishes (SPEC.md §9), spelled here once for the writer and the tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The origin of the golden log (not the harness's [`sightline_e2e::ORIGIN`], so that a change
/// to the harness cannot change which log the frozen folder is).
pub const GOLDEN_ORIGIN: &str = "golden.sightline.example/log";

/// The data folder: the sled store and its record files, the log key, the server secret, the
/// credentials.
pub const DATA: &str = "data";
/// The published read API as files: `checkpoint` and `tile/…`.
pub const READ_API: &str = "read-api";
/// The complete bundle (every entry, no personal parts).
pub const COMPLETE_BUNDLE: &str = "export/complete.sightline-bundle.jsonl";
/// The filtered bundle of campaign `winter-sale`, with personal parts (present and erased).
pub const PERSONAL_BUNDLE: &str = "export/winter-sale.personal.sightline-bundle.jsonl";
/// The campaign the filtered bundle selects.
pub const PERSONAL_BUNDLE_CAMPAIGN: &str = "winter-sale";
/// A recipient's receipt of the political dark post.
pub const RECEIPT: &str = "receipt/dark-post.sightline-receipt.json";
/// The log key of entry 0 (a verifier that trusts it learns the rotated one from the log).
pub const GENESIS_VKEY: &str = "log.vkey";
/// The log key after the rotation, which signs the checkpoint (a receipt names no older key).
pub const ROTATED_VKEY: &str = "log-rotated.vkey";
/// What the writer did, read back from the log: see [`Manifest`].
pub const MANIFEST: &str = "manifest.json";

/// The golden log of SPEC.md sightline/v1 revision 3, `tests/golden/v3/` in the repository.
pub fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden").join("v3")
}

/// A file of the golden folder, as a path string for a command line.
pub fn file(name: &str) -> String {
    folder().join(name).to_str().expect("UTF-8 path").to_string()
}

/// `manifest.json`: the log's origin and size, its entries by kind, the seeds of the
/// submitters' keys, and every message (index, id, signer, channel, campaign, recipient, why
/// path, `present` or `erased`, flags), objection, erasure and tally, each with its entry.
pub struct Manifest(pub Value);

impl Manifest {
    /// Reads `manifest.json` of the golden folder.
    pub fn read() -> Manifest {
        let text = std::fs::read_to_string(folder().join(MANIFEST)).expect("read the golden manifest.json");
        Manifest(serde_json::from_str(&text).expect("the golden manifest.json is JSON"))
    }

    /// The log's tree size.
    pub fn size(&self) -> u64 {
        self.0["size"].as_u64().expect("manifest size")
    }

    /// Every message entry, in log order.
    pub fn messages(&self) -> &Vec<Value> {
        self.0["messages"].as_array().expect("manifest messages")
    }

    /// The messages of `signer` to `recipient`, in log order.
    pub fn messages_to(&self, signer: &str, recipient: &str) -> Vec<&Value> {
        self.messages().iter().filter(|m| m["signer"] == signer && m["recipient"] == recipient).collect()
    }

    /// The message with this id.
    pub fn message(&self, message_id: &str) -> &Value {
        self.messages().iter().find(|m| m["message_id"] == message_id).unwrap_or_else(|| panic!("no message {message_id}"))
    }

    /// The entries of one kind (`objections`, `erasures`, `tallies`).
    pub fn list(&self, what: &str) -> &Vec<Value> {
        self.0[what].as_array().unwrap_or_else(|| panic!("manifest {what}"))
    }
}

/// Every hash tile and entry bundle a tree of `size` leaves publishes, full and partial, as
/// C2SP tlog-tiles paths (`tile/0/x001/234`, `tile/entries/001.p/7`).
pub fn tile_paths(size: u64) -> Vec<String> {
    let mut paths = Vec::new();
    // A level-L tile holds the hashes of tree level 8L: one per complete subtree of 256^L leaves.
    let mut level = 0;
    while level < 8 && size >> (8 * level) > 0 {
        tiles_of(&level.to_string(), size >> (8 * level), &mut paths);
        level += 1;
    }
    tiles_of("entries", size, &mut paths);
    paths
}

/// The tiles of `count` hashes (or entries) under `tile/<prefix>/`.
fn tiles_of(prefix: &str, count: u64, paths: &mut Vec<String>) {
    for n in 0..count.div_ceil(256) {
        let width = (count - n * 256).min(256);
        let partial = if width < 256 { format!(".p/{width}") } else { String::new() };
        paths.push(format!("tile/{prefix}/{}{partial}", tile_index(n)));
    }
}

/// A tile index in groups of three digits, all but the last prefixed `x` (`1234067` →
/// `x001/x234/067`).
fn tile_index(n: u64) -> String {
    let digits = n.to_string();
    let padded = format!("{}{digits}", "0".repeat((3 - digits.len() % 3) % 3));
    let groups: Vec<&str> = padded.as_bytes().chunks(3).map(|g| std::str::from_utf8(g).expect("digits")).collect();
    let last = groups.len() - 1;
    groups.iter().enumerate().map(|(i, g)| if i < last { format!("x{g}") } else { g.to_string() }).collect::<Vec<_>>().join("/")
}

#[test]
fn tile_paths_are_spelled_as_c2sp_tlog_tiles_says() {
    assert_eq!(tile_index(0), "000");
    assert_eq!(tile_index(1_234_067), "x001/x234/067");
    assert_eq!(tile_index(1000), "x001/000");
    assert_eq!(tile_paths(1), ["tile/0/000.p/1", "tile/entries/000.p/1"]);
    assert_eq!(
        tile_paths(263),
        ["tile/0/000", "tile/0/001.p/7", "tile/1/000.p/1", "tile/entries/000", "tile/entries/001.p/7"],
        "a full and a partial tile at level 0, the partial level-1 tile over the full one"
    );
    assert_eq!(tile_paths(512)[..3], ["tile/0/000", "tile/0/001", "tile/1/000.p/2"]);
}
