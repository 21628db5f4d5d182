//! Storage behind one trait. The ledger speaks to storage only through [`Store`]. Each backend
//! has a folder of its own: `sled/` is the embedded default ([`sled::SledStore`]), `memory/`
//! keeps everything in memory ([`memory::MemoryStore`]: tests and fuzzing), and `postgres/`
//! (feature `postgres`) keeps the log in PostgreSQL tables, where several front ends share it:
//! it also implements [`Coordination`] (`coordination.rs`), the lease that lets one of them
//! sequence at a time and the queue through which the others hand it their jobs. The names of
//! the rows the ledger keeps in the key spaces are spelled in one place, `keys.rs`.
//!
//! The contract every backend keeps:
//! - [`Store::commit`] is **atomic** (all of a [`Commit`] or none of it survives a
//!   crash) and **durable** (fsynced) before it returns `Ok`. The ledger
//!   acknowledges nothing before that.
//! - Entries, private records and tiles are positional: entry `i` and its
//!   private record `i` (empty when it has none), and the tile `(level, index)`
//!   holding up to 256 hashes, so the tree is stored tile-shaped (what the C2SP
//!   tlog-tiles read API serves) instead of one key per node.
//! - The `Index` space holds public secondary indexes (message ids, registry);
//!   the `Private` space holds the private indexes that are not per entry
//!   (objections, suppression tags, the layout marker), and supports real deletion for erasure. A private
//!   record can be wiped: overwritten with zeros of the same length; and, once, when an older store is
//!   converted, its head rewritten in place ([`Store::rewrite_private_heads`]).
//! - Each entry also has a fixed-width [`LookupRecord`] (positional like the
//!   private records): its message key, recipient handle and recipient key, which
//!   `fsck` and the conversions of older layouts read. The indexes the ledger consults
//!   for every appended record are rows of the key spaces, written in the commit of the
//!   entries they name: message key → entry (`Index`), recipient → key and latest entry
//!   (`Private`). The ledger reads a group's rows with one [`Store::get_many`] per space
//!   (one round trip for a backend across a network), and keeps only bounded caches. A
//!   backend may keep these two kinds of row apart from its other keys, as long as they
//!   commit atomically with them: the sled store keeps them in hash tables on disk
//!   (`sled/hashed_rows.rs`), because sled's memory grows with its keys.
//! - A wipe is part of its commit: once [`Store::commit`] returned `Ok`, the
//!   wiped records are zeros, or will be before the store is next opened
//!   (a crash in between is finished on open).
//!
//! With the `fuzzing` feature, `contract` is the suite that holds a backend to this contract;
//! every backend runs it (`contract::run`, `contract::run_durable`).

#[cfg(feature = "fuzzing")]
pub mod contract;
mod coordination;
pub(crate) mod keys;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sled;

pub use coordination::{Coordination, HandedEffect, HandedJob, HandedMessage, HandedRecord, Lease};

use std::ops::Range;

use crate::error::{Error, Result};

/// Size of a [`LookupRecord`].
pub const LOOKUP_BYTES: usize = 80;

/// The lookup record of an entry, all zeros for an entry that is not a message:
/// bytes `0..16` a keyed digest of the message's `(signer, message_id)`; `16..48`
/// the recipient's private handle; `48..80` the recipient's key (SPEC.md §7).
/// A wipe zeros [`LOOKUP_PRIVATE`] and keeps the digest (the message id is public).
pub type LookupRecord = [u8; LOOKUP_BYTES];

/// The bytes of a lookup record that a wipe overwrites: the recipient's handle and key.
pub const LOOKUP_PRIVATE: Range<usize> = 16..LOOKUP_BYTES;

/// Which key space of the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// Public secondary indexes (submitter message ids, registry entries).
    Index,
    /// Encrypted personal parts, recipient keys, the recipient index: never exported.
    Private,
}

/// Everything one group commit writes.
#[derive(Default, Debug)]
pub struct Commit {
    /// The tree size after this commit.
    pub size: u64,
    /// The signed checkpoint for `size`.
    pub checkpoint: String,
    /// New entries `(index, entry bytes)`.
    pub entries: Vec<(u64, Vec<u8>)>,
    /// The private record of each new entry, in the order of `entries` (empty
    /// bytes for none). An empty list means none of them has one.
    pub private: Vec<Vec<u8>>,
    /// The lookup record of each new entry, in the order of `entries`. An
    /// empty list means all zeros (none of them is a message).
    pub lookup: Vec<LookupRecord>,
    /// Entries whose private record, and the [`LOOKUP_PRIVATE`] bytes of whose lookup
    /// record, are overwritten with zeros as part of this commit (erasure).
    pub wipe: Vec<u64>,
    /// Hash tiles touched, `((level, index), bytes)`: the widest version at `size`.
    pub tiles: Vec<((u8, u64), Vec<u8>)>,
    /// Puts into a key space.
    pub puts: Vec<(Space, Vec<u8>, Vec<u8>)>,
    /// Deletes from a key space (erasure).
    pub deletes: Vec<(Space, Vec<u8>)>,
    /// Answers to jobs handed over through a shared store ([`Coordination`]), `(job, answer)`,
    /// written in the same transaction as the entries they acknowledge. Only a store that
    /// implements [`Coordination`] gets any; the others refuse a commit that carries one.
    pub answers: Vec<(u64, String)>,
}

impl Commit {
    /// Refuses a commit that answers handed-over jobs: a store that implements no
    /// [`Coordination`] has no queue to answer them in.
    pub(crate) fn unshared(&self) -> Result<()> {
        match self.answers.len() {
            0 => Ok(()),
            n => Err(Error::Storage(format!("a commit answers {n} handed-over jobs, but this store is not shared; this is a bug"))),
        }
    }
}

/// The stored head: tree size and its signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The tree size: entries `0..size` are committed.
    pub size: u64,
    /// The signed checkpoint of that size.
    pub checkpoint: String,
}

impl Head {
    /// The head as one stored value: size (u64 big-endian) || checkpoint text.
    pub(crate) fn encode(size: u64, checkpoint: &str) -> Vec<u8> {
        let mut head = size.to_be_bytes().to_vec();
        head.extend_from_slice(checkpoint.as_bytes());
        head
    }

    /// Parses what [`Head::encode`] wrote (or the damaged bytes a disk gives back).
    pub(crate) fn decode(v: &[u8]) -> Result<Head> {
        let Some((size, checkpoint)) = v.split_first_chunk::<8>() else {
            return Err(Error::Corrupt("the stored head record is truncated".into()));
        };
        let checkpoint = String::from_utf8(checkpoint.to_vec()).map_err(|_| Error::Corrupt("the stored checkpoint is not UTF-8".into()))?;
        Ok(Head { size: u64::from_be_bytes(*size), checkpoint })
    }
}

/// A storage backend.
pub trait Store: Send + Sync + 'static {
    /// The last committed head, `None` for an empty store.
    fn head(&self) -> Result<Option<Head>>;
    /// Entry bytes at `index`.
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>>;
    /// Entries `start..end` in order; stops early at the first missing one.
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>>;
    /// The private record of entry `index`: empty if it has none, zeros if wiped,
    /// `None` past the committed size.
    fn private(&self, index: u64) -> Result<Option<Vec<u8>>>;
    /// Lookup records `start..end`, cut at [`Store::lookup_count`].
    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>>;
    /// How many entries have a lookup record: the head's size, or fewer in a store
    /// written before lookup records existed (which [`Store::replace_lookups`] converts).
    fn lookup_count(&self) -> Result<u64>;
    /// Durably replaces every lookup record with `records`, one per entry of the
    /// head: the one-time conversion of an older store. Not atomic: the caller
    /// records the conversion as done only after it returned.
    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()>;
    /// Durably overwrites the first bytes of committed private records in place: each
    /// `(index, head)` writes `head`, which must be no longer than the record, over its start.
    /// The one-time conversion of an older store's recipient handles and links (the fixed
    /// head of a private record, `recipients.rs`); the sealed part after it is never touched.
    /// Not atomic: the caller records the conversion as done only after it returned, and
    /// redoes it, to the same bytes, otherwise.
    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()>;
    /// The stored bytes of hash tile `(level, index)` (full or the widest partial).
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>>;
    /// A value from a key space.
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The values of `keys` in a key space, in the order of `keys` (`None` where absent): what
    /// [`Store::get`] returns for each, read at once (the rows a group commit looks up).
    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>>;
    /// Every `(key, value)` of a key space whose key starts with `prefix`, in key order.
    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Atomically and durably applies a commit (see the module docs).
    fn commit(&self, commit: &Commit) -> Result<()>;
    /// Bytes the store occupies on disk.
    fn size_on_disk(&self) -> Result<u64>;
}
