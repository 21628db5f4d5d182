//! Derived indexes: what a server computes from the public log and keeps beside it, in the
//! store's Index space, so that it need not read every entry again at start-up (the ad
//! library's campaigns, `web/src/library/`). The ledger only keeps the rows: the server
//! decides what they hold, records how far into the log they reach, and reads on from there.
//!
//! Each index has a name (no `/`) and rows of its own (`d/<name>/<key>`, `store/keys.rs`), apart
//! from the ledger's rows. A save is one atomic commit of the published head, made on the
//! sequencer's thread between groups.

use std::sync::mpsc;

use crate::error::{Error, Result};
use crate::ledger::Ledger;
use crate::pipeline::jobs::Job;
use crate::store::{keys, Space};

fn prefix(name: &str) -> Result<Vec<u8>> {
    keys::derived(name)
        .ok_or_else(|| Error::malformed("derived index name", format!("`{name}` is empty or holds a `/`; name it with one word")))
}

impl Ledger {
    /// Every row of derived index `name`, `(key, value)` in key order.
    pub fn derived(&self, name: &str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = prefix(name)?;
        Ok(self.shared.store.scan(Space::Index, &prefix)?.into_iter().map(|(k, v)| (k[prefix.len()..].to_vec(), v)).collect())
    }

    /// Writes rows of derived index `name` and deletes others, in one atomic, durable commit
    /// that leaves the log as it is. Blocks until durable.
    pub fn save_derived(&self, name: &str, puts: Vec<(Vec<u8>, Vec<u8>)>, deletes: Vec<Vec<u8>>) -> Result<()> {
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
