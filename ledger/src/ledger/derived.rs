//! Derived indexes: what a server computes from the public log and keeps beside it, in the
//! store's Index space, so that it need not read every entry again at start-up (the ad
//! library's campaigns, `web/src/library/`). The ledger only keeps the rows: the server
//! decides what they hold, records how far into the log they reach, and reads on from there.
//!
//! Each index has a name (no `/`) and rows of its own (`d/<name>/<key>`, `store/keys.rs`), apart
//! from the ledger's rows. A save is one atomic commit of the published head, made on the
//! sequencer's thread between groups.

use std::sync::mpsc;

use crate::cluster::FrontEndRole;
use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::pipeline::jobs::Job;
use crate::store::{keys, Space};

fn prefix(name: &str) -> Result<Vec<u8>> {
    keys::derived(name)
        .ok_or_else(|| Error::malformed("derived index name", format!("`{name}` is empty or holds a `/`; name it with one word")))
}

impl Ledger {
    /// Whether this ledger saves derived indexes: always, unless it is one of several front
    /// ends on a shared store and does not sequence. Each front end keeps its own copy of an
    /// index in memory, from the same log; only the sequencer's is saved, so that rows
    /// describing an older point of the log never replace newer ones.
    pub fn saves_derived(&self) -> bool {
        self.front_end().is_none_or(|(_, role)| role == FrontEndRole::Sequencer)
    }

    /// Every row of derived index `name`, `(key, value)` in key order.
    pub fn derived(&self, name: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = prefix(name)?;
        Ok(self.shared.store.scan(Space::Index, &prefix)?.into_iter().map(|(k, v)| (k[prefix.len()..].to_vec(), v)).collect())
    }

    /// Writes rows of derived index `name` and deletes others, in one atomic, durable commit
    /// that leaves the log as it is. Blocks until durable.
    ///
    /// On a store several front ends share, only the one that sequences saves (see
    /// [`Ledger::saves_derived`]); another is refused with [`Error::Unavailable`].
    pub fn save_derived(&self, name: &str, puts: Vec<(Vec<u8>, Vec<u8>)>, deletes: Vec<Vec<u8>>) -> Result<()> {
        if !self.saves_derived() {
            return Err(Error::Unavailable("derived indexes are saved by the front end that sequences the log".into()));
        }
        let prefix = prefix(name)?;
        let named = |k: &[u8]| [prefix.as_slice(), k].concat();
        let puts = puts.into_iter().map(|(k, v)| (named(&k), v)).collect();
        let deletes = deletes.iter().map(|k| named(k)).collect();
        let (reply, rx) = mpsc::sync_channel(1);
        {
            let jobs = self.jobs.lock().map_err(|_| Error::ShuttingDown)?;
            jobs.as_ref().ok_or(Error::ShuttingDown)?.send(Job::Rows { puts, deletes, reply }).map_err(|_| Error::ShuttingDown)?;
        }
        rx.recv().map_err(|_| Error::Storage("the append thread stopped before answering (the server log says why)".into()))?
    }
}
