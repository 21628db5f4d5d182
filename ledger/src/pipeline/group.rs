//! What the sequencer hands the committer: a [`Group`] of new entries whose tree extension is
//! signed, with the callers waiting for it, or a barrier. The sequencer builds a group
//! (`sequencer/plan.rs`); the committer makes it durable and answers its callers
//! (`committer.rs`).

use std::sync::mpsc;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::record::Channel;
use crate::pipeline::jobs::Durable;
use crate::pipeline::state::{Growth, Shared};
use crate::privacy::lookup::Change;
use crate::store::LookupRecord;
use crate::tlog::merkle::Hash;

/// What the sequencer hands the committer.
pub(crate) enum Stage {
    /// A sequenced group whose tree extension is signed.
    Group(Box<Group>),
    /// Answered once every group staged before it is published or failed.
    Barrier(mpsc::SyncSender<()>),
}

/// Where an acknowledged record lives: a new entry of its group, the same new entry again (the
/// record repeated later in its batch, or sent by another request of the group), or an older one.
/// Only `New` says `duplicate: false`: the record that appended the entry (SPEC.md §12).
pub(crate) enum Slot {
    New(usize),
    Repeat(usize),
    Existing(u64),
}

impl Slot {
    /// The entry index of a slot in a group whose first entry is `base`, and whether the record
    /// was in the log already.
    pub(crate) fn place(&self, base: u64) -> (u64, bool) {
        match self {
            Slot::New(i) => (base + *i as u64, false),
            Slot::Repeat(i) => (base + *i as u64, true),
            Slot::Existing(i) => (*i, true),
        }
    }
}

/// One acknowledged record of a caller: its slot, message id, warnings and channel (for its
/// reference, SPEC.md §10.2).
pub(crate) type Acked = (Slot, Option<String>, Vec<String>, Option<Channel>);

/// A caller's records, each with its slot, message id, warnings and channel.
pub(crate) struct Planned {
    pub(crate) slots: Vec<Acked>,
    pub(crate) reply: mpsc::SyncSender<Result<Durable>>,
    /// The id of the job another front end handed over, answered in the group's commit.
    pub(crate) handoff: Option<u64>,
}

/// A sequenced group of new entries, from the sequencer to the committer.
pub(crate) struct Group {
    /// The state's epoch it was planned in; a failed commit since makes it void.
    pub(crate) epoch: u64,
    /// Index of its first entry.
    pub(crate) base: u64,
    pub(crate) entries: Vec<Vec<u8>>,
    pub(crate) leaves: Vec<Hash>,
    /// The private record of each entry (its personal part sealed), in order.
    pub(crate) private: Vec<Vec<u8>>,
    /// One per entry, in order.
    pub(crate) lookup: Vec<LookupRecord>,
    /// Applied to the in-memory indexes when the group is published.
    pub(crate) change: Change,
    pub(crate) planned: Vec<Planned>,
    /// Set by [`Group::extend_and_sign`].
    pub(crate) checkpoint: String,
    pub(crate) tiles: Vec<((u8, u64), Vec<u8>)>,
    /// Set by [`Group::extend_and_sign`]: the tree after this group, published with it.
    pub(crate) growth: Option<Growth>,
    /// Time spent extending the tree and signing, for the commit metric.
    pub(crate) extend_micros: u64,
}

impl Group {
    pub(crate) fn new(epoch: u64, base: u64) -> Group {
        Group {
            epoch,
            base,
            entries: Vec::new(),
            leaves: Vec::new(),
            private: Vec::new(),
            lookup: Vec::new(),
            change: Change::default(),
            planned: Vec::new(),
            checkpoint: String::new(),
            tiles: Vec::new(),
            growth: None,
            extend_micros: 0,
        }
    }

    /// Extends the in-memory tree by the group's leaves and signs the checkpoint of the new
    /// size. The tree then runs ahead of the published size until the committer publishes
    /// the group or rolls it back.
    pub(crate) fn extend_and_sign(&mut self, shared: &Shared) -> Result<()> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let (checkpoint, tiles, growth) = shared.extend_and_sign(self.epoch, self.base, &self.leaves, None)?;
        (self.checkpoint, self.tiles, self.growth) = (checkpoint, tiles, Some(growth));
        self.extend_micros = t.elapsed().as_micros() as u64;
        Ok(())
    }

    /// Answers every caller of the group with `e`.
    pub(crate) fn fail(self, e: &Error) {
        fail_all(self.planned, e);
    }

    /// The callers of the group, to be answered by someone else.
    pub(crate) fn into_planned(self) -> Vec<Planned> {
        self.planned
    }
}

/// Answers each of `planned` with `e`: nothing of theirs was acknowledged.
pub(crate) fn fail_all(planned: Vec<Planned>, e: &Error) {
    for p in planned {
        let _ = p.reply.send(Err(e.clone()));
    }
}
